"""``xrobust run``: evaluate a checkpoint on tasks, clean and under a perturbation suite."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import (
    add_runtime_options,
    csv_list,
    parse_label_map,
    print_attacks,
    print_scores,
    runtime_options,
)
from harness.errors import XRobustError
from harness.run.executors import EXECUTORS, Executor, ExecutorOptions, LocalExecutor
from harness.spec.paths import safe_name


def cmd_run(args: argparse.Namespace) -> int:
    from harness.run.runner import RunRequest
    from harness.spec.taskspec import resolve_task

    specs = [resolve_task(t) for t in csv_list(args.tasks)]
    if not specs:
        raise XRobustError("no tasks given", field="--tasks")
    suite = None
    if args.suite:
        from perturbations import load_suite

        suite = load_suite(args.suite, resources_dir=args.resources or args.data_dir)
    if args.data_dir and not Path(args.data_dir).is_dir():
        raise XRobustError("not a directory", file=args.data_dir, field="--data-dir")
    name = args.name or Path(args.model.rstrip("/")).name
    if args.split is not None:
        safe_name(args.split, field="--split", what="split")  # it names prediction files
    if not args.out:  # the name becomes runs/<name>: one safe path component, never a way out of runs/
        safe_name(name, field="--name" if args.name else "--model", what="run name")
    out = Path(args.out) if args.out else Path("runs") / name
    options = runtime_options(args, label_map=parse_label_map(args.label_map or ""), seed=args.seed)
    request = RunRequest(metadata=system_metadata(args), tasks=specs, model=args.model, out=out, name=args.name,
                         langs=csv_list(args.langs or ""),
                         data_dir=Path(args.data_dir) if args.data_dir else None, split=args.split,
                         limit=args.limit, revision=args.revision, suite=suite, overwrite=args.overwrite,
                         cross_pairs=csv_list(args.cross_pairs or ""),
                         options=options, adversarial_from=[Path(p) for p in args.adversarial_from or []])
    results = run_with_executor(request, executor_options(args), progress=not args.no_progress)
    print_scores(results)
    print_attacks(results)
    print(f"results: {out / 'results.json'}")
    return 0


def system_metadata(args: argparse.Namespace) -> dict:
    """``--system``, ``--train-seed`` and ``--recipe`` as submission keys (those given)."""
    given = {"system": args.system, "train_seed": args.train_seed, "recipe": args.recipe}
    for key, flag in (("system", "--system"), ("recipe", "--recipe")):
        if given[key] is not None and not given[key].strip():
            raise XRobustError("must not be empty", field=flag)
    return {k: v.strip() if isinstance(v, str) else v for k, v in given.items() if v is not None}


def run_with_executor(request: object, options: ExecutorOptions, *, progress: bool) -> dict:
    """``Runner(request).run()`` on the executor ``options`` ask for; a live progress display under Ray
    (locally the per-unit bars of the predictors are the progress, as before)."""
    from harness.run.progress import Events, LiveProgress
    from harness.run.runner import Runner

    executor = make_executor(options)
    display = LiveProgress() if progress and options.executor != "local" else None
    try:
        return Runner(request, executor, display or Events()).run()  # type: ignore[arg-type]
    finally:
        if display is not None:
            display.close()
        executor.close()


def make_executor(options: ExecutorOptions) -> Executor:
    """The executor ``options`` ask for (Ray is imported only for ``ray``)."""
    options.check()
    if options.executor == "local":
        return LocalExecutor()
    from harness.run.raypool import RayExecutor

    return RayExecutor(options)


def add_executor_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("executor (where units are computed)")
    g.add_argument("--executor", default="local", choices=list(EXECUTORS),
                   help="local: one unit after another in this process (default); ray: a pool of Ray workers")
    g.add_argument("--ray-address", metavar="ADDR", help="Ray cluster to join, e.g. HEAD_IP:6379 or auto "
                   "(default: start a local Ray instance)")
    g.add_argument("--workers", type=int, metavar="N", help="Ray workers (default: as many as the cluster's "
                   "GPUs, or CPUs, allow)")
    g.add_argument("--gpus-per-worker", type=float, metavar="G", help="GPUs per worker, fractions share a GPU "
                   "(default: 1 when the cluster has GPUs, else 0)")
    g.add_argument("--cpus-per-worker", type=float, default=1.0, metavar="C",
                   help="CPUs per worker (also its torch threads; default 1)")


def executor_options(args: argparse.Namespace) -> ExecutorOptions:
    options = ExecutorOptions(executor=args.executor, address=args.ray_address, workers=args.workers,
                              gpus_per_worker=args.gpus_per_worker, cpus_per_worker=args.cpus_per_worker)
    options.check()
    return options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="evaluate a checkpoint on tasks (clean, and under a perturbation suite)")
    p.add_argument("--tasks", required=True, help="comma-separated task names or paths to task YAML files")
    p.add_argument("--model", required=True, help="hub id or local checkpoint directory")
    p.add_argument("--revision", help="hub revision (branch, tag or commit)")
    p.add_argument("--name", help="submission name (default: model directory name)")
    p.add_argument("--langs", help="comma-separated language codes (default: all of each task)")
    p.add_argument("--data-dir", help="read DIR/<task>/<lang>.<split>.jsonl instead of the hub")
    p.add_argument("--split", help="split to evaluate (default: the task's eval split)")
    p.add_argument("--suite", help="perturbation suite name or YAML path (clean is always included)")
    p.add_argument("--resources", help="folder with unimorph/ and muse/ for the perturbation suites")
    p.add_argument("--cross-pairs", help="pair tasks: also evaluate with text_b taken from these languages "
                   "(aligned by id; conditions xling.b-<lang>)")
    p.add_argument("--out", help="run directory (default: runs/<name>)")
    p.add_argument("--limit", type=int, help="first N examples per language (for quick checks)")
    p.add_argument("--label-map", help="MODEL_LABEL=TASK_LABEL,… when label names differ")
    p.add_argument("--seed", type=int, default=0, help="seed of the perturbations and of freshly initialised "
                   "heads (not the training seed: see --train-seed)")
    g = p.add_argument_group("seed runs (a system is the seed runs of one recipe; reports show it as one row)")
    g.add_argument("--system", metavar="NAME", help="this run is one seed run of system NAME (default: its "
                   "--name)")
    g.add_argument("--train-seed", type=int, metavar="N", help="the seed the checkpoint was fine-tuned with, "
                   "when it has no xrobust-card.json (a card's seed and recipe are copied into the run)")
    g.add_argument("--recipe", metavar="LABEL", help="names the recipe of a checkpoint without a card: the seed "
                   "runs of one system must share it")
    p.add_argument("--overwrite", action="store_true", help="recompute units already stored")
    p.add_argument("--adversarial-from", action="append", metavar="RUN_DIR",
                   help="also score this model on the adversarial inputs another run's attacks produced "
                        "(condition <suite>.<cond>@from-<its name>; repeatable; give every compared run, that "
                        "one included, the same RUN_DIR so the report compares them on shared inputs)")
    add_runtime_options(p)
    add_executor_options(p)
    p.set_defaults(func=cmd_run)
