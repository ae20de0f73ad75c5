"""``xrobust demo``: the offline demo."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_demo(args: argparse.Namespace) -> int:
    from harness.demo.run import run_demo

    data_dir = Path(args.data_dir) if args.data_dir else None
    index = run_demo(Path(args.out), data_dir=data_dir, progress=not args.no_progress)
    print(f"report: {index}\nopen it in a browser: file://{index.resolve()}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="offline demo: retrieval mini-benchmark, plus fine-tuned UD-POS submissions "
                                    "when --data-dir has udpos/; HTML report")
    p.add_argument("--out", default="xrobust-demo")
    p.add_argument("--data-dir", help="folder with udpos/en.train.jsonl and udpos/<lang>.test.jsonl: adds e5-small "
                                      "fine-tuned on English (plain and robust; cached) evaluated zero-shot")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_demo)
