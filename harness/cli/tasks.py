"""``xrobust tasks``: list the built-in tasks."""

from __future__ import annotations

import argparse


def cmd_tasks(args: argparse.Namespace) -> int:
    from harness import tasktypes
    from harness.spec.taskspec import TaskSpec, builtin_task_files, load_task

    def source(spec: TaskSpec) -> str:
        if spec.hub is not None:
            return spec.hub.path + (f":{spec.hub.name}" if spec.hub.name else "")
        return tasktypes.get(spec.type).data_source(spec)

    print(f"{'task':<11} {'type':<20} {'metric':<15} {'eval':<10} {'#':>3}  {'data source':<38} languages")
    for name, path in builtin_task_files().items():
        spec = load_task(path)
        print(f"{name:<11} {spec.type:<20} {spec.ranked_metric:<15} {spec.eval_split:<10} "
              f"{len(spec.languages):>3}  {source(spec):<38} {','.join(spec.languages)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list the built-in tasks")
    p.set_defaults(func=cmd_tasks)
