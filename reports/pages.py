"""What each page shows, as plain data for the templates: built from an :class:`Analysis` and run metadata."""

from __future__ import annotations

import difflib
import math
from collections import defaultdict

import numpy as np

from harness.spec.slices import Bucket
from harness.stats.analysis import Analysis, _ci, _r
from harness.stats.engine import bootstrap_values
from reports.svg import heat, interval_chart


def _marker(comp: dict | None) -> str:
    if comp is None:
        return ""
    if not comp["significant"]:
        return "○"
    return "▲" if comp["difference"] > 0 else "▼"


def index_context(analysis: Analysis, board: dict) -> dict:
    comps = {(c["submission"], c["scope"], c["condition"]): c for c in board["comparisons"]}
    conds = board["conditions"]
    rows = []
    for name in analysis.names:
        overall = {c: board["rows"].get((name, "overall", c)) for c in conds}
        clean = overall.get("clean")
        drops = {}
        for c in conds:
            if c != "clean" and clean and overall.get(c):
                drop = clean["value"] - overall[c]["value"]
                drops[c] = {"abs": drop, "rel": 100 * drop / clean["value"] if clean["value"] else math.nan}
        rows.append({"name": name, "overall": overall, "drops": drops,
                     "tasks": {t: {c: board["rows"].get((name, t, c)) for c in conds} for t in board["tasks"]},
                     "marks": {(s, c): _marker(comps.get((name, s, c))) for s in ["overall", *board["tasks"]]
                               for c in conds}})
    rows.sort(key=lambda r: -(r["overall"].get("clean") or {"value": -math.inf})["value"])
    series = analysis.names
    values = {(c, n): _triple(board["rows"].get((n, "overall", c))) for c in conds for n in series}
    chart = interval_chart(conds, series, values, title="Overall score by condition (95% CI)")
    return {"rows": rows, "chart": chart, "comparisons": board["comparisons"]}


def _triple(cell: dict | None) -> tuple[float, float, float] | None:
    return (cell["value"], cell["ci_low"], cell["ci_high"]) if cell else None


def task_context(analysis: Analysis, task: str, change: dict[str, dict], lang_groups: dict[str, list[str]],
                 buckets: list[Bucket]) -> dict:
    metric = analysis.ranked.get(task)
    cells = {k: c for k, c in analysis.cells.items() if k[0] == task}
    langs = sorted({k[1] for k in cells})
    conds = [c for c in analysis.conditions() if any(k[3] == c for k in cells)]
    heatmaps = []
    for cond in conds:
        for m in sorted({k[4] for k in cells}, key=lambda m: (m != metric, m)):
            table: dict[tuple[str, str], dict] = {}
            for key, cell in cells.items():
                if key[3] != cond or key[4] != m:
                    continue
                low, high = _ci(cell.samples, analysis.alpha)
                for i, name in enumerate(cell.names):
                    table[(name, key[1])] = {"value": _r(cell.point[i]), "ci_low": _r(low[i]),
                                             "ci_high": _r(high[i]), "n": len(cell.ids)}
            if not table:
                continue
            vals = [v["value"] for v in table.values() if not math.isnan(v["value"])]
            lo, hi = (min(vals), max(vals)) if vals else (0, 1)
            for v in table.values():
                v["bg"] = heat(v["value"], lo, hi)
            heatmaps.append({"condition": cond, "metric": m, "table": table})
    drops = []
    for key, cell in cells.items():
        if key[3] == "clean" or key[4] != metric:
            continue
        clean = cells.get((task, key[1], key[2], "clean", metric))
        for i, name in enumerate(cell.names):
            if clean is None or name not in clean.names:
                continue
            before = clean.point[clean.names.index(name)]
            drops.append({"submission": name, "language": key[1], "condition": key[3], "clean": _r(before),
                          "perturbed": _r(cell.point[i]), "drop": _r(before - cell.point[i]),
                          "change": change.get((name, f"{task}/{key[1]}/{key[3]}"), {})})
    chart_values = {}
    clean_rows = [h for h in heatmaps if h["condition"] == "clean" and h["metric"] == metric]
    if clean_rows:
        for (name, lang), v in clean_rows[0]["table"].items():
            chart_values[(lang, name)] = (v["value"], v["ci_low"], v["ci_high"])
    chart = interval_chart(langs, analysis.names, chart_values, title=f"{task}: clean {metric} per language")
    return {"task": task, "metric": metric, "langs": langs, "heatmaps": heatmaps, "drops": drops, "chart": chart,
            "comparisons": analysis.language_comparisons(task),
            "groups": group_rows(analysis, task, conds, lang_groups),
            "buckets": bucket_rows(analysis, task, conds, buckets)}


