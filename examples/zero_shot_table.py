"""Markdown tables of a zero-shot experiment's report (``examples/zero_shot_experiment.sh``), with 95% CIs.

    python examples/zero_shot_table.py experiments/zero-shot > zero_shot_results.md

Reads only the report's exports (``site/scores.json``, ``site/leaderboard.json``, ``site/gain_robustness.json``)
and the runs' ``results.json`` (which metric ranks each task): no model is loaded and nothing is recomputed.
Per task: one row per language and submission, clean and every condition of the suites run; then the task
averages with rank groups; then gain robustness (variant − baseline, perturbed minus clean) per task.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} [{low:.1f}, {high:.1f}]"


def ranked_metrics(runs: Path) -> dict[str, str]:
    metrics: dict[str, str] = {}
    for results in sorted(runs.glob("*/results.json")):
        metrics.update({t: m for t, m in _load(results).get("ranked_metrics", {}).items() if m})
    return metrics


def _conditions(rows: list[dict]) -> list[str]:
    conds = sorted({r["condition"] for r in rows} - {"clean"})
    return ["clean", *conds]


def language_tables(scores: list[dict], metrics: dict[str, str]) -> list[str]:
    out: list[str] = []
    by_task: dict[str, list[dict]] = defaultdict(list)
    for row in scores:
        if row["metric"] == metrics.get(row["task"]):
            by_task[row["task"]].append(row)
    for task in sorted(by_task):
        rows = by_task[task]
        conds = _conditions(rows)
        cells = {(r["language"], r["submission"], r["condition"]): r for r in rows}
        subs = sorted({r["submission"] for r in rows})
        langs = sorted({r["language"] for r in rows})
        out += [f"### {task} — {metrics[task]}, per language (95% CI)", "",
                "| lang | submission | " + " | ".join(conds) + " |",
                "|---|---|" + "---|" * len(conds)]
        for lang in langs:
            for sub in subs:
                vals = []
                for cond in conds:
                    r = cells.get((lang, sub, cond))
                    vals.append(_cell(r["value"], r["ci_low"], r["ci_high"]) if r else "–")
                n = next((cells[(lang, sub, c)]["n"] for c in conds if (lang, sub, c) in cells), "")
                out.append(f"| {lang} (n={n}) | {sub} | " + " | ".join(vals) + " |")
        out.append("")
    return out


def average_table(board: list[dict]) -> list[str]:
    conds = _conditions(board)
    scopes = sorted({r["scope"] for r in board} - {"overall"}) + ["overall"]
    cells = {(r["scope"], r["submission"], r["condition"]): r for r in board}
    subs = sorted({r["submission"] for r in board})
    out = ["### Task averages over shared languages (95% CI; rank group in braces)", "",
           "| scope | submission | " + " | ".join(conds) + " |", "|---|---|" + "---|" * len(conds)]
    for scope in scopes:
        for sub in subs:
            vals = []
            for cond in conds:
                r = cells.get((scope, sub, cond))
                vals.append(f"{_cell(r['value'], r['ci_low'], r['ci_high'])} {{{r['group']}}}"
                            if r and r.get("value") is not None else "–")
            out.append(f"| {scope} | {sub} | " + " | ".join(vals) + " |")
    return [*out, ""]


def gain_table(gains: list[dict]) -> list[str]:
    """Task-level gain robustness: mean over languages of the per-language contrasts, and how many survive."""
    out = ["### Gain robustness per language: (variant − baseline) perturbed − (variant − baseline) clean", "",
           "| task | condition | variant | lang | contrast | 95% CI | p (corrected) |", "|---|---|---|---|---|---|---|"]
    for g in sorted(gains, key=lambda r: (r["task"], r["condition"], r["submission"], r["language"])):
        mark = " *" if g.get("significant") else ""
        out.append(f"| {g['task']} | {g['condition']} | {g['submission']} | {g['language']} | {g['contrast']:+.1f} "
                   f"| [{g['ci_low']:.1f}, {g['ci_high']:.1f}] | {g['p_adjusted']:.3f}{mark} |")
    return [*out, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", type=Path, help="the experiment's OUT folder (runs/ and site/)")
    parser.add_argument("--no-gains", action="store_true", help="leave out the per-language gain table")
    args = parser.parse_args()
    site = args.experiment / "site"
    metrics = ranked_metrics(args.experiment / "runs")
    lines = ["## Zero-shot transfer under perturbation", ""]
    lines += average_table(_load(site / "leaderboard.json"))
    lines += language_tables(_load(site / "scores.json"), metrics)
    if not args.no_gains:
        lines += gain_table(_load(site / "gain_robustness.json"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
