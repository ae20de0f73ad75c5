"""``xrobust report``: render the static HTML leaderboard from run directories."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    from harness.errors import XRobustError
    from harness.stats.analysis import default_jobs
    from reports import build_site

    if args.jobs < 0:
        raise XRobustError(f"must be at least 0, got {args.jobs}", field="--jobs")
    bar = None if args.no_progress else _Bar()
    try:
        index = build_site([Path(r) for r in args.runs], Path(args.out), title=args.title, baseline=args.baseline,
                           alpha=args.alpha, correction=args.correction, n_resamples=args.resamples,
                           examples_per_section=args.examples, resampling=args.resampling, draws=args.draws, aso=args.aso,
                           jobs=args.jobs or default_jobs(), cache_dir=Path(args.cache) if args.cache else None,
                           verify=args.verify, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    print(f"report: {index}")
    return 0


class _Bar:
    """A progress bar over the report's (task, language) jobs, on stderr."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="cell group", desc="report", leave=False,
                            disable=None)  # None: no bar when stderr is not a terminal (logs, pipes)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
    p.add_argument("--draws", default="per-test", choices=["per-test", "shared"],
                   help="per-test: every cell, comparison and gain contrast draws its own resamples (seeded by its "
                        "key); shared: one example resample and one sign-flip draw per task, language and set of "
                        "examples serve all of them (the same tests, other Monte Carlo draws; many times faster "
                        "for large leaderboards)")
    p.add_argument("--aso", action="store_true",
                   help="add Almost Stochastic Order (Dror et al., ACL 2019) of each system over the baseline on "
                        "their per-seed scores")
    p.add_argument("--jobs", type=int, default=1,
                   help="processes computing the (task, language) cells in parallel (0: one per core)")
    p.add_argument("--cache", metavar="DIR",
                   help="cache of unit digests and cell results (default: OUT/.cache); reports of the same runs "
                        "share it, so adding a submission recomputes only the cells it is part of")
    p.add_argument("--verify", default="stamp", choices=["stamp", "full"],
                   help="stamp: rehash a predictions file only when its size or modification time changed since "
                        "the cache hashed it; full: rehash every file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_report)