def group_rows(analysis: Analysis, task: str, conds: list[str], groups: dict[str, list[str]]) -> list[dict]:
    """Score over the languages of each language group (slice), with CIs."""
    rows = []
    metric = analysis.ranked.get(task)
    for group, members in groups.items():
        for cond in conds:
            cells = [c for k, c in analysis.cells.items()
                     if k[0] == task and k[3] == cond and k[4] == metric and k[1] in members]
            if not cells:
                continue
            for name in analysis.names:
                own = [c for c in cells if name in c.names]
                if not own:
                    continue
                point = float(np.mean([c.point[c.names.index(name)] for c in own]))
                samples = np.mean([c.samples[:, c.names.index(name)] for c in own], axis=0)
                low, high = np.quantile(samples, [analysis.alpha / 2, 1 - analysis.alpha / 2])
                rows.append({"slice": group, "condition": cond, "submission": name, "value": _r(point),
                             "ci_low": _r(low), "ci_high": _r(high), "languages": sorted(c.key[1] for c in own)})
    return rows


def bucket_rows(analysis: Analysis, task: str, conds: list[str], buckets: list[Bucket]) -> list[dict]:
    """Score per example bucket (pooled over languages), bucket membership from the clean text's attributes."""
    rows = []
    metric = analysis.ranked.get(task)
    for bucket in buckets:
        for cond in conds:
            cells = [c for k, c in analysis.cells.items() if k[0] == task and k[3] == cond and k[4] == metric]
            for name in analysis.names:
                per_label: dict[str, list[dict]] = defaultdict(list)
                for cell in cells:
                    for record in cell.records.get(name, {}).values():
                        label = bucket.assign((record.get("attrs") or {}).get(bucket.attribute))
                        if label is not None:
                            per_label[label].append(record)
                for label in bucket.labels():
                    records = per_label.get(label)
                    if not records:
                        continue
                    metric_obj = cells[0].metric
                    stats = metric_obj.stats(records)
                    point, samples, _ = bootstrap_values([stats], metric_obj, 1000, seed=analysis.seed)
                    low, high = np.quantile(samples[:, 0], [analysis.alpha / 2, 1 - analysis.alpha / 2])
                    rows.append({"bucket": bucket.name, "attribute": bucket.attribute, "label": label,
                                 "condition": cond, "submission": name, "value": _r(point[0]), "ci_low": _r(low),
                                 "ci_high": _r(high), "n": len(records)})
    return rows


def diff_segments(clean: str, perturbed: str) -> list[dict]:
    """Word-level segments of the perturbed text: kind same | del | ins (rendered escaped by Jinja)."""
    a, b = clean.split(), perturbed.split()
    out: list[dict] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append({"kind": "same", "text": " ".join(a[i1:i2])})
            continue
        if i2 > i1:
            out.append({"kind": "del", "text": " ".join(a[i1:i2])})
        if j2 > j1:
            out.append({"kind": "ins", "text": " ".join(b[j1:j2])})
    return out


def _as_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _short(value: object) -> str:
    text = _as_text(value)
    return text if len(text) <= 120 else text[:117] + "…"


def example_context(analysis: Analysis, per_page: int = 12) -> list[dict]:
    """Per (task, language, condition): examples whose prediction changed under the condition (or, clean only,
    where submissions disagree), with the clean and perturbed inputs and every submission's predictions."""
    sections = []
    for key, cell in analysis.cells.items():
        task, lang, split, cond, metric = key
        if metric != analysis.ranked.get(task):
            continue
        clean = analysis.cells.get((task, lang, split, "clean", metric))
        if cond == "clean" and any(k[:3] == key[:3] and k[3] != "clean" for k in analysis.cells):
            continue
        chosen = []
        for ex_id in cell.ids:
            preds = {n: cell.records[n][ex_id] for n in cell.names}
            clean_preds = {n: clean.records[n].get(ex_id) for n in cell.names} if clean is not None else {}
            if cond == "clean":
                interesting = len({repr(p.get("pred")) for p in preds.values()}) > 1
            else:
                interesting = any(clean_preds.get(n) is not None and clean_preds[n].get("pred") != preds[n].get("pred")
                                  for n in cell.names)
            if not interesting:
                continue
            first = preds[cell.names[0]]
            fields = []
            for field, text in (first.get("input") or {}).items():
                original = ((clean_preds.get(cell.names[0]) or {}).get("input") or {}).get(field, text)
                fields.append({"field": field, "segments": diff_segments(_as_text(original), _as_text(text))})
            chosen.append({"id": ex_id, "gold": _short(first.get("gold")), "fields": fields,
                           "preds": [{"submission": n, "clean": _short((clean_preds.get(n) or {}).get("pred")),
                                      "perturbed": _short(preds[n].get("pred")),
                                      "correct": preds[n].get("pred") == preds[n].get("gold")} for n in cell.names]})
            if len(chosen) >= per_page:
                break
        if chosen:
            sections.append({"task": task, "language": lang, "condition": cond, "examples": chosen})
    return sections
