"""Benchmark: wall time and peak RSS of ``xrobust report`` on 12 XNLI submissions x 7 languages x 6 conditions
(clean + 5 perturbed) x 2,000 examples, 10,000 resamples.

The run directories are fabricated with this tree's store API (``RunStore.write_unit``, the shared run.json /
results.json writer) holding the records a pair classifier writes: real XNLI test sentences from the sample
data (synthetic ones without it), correlated correct / wrong predictions of systems of different accuracy,
label probabilities, example attributes and per-condition change statistics. The report then runs as a
subprocess (``python -m harness.cli report``) with the code of ``--src`` first on PYTHONPATH, so the same
script times another tree (an older commit, say) on the same run dirs:

    python benchmarks/report_time.py --keep /tmp/xnli-runs                       # this tree
    python benchmarks/report_time.py --keep /tmp/xnli-runs --src /tmp/base-src   # another tree, same runs

Peak RSS is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of the report process (one report per invocation).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import __version__  # noqa: E402
from harness.store.results import claim_run_dir, model_signature, write_results  # noqa: E402
from harness.store.rundir import RunStore, Unit  # noqa: E402
from harness.store.signature import fingerprint  # noqa: E402

LANGS = ("ar", "de", "en", "ko", "ru", "sw", "tr")
LABELS = ("entailment", "neutral", "contradiction")
CONDITIONS = (
    "typos.keyboard", "typos.char_noise", "typos.no_diacritics", "codeswitch.to_english", "mixed.mixed",
)
DEFAULT_DATA = ROOT.parent / "shared" / "data"
TASK_CONFIG = "8d20eca705df"
META = {"metrics": ["accuracy"], "ranked_metric": "accuracy", "task_type": "pair_classification",
        "task_config": TASK_CONFIG, "text_fields": ["text_a", "text_b"]}


def load_examples(data_dir: Path, lang: str, n: int, rng: np.random.Generator) -> list[dict]:
    """The first ``n`` XNLI test rows of ``lang`` (cycled if fewer); synthetic sentences without the data."""
    path = data_dir / "xnli" / f"{lang}.test.jsonl"
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out = []
        for i in range(n):  # cycled when the file is shorter; the id stays unique
            row, lap = rows[i % len(rows)], i // len(rows)
            ident = str(row.get("idx", i % len(rows))) + (f".{lap}" if lap else "")
            out.append({"id": ident, "text_a": row["sentence1"], "text_b": row["sentence2"],
                        "label": row["gold_label"]})
        return out
    words = [f"w{k}" for k in range(500)]
    return [{"id": str(i), "text_a": " ".join(rng.choice(words, size=int(rng.integers(8, 30)))),
             "text_b": " ".join(rng.choice(words, size=int(rng.integers(5, 15)))),
             "label": LABELS[int(rng.integers(0, 3))]} for i in range(n)]


def corrupt(text: str, rng: np.random.Generator, rate: float) -> tuple[str, int, int]:
    """Swap two adjacent letters in about ``rate`` of the words: (text, words changed, characters edited)."""
    words = text.split()
    changed = 0
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            j = int(rng.integers(1, len(word) - 2))
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
            changed += 1
    return " ".join(words), changed, 2 * changed


def perturbed_inputs(examples: list[dict], condition: str, lang: str) -> tuple[list[dict], dict]:
    """Inputs under ``condition`` (shared by every submission) and the unit's change statistics."""
    seed = int(hashlib.sha256(f"{condition}/{lang}".encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng(seed)
    rate = 0.05 + 0.05 * CONDITIONS.index(condition)
    inputs, n_words, n_changed, n_examples_changed, edits = [], 0, 0, 0, 0
    for example in examples:
        a, ca, ea = corrupt(example["text_a"], rng, rate)
        b, cb, eb = corrupt(example["text_b"], rng, rate)
        inputs.append({"text_a": a, "text_b": b})
        n_words += len(example["text_a"].split()) + len(example["text_b"].split())
        n_changed += ca + cb
        n_examples_changed += bool(ca + cb)
        edits += ea + eb
    frac = n_changed / max(n_words, 1)
    change = {"n_examples": len(examples), "frac_examples_changed": n_examples_changed / len(examples),
              "frac_words_changed": frac, "mean_char_edit_distance": edits / len(examples),
              "n_words": n_words, "n_words_changed": n_changed,
              "steps": [{"step": 0, "name": "char_swap", "rate": rate, "unit": "word", "eligible": n_words,
                         "edited": n_changed, "expected": rate * n_words, "realised_rate": frac}]}
    return inputs, change


def records_for(examples: list[dict], inputs: list[dict], attrs: list[dict], correct: np.ndarray,
                rng: np.random.Generator) -> list[dict]:
    """Pair-classifier records: the predicted label right where ``correct``, and 3 label probabilities."""
    out = []
    for example, inp, attr, ok in zip(examples, inputs, attrs, correct, strict=True):
        gold = LABELS.index(example["label"])
        pred = gold if ok else (gold + int(rng.integers(1, 3))) % 3
        probs = rng.dirichlet(np.ones(3))
        probs[[pred, int(probs.argmax())]] = probs[[int(probs.argmax()), pred]]
        out.append({"id": example["id"], "gold": example["label"], "pred": LABELS[pred],
                    "probs": [round(float(p), 5) for p in probs], "input": inp, "attrs": attr})
    return out


def submission(i: int) -> dict:
    name = f"xnli-system-{i:02d}"
    return {"name": name, "model": f"example-org/{name}", "model_path": f"example-org/{name}",
            "revision": None, "weights_sha256": hashlib.sha256(name.encode()).hexdigest()[:12],
            "dtype": "float32", "seed": 0,
            "harness_version": __version__, "libraries": {"torch": "n/a", "transformers": "n/a"}}


def fabricate(root: Path, n_subs: int, n_examples: int, data_dir: Path) -> list[Path]:
    """Write ``n_subs`` run dirs under ``root`` (``run-00``, ...) and return them."""
    rng = np.random.default_rng(0)
    per_lang = {}
    for lang in LANGS:
        examples = load_examples(data_dir, lang, n_examples, rng)
        attrs = [{"n_words": len(e["text_a"].split()) + len(e["text_b"].split()),
                  "fertility": round(float(rng.uniform(1.1, 3.2)), 3),
                  "rare_rate": round(float(rng.beta(1, 12)), 3)} for e in examples]
        clean = [{"text_a": e["text_a"], "text_b": e["text_b"]} for e in examples]
        conditions = {"clean": (clean, None)} | {c: perturbed_inputs(examples, c, lang) for c in CONDITIONS}
        difficulty = {c: rng.standard_normal(n_examples) for c in conditions}
        per_lang[lang] = (examples, attrs, conditions, difficulty)
    runs = []
    for i in range(n_subs):
        store = RunStore(root / f"run-{i:02d}")
        run = claim_run_dir(store, lambda old, i=i: submission(i))
        accuracy = 0.55 + 0.25 * i / max(n_subs - 1, 1)
        for lang, (examples, attrs, conditions, difficulty) in per_lang.items():
            for cond, (inputs, change) in conditions.items():
                drop = 0.0 if cond == "clean" else 0.02 * (1 + CONDITIONS.index(cond))
                latent = 0.8 * difficulty[cond] + 0.6 * rng.standard_normal(n_examples)
                correct = latent < np.quantile(latent, accuracy - drop)
                unit = Unit("xnli", lang, "test", cond)
                extra = dict(META)
                if change is not None:
                    suite, name = cond.split(".")
                    params = {"name": name, "suite": suite, "seed": 1, "variants": 1, "version": "1",
                              "steps": [{"name": "char_swap", "params": {}}]}
                    extra |= {"condition_params": params, "variant": 0,
                              "condition_signature": hashlib.sha256(cond.encode()).hexdigest()[:12],
                              "change": change}
                fp = fingerprint(model=run["submission"]["model"], task=TASK_CONFIG, unit=str(unit))
                store.write_unit(unit, records_for(examples, inputs, attrs, correct, rng), fp, extra)
        write_results(store, run, model_signature)
        runs.append(store.root)
        print(f"  fabricated {store.root}", flush=True)
    return runs


def prepared_runs(args: argparse.Namespace, scratch: Path) -> list[Path]:
    root = Path(args.keep) if args.keep else scratch / "runs"
    marker = root / "fabricated.json"
    params = {"subs": args.subs, "examples": args.examples, "langs": list(LANGS),
              "conditions": list(CONDITIONS)}
    if marker.is_file() and json.loads(marker.read_text()) == params:
        print(f"reusing the run dirs in {root}")
        return [root / f"run-{i:02d}" for i in range(args.subs)]
    for old in root.glob("run-[0-9][0-9]"):
        shutil.rmtree(old)
    print(f"fabricating {args.subs} submissions x {len(LANGS)} languages x {1 + len(CONDITIONS)} conditions "
          f"x {args.examples} examples in {root}")
    t0 = time.perf_counter()
    runs = fabricate(root, args.subs, args.examples, Path(args.data_dir))
    marker.write_text(json.dumps(params) + "\n")
    print(f"fabricated in {time.perf_counter() - t0:.1f} s")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(ROOT), help="source tree the report runs with (PYTHONPATH, cwd)")
    parser.add_argument("--keep", help="directory for the fabricated run dirs, reused when already there")
    parser.add_argument("--out", help="site directory (default: a temporary one, removed afterwards)")
    parser.add_argument("--subs", type=int, default=12)
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA), help="sample data (xnli/<lang>.test.jsonl)")
    parser.add_argument("--jobs", type=int, default=0, help="report processes (0: one per core)")
    parser.add_argument("--draws", default="shared", choices=["per-test", "shared"],
                        help="the report's --draws (trees that have it)")
    args = parser.parse_args()
    src = Path(args.src).resolve()
    with tempfile.TemporaryDirectory(prefix="report-time-") as tmp:
        scratch = Path(tmp)
        runs = prepared_runs(args, scratch)
        site = Path(args.out) if args.out else scratch / "site"
        path = [str(src), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        probe = [sys.executable, "-c", "import harness, reports; print(harness.__file__)"]
        where = subprocess.run(probe, cwd=src, env=env, capture_output=True, text=True, check=True)
        where = where.stdout.strip()
        if not where.startswith(str(src)):
            raise SystemExit(f"the report would import {where}, not the tree in {src}")
        command = [sys.executable, "-m", "harness.cli", "report", *map(str, runs), "--out", str(site),
                   "--resamples", str(args.resamples)]
        help_text = subprocess.run([sys.executable, "-m", "harness.cli", "report", "--help"], cwd=src, env=env,
                                   capture_output=True, text=True).stdout
        if "--jobs" in help_text:  # trees that have it (not the older ones this script can also time)
            command += ["--jobs", str(args.jobs), "--no-progress"]
        if "--draws" in help_text:
            command += ["--draws", args.draws]
        t0 = time.perf_counter()
        done = subprocess.run(command, cwd=src, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"report failed ({done.returncode}):\n{done.stderr[-3000:]}")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        n_units = args.subs * len(LANGS) * (1 + len(CONDITIONS))
        print(f"tree: {src} (harness from {where})")
        print(f"report: {args.subs} submissions, {n_units} units, {args.examples} examples each, "
              f"{args.resamples} resamples, draws {args.draws if '--draws' in help_text else 'per-test'}, "
              f"cores={os.cpu_count()}")
        print(f"wall {wall:.1f} s, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
