"""Benchmark: attack throughput (examples attacked per second) and model calls per example, per task type, on any
device.

Runs one attack condition (default: ``adversarial.greedy``) with each task's predictor on real rows from
../shared/data, per language, and prints one row per task and language plus a total per task: examples/s,
model calls (texts scored) per example, batched scoring calls, texts scored per second, success rate as seen by
the search, and mean edited words. Use fine-tuned checkpoints for meaningful success rates; any checkpoint with
the task's head (even a fresh one, e.g. the bare encoder) gives the throughput.

    python benchmarks/attack.py --model CKPT                                   # UD-POS, CPU
    python benchmarks/attack.py --model CKPT --device cuda --batch-size 128 --limit 200
    python benchmarks/attack.py --model CKPT --tasks xnli --langs de,ru,tr --condition greedy_inflection
    python benchmarks/attack.py --model E5 --tasks tydiqa:train,xcopa,tatoeba_e5 --limit 8   # every new type
    python benchmarks/attack.py --model E5 --models tydiqa=QA_CKPT,xcopa=COPA_CKPT --tasks tydiqa:train,xcopa

A task is ``NAME[:SPLIT]`` or ``TASK.yaml[:SPLIT]`` (a task file, e.g. one including a built-in task with other
``qa`` windows); TyDiQA-GoldP has labelled target-language rows only in ``train`` offline, MLQA in
``validation``. Without ``--langs`` each task runs its default languages (:data:`LANGS`). ``--max-words N``
keeps the first ``--limit`` rows whose attacked fields have at most N words (short QA contexts);
``--max-queries`` overrides the condition's query cap.

Reproducing the recorded numbers (e5 checkpoints fine-tuned by tests/harness/attack/test_attack_e5*.py, cached
in ~/.cache/xrobust; QA.yaml includes tasks/tydiqa.yaml with ``qa: {max_length: 128, stride: 32,
max_query_length: 32}``):

    python benchmarks/attack.py --model E5_UDPOS --tasks udpos --langs de,tr --limit 8 --device cpu
    python benchmarks/attack.py --model E5_QA --tasks QA.yaml:train --langs sw --limit 8 --max-words 60 --device cpu
    python benchmarks/attack.py --model E5_COPA --tasks xcopa --langs it,tr --limit 8 --device cpu
    python benchmarks/attack.py --model ~/.cache/xrobust/offline-e5 --tasks tatoeba_e5 --langs de,fi --limit 8 \
        --device cpu
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.attack.search import run_attack  # noqa: E402
from harness.attack.slots import example_slots  # noqa: E402
from harness.attack.support import attack_support  # noqa: E402
from harness.data.examples import load_examples  # noqa: E402
from harness.models.loading import ModelCache, RuntimeOptions  # noqa: E402
from harness.models.predictors import get_predictor  # noqa: E402
from harness.spec.taskspec import resolve_task  # noqa: E402
from perturbations import load_suite  # noqa: E402
from perturbations.candidates import CandidateGenerator  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LANGS = {"udpos": "de,fi,ru,tr", "panx": "de,fi,ru,tr", "xnli": "de,ru,tr", "pawsx": "de,ko", "tydiqa": "ko,sw",
         "mlqa": "de,ar", "xquad": "de,ru,tr", "xcopa": "et,it,tr", "tatoeba": "de,fi,tr", "tatoeba_e5": "de,fi,tr"}


def bench_language(predictor: Any, condition: Any, lang: str, examples: list[dict], batch_size: int) -> dict:
    spec = predictor.spec
    attack = condition.attack
    support = attack_support(predictor, examples, attack)
    generator = CandidateGenerator(condition.steps, lang, max_candidates=attack.max_candidates, seed=condition.seed,
                                   real_word_typos=attack.real_word_typos,
                                   inflection_prefix=attack.inflection_prefix)
    example_slots(generator, examples[0], spec.perturb_fields, support.policy)  # load tables first
    result = run_attack(examples, support.score, generator, attack, fields=spec.perturb_fields,
                        policy=support.policy, seed=condition.seed, group_size=batch_size)
    attacked = [o for o in result.outcomes if o.attacked]
    n = len(examples)
    return {"task": spec.name, "type": spec.type, "lang": lang, "n": n, "seconds": round(result.seconds, 2),
            "examples_per_s": round(n / result.seconds, 3), "model_calls_per_example": round(result.model_calls / n, 1),
            "score_calls": result.score_calls, "texts_per_s": round(result.model_calls / result.seconds, 1),
            "n_attacked": len(attacked),
            "success_rate": round(sum(o.flipped for o in attacked) / max(len(attacked), 1), 3),
            "mean_edited_words": round(sum(len(o.edits) for o in attacked) / max(len(attacked), 1), 2)}


def rows_of(spec: Any, lang: str, split: str | None, args: argparse.Namespace) -> list[dict]:
    """The first ``--limit`` rows of one language (with ``--max-words``: of those short enough)."""
    if args.max_words is None:
        return load_examples(spec, lang, split, data_dir=args.data_dir, limit=args.limit)
    rows = load_examples(spec, lang, split, data_dir=args.data_dir)
    return [r for r in rows if words(r, spec.perturb_fields) <= args.max_words][:args.limit]


def words(example: dict, fields: Sequence[str]) -> int:
    """Whitespace words of ``example``'s ``fields`` (strings, or lists of strings)."""
    values = [example.get(name) for name in fields]
    return sum(len(v.split()) if isinstance(v, str) else sum(len(str(x).split()) for x in v or ()) for v in values)


