"""``xrobust compare RUN_A RUN_B``: B − A per task, language and condition, with CIs and corrected p-values.

The run directories are grouped into systems as the report groups them
(:func:`harness.stats.systems.group_systems`): ``xrobust compare A1 A2 A3 B1 B2 B3`` compares two systems of
three seed runs each, with the report's estimator (the two-level bootstrap over seeds and examples and the
seed-aware test, or examples only with ``--resampling examples``). Two run directories of one system (or one
name) are compared with each other, each as a one-seed system.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from harness.errors import XRobustError
from harness.stats.analysis import Analysis
from harness.stats.bootstrap import correct_pvalues
from harness.stats.runs import load_runs
from harness.stats.systems import System, group_systems, system_name
from harness.store.rundir import atomic_write_text

WARNING = "†"  # a one-seed system compared with a multi-seed one: its seed variance is unknown


def two_systems(run_dirs: list[Path]) -> list[System]:
    """A and B: the systems of ``run_dirs`` in order of first appearance; two run directories of one system
    are A and B themselves (named ``A: <name>`` and ``B: <name>`` when their names are equal)."""
    if len(run_dirs) < 2:
        raise XRobustError("give at least two run directories (A's, then B's)", field="RUN_DIR")
    subs = load_runs(run_dirs)
    if len(subs) == 2 and system_name(subs[0]) == system_name(subs[1]):
        if subs[0].name == subs[1].name:
            for sub, side in zip(subs, "AB", strict=True):
                sub.name = f"{side}: {sub.name}"
        return [System.single(s) for s in subs]
    systems = group_systems(subs)
    if len(systems) != 2:
        raise XRobustError(f"{len(run_dirs)} run directories hold {len(systems)} system"
                           f"{'s' if len(systems) != 1 else ''} "
                           f"({', '.join(s.name for s in systems)}); compare needs two (the seed runs of a "
                           "system share --system or --name), `xrobust report` takes more", field="RUN_DIR")
    return systems


def compare_runs(*run_dirs: Path, alpha: float = 0.05, correction: str = "holm", n_resamples: int = 2000,
                 resampling: str = "seeds", with_aso: bool = False) -> list[dict]:
    """Records of B − A: one per (task, language, condition) on the ranked metric and one per task average,
    p-values corrected together across all of them. A and B are :func:`two_systems` of ``run_dirs``; with seeds
    the estimator is the report's (:class:`harness.stats.analysis.Analysis`, ``resampling``). Missing or
    damaged run directories, and runs with nothing in common, are one-line errors (exit 2), never an empty
    table."""
    return compare_systems(*run_dirs, alpha=alpha, correction=correction, n_resamples=n_resamples,
                           resampling=resampling, with_aso=with_aso)[0]


def compare_systems(*run_dirs: Path, alpha: float = 0.05, correction: str = "holm", n_resamples: int = 2000,
                    resampling: str = "seeds", with_aso: bool = False) -> tuple[list[dict], list[str]]:
    """:func:`compare_runs`'s records, and the units left out because some seeds of a system lack them."""
    if resampling not in ("seeds", "examples"):
        raise XRobustError("must be seeds or examples", field="--resampling")
    systems = two_systems([Path(d) for d in run_dirs])
    names = [s.name for s in systems]
    analysis = Analysis(systems, baseline=names[0], alpha=alpha, n_resamples=n_resamples, correction="none",
                        resampling=resampling, with_aso=with_aso)
    rows = []
    for task in analysis.tasks():
        rows += [{"scope": "language", **r} for r in analysis.language_comparisons(task)]
    rows += [{"scope": "task", "task": c["scope"], "language": "avg",
              **{k: v for k, v in c.items() if k != "scope"}} for c in analysis.leaderboard()["comparisons"]]
    if not rows:
        raise XRobustError(f"{systems[0].first.run_dir} and {systems[1].first.run_dir} share no task, language "
                           "and condition with scores in both: nothing to compare", file=systems[1].first.run_dir,
                           field="RUN_DIR")
    adjusted = correct_pvalues([r["p_value"] for r in rows], correction)
    seeds = [s.n_seeds for s in systems]
    for row, p in zip(rows, adjusted, strict=True):
        row.update(p_adjusted=float(p), significant=bool(p < alpha), correction=correction, a=names[0], b=names[1],
                   a_seeds=seeds[0], b_seeds=seeds[1], resampling=resampling)
        for key in ("baseline", "submission", "seeds", "baseline_seeds", "df"):
            row.pop(key, None)
    return rows, list(analysis.incomplete)


