"""``xrobust report``: render the static HTML leaderboard from run directories."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    from reports import build_site

    index = build_site([Path(r) for r in args.runs], Path(args.out), title=args.title, baseline=args.baseline,
                       alpha=args.alpha, correction=args.correction, n_resamples=args.resamples,
                       examples_per_section=args.examples, resampling=args.resampling, aso=args.aso)
    print(f"report: {index}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render the static HTML leaderboard from run directories")
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument("--out", required=True, help="site directory")
    p.add_argument("--title", default="xrobust leaderboard")
    p.add_argument("--baseline", help="submission name the others are compared against (default: the first)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--correction", default="holm", choices=["holm", "bh", "none"],
                   help="multiple-comparison correction across the comparisons on a page")
    p.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--examples", type=int, default=12, help="examples per section in the example browser")
    p.add_argument("--resampling", default="seeds", choices=["seeds", "examples"],
                   help="seeds: two-level bootstrap over seeds and examples for systems with several seeds "
                        "(runs of one --name whose model cards differ only by the training seed); examples: "
                        "examples only, seeds fixed")
    p.add_argument("--aso", action="store_true",
                   help="add Almost Stochastic Order (Dror et al., ACL 2019) of each system over the baseline on "
                        "their per-seed scores")
    p.set_defaults(func=cmd_report)
