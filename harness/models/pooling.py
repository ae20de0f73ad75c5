"""Sentence embeddings from any encoder: pooling over a chosen hidden layer, optional L2 normalization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from harness.models.engine import Encoded, Engine
from harness.models.reduce import pool

__all__ = ["embed", "pool"]


def embed(engine: Engine, tokenizer: Any, texts: list[str], *, pooling: str = "mean", layer: int = -1,
          normalize: bool = True, max_length: int = 128, progress: Any = None) -> torch.Tensor:
    """(N, H) float32 embeddings of ``texts`` in input order, left on the engine's device."""
    want_hidden = layer != -1

    def encode(chunk: Sequence[str]) -> Encoded:
        return Encoded(dict(tokenizer(list(chunk), truncation=True, max_length=max_length)))

    def forward(inputs: dict) -> torch.Tensor:
        out = engine.model(**inputs, output_hidden_states=want_hidden)
        return out.hidden_states[layer] if want_hidden else out.last_hidden_state

    rows = engine.run(texts, encode, forward, kind="pooled", pooling=pooling, progress=progress, keep=True)
    if not rows:
        return torch.zeros(0, 0)
    vectors = torch.stack([row.output for row in rows])
    return torch.nn.functional.normalize(vectors, dim=-1) if normalize else vectors
