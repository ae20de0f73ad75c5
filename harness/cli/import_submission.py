"""``xrobust import``: turn an XTREME leaderboard submission folder into a run directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import XRobustError


def parse_params(values: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings → dict (values kept as strings; a repeated key keeps the last value)."""
    params: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise XRobustError(f"expected KEY=VALUE, got {item!r}", field="--param")
        params[key.strip()] = value.strip()
    return params


def cmd_import(args: argparse.Namespace) -> int:
    from harness.cli.common import print_scores
    from harness.run.importer import ImportRequest, import_submission

    params = parse_params(args.param)
    if args.train_seed is not None:
        if params.get("seed") not in (None, str(args.train_seed)):
            raise XRobustError(f"--train-seed {args.train_seed} contradicts --param seed={params['seed']}",
                               field="--train-seed")
        params["seed"] = str(args.train_seed)
    if args.system is not None and not args.system.strip():
        raise XRobustError("must not be empty", field="--system")
    request = ImportRequest(pred_dir=Path(args.pred_dir), name=args.name, out=Path(args.out),
                            data_dir=Path(args.data_dir) if args.data_dir else None, model=args.model,
                            url=args.url, params=params, split=args.split, system=args.system)
    results = import_submission(request)
    print_scores(results)
    print(f"results: {request.out / 'results.json'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import predictions in the XTREME submission layout (<task>/test-<lang>.tsv"
                                      "|json) into a run directory")
    p.add_argument("pred_dir", metavar="PRED_DIR", help="folder with one sub-folder per task")
    p.add_argument("--name", required=True, help="submission name")
    p.add_argument("--out", required=True, help="run directory to write")
    p.add_argument("--data-dir", help="gold data: DIR/<task>/<lang>.<split>.jsonl instead of the hub")
    p.add_argument("--model", help="model the predictions came from (metadata)")
    p.add_argument("--url", help="paper or project URL (metadata)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="submission parameter (metadata), repeatable")
    p.add_argument("--split", help="split the test-<lang> files are scored on (default: each task's eval split)")
    p.add_argument("--system", metavar="NAME",
                   help="this import is one seed run of system NAME; give its training seed with --train-seed "
                        "(reports show the seed runs of a system as one row)")
    p.add_argument("--train-seed", type=int, metavar="N",
                   help="the training seed of the model the predictions came from (stored as --param seed=N)")
    p.set_defaults(func=cmd_import)
