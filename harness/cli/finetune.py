"""``xrobust finetune`` sub-command (listed in ``harness.cli.main.SUBCOMMANDS``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.cli.common import csv_list
from harness.errors import XRobustError

HELP = """Fine-tune on a task's source-language training split with the head its task type needs, and save a
checkpoint `xrobust run --model OUT` evaluates. Hyper-parameters: XTREME's per-task-type defaults, then the
task YAML's `training:` block, then these flags (which apply to every stage of an --intermediate chain)."""


def register(sub: Any) -> None:
    p = sub.add_parser("finetune", help="fine-tune a checkpoint on a task (zero-shot transfer source)",
                       description=HELP)
    p.add_argument("--model", required=True, help="base checkpoint: local directory (or hub id)")
    p.add_argument("--task", required=True, help="task name or task YAML path")
    p.add_argument("--out", required=True, help="output checkpoint directory")
    p.add_argument("--data-dir", help="read DIR/<task>/<lang>.<split>.jsonl instead of the hub")
    langs = p.add_mutually_exclusive_group()
    langs.add_argument("--train-lang", help="training language (default: the task's source language)")
    langs.add_argument("--train-langs", help="comma-separated training languages, e.g. en,ko (few-shot)")
    p.add_argument("--train-split", help="training split (default: the task's `splits.train`)")
    p.add_argument("--train-limit", help="first N examples per language (every stage), or LANG=N,… (target task)")
    p.add_argument("--intermediate", help="TASK[:SPLIT],… trained first, in order (X-STILTs); the head is "
                                          "replaced between stages")
    p.add_argument("--augment", metavar="SUITE", help="add perturbed copies of each training example")
    p.add_argument("--augment-copies", type=int, default=1, metavar="K", help="perturbed copies per example")
    p.add_argument("--resources", help="folder with unimorph/ and muse/ (default: --data-dir)")
    p.add_argument("--epochs", type=float)
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--max-steps", type=int, help="stop after N optimizer steps (overrides --epochs)")
    p.add_argument("--max-length", type=int, help="max tokens per input (QA: per window)")
    p.add_argument("--warmup-ratio", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--lr-scheduler", choices=["linear", "constant", "cosine"], help="after warm-up (XTREME: linear)")
    p.add_argument("--max-grad-norm", type=float, help="gradient clipping (0: none; default 1.0)")
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int)
    seeds.add_argument("--seeds", help="comma-separated seeds, e.g. 1,2,3: one checkpoint per seed of the same "
                                       "recipe, in OUT/seed-<k> (or OUT with {seed} filled in)")
    p.add_argument("--eval-steps", type=int, metavar="N", help="with --select-on dev: score the dev set every N "
                                                                "optimizer steps (and after the last)")
    p.add_argument("--select-on", default="last", choices=["last", "dev"],
                   help="dev: keep the weights with the best source-language dev score, as XTREME does (the "
                        "card records the step); last: the final weights")
    p.add_argument("--dev-split", help="split to select on (default: the task's `splits.dev`, else validation)")
    p.add_argument("--dev-holdout", type=int, default=0, metavar="N",
                   help="select on the last N training examples per language instead (left out of training)")
    p.add_argument("--dev-limit", type=int, metavar="N", help="first N dev examples per language")
    p.add_argument("--device", default="auto", choices=["auto", "cpu"], help="auto: CUDA if available")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=cmd_finetune)


def _command(args: argparse.Namespace) -> list[str]:
    """The flags as given (for the card), rebuilt from the parsed namespace."""
    out = ["finetune"]
    for name, value in vars(args).items():
        if name in ("func", "command", "verbose") or value in (None, False) or \
                (name, value) in (("augment_copies", 1), ("device", "auto"), ("select_on", "last"),
                                  ("dev_holdout", 0)):
            continue
        flag = "--" + name.replace("_", "-")
        out += [flag] if value is True else [flag, str(value)]
    return out


def cmd_finetune(args: argparse.Namespace) -> int:
    from harness.finetune.card import read_card
    from harness.finetune.train import FinetuneRequest, finetune, finetune_seeds

    if args.augment_copies < 1:
        raise XRobustError("must be at least 1", field="--augment-copies")
    overrides = {"learning_rate": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
                 "max_steps": args.max_steps, "max_length": args.max_length, "warmup_ratio": args.warmup_ratio,
                 "weight_decay": args.weight_decay, "seed": args.seed, "lr_scheduler": args.lr_scheduler,
                 "max_grad_norm": args.max_grad_norm}
    langs = csv_list(args.train_langs) or csv_list(args.train_lang)
    request = FinetuneRequest(
        model=args.model, task=args.task, out=Path(args.out), train_langs=langs, train_split=args.train_split,
        train_limit=args.train_limit, intermediate=csv_list(args.intermediate), augment=args.augment,
        augment_copies=args.augment_copies, resources=args.resources,
        data_dir=Path(args.data_dir) if args.data_dir else None, overrides=overrides,
        overwrite=args.overwrite, progress=not args.no_progress, device=args.device,
        command=_command(args), select_on=args.select_on, eval_steps=args.eval_steps, dev_split=args.dev_split,
        dev_holdout=args.dev_holdout, dev_limit=args.dev_limit)
    outs = finetune_seeds(request, parse_seeds(args.seeds)) if args.seeds else [finetune(request)]
    for out in outs:
        card = read_card(out) or {}
        train = card.get("training", {})
        stages = " -> ".join(s["task"] for s in card.get("stages", []))
        sel = card.get("selection") or {}
        kept = f"; kept step {sel['best_step']} (dev {sel['metric']} {sel['best_score']})" \
            if sel.get("select_on") == "dev" else ""
        print(f"seed {card.get('seed')}: stages: {stages}; steps {train.get('steps')}; final loss "
              f"{train.get('train_loss')}; {card.get('data', {}).get('n_training_examples')} training examples{kept}")
        print(f"checkpoint: {out}")
    return 0


def parse_seeds(text: str) -> list[int]:
    """``1,2,3`` → [1, 2, 3] (distinct integers)."""
    try:
        seeds = [int(part) for part in csv_list(text)]
    except ValueError:
        raise XRobustError(f"expected comma-separated integers, got {text!r}", field="--seeds") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise XRobustError(f"expected distinct seeds, got {text!r}", field="--seeds")
    return seeds
