"""The inference loop every predictor uses: tokenization ahead of compute, token-budget batches, outputs kept
on the device until the end.

On CUDA a background thread encodes the items chunk by chunk (fast tokenizers release the GIL), plans each chunk's
length-sorted batches under the token budget, collates them into (pinned, on CUDA) host tensors and queues
them; the calling thread copies each batch to the device without blocking, runs the model and keeps the
outputs on the device, so nothing synchronises per batch. Outputs move to the host once, at the end. On CPU
the same steps run inline: torch's intra-op threads already use every core.

Three output kinds cover every task type:

- ``sequence``: one tensor per row (or per group of rows, e.g. the choices of one example), e.g. class logits;
- ``tokens``: per row a (length, …) tensor, e.g. tag logits or start/end logits of a QA window;
- ``pooled``: per row a pooled hidden state (``cls``, ``mean`` or ``max``) of the forward's hidden states.

Packed (padding-free) batches are used for all three when :class:`~harness.models.inference.Inference` says
so and rows are not grouped; the forward function is the same either way (see :mod:`harness.models.packing`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from harness.models import packing, reduce
from harness.models.batching import collate_packed, collate_padded, packed_batches, padded_batches
from harness.models.inference import Inference

KINDS = ("sequence", "tokens", "pooled")
_INLINE_ITEMS = 64  # fewer items than this are encoded in the calling thread (no thread start-up)


@dataclass
class Encoded:
    """One chunk's model inputs: token id lists per row, plus what post-processing needs per row."""

    features: dict[str, list[list[int]]]
    extras: list[Any] | None = None  # per row, handed back with its output (offsets, word ids…)
    owners: list[int] | None = None  # per row, the chunk-local index of the item it came from (default: row i)


@dataclass
class Row:
    owner: int  # index of the item in the call's input
    output: torch.Tensor  # on the host
    extra: Any = None


@dataclass
class _Batch:
    inputs: dict[str, torch.Tensor]
    rows: np.ndarray  # global row numbers (group numbers when grouped), in batch order
    lengths: list[int]
    items: int = 0  # items completed by this batch, for progress


@dataclass
class _Pending:
    rows: np.ndarray
    lengths: list[int]
    output: torch.Tensor  # on the device