def _seeds(n: int) -> str:
    return f"{n} seed" + ("s" if n != 1 else "")


def _eps(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"  # n/a: a system with one seed


def cmd_compare(args: argparse.Namespace) -> int:
    rows, incomplete = compare_systems(*(Path(d) for d in args.run_dirs), alpha=args.alpha,
                                       correction=args.correction, n_resamples=args.resamples,
                                       resampling=args.resampling, with_aso=args.aso)
    first = rows[0]
    seeded = max(first["a_seeds"], first["b_seeds"]) > 1
    how = ("; seeds and examples resampled (two-level bootstrap)" if args.resampling == "seeds" else
           "; examples resampled, seeds fixed") if seeded else ""
    print(f"B − A   (A = {first['a']}, {_seeds(first['a_seeds'])}; B = {first['b']}, {_seeds(first['b_seeds'])}"
          f"{how}; {args.correction}-corrected over {len(rows)} comparisons, α = {args.alpha})")
    aso = args.aso and any("aso_eps_min" in r for r in rows)
    print(f"{'task':<12} {'lang':<5} {'condition':<14} {'Δ':>7} {'CI':>17} {'p':>8} {'p_adj':>8}  test"
          + ("   ASO ε_min B>A / A>B" if aso else ""))
    for r in rows:
        mark = " *" if r["significant"] else ""
        line = (f"{r['task']:<12} {r['language']:<5} {r['condition']:<14} {r['difference']:7.2f} "
                f"[{r['ci_low']:6.2f}, {r['ci_high']:6.2f}] {r['p_value']:8.4f} {r['p_adjusted']:8.4f}{mark:2} "
                f"{r['test']}{' ' + WARNING if r.get('single_seed_warning') else ''}")
        if aso and "aso_eps_min" in r:
            line += f"   {_eps(r['aso_eps_min'])} / {_eps(r['aso_eps_min_reverse'])}"
        print(line)
    if any(r.get("single_seed_warning") for r in rows):
        one = first["a"] if first["a_seeds"] == 1 else first["b"]
        print(f"{WARNING} {one} has one seed: its seed variance is unknown, so the test counts only the other "
              "system's; run it with more seeds")
    for unit in incomplete:
        print(f"not compared, some seeds lack it: {unit}")
    if args.json:
        try:
            atomic_write_text(Path(args.json), json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        except OSError as err:  # a file in the way, no permission
            raise XRobustError(f"cannot write the comparison ({err.strerror or type(err).__name__})",
                               file=args.json, field="--json") from None
        print(f"json: {args.json}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="paired comparison of two systems (B − A): two run directories, or the "
                                       "seed runs of each")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="A's run directories, then B's (grouped into two systems as the report does)")
    p.add_argument("--json", help="also write the records as JSON")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--correction", default="holm", choices=["holm", "bh", "none"])
    p.add_argument("--resamples", type=int, default=2000)
    p.add_argument("--resampling", default="seeds", choices=["seeds", "examples"],
                   help="seeds: for systems with several seeds, a two-level bootstrap over seeds and examples and "
                        "the seed-aware test (default); examples: seeds fixed, examples only")
    p.add_argument("--aso", action="store_true",
                   help="also the Almost Stochastic Order of B over A on task averages (systems with 2+ seeds)")
    p.set_defaults(func=cmd_compare)
