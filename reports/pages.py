"""What each page shows, as plain data for the templates: numbers from :mod:`harness.stats.analysis` and
:mod:`harness.stats.breakdowns`, arranged with run metadata, colours, charts and example selections."""

from __future__ import annotations

import math

from markupsafe import Markup

from harness.spec.slices import Bucket
from harness.stats.analysis import Analysis
from harness.stats.breakdowns import bucket_scores, condition_drops, overall_drops, score_tables, slice_scores
from perturbations.diffing import diff_spans
from reports.svg import heat, interval_chart, spread_dots

WARNING = "†"  # a one-seed system compared with multi-seed systems


def _marker(comp: dict | None) -> str:
    if comp is None:
        return ""
    if not comp["significant"]:
        return "○"
    return "▲" if comp["difference"] > 0 else "▼"


def _spread(cell: dict | None) -> Markup | str:
    if not cell or cell.get("seeds", 1) < 2:
        return ""
    return spread_dots(cell["seed_min"], cell["seed_max"], cell["value"])


def index_context(analysis: Analysis, board: dict) -> dict:
    comps = {(c["submission"], c["scope"], c["condition"]): c for c in board["comparisons"]}
    conds = board["conditions"]
    multi = any(n > 1 for n in analysis.n_seeds.values())
    rows = []
    for name in analysis.names:
        overall = {c: board["rows"].get((name, "overall", c)) for c in conds}
        rows.append({"name": name, "overall": overall, "drops": overall_drops(board, name),
                     "seeds": analysis.n_seeds[name],
                     "warning": WARNING if multi and analysis.n_seeds[name] == 1 else "",
                     "spread": {(s, c): _spread(board["rows"].get((name, s, c))) for s in ["overall", *board["tasks"]]
                                for c in conds},
                     "tasks": {t: {c: board["rows"].get((name, t, c)) for c in conds} for t in board["tasks"]},
                     "marks": {(s, c): _marker(comps.get((name, s, c))) for s in ["overall", *board["tasks"]]
                               for c in conds}})
    rows.sort(key=lambda r: -(r["overall"].get("clean") or {"value": -math.inf})["value"])
    series = analysis.names
    values = {(c, n): _triple(board["rows"].get((n, "overall", c))) for c in conds for n in series}
    spreads = {(c, n): _minmax(board["rows"].get((n, "overall", c))) for c in conds for n in series}
    chart = interval_chart(conds, series, values, title="Overall score by condition (95% CI)",
                           spreads={k: v for k, v in spreads.items() if v is not None})
    return {"rows": rows, "chart": chart, "comparisons": board["comparisons"], "warning": WARNING,
            "multi_seed": multi}


def _minmax(cell: dict | None) -> tuple[float, float] | None:
    return (cell["seed_min"], cell["seed_max"]) if cell and cell.get("seeds", 1) > 1 else None


def _triple(cell: dict | None) -> tuple[float, float, float] | None:
    return (cell["value"], cell["ci_low"], cell["ci_high"]) if cell else None


def task_context(analysis: Analysis, task: str, change: dict[str, dict], lang_groups: dict[str, list[str]],
                 buckets: list[Bucket]) -> dict:
    metric = analysis.ranked.get(task)
    langs = sorted({k[1] for k in analysis.cells if k[0] == task})
    heatmaps = score_tables(analysis, task)
    for heatmap in heatmaps:
        vals = [v["value"] for v in heatmap["table"].values() if not math.isnan(v["value"])]
        lo, hi = (min(vals), max(vals)) if vals else (0, 1)
        for v in heatmap["table"].values():
            v["bg"] = heat(v["value"], lo, hi)
            v["spread"] = _spread(v)
    drops = [{**row, "change": change.get((row["submission"], f"{task}/{row['language']}/{row['condition']}"),
                                          {})} for row in condition_drops(analysis, task)]
    chart_values, spreads = {}, {}
    clean_rows = [h for h in heatmaps if h["condition"] == "clean" and h["metric"] == metric]
    if clean_rows:
        for (name, lang), v in clean_rows[0]["table"].items():
            chart_values[(lang, name)] = (v["value"], v["ci_low"], v["ci_high"])
            if _minmax(v) is not None:
                spreads[(lang, name)] = _minmax(v)
    chart = interval_chart(langs, analysis.names, chart_values, title=f"{task}: clean {metric} per language",
                           spreads=spreads)
    return {"task": task, "metric": metric, "langs": langs, "heatmaps": heatmaps, "drops": drops, "chart": chart,
            "comparisons": analysis.language_comparisons(task),
            "groups": slice_scores(analysis, task, lang_groups),
            "buckets": bucket_scores(analysis, task, buckets)}


def diff_segments(clean: str, perturbed: str) -> list[dict]:
    """Word-level segments of the perturbed text: kind same | del | ins (rendered escaped by Jinja)."""
    if clean == perturbed:  # what the alignment gives for a text left as it was (every clean section's), at once
        same = " ".join(clean.split())
        return [{"kind": "same", "text": same}] if same else []
    out: list[dict] = []
    for span in diff_spans(clean, perturbed):
        before, after = " ".join(span.clean.split()), " ".join(span.perturbed.split())
        if span.op == "equal":
            if before:
                out.append({"kind": "same", "text": before})
            continue
        if before:
            out.append({"kind": "del", "text": before})
        if after:
            out.append({"kind": "ins", "text": after})
    return out


def _as_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _short(value: object) -> str:
    text = _as_text(value)
    return text if len(text) <= 120 else text[:117] + "…"


def example_context(analysis: Analysis, task: str | None = None) -> list[dict]:
    """Per (task, language, condition): examples whose prediction changed under the condition (or, clean only,
    where submissions disagree), with the clean and perturbed inputs and every submission's predictions
    (chosen by the analysis, :func:`harness.stats.cells.compute_group`); ``task``: that task's only."""
    sections = []
    for section in analysis.examples:
        if task is not None and section["task"] != task:
            continue
        chosen = []
        for example in section["examples"]:
            first, before = example["record"], example["clean_record"]
            fields = []
            for field, text in (first.get("input") or {}).items():
                original = ((before or {}).get("input") or {}).get(field, text)
                fields.append({"field": field, "segments": diff_segments(_as_text(original), _as_text(text))})
            chosen.append({"id": example["id"], "gold": _short(first.get("gold")), "fields": fields,
                           "preds": [{"submission": p["submission"], "clean": _short(p["clean"]),
                                      "perturbed": _short(p["perturbed"]), "correct": p["correct"]}
                                     for p in example["preds"]]})
        sections.append({"task": section["task"], "language": section["language"],
                         "condition": section["condition"], "examples": chosen})
    return sections
