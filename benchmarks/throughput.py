"""Benchmark: xrobust inference throughput against plain loops, pipelines and the FLOP ceiling, side by side.

For XNLI pairs and UD-POS sentences from ../shared/data (equal shares of six languages each), one model is
timed five ways, interleaved over ``--repeats`` rounds (best time counts):

- ``xrobust``: the predictor end to end, from examples to stored records (tokenization in its background
  thread, token-budget batches, padding-free where the settings say so, outputs moved once, records written
  to a run directory);
- ``best loop``: a plain loop doing the same job with the best settings a careful user would pick — weights
  in the run's dtype, tokenize everything, length-sort, batches under the same token budget, one blocking
  ``.cpu()`` per batch, no overlap;
- ``naive loop``: 64 examples per batch in sorted order, float32 weights under ``torch.autocast`` (bf16) on
  CUDA, plain float32 on CPU;
- ``pipeline``: ``transformers.pipeline`` (text- or token-classification), on ``--pipeline-n`` examples;
- ``ceiling``: 2 × non-embedding parameters × tokens at the dense matrix-multiply rate measured on this
  device in this dtype (a large square GEMM), i.e. what a perfect kernel with zero padding would reach.

Reported per row: examples/s, (unpadded) tokens/s, share of the ceiling, peak memory (CUDA: max allocated
during the row; CPU: process peak RSS so far), and xrobust's speed relative to the best loop. ``--json PATH``
writes everything, plus one summary per task: ``{"device", "task", "xrobust_per_s", "best_loop_per_s",
"ratio_vs_best_loop", …}``.

    python benchmarks/throughput.py                          # CPU, offline multilingual-e5-small
    python benchmarks/throughput.py --n 256 --repeats 2      # quick
    python benchmarks/throughput.py --random-xlmr-base --n 40000 --json gpu.json   # on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.data.examples import load_examples  # noqa: E402
from harness.models.batching import collate_padded, padded_batches  # noqa: E402
from harness.models.inference import RuntimeOptions  # noqa: E402
from harness.models.loading import ModelCache, head_class  # noqa: E402
from harness.models.predictors import get_predictor  # noqa: E402
from harness.spec.taskspec import TaskSpec, resolve_task  # noqa: E402
from harness.store.rundir import RunStore, Unit  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LANGS = {"xnli": ["en", "de", "ru", "tr", "ar", "sw"], "udpos": ["en", "de", "ru", "ko", "ar", "fi"]}
UNITS = {"xnli": "pairs", "udpos": "sentences"}


def examples_for(spec: TaskSpec, n: int, data_dir: Path) -> list[dict]:
    """``n`` examples: equal shares of the benchmark languages, repeated when the sample files are short."""
    langs = LANGS[spec.name]
    pool: list[dict] = []
    for lang in langs:
        pool += [{**e, "id": f"{lang}:{e['id']}"} for e in load_examples(spec, lang, data_dir=data_dir)]
    out = [dict(pool[i % len(pool)], id=f"{pool[i % len(pool)]['id']}#{i // len(pool)}") for i in range(n)]
    rng = np.random.default_rng(0)
    return [out[i] for i in rng.permutation(len(out))]  # file order mixes languages and lengths


def checkpoint(base: Path, spec: TaskSpec, out: Path, random_xlmr: bool) -> Path:
    """``base`` (or a random xlm-roberta-base-sized model, ``base``'s tokenizer) with the task's head."""
    import transformers
    from transformers import AutoTokenizer, XLMRobertaConfig

    tok = AutoTokenizer.from_pretrained(base)
    head = getattr(transformers, head_class(spec.type))
    labels = {"id2label": dict(enumerate(spec.labels)), "label2id": {x: i for i, x in enumerate(spec.labels)}}
    torch.manual_seed(0)
    if random_xlmr:
        config = XLMRobertaConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=0, eos_token_id=2,
                                  max_position_embeddings=514, type_vocab_size=1, **labels)
        model = head.from_config(config)
    else:
        model = head.from_pretrained(base, **labels)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def gemm_tflops(device: str, dtype: torch.dtype) -> float:
    """Dense matrix-multiply rate (TFLOP/s) on ``device`` in ``dtype``: best of a few large square GEMMs."""
    size = 8192 if device.startswith("cuda") else 1536
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(5):
        sync(device)
        start = time.perf_counter()
        for _ in range(4):
            a @ b
        sync(device)
        best = min(best, (time.perf_counter() - start) / 4)
    return 2 * size ** 3 / best / 1e12


def encoder_params(model: Any) -> int:
    """Parameters that take part in matrix products per token (embedding tables are lookups)."""
    embeddings = model.base_model.embeddings
    return sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in embeddings.parameters())


def tokenize(spec: TaskSpec, tok: Any, chunk: list[dict]) -> dict:
    if spec.name == "xnli":
        return dict(tok([e["text_a"] for e in chunk], [e["text_b"] for e in chunk], truncation=True,
                        max_length=spec.max_length))
    return dict(tok([[str(w) for w in e["tokens"]] for e in chunk], is_split_into_words=True, truncation=True,
                    max_length=spec.max_length))


def plain_loop(spec: TaskSpec, model: Any, tok: Any, examples: list[dict], device: str, *, max_tokens: int,
               max_rows: int, autocast: bool = False) -> Callable[[], list]:
    """The loop a careful user writes: tokenize all, sort, budgeted batches, blocking ``.cpu()`` each batch."""
    pad = tok.pad_token_id or 0

    def run() -> list:
        enc = tokenize(spec, tok, examples)
        lengths = [len(x) for x in enc["input_ids"]]
        out: list = [None] * len(examples)
        context = torch.autocast("cuda", dtype=torch.bfloat16) if autocast else _Null()
        with torch.inference_mode(), context:
            for rows in padded_batches(lengths, max_tokens=max_tokens, max_rows=max_rows):
                batch = {k: v.to(device) for k, v in collate_padded(enc, rows, pad).items()}
                pred = model(**batch).logits.argmax(-1).cpu()
                for r, i in enumerate(rows):
                    out[i] = pred[r]
        return out

    return run


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def pipeline_run(spec: TaskSpec, model: Any, tok: Any, examples: list[dict], device: str) -> Callable[[], Any]:
    from transformers import pipeline

    if spec.name == "xnli":
        pipe = pipeline("text-classification", model=model, tokenizer=tok, device=torch.device(device), batch_size=64)
        inputs = [{"text": e["text_a"], "text_pair": e["text_b"]} for e in examples]
        return lambda: pipe(inputs, truncation=True, max_length=spec.max_length)
    pipe = pipeline("token-classification", model=model, tokenizer=tok, device=torch.device(device), batch_size=64)
    inputs = [" ".join(str(w) for w in e["tokens"]) for e in examples]
    return lambda: pipe(inputs)


def xrobust_run(predictor: Any, examples: list[dict], work: Path) -> Callable[[], list]:
    """Examples → prediction records → a verified unit in a run directory, as ``xrobust run`` stores it."""
    store = RunStore(work)
    unit = Unit(predictor.spec.name, "mix", "test", "clean")

    def run() -> list:
        records = predictor.predict(examples)
        store.write_unit(unit, records, "benchmark", {})
        return records

    return run


def peak_memory_mb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_rows(variants: dict[str, tuple[Callable[[], Any], int]], device: str,
              repeats: int) -> dict[str, tuple[float, float, float]]:
    """name → (best wall seconds, peak memory MB, best process CPU seconds) over ``repeats`` rounds, variant
    order rotating per round. On a shared machine other jobs inflate wall times at random; process CPU time
    (all threads of this process) is the steadier measure there."""
    best = {name: (float("inf"), 0.0, float("inf")) for name in variants}
    names = list(variants)
    for round_ in range(repeats):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            run, _ = variants[name]
            sync(device)
            if device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            start, cpu = time.perf_counter(), time.process_time()
            run()
            sync(device)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            best[name] = (min(seconds, best[name][0]), max(best[name][1], peak_memory_mb(device)),
                          min(cpu, best[name][2]))
    return best


def bench_task(task: str, args: argparse.Namespace, base: Path, work: Path) -> tuple[list[dict], dict]:
    spec = resolve_task(task)
    ckpt = checkpoint(base, spec, work / task, args.random_xlmr_base)
    options = RuntimeOptions(device=args.device, dtype=args.dtype, attn=args.attn, padding_free=args.padding_free,
                             max_tokens=args.max_tokens, batch_size=args.batch_size, progress=False)
    models = ModelCache(str(ckpt), options)
    settings = models.inference(spec.type)
    predictor = get_predictor(spec, models, options)
    loaded = models.get(spec.type)
    device, dtype = settings.device, settings.torch_dtype()
    import transformers

    head = getattr(transformers, head_class(spec.type))
    plain_attn = "eager" if device.startswith("cuda") else "sdpa"
    plain = head.from_pretrained(ckpt, dtype=dtype, attn_implementation=plain_attn).to(device).eval()
    naive = head.from_pretrained(ckpt, dtype=torch.float32).to(device).eval()
    tok = loaded.tokenizer
    examples = examples_for(spec, args.n, Path(args.data_dir))
    tokens = sum(len(x) for x in tokenize(spec, tok, examples)["input_ids"])
    cuda = device.startswith("cuda")
    variants: dict[str, tuple[Callable[[], Any], int]] = {
        "xrobust": (xrobust_run(predictor, examples, work / f"run-{task}"), len(examples)),
        "best loop": (plain_loop(spec, plain, tok, examples, device, max_tokens=settings.max_tokens,
                                 max_rows=settings.batch_size), len(examples)),
        "naive loop": (plain_loop(spec, naive, tok, examples, device, max_tokens=10 ** 9, max_rows=64,
                                  autocast=cuda), len(examples)),
    }
    for name, (run, _) in variants.items():  # warm-up: threads, allocator, kernels
        if name != "naive loop":
            run()
    times = time_rows(variants, device, args.repeats)
    pipe_n = min(args.pipeline_n, len(examples))
    if pipe_n:
        pipe = pipeline_run(spec, plain, tok, examples[:pipe_n], device)
        pipe()
        times.update(time_rows({"pipeline": (pipe, pipe_n)}, device, 1))
        variants["pipeline"] = (pipe, pipe_n)
    tflops = gemm_tflops(device, dtype)
    flops_per_token = 2 * encoder_params(plain)
    ceiling = tflops * 1e12 / flops_per_token / (tokens / len(examples))
    rows = []
    x_seconds, x_cpu = times["xrobust"][0], times["xrobust"][2]
    for name, (seconds, memory, cpu) in times.items():
        n = variants[name][1]
        per_s = n / seconds
        rows.append({"task": task, "variant": name, "n": n, "unit": UNITS[task], "seconds": round(seconds, 4),
                     "per_s": round(per_s, 1), "tokens_per_s": round(per_s * tokens / len(examples), 1),
                     "share_of_ceiling": round(per_s / ceiling, 4), "peak_memory_mb": round(memory, 1),
                     "xrobust_speed_ratio": round((len(examples) / x_seconds) / per_s, 3),
                     "cpu_seconds": round(cpu, 4), "xrobust_cpu_ratio": round((len(examples) / x_cpu) / (n / cpu), 3)})
    rows.append({"task": task, "variant": "ceiling", "n": len(examples), "unit": UNITS[task],
                 "per_s": round(ceiling, 1), "tokens_per_s": round(ceiling * tokens / len(examples), 1),
                 "share_of_ceiling": 1.0, "gemm_tflops": round(tflops, 2), "flops_per_token": flops_per_token})
    summary = {"device": device_name(device), "task": task, "settings": settings.describe(),
               "mean_tokens": round(tokens / len(examples), 1), "n": len(examples),
               "xrobust_per_s": round(len(examples) / x_seconds, 1),
               "best_loop_per_s": round(len(examples) / times["best loop"][0], 1),
               "ratio_vs_best_loop": round(times["best loop"][0] / x_seconds, 3),
               "cpu_ratio_vs_best_loop": round(times["best loop"][2] / x_cpu, 3),
               "naive_loop_per_s": round(len(examples) / times["naive loop"][0], 1),
               "ceiling_per_s": round(ceiling, 1), "share_of_ceiling": round(len(examples) / x_seconds / ceiling, 4)}
    del plain, naive
    return rows, summary


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"cpu ({torch.get_num_threads()} threads)"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="encoder checkpoint dir (default: the offline multilingual-e5-small)")
    p.add_argument("--random-xlmr-base", action="store_true",
                   help="random-init xlm-roberta-base-sized model with --model's (e5's) tokenizer; for GPUs")
    p.add_argument("--n", type=int, default=1024, help="examples per task")
    p.add_argument("--pipeline-n", type=int, default=256, help="examples for the pipeline row (0: skip)")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--attn", default="auto")
    p.add_argument("--padding-free", default="auto")
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    p.add_argument("--tasks", default="xnli,udpos")
    p.add_argument("--data-dir", default=str(DATA))
    p.add_argument("--json", help="write rows and per-task summaries here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    args = parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model:
        base = Path(args.model)
    else:
        from harness.models.offline_e5 import ensure_checkpoint

        base = ensure_checkpoint()
    rows, summaries = [], []
    with tempfile.TemporaryDirectory(prefix="xrobust-throughput-") as tmp:
        for task in [t.strip() for t in args.tasks.split(",") if t.strip()]:
            task_rows, summary = bench_task(task, args, base, Path(tmp))
            rows += task_rows
            summaries.append(summary)
            print(f"\n{task} on {summary['device']}: {summary['settings']}, {summary['n']} {UNITS[task]}, "
                  f"mean {summary['mean_tokens']} tokens")
            print(f"{'variant':<12} {'per s':>10} {'tokens/s':>12} {'ceiling':>8} {'peak MB':>9} {'xrobust is':>11} "
                  f"{'(cpu time)':>10}")
            for r in task_rows:
                ratio = f"{r['xrobust_speed_ratio']:.3f}x" if "xrobust_speed_ratio" in r else ""
                cpu_ratio = f"{r['xrobust_cpu_ratio']:.3f}x" if "xrobust_cpu_ratio" in r else ""
                memory = f"{r['peak_memory_mb']:.0f}" if "peak_memory_mb" in r else ""
                print(f"{r['variant']:<12} {r['per_s']:>10.1f} {r['tokens_per_s']:>12.0f} "
                      f"{100 * r['share_of_ceiling']:>7.1f}% {memory:>9} {ratio:>11} {cpu_ratio:>10}")
    for s in summaries:
        print(f"{s['task']}: xrobust {s['xrobust_per_s']:.1f}/s, best loop {s['best_loop_per_s']:.1f}/s, "
              f"ratio {s['ratio_vs_best_loop']:.3f}x (cpu time {s['cpu_ratio_vs_best_loop']:.3f}x), "
              f"{100 * s['share_of_ceiling']:.1f}% of the ceiling")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summaries}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
