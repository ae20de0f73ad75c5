"""Batches under a token budget: which rows go together, and their tensors (padded or packed).

A padded batch pads every row to its longest row, so its cost is ``rows × group × longest`` tokens (``group``
rows travel together, e.g. the choices of one multiple-choice example); a packed batch concatenates its rows
into one sequence, so its cost is the sum of their lengths. Rows are length-sorted (longest first, stable) so
neighbours have similar lengths. A row longer than the budget gets a batch of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

FEATURES = ("input_ids", "attention_mask", "token_type_ids")


def length_order(lengths: Sequence[int]) -> np.ndarray:
    """Indices, longest first; equal lengths keep their input order."""
    return np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")


def padded_batches(lengths: Sequence[int], *, max_tokens: int, max_rows: int, group: int = 1) -> list[np.ndarray]:
    """Index arrays (into ``lengths``) of length-sorted batches with ``len × group × longest ≤ max_tokens``
    and at most ``max_rows`` entries; ``lengths[i]`` is the longest row of entry ``i``'s group."""
    if max_tokens < 1 or max_rows < 1:
        raise ValueError("max_tokens and max_rows must be >= 1")
    batches, current, width = [], [], 1
    for i in length_order(lengths):  # longest first: a batch's first row sets its width
        if current and (len(current) >= max_rows or (len(current) + 1) * group * width > max_tokens):
            batches.append(np.asarray(current))
            current = []
        if not current:
            width = max(int(lengths[i]), 1)
        current.append(int(i))
    if current:
        batches.append(np.asarray(current))
    return batches


def packed_batches(lengths: Sequence[int], *, max_tokens: int, max_rows: int) -> list[np.ndarray]:
    """Index arrays of length-sorted batches whose summed length is at most ``max_tokens``."""
    if max_tokens < 1 or max_rows < 1:
        raise ValueError("max_tokens and max_rows must be >= 1")
    batches, current, total = [], [], 0
    for i in length_order(lengths):
        n = int(lengths[i])
        if current and (len(current) >= max_rows or total + n > max_tokens):
            batches.append(np.asarray(current))
            current, total = [], 0
        current.append(int(i))
        total += n
    if current:
        batches.append(np.asarray(current))
    return batches


def collate_padded(features: dict[str, list[list[int]]], rows: Sequence[int], pad_id: int,
                   *, pin: bool = False) -> dict[str, torch.Tensor]:
    """The chosen rows right-padded into (len(rows), longest) int64 tensors, with an attention mask."""
    ids = features["input_ids"]
    lengths = np.fromiter((len(ids[i]) for i in rows), dtype=np.int64, count=len(rows))
    width = max(int(lengths.max()) if len(rows) else 0, 1)
    keep = np.arange(width)[None, :] < lengths[:, None]
    batch: dict[str, torch.Tensor] = {}
    for key in FEATURES:
        if key not in features or key == "attention_mask":
            continue
        fill = pad_id if key == "input_ids" else 0
        array = np.full((len(rows), width), fill, dtype=np.int64)
        array[keep] = np.fromiter((t for i in rows for t in features[key][i]), dtype=np.int64,
                                  count=int(lengths.sum()))
        batch[key] = torch.from_numpy(array)
    batch["attention_mask"] = torch.from_numpy(keep.astype(np.int64))
    return _pinned(batch) if pin else batch


def collate_packed(features: dict[str, list[list[int]]], rows: Sequence[int], *, position_offset: int,
                   pin: bool = False) -> dict[str, torch.Tensor]:
    """The chosen rows concatenated into (1, total) tensors with per-row position ids (starting at
    ``position_offset``) and ``cu_seqlens`` (int32, the cumulative row boundaries, len(rows) + 1 values)."""
    ids = features["input_ids"]
    lengths = np.fromiter((len(ids[i]) for i in rows), dtype=np.int64, count=len(rows))
    total = int(lengths.sum())
    bounds = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    batch: dict[str, torch.Tensor] = {}
    for key in FEATURES:
        if key not in features or key == "attention_mask":
            continue
        flat = np.fromiter((t for i in rows for t in features[key][i]), dtype=np.int64, count=total)
        batch[key] = torch.from_numpy(flat[None, :])
    positions = np.arange(total, dtype=np.int64) - np.repeat(bounds[:-1], lengths) + position_offset
    batch["position_ids"] = torch.from_numpy(positions[None, :])
    batch["cu_seqlens"] = torch.from_numpy(bounds.astype(np.int32))
    return _pinned(batch) if pin else batch


def _pinned(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.pin_memory() for k, v in batch.items()}
