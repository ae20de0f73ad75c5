"""The ``local`` and ``ray`` executors on the same units: wall time, ratios, Ray's overhead per unit.

    python benchmarks/executor.py --data-dir ../shared/data [--langs de,tr,ru] [--limit 100] [--json out.json]

Units: XNLI and UD-POS x ``--langs`` x (clean + the typos suite) with a small random BERT (4 layers, hidden 256,
a BPE vocabulary trained on the XNLI rows; CPU-bound) or ``--model DIR``. Measured, each into a fresh run dir:

- ``local`` with 1 torch thread (what one Ray worker gets) and with every core;
- ``ray`` with 1 and 2 workers (1 CPU and 1 thread each), cold (the pool starts: processes, imports, model
  load) and warm (a second run on the same pool: the workers already hold the model);
- Ray's overhead per unit: (ray 1 worker warm - local 1 thread) / units, and the round trip of an empty call.

Every run's prediction files are checked to be byte-identical to the local run's. Ray is started here with the
machine's CPUs (``ray.init(num_cpus=...)``); its start-up time is reported on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_model(out: Path, data: Path) -> Path:
    """A random 4-layer BERT with the labels of XNLI and UD-POS and a 2,000-token BPE vocabulary."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    from harness.spec.taskspec import resolve_task

    lines = []
    for lang in ("en", "de", "tr", "ru", "ar"):
        path = data / "xnli" / f"{lang}.test.jsonl"
        if path.is_file():
            for row in map(json.loads, path.read_text(encoding="utf-8").splitlines()[:400]):
                lines += [row["sentence1"], row["sentence2"]]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=2000, special_tokens=[
        "<s>", "<pad>", "</s>", "<unk>", "<mask>"]))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                       special_tokens=[("<s>", 0), ("</s>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
                                   model_max_length=512)
    labels = list(resolve_task("xnli").labels) + list(resolve_task("udpos").labels)
    config = BertConfig(vocab_size=len(fast), hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                        intermediate_size=1024, pad_token_id=fast.pad_token_id, id2label=dict(enumerate(labels)),
                        label2id={v: k for k, v in enumerate(labels)})
    import torch

    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(out)
    fast.save_pretrained(out)
    return out


def predictions_digest(run: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((run / "predictions").rglob("*.jsonl")):
        digest.update(path.relative_to(run).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--model", type=Path, help="checkpoint with XNLI and UD-POS labels (default: built here)")
    parser.add_argument("--langs", default="de,tr,ru")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import ray
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    from harness.models.loading import RuntimeOptions
    from harness.run.executors import ExecutorOptions
    from harness.run.raypool import RayExecutor
    from harness.run.runner import Runner, RunRequest, plan_units
    from harness.spec.taskspec import resolve_task
    from perturbations import load_suite

    work = Path(tempfile.mkdtemp(prefix="xrobust-executor-bench-"))
    model = args.model or build_model(work / "model", args.data_dir)
    suite = load_suite("typos")
    cores = os.cpu_count() or 1

    def request(name: str, limit: int | None = None) -> RunRequest:
        return RunRequest(tasks=[resolve_task("xnli"), resolve_task("udpos")], model=str(model), out=work / name,
                          langs=args.langs.split(","), data_dir=args.data_dir, limit=limit or args.limit, suite=suite,
                          options=RuntimeOptions(progress=False))

    units = len(plan_units(request("plan")))
    rows: dict[str, float] = {}
    digests: dict[str, str] = {}

    def timed(name: str, runner: Runner) -> None:
        start = time.perf_counter()
        runner.run()
        rows[name] = time.perf_counter() - start
        digests[name] = predictions_digest(runner.request.out)
        print(f"{name:<26} {rows[name]:7.2f} s", flush=True)

    default_threads = torch.get_num_threads()
    Runner(request("warm-up", limit=5)).run()  # this process's imports and caches
    torch.set_num_threads(1)
    timed("local (1 thread)", Runner(request("local-1")))
    torch.set_num_threads(default_threads)
    timed(f"local ({default_threads} threads)", Runner(request("local-all")))

    start = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    ray_init = time.perf_counter() - start
    print(f"{'ray.init':<26} {ray_init:7.2f} s", flush=True)
    for workers in (1, 2):
        executor = RayExecutor(ExecutorOptions("ray", workers=workers, cpus_per_worker=1))
        try:
            timed(f"ray {workers} worker(s) cold", Runner(request(f"ray-{workers}-cold"), executor))
            timed(f"ray {workers} worker(s) warm", Runner(request(f"ray-{workers}-warm"), executor))
            if workers == 1:
                slot = executor.pool().ready_slot()
                calls = 200
                start = time.perf_counter()
                for _ in range(calls):
                    ray.get(slot.actor.call.remote(int, 0))
                rows["empty call round trip (ms)"] = 1000 * (time.perf_counter() - start) / calls
        finally:
            executor.close()
    ray.shutdown()

    identical = len(set(digests.values())) == 1
    summary = {
        "units": units, "limit": args.limit, "langs": args.langs, "cores": cores, "ray_init_s": round(ray_init, 2),
        "wall_s": {k: round(v, 2) for k, v in rows.items() if not k.startswith("empty")},
        "ray1_warm_over_local1": round(rows["ray 1 worker(s) warm"] / rows["local (1 thread)"], 3),
        "ray1_cold_over_local1": round(rows["ray 1 worker(s) cold"] / rows["local (1 thread)"], 3),
        "ray2_speedup_over_ray1_warm": round(rows["ray 1 worker(s) warm"] / rows["ray 2 worker(s) warm"], 3),
        "ray2_speedup_over_ray1_cold": round(rows["ray 1 worker(s) cold"] / rows["ray 2 worker(s) cold"], 3),
        "ray_overhead_per_unit_ms": round(1000 * (rows["ray 1 worker(s) warm"] - rows["local (1 thread)"]) / units, 1),
        "empty_call_round_trip_ms": round(rows["empty call round trip (ms)"], 2),
        "predictions_identical": identical,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    if not identical:
        raise SystemExit(f"prediction files differ between executors: {digests}")


if __name__ == "__main__":
    main()
