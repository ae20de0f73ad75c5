"""``xrobust data``: where each task's data comes from (``sources``), and a hub copy in the local layout
(``pull``) for machines that run with ``--data-dir``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.cli.common import csv_list
from harness.errors import XRobustError


def _specs(tasks: str | None) -> list:
    from harness.spec.taskspec import builtin_task_files, load_task, resolve_task

    names = csv_list(tasks)
    if names:
        return [resolve_task(t) for t in names]
    return [load_task(path) for path in builtin_task_files().values()]


def cmd_sources(args: argparse.Namespace) -> int:
    from harness.data import catalog

    rows = catalog.table(_specs(args.tasks))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif args.markdown:
        sys.stdout.write(catalog.markdown(rows))
    else:
        sys.stdout.write(catalog.text(rows))
        print("* extra language (not in the task's benchmark average); revision 'unpinned' = the default branch, "
              "resolved to a commit at load time and recorded with each unit")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from harness.data.pull import MANIFEST, plan, pull

    specs = _specs(args.tasks)
    if not specs:
        raise XRobustError("no tasks given", field="--tasks")
    if args.limit is not None and args.limit < 1:
        raise XRobustError("must be at least 1", field="--limit")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise XRobustError("not a directory", file=out, field="--out")
    items = plan(specs, csv_list(args.langs) or None, csv_list(args.splits) or None, out)
    manifest = pull(items, out, limit=args.limit, progress=not args.no_progress)
    rows = sum(manifest["files"][item.rel]["rows"] for item in items)
    print(f"{len(items)} files, {rows} rows in {out} (manifest: {out / MANIFEST}); run with --data-dir {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="where task data comes from; pull hub data into the local layout")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    s = data_sub.add_parser("sources", help="per task, language and split: hub id, config, split, revision, "
                            "fields, or why there is none")
    s.add_argument("--tasks", help="comma-separated task names or YAML paths (default: every built-in task)")
    shown = s.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="one JSON record per row")
    shown.add_argument("--markdown", action="store_true", help="a Markdown table, languages of one source grouped")
    s.set_defaults(func=cmd_sources)
    q = data_sub.add_parser("pull", help="load from the hub and write OUT/<task>/<lang>.<split>.jsonl + manifest")
    q.add_argument("--tasks", required=True, help="comma-separated task names or YAML paths")
    q.add_argument("--langs", help="comma-separated language codes (default: each task's languages)")
    q.add_argument("--splits", help="comma-separated splits (default: each task's eval split)")
    q.add_argument("--out", required=True, help="output folder (what --data-dir reads)")
    q.add_argument("--limit", type=int, help="first N rows per file (for quick checks)")
    q.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    q.set_defaults(func=cmd_pull)