@dataclass
class Engine:
    """Runs one loaded model under :class:`Inference` settings."""

    model: Any
    settings: Inference
    pad_id: int = 0
    chunk_items: int = 0  # items encoded per chunk (0: 1,024 on CPU, 2,048 on CUDA)
    overlap: bool | None = None  # encode in a background thread (None: on CUDA only — on CPU torch's threads
    # already occupy every core, and a producer thread only competes with them for cores and the GIL)
    _offset: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        config = getattr(self.model, "config", None)
        self._offset = packing.position_offset(config) if config is not None else 0
        if not self.chunk_items:
            self.chunk_items = 2048 if self.settings.device.startswith("cuda") else 1024

    def run(self, items: Sequence[Any], encode: Callable[[Sequence[Any]], Encoded],
            forward: Callable[[dict[str, Any]], torch.Tensor], *, kind: str, group: int = 1,
            pooling: str = "cls", progress: Any = None, keep: bool = False) -> list[Row]:
        """Outputs of ``forward`` for every row ``encode`` makes of ``items``, in row order.

        ``forward`` receives model keyword arguments (padded: ``input_ids``, ``attention_mask``…; packed:
        (1, total) tensors with ``position_ids`` and the sequence boundaries) and returns (rows, …) for
        ``sequence``, (rows, width, …) or (1, total, …) for ``tokens``, hidden states for ``pooled``. With
        ``group > 1`` every ``group`` consecutive rows are one unit: batched together, (units × group) rows.
        ``keep`` leaves the outputs on the device (e.g. embeddings compared there next).
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if not items:
            return []
        packed = self.settings.packed and group == 1
        batches = self._produce(items, encode, packed=packed, group=group)
        overlap = self.settings.device.startswith("cuda") if self.overlap is None else self.overlap
        source = _prefetch(batches) if overlap and len(items) >= _INLINE_ITEMS else batches
        pending: list[_Pending] = []
        extras: list[Any] = []
        owners: list[int] = []
        with torch.inference_mode():
            for batch in _expand(source, extras, owners):
                inputs = {k: v.to(self.settings.device, non_blocking=True) for k, v in batch.inputs.items()}
                output = self._forward(forward, inputs, kind=kind, packed=packed, pooling=pooling)
                pending.append(_Pending(batch.rows, batch.lengths, output))
                if progress is not None and batch.items:
                    progress.update(batch.items)
        return self._collect(pending, extras, owners, kind=kind, packed=packed, group=group, keep=keep)

    def _produce(self, items: Sequence[Any], encode: Callable[[Sequence[Any]], Encoded], *, packed: bool,
                 group: int) -> Iterator[_Batch | tuple[list[Any], list[int]]]:
        """Per chunk: its (extras, global owners), then its batches (row numbers global)."""
        pin = self.settings.device.startswith("cuda")
        limits = {"max_tokens": self.settings.max_tokens, "max_rows": self.settings.batch_size}
        first_row = 0
        for start in range(0, len(items), self.chunk_items):
            chunk = items[start:start + self.chunk_items]
            encoded = encode(chunk)
            ids = encoded.features["input_ids"]
            n_rows = len(ids)
            owners = encoded.owners if encoded.owners is not None else list(range(n_rows))
            yield (encoded.extras if encoded.extras is not None else [None] * n_rows,
                   [start + o for o in owners])
            lengths = [len(x) for x in ids]
            if group > 1:
                units = [max(lengths[u * group:(u + 1) * group]) for u in range(n_rows // group)]
                plan = padded_batches(units, group=group, **limits)
            else:
                units = lengths
                plan = (packed_batches if packed else padded_batches)(lengths, **limits)
            done = 0
            for number, unit_rows in enumerate(plan):
                rows = [u * group + j for u in unit_rows for j in range(group)] if group > 1 else unit_rows
                if packed:
                    tensors = collate_packed(encoded.features, rows, position_offset=self._offset, pin=pin)
                else:
                    tensors = collate_padded(encoded.features, rows, self.pad_id, pin=pin)
                finished = len(chunk) if number == len(plan) - 1 else \
                    int(len(chunk) * (number + 1) / len(plan))
                yield _Batch(tensors, np.asarray(unit_rows) + first_row // group,
                             [lengths[r] for r in rows], finished - done)
                done = finished
            first_row += n_rows

    def _forward(self, forward: Callable[[dict[str, Any]], torch.Tensor], inputs: dict[str, torch.Tensor], *,
                 kind: str, packed: bool, pooling: str) -> torch.Tensor:
        if not packed:
            output = forward(inputs)
            if kind == "pooled":
                output = reduce.pool(output.float(), inputs["attention_mask"], pooling)
            return output
        bounds = inputs["cu_seqlens"]
        kwargs = packing.model_inputs(inputs)
        if kind == "sequence":
            with packing.first_token_view(self.model, bounds):
                return forward(kwargs)
        output = forward(kwargs)
        if kind == "pooled":
            return reduce.segment_pool(output.float(), bounds, pooling)
        return output

    def _collect(self, pending: list[_Pending], extras: list[Any], owners: list[int], *, kind: str,
                 packed: bool, group: int, keep: bool) -> list[Row]:
        """Move every output to the host once (unless ``keep``) and hand rows back in row order."""
        n_units = len(owners) // group
        outputs: list[torch.Tensor | None] = [None] * n_units
        for item in pending:
            host = item.output if keep else item.output.cpu()
            if kind == "tokens":
                if packed:
                    bounds = np.concatenate([[0], np.cumsum(item.lengths)]).tolist()
                    pieces = packing.split_rows(host, bounds)
                else:
                    pieces = [host[r, :n] for r, n in enumerate(item.lengths)]
            else:
                pieces = list(host)
            for unit, piece in zip(item.rows.tolist(), pieces, strict=True):
                outputs[unit] = piece
        return [Row(owners[u * group], out, extras[u * group]) for u, out in enumerate(outputs)]


def _expand(source: Iterator[Any], extras: list[Any], owners: list[int]) -> Iterator[_Batch]:
    """Batches of ``source``; its chunk headers are appended to ``extras`` and ``owners`` on the way."""
    for entry in source:
        if isinstance(entry, _Batch):
            yield entry
        else:
            extras.extend(entry[0])
            owners.extend(entry[1])


_DONE = object()


def _prefetch(source: Iterator[Any], depth: int = 4) -> Iterator[Any]:
    """Run ``source`` in a background thread, ``depth`` entries ahead; its exceptions re-raise here."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for entry in source:
                while not stop.is_set():
                    try:
                        buffer.put(entry, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as err:  # handed to the consumer, which raises it
            buffer.put(err)

    thread = threading.Thread(target=work, name="xrobust-encode", daemon=True)
    thread.start()
    try:
        while True:
            entry = buffer.get()
            if entry is _DONE:
                return
            if isinstance(entry, BaseException):
                raise entry
            yield entry
    finally:
        stop.set()
        thread.join(timeout=5)