def total(rows: list[dict], label: str) -> dict:
    n, seconds = sum(r["n"] for r in rows), sum(r["seconds"] for r in rows)
    calls = sum(r["model_calls_per_example"] * r["n"] for r in rows)
    return {"task": label, "lang": "all", "n": n, "seconds": round(seconds, 2),
            "examples_per_s": round(n / seconds, 3) if seconds else 0.0,
            "model_calls_per_example": round(calls / n, 1) if n else 0.0,
            "texts_per_s": round(calls / seconds, 1) if seconds else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="checkpoint for every task (local directory)")
    parser.add_argument("--models", default="", help="TASK=CKPT,… overriding --model for some tasks")
    parser.add_argument("--tasks", default="udpos", help="comma-separated NAME[:SPLIT] (any task type)")
    parser.add_argument("--task", help=argparse.SUPPRESS)  # the former single-task flag
    parser.add_argument("--langs", help="languages for every task (default: per task, see LANGS)")
    parser.add_argument("--limit", type=int, default=32, help="examples per language")
    parser.add_argument("--max-words", type=int, help="only rows whose attacked fields have at most this many words")
    parser.add_argument("--max-queries", type=int, help="override the condition's query cap (texts per example)")
    parser.add_argument("--suite", default="adversarial")
    parser.add_argument("--condition", default="greedy")
    parser.add_argument("--data-dir", default=str(DATA))
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 …")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--batch-size", type=int, default=32, help="examples per search batch and texts per forward")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    condition = load_suite(args.suite, resources_dir=args.data_dir).condition(args.condition)
    if args.max_queries is not None and condition.attack is not None:
        condition = dataclasses.replace(condition, attack=dataclasses.replace(condition.attack,
                                                                              max_queries=args.max_queries))
    models = dict(item.split("=", 1) for item in args.models.split(",") if item)
    options = RuntimeOptions(device=args.device, dtype=args.dtype, batch_size=args.batch_size, progress=False)
    rows, totals, device = [], [], "cpu"
    for item in [x for x in (args.task or args.tasks).split(",") if x]:
        name, _, split = item.partition(":")
        spec = resolve_task(name)
        if condition.attack is None or not condition.applies_to(spec.type):
            raise SystemExit(f"{args.suite}.{args.condition} is not an attack for {spec.type}")
        model = models.get(name, models.get(spec.name, args.model))
        predictor = get_predictor(spec, ModelCache(model, options), options)
        device = predictor.models.get(spec.type).device
        task_rows = []
        for lang in [x for x in (args.langs or LANGS.get(spec.name, spec.source_language)).split(",") if x]:
            examples = rows_of(spec, lang, split or None, args)
            task_rows.append(bench_language(predictor, condition, lang, examples, args.batch_size))
            print(json.dumps(task_rows[-1]))
        totals.append(total(task_rows, name))
        print(json.dumps(totals[-1]))
        rows += task_rows
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else platform.processor() or "cpu"
    print(f"{args.suite}.{args.condition}, device {device} ({name}), torch threads {torch.get_num_threads()}, "
          f"batch {args.batch_size}, dtype {args.dtype}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "totals": totals, "device": device}, indent=2) + "\n")


if __name__ == "__main__":
    main()
