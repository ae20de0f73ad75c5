"""Per-sequence reductions of hidden states ("cls", "mean", "max"): padded batches (with their attention
mask) and packed batches (with their sequence boundaries) give the same vectors."""

from __future__ import annotations

import torch


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


def segment_pool(hidden: torch.Tensor, bounds: torch.Tensor, how: str) -> torch.Tensor:
    """(1, total, H) packed hidden states → (n, H) pooled per sequence ("cls", "mean" or "max")."""
    states = hidden[0]
    starts = bounds[:-1].long()
    if how == "cls":
        return states[starts]
    lengths = bounds[1:].long() - starts
    segment = torch.repeat_interleave(torch.arange(len(lengths), device=states.device), lengths)
    if how == "mean":
        sums = torch.zeros(len(lengths), states.shape[1], dtype=states.dtype, device=states.device)
        sums.index_add_(0, segment, states)
        return sums / lengths.clamp(min=1).unsqueeze(1).to(states.dtype)
    if how == "max":
        out = torch.full((len(lengths), states.shape[1]), torch.finfo(states.dtype).min, dtype=states.dtype,
                         device=states.device)
        return out.scatter_reduce(0, segment[:, None].expand_as(states), states, reduce="amax")
    raise ValueError(f"unknown pooling {how!r}")
