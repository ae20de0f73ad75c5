"""Length-sorted dynamic batching: pad each batch only to its own longest sequence."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index arrays of at most ``batch_size`` examples, longest first (stable for equal lengths)."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def collate(encodings: dict[str, list[list[int]]], indices: np.ndarray, pad_id: int,
            device: str) -> dict[str, torch.Tensor]:
    """Pad the chosen rows of a tokenizer's list output into tensors (right padding)."""
    ids = encodings["input_ids"]
    width = max(len(ids[i]) for i in indices)
    batch: dict[str, torch.Tensor] = {}
    for key, rows in encodings.items():
        if key not in ("input_ids", "attention_mask", "token_type_ids"):
            continue
        fill = pad_id if key == "input_ids" else 0
        array = np.full((len(indices), width), fill, dtype=np.int64)
        for out_row, i in enumerate(indices):
            row = rows[i]
            array[out_row, :len(row)] = row
        batch[key] = torch.from_numpy(array)
    if "attention_mask" not in batch:
        mask = np.zeros((len(indices), width), dtype=np.int64)
        for out_row, i in enumerate(indices):
            mask[out_row, :len(ids[i])] = 1
        batch["attention_mask"] = torch.from_numpy(mask)
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def run_sorted(model_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor], encodings: dict[str, list],
               *, batch_size: int, pad_id: int, device: str, progress: Any = None) -> list[Any]:
    """Call ``model_fn`` on length-sorted padded batches; returns its per-row outputs in input order.

    ``model_fn`` returns a tensor whose first dimension is the batch; rows are moved to CPU as float32.
    """
    n = len(encodings["input_ids"])
    out: list[Any] = [None] * n
    for indices in length_sorted_batches([len(x) for x in encodings["input_ids"]], batch_size):
        batch = collate(encodings, indices, pad_id, device)
        with torch.inference_mode():
            result = model_fn(batch)
        result = result.float().cpu()
        for row, i in enumerate(indices):
            out[i] = result[row]
        if progress is not None:
            progress.update(len(indices))
    return out


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
