"""Check ``xrobust finetune`` + ``xrobust run`` against the published plain-loop reference on UD-POS.

Reference: multilingual-e5-small (offline build), a plain PyTorch loop, AdamW lr 5e-5, 120 steps of 32
sentences from ``udpos/en.train``, the first subword labels the word: word accuracy en 92.9, fi 80.3,
tr 77.6, ru 87.9 on the ``udpos/<lang>.test.jsonl`` files.

    python benchmarks/finetune_check.py --data-dir ../shared/data --out /tmp/ft-check [--plain-loop]

Fine-tunes with the same budget (constant lr, no warm-up, AdamW's default weight decay 0.01, no clipping), scores
the checkpoint with the harness, and prints both side by side. ``--plain-loop`` also trains and scores with an
independent loop written here (no harness code), in the same run. Each fine-tune takes ~3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REFERENCE = {"en": 92.9, "fi": 80.3, "tr": 77.6, "ru": 87.9}
STEPS, BATCH, LR, MAX_LEN, SEED = 120, 32, 5e-5, 128, 1


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def harness_scores(model: Path, data: Path, out: Path) -> dict[str, float]:
    ckpt = out / "xrobust-udpos"
    if not (ckpt / "xrobust-card.json").is_file():
        subprocess.run([sys.executable, "-m", "harness.cli.main", "finetune", "--model", str(model), "--task", "udpos",
                        "--data-dir", str(data), "--out", str(ckpt), "--max-steps", str(STEPS), "--batch-size",
                        str(BATCH), "--lr", str(LR), "--lr-scheduler", "constant", "--warmup-ratio", "0",
                        "--weight-decay", "0.01", "--max-grad-norm", "0", "--seed", str(SEED), "--no-progress",
                        "--overwrite"], check=True)
    run = out / "xrobust-run"
    subprocess.run([sys.executable, "-m", "harness.cli.main", "run", "--tasks", "udpos", "--model", str(ckpt),
                    "--langs", ",".join(REFERENCE), "--data-dir", str(data), "--out", str(run), "--no-progress"],
                   check=True, stdout=subprocess.DEVNULL)
    scores = json.loads((run / "results.json").read_text())["scores"]
    return {r["language"]: r["value"] for r in scores if r["metric"] == "token_accuracy" and r["condition"] == "clean"}


def plain_loop_scores(model: Path, data: Path) -> dict[str, float]:
    """An independent fine-tune + evaluation: transformers model and tokenizer, a bare AdamW loop."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    train = _rows(data / "udpos" / "en.train.jsonl")
    labels = sorted({tag for row in train for tag in row["pos_tags"]})
    index = {tag: i for i, tag in enumerate(labels)}
    tok = AutoTokenizer.from_pretrained(model)
    torch.manual_seed(SEED)
    net = AutoModelForTokenClassification.from_pretrained(model, num_labels=len(labels))

    def encode(batch: list[dict], with_labels: bool) -> tuple[dict, list[list[int | None]]]:
        enc = tok([r["tokens"] for r in batch], is_split_into_words=True, truncation=True, max_length=MAX_LEN,
                  padding=True, return_tensors="pt")
        firsts = []
        for b in range(len(batch)):
            seen, first = set(), []
            for word in enc.word_ids(b):
                first.append(word if word is not None and word not in seen else None)
                seen.add(word)
            firsts.append(first)
        if with_labels:
            enc["labels"] = torch.tensor([[index[batch[b]["pos_tags"][w]] if w is not None else -100 for w in first]
                                          for b, first in enumerate(firsts)])
        return enc, firsts

    optim = torch.optim.AdamW(net.parameters(), lr=LR)
    order = list(range(len(train)))
    random.Random(SEED).shuffle(order)
    net.train()
    for step in range(STEPS):
        batch = [train[order[(step * BATCH + k) % len(order)]] for k in range(BATCH)]
        enc, _ = encode(batch, True)
        loss = net(**enc).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
    net.eval()
    scores = {}
    for lang in REFERENCE:
        test = _rows(data / "udpos" / f"{lang}.test.jsonl")
        right = total = 0
        with torch.inference_mode():
            for start in range(0, len(test), 64):
                batch = test[start:start + 64]
                enc, firsts = encode(batch, False)
                pred = net(**enc).logits.argmax(-1)
                for b, first in enumerate(firsts):
                    got = {w: labels[int(pred[b, pos])] for pos, w in enumerate(first) if w is not None}
                    gold = batch[b]["pos_tags"]
                    right += sum(got.get(w) == tag for w, tag in enumerate(gold))
                    total += len(gold)  # words lost to truncation count as wrong
        scores[lang] = 100.0 * right / total
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, help="offline e5 checkpoint (default: build or reuse the cached one)")
    parser.add_argument("--out", type=Path, default=Path("finetune-check"))
    parser.add_argument("--plain-loop", action="store_true", help="also run the independent loop written here")
    args = parser.parse_args()
    if args.model is None:
        from harness.models.offline_e5 import ensure_checkpoint

        args.model = ensure_checkpoint()
    args.out.mkdir(parents=True, exist_ok=True)
    ours = harness_scores(args.model, args.data_dir, args.out)
    plain = plain_loop_scores(args.model, args.data_dir) if args.plain_loop else {}
    print("| lang | reference | finetune + run | diff |" + (" plain loop here |" if plain else ""))
    print("|---|---|---|---|" + ("---|" if plain else ""))
    for lang, ref in REFERENCE.items():
        extra = f" {plain[lang]:.1f} |" if plain else ""
        print(f"| {lang} | {ref:.1f} | {ours[lang]:.1f} | {ours[lang] - ref:+.1f} |{extra}")


if __name__ == "__main__":
    main()
