"""``xrobust compare RUN_A RUN_B``: B − A per task, language and condition, with CIs and corrected p-values."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import XRobustError
from harness.stats.analysis import Analysis
from harness.stats.bootstrap import correct_pvalues
from harness.stats.runs import load_runs
from harness.store.rundir import atomic_write_text


def compare_runs(run_a: Path, run_b: Path, *, alpha: float = 0.05, correction: str = "holm",
                 n_resamples: int = 2000) -> list[dict]:
    """Records of B − A: one per (task, language, condition) on the ranked metric and one per task average,
    p-values corrected together across all of them. Missing or damaged run directories, and runs with nothing
    in common, are one-line errors (exit 2), never an empty table."""
    subs = load_runs([run_a, run_b])
    if subs[0].name == subs[1].name:
        for sub, side in zip(subs, "AB", strict=True):
            sub.name = f"{side}: {sub.name}"
    names = [s.name for s in subs]
    analysis = Analysis(subs, baseline=names[0], alpha=alpha, n_resamples=n_resamples, correction="none")
    rows = []
    for task in analysis.tasks():
        rows += [{"scope": "language", **r} for r in analysis.language_comparisons(task)]
    rows += [{"scope": "task", "task": c["scope"], "language": "avg",
              **{k: v for k, v in c.items() if k != "scope"}} for c in analysis.leaderboard()["comparisons"]]
    if not rows:
        raise XRobustError(f"{run_a} and {run_b} share no task, language and condition with scores in both: nothing "
                           "to compare", field="RUN_B")
    adjusted = correct_pvalues([r["p_value"] for r in rows], correction)
    for row, p in zip(rows, adjusted, strict=True):
        row.update(p_adjusted=float(p), significant=bool(p < alpha), correction=correction, a=names[0], b=names[1])
        row.pop("baseline", None)
        row.pop("submission", None)
    return rows


def cmd_compare(args: argparse.Namespace) -> int:
    rows = compare_runs(Path(args.run_a), Path(args.run_b), alpha=args.alpha, correction=args.correction,
                        n_resamples=args.resamples)
    if rows:
        print(f"B − A   (A = {rows[0]['a']}, B = {rows[0]['b']}; {args.correction}-corrected over {len(rows)} "
              f"comparisons, α = {args.alpha})")
    print(f"{'task':<12} {'lang':<5} {'condition':<14} {'Δ':>7} {'CI':>17} {'p':>8} {'p_adj':>8}  test")
    for r in rows:
        mark = " *" if r["significant"] else ""
        print(f"{r['task']:<12} {r['language']:<5} {r['condition']:<14} {r['difference']:7.2f} "
              f"[{r['ci_low']:6.2f}, {r['ci_high']:6.2f}] {r['p_value']:8.4f} {r['p_adjusted']:8.4f}{mark:2} "
              f"{r['test']}")
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        print(f"json: {args.json}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="paired comparison of two run directories (B − A)")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--json", help="also write the records as JSON")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--correction", default="holm", choices=["holm", "bh", "none"])
    p.add_argument("--resamples", type=int, default=2000)
    p.set_defaults(func=cmd_compare)
