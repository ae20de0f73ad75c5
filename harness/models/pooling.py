"""Sentence embeddings from any encoder: pooling over a chosen hidden layer, optional L2 normalization."""

from __future__ import annotations

from typing import Any

import torch

from harness.models.batching import run_sorted


def pool(hidden: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """(B, L, H) hidden states + (B, L) mask → (B, H)."""
    if how == "cls":
        return hidden[:, 0]
    maskf = mask.unsqueeze(-1).to(hidden.dtype)
    if how == "mean":
        return (hidden * maskf).sum(1) / maskf.sum(1).clamp(min=1.0)
    if how == "max":
        return hidden.masked_fill(maskf == 0, torch.finfo(hidden.dtype).min).amax(1)
    raise ValueError(f"unknown pooling {how!r}")


def embed(model: Any, tokenizer: Any, texts: list[str], *, pooling: str = "mean", layer: int = -1,
          normalize: bool = True, max_length: int = 128, batch_size: int = 32, device: str = "cpu",
          progress: Any = None) -> torch.Tensor:
    """(N, H) float32 embeddings of ``texts`` in input order."""
    encodings = tokenizer(texts, truncation=True, max_length=max_length)
    want_hidden = layer != -1

    def forward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        out = model(**batch, output_hidden_states=want_hidden)
        hidden = out.hidden_states[layer] if want_hidden else out.last_hidden_state
        vectors = pool(hidden.float(), batch["attention_mask"], pooling)
        return torch.nn.functional.normalize(vectors, dim=-1) if normalize else vectors

    rows = run_sorted(forward, dict(encodings), batch_size=batch_size, pad_id=tokenizer.pad_token_id or 0,
                      device=device, progress=progress)
    if not rows:
        return torch.zeros(0, 0)
    return torch.stack(rows)
