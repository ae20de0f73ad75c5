"""Benchmark: attack throughput (examples attacked per second) and model calls per example, on any device.

Runs one attack condition (default: ``adversarial.greedy``) with a task's predictor on real rows from
../shared/data, per language, and prints one row per language plus the total: examples/s, model calls (texts
scored) per example, batched scoring calls, texts scored per second, success rate as seen by the search, and
mean edited words. Use a fine-tuned checkpoint for meaningful success rates; any checkpoint with the task's head
(even a fresh one) gives the throughput.

    python benchmarks/attack.py --model CKPT                             # UD-POS, CPU
    python benchmarks/attack.py --model CKPT --device cuda --batch-size 128 --limit 200
    python benchmarks/attack.py --model CKPT --task xnli --langs de,ru,tr --condition greedy_inflection
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.attack.search import run_attack  # noqa: E402
from harness.data.examples import load_examples  # noqa: E402
from harness.models.loading import ModelCache, RuntimeOptions  # noqa: E402
from harness.models.predictors import get_predictor  # noqa: E402
from harness.spec.taskspec import resolve_task  # noqa: E402
from perturbations import load_suite  # noqa: E402
from perturbations.candidates import CandidateGenerator  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def bench_language(predictor: Any, condition: Any, lang: str, examples: list[dict], batch_size: int) -> dict:
    spec = predictor.spec
    attack = condition.attack
    generator = CandidateGenerator(condition.steps, lang, max_candidates=attack.max_candidates, seed=condition.seed,
                                   real_word_typos=attack.real_word_typos,
                                   inflection_prefix=attack.inflection_prefix)
    generator.slots(examples[0], spec.perturb_fields, spec.type == "token_classification")  # load tables first
    result = run_attack(examples, predictor.score_gold, generator, attack, fields=spec.perturb_fields,
                        token_task=spec.type == "token_classification", seed=condition.seed, group_size=batch_size)
    attacked = [o for o in result.outcomes if o.attacked]
    n = len(examples)
    return {"lang": lang, "n": n, "seconds": round(result.seconds, 2),
            "examples_per_s": round(n / result.seconds, 3), "model_calls_per_example": round(result.model_calls / n, 1),
            "score_calls": result.score_calls, "texts_per_s": round(result.model_calls / result.seconds, 1),
            "success_rate": round(sum(o.flipped for o in attacked) / max(len(attacked), 1), 3),
            "mean_edited_words": round(sum(len(o.edits) for o in attacked) / max(len(attacked), 1), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="checkpoint with the task's head (local directory)")
    parser.add_argument("--task", default="udpos", help="a pair or token classification task")
    parser.add_argument("--langs", default="de,fi,ru,tr")
    parser.add_argument("--limit", type=int, default=32, help="examples per language")
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
    spec = resolve_task(args.task)
    condition = load_suite(args.suite, resources_dir=args.data_dir).condition(args.condition)
    if condition.attack is None or not condition.applies_to(spec.type):
        raise SystemExit(f"{args.suite}.{args.condition} is not an attack for {spec.type}")
    options = RuntimeOptions(device=args.device, dtype=args.dtype, batch_size=args.batch_size, progress=False)
    predictor = get_predictor(spec, ModelCache(args.model, options), options)
    device = predictor.models.get(spec.type).device
    rows = []
    for lang in [x for x in args.langs.split(",") if x]:
        examples = load_examples(spec, lang, data_dir=args.data_dir, limit=args.limit)
        rows.append(bench_language(predictor, condition, lang, examples, args.batch_size))
        print(json.dumps(rows[-1]))
    n, seconds = sum(r["n"] for r in rows), sum(r["seconds"] for r in rows)
    calls = sum(r["model_calls_per_example"] * r["n"] for r in rows)
    total = {"lang": "all", "n": n, "seconds": round(seconds, 2), "examples_per_s": round(n / seconds, 3),
             "model_calls_per_example": round(calls / n, 1), "texts_per_s": round(calls / seconds, 1)}
    print(json.dumps(total))
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else platform.processor() or "cpu"
    print(f"{args.suite}.{args.condition} on {args.task}, device {device} ({name}), torch threads "
          f"{torch.get_num_threads()}, batch {args.batch_size}, dtype {args.dtype}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "total": total, "device": device}, indent=2) + "\n")


if __name__ == "__main__":
    main()
