"""``xrobust grid GRID.yaml``: fine-tune → evaluate → report over a declarative grid of models, tasks, suites."""

from __future__ import annotations

import argparse

from harness.cli.common import add_runtime_options, runtime_options
from harness.cli.run import add_executor_options, executor_options, make_executor

HELP = """Plan the grid file's jobs — one fine-tune per (recipe, task, seed), one evaluation per (model, task[,
seed]) with clean and every suite, the report — and run those not done yet, dependencies first, locally or
on Ray. Each job has a fingerprint; a finished job is skipped and a killed grid resumes where it stopped.
Relative paths in the grid file are relative to the file."""


def cmd_grid(args: argparse.Namespace) -> int:
    from harness.grid.jobs import describe, plan_grid, refuse_changed
    from harness.grid.schedule import run_grid
    from harness.grid.spec import load_grid
    from harness.run.progress import Events, LiveProgress

    spec = load_grid(args.grid, args.set or [])
    options = runtime_options(args, seed=args.seed)
    executing = executor_options(args)
    plan = plan_grid(spec, options, finetune_device="cpu" if args.device == "cpu" else "auto",
                     overwrite=args.overwrite)
    if args.dry_run:
        print("\n".join(describe(plan)))
        return 0
    if not args.overwrite:
        refuse_changed(plan)
    executor = make_executor(executing)
    display = LiveProgress() if not args.no_progress else Events()
    try:
        outcome = run_grid(plan, executor, display, finetune_gpus=args.finetune_gpus,
                           finetune_cpus=args.finetune_cpus, redo=args.overwrite)
    finally:
        if isinstance(display, LiveProgress):
            display.close()
        executor.close()
    print(f"jobs: {len(outcome.done)} run, {len(outcome.skipped)} already done ({len(plan.jobs)} in the grid)")
    if outcome.report is not None:
        print(f"report: {outcome.report}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grid", help="run a grid file: fine-tunes, evaluations and the report (locally or on Ray)",
                       description=HELP)
    p.add_argument("grid", help="grid YAML file")
    p.add_argument("--dry-run", action="store_true", help="list every job with its state (done / pending / "
                   "blocked) and the fine-tune command it runs, and stop")
    p.add_argument("--set", action="append", metavar="KEY.PATH=VALUE",
                   help="override a grid key, e.g. --set finetune.training.max_steps=120 (repeatable)")
    p.add_argument("--overwrite", action="store_true", help="redo every job: fine-tunes (also those whose "
                   "recipe changed), every evaluation unit, the report")
    p.add_argument("--seed", type=int, default=0, help="evaluation seed (fresh heads; fine-tunes take `seeds`)")
    p.add_argument("--finetune-gpus", type=float, metavar="G", help="GPUs per fine-tune under Ray (default: 1 "
                   "when the cluster has GPUs, else 0)")
    p.add_argument("--finetune-cpus", type=float, default=1.0, metavar="C", help="CPUs per fine-tune under Ray")
    add_runtime_options(p)
    add_executor_options(p)
    p.set_defaults(func=cmd_grid)
