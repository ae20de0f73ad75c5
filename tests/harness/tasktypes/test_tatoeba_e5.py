"""The harness's Tatoeba score for the real offline e5 equals a straightforward independent computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.cli.main import main
from tests.conftest import shared_rows

pytestmark = pytest.mark.slow


def independent_accuracy(model_dir: Path, sources: list[str], targets: list[str]) -> tuple[float, float]:
    """Plain transformers + numpy: fixed-order batches, mean pooling, cosine, argmax."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()

    def encode(texts: list[str]) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), 64):
            batch = tok(["query: " + t for t in texts[start:start + 64]], padding=True, truncation=True,
                        max_length=128, return_tensors="pt")
            with torch.no_grad():
                hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            chunks.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
        vectors = np.concatenate(chunks)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    src, tgt = encode(sources), encode(targets)
    sims = src @ tgt.T
    gold = np.arange(len(sources))
    return 100 * float((sims.argmax(1) == gold).mean()), 100 * float((sims.argmax(0) == gold).mean())


def test_tatoeba_de_matches_independent_computation(tmp_path: Path, shared_data: Path, offline_e5: Path) -> None:
    out = tmp_path / "run"
    code = main(["run", "--no-progress", "--tasks", "tatoeba_e5", "--model", str(offline_e5), "--langs", "de",
                 "--data-dir", str(shared_data), "--out", str(out), "--batch-size", "32"])
    assert code == 0
    scores = {r["metric"]: r for r in json.loads((out / "results.json").read_text())["scores"]}
    rows = shared_rows("tatoeba/de.test.jsonl")
    assert scores["accuracy"]["n"] == len(rows) == 1000
    xx2en, en2xx = independent_accuracy(offline_e5, [r["source_sentence"] for r in rows],
                                        [r["target_sentence"] for r in rows])
    assert scores["accuracy"]["value"] == pytest.approx(xx2en, abs=1e-9)
    assert scores["accuracy_en2xx"]["value"] == pytest.approx(en2xx, abs=1e-9)
    assert xx2en > 80  # a real multilingual encoder, not a random one
