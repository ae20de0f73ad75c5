"""Padding-free forward passes: many sequences concatenated into one, attention bounded per sequence.

The model sees ``input_ids`` of shape (1, total) with per-sequence ``position_ids`` and the boundaries
``cu_seq_lens_q/k`` (int32 cumulative lengths) and ``max_length_q/k``, the keyword arguments transformers'
attention interface hands to flash attention's variable-length kernels (``flash_attention_2``). Without
flash-attn, :data:`~harness.models.inference.PACKED_SDPA` is registered as a portable kernel with the same
contract: it gathers each sequence's queries, keys and values into a padded block for the attention product
only (every linear layer still runs on the packed tokens) and scatters the result back.

Per-token heads (token classification, QA, hidden states) read the packed output directly. Sequence heads
read position 0 of each sequence: :func:`first_token_view` makes the encoder hand them (n, 1, hidden).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F

from harness.models.inference import PACKED_SDPA

_registered = False


def register_kernel() -> None:
    """Make :data:`PACKED_SDPA` a valid ``attn_implementation`` (idempotent)."""
    global _registered
    if _registered:
        return
    from transformers import AttentionInterface

    AttentionInterface.register(PACKED_SDPA, packed_sdpa)
    try:
        from transformers import AttentionMaskInterface
        from transformers.masking_utils import sdpa_mask

        AttentionMaskInterface.register(PACKED_SDPA, sdpa_mask)
    except ImportError:  # older transformers build masks per implementation name differently
        pass
    _registered = True


def packed_sdpa(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
                **kwargs: Any) -> tuple[torch.Tensor, None]:
    """Attention of packed sequences: (1, heads, total, dim) in, (1, total, heads, dim) out."""
    bounds = kwargs.get("cu_seq_lens_q")
    if bounds is None:  # an ordinary padded call (e.g. a model loaded with this kernel run unpacked)
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=_bool_mask(attention_mask),
                                             scale=scaling)
        return out.transpose(1, 2).contiguous(), None
    starts = bounds[:-1].long()
    lengths = bounds[1:].long() - starts
    width = int(kwargs.get("max_length_q") or int(lengths.max()))
    steps = torch.arange(width, device=query.device)
    valid = steps[None, :] < lengths[:, None]  # (n, width)
    index = (starts[:, None] + steps[None, :]).clamp(max=query.shape[2] - 1)

    def gather(x: torch.Tensor) -> torch.Tensor:  # (1, h, total, d) → (n, h, width, d)
        return x[0][:, index].permute(1, 0, 2, 3)

    mask = valid[:, None, None, :]
    out = F.scaled_dot_product_attention(gather(query), gather(key), gather(value), attn_mask=mask, scale=scaling)
    return out.permute(0, 2, 1, 3)[valid].unsqueeze(0), None  # (n, width, h, d) → (1, total, h, d)


def _bool_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    if mask is None or mask.dtype == torch.bool:
        return mask
    return mask > torch.finfo(mask.dtype).min / 2 if mask.is_floating_point() else mask.bool()


def position_offset(config: Any) -> int:
    """First position id of a sequence: the RoBERTa family counts from ``pad_token_id + 1``."""
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        return int(config.pad_token_id) + 1
    return 0


def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Keyword arguments of a packed forward from a collated packed batch (already on the device)."""
    bounds = batch["cu_seqlens"]
    longest = int((bounds[1:] - bounds[:-1]).max()) if bounds.numel() > 1 else 0
    inputs: dict[str, Any] = {k: v for k, v in batch.items() if k != "cu_seqlens"}
    inputs.update(cu_seq_lens_q=bounds, cu_seq_lens_k=bounds, max_length_q=longest, max_length_k=longest)
    return inputs


@contextlib.contextmanager
def first_token_view(model: Any, bounds: torch.Tensor) -> Iterator[None]:
    """While active, the encoder of ``model`` returns each packed sequence's first hidden state as (n, 1, H),
    so sequence heads (pooler + classifier, or a classifier on position 0) see one row per sequence."""
    encoder = model.base_model.encoder
    starts = bounds[:-1].long()

    def hook(_module: Any, _args: Any, output: Any) -> Any:
        output.last_hidden_state = output.last_hidden_state[0, starts].unsqueeze(1)
        return output

    handle = encoder.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def split_rows(packed: torch.Tensor, bounds: list[int]) -> list[torch.Tensor]:
    """(1, total, …) → one (length_i, …) tensor per sequence."""
    return [packed[0, a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
