"""``xrobust`` command line: one module per sub-command, listed in :data:`SUBCOMMANDS`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from harness import __version__
from harness.cli import (
    compare,
    data,
    demo,
    finetune,
    grid,
    import_submission,
    models,
    perturb,
    report,
    run,
    suites,
    tasks,
)
from harness.errors import InputError, XRobustError

SUBCOMMANDS = (run, report, tasks, data, models, demo, perturb, compare, import_submission, finetune, suites,
               grid)

WITHOUT_MODELS = frozenset({"report", "compare", "tasks", "suites"})  # sub-commands that never load a model


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xrobust")
    parser.add_argument("--version", action="version", version=f"xrobust {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    parser.description = f"xrobust command line: {', '.join(sub.choices)}."
    return parser


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


def path_error(err: OSError) -> XRobustError:
    """A file system error on a path the user named (``--out`` is a file, a folder cannot be created, ...) as
    ``PATH: field 'path': cannot use it (reason)``, so no sub-command ends in a traceback for it."""
    target = err.filename2 if isinstance(err, FileExistsError) and err.filename2 else err.filename
    return XRobustError(f"cannot use this path ({err.strerror or type(err).__name__})", file=os.fsdecode(target),
                        field="path")


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if args.command not in WITHOUT_MODELS:  # importing transformers costs a second these commands do not need
        _quiet_libraries(args.verbose, getattr(args, "no_progress", False))
    try:
        return args.func(args)
    except InputError as err:
        print(f"xrobust: error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:
        if err.filename is None:  # not about a path the user gave: a bug, keep the traceback
            raise
        print(f"xrobust: error: {path_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xrobust: interrupted; completed units are kept and the next run resumes", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
