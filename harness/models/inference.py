"""How inference runs on a device: dtype, attention implementation, padding-free packing, batch limits.

:class:`RuntimeOptions` holds what the user asked for (``auto`` allowed); :func:`resolve` turns it into an
:class:`Inference` for one checkpoint on one device. The dtype, the attention implementation and the
packing flag can change a prediction, so they enter unit fingerprints and run signatures
(:meth:`Inference.pinned`); the token budget and the batch size only change speed and are not pinned.

Defaults per device, measured (``benchmarks/throughput.py``):

- CPU: float32, ``sdpa`` (on the offline e5, 20–35% faster than ``eager`` for 32 × 48-token and 4 × 384-token
  batches), padded length-sorted batches of at most 2,048 tokens and 64 rows (batches of 32 XNLI pairs ran
  faster than batches of 128 on 2 cores).
- CUDA: bfloat16 where the GPU supports it; with ``flash-attn`` installed and a supported encoder,
  padding-free packed batches through flash attention's variable-length kernels; otherwise padded batches
  with ``eager`` attention (on one H100, eager beat padded SDPA for an xlm-roberta-base classifier on XNLI);
  batches of at most 65,536 tokens and 4,096 rows.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from typing import Any

from harness.errors import XRobustError

log = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "bfloat16", "float16")
ATTENTIONS = ("auto", "eager", "sdpa", "flash_attention_2")
SWITCHES = ("auto", "on", "off")

#: Encoders whose packed (padding-free) forward is verified equal to the padded one: position ids restart per
#: sequence (offset by the padding index for the RoBERTa family) and attention goes through transformers'
#: attention interface, which receives the sequence boundaries.
PACKABLE = frozenset({"bert", "roberta", "xlm-roberta", "camembert"})

#: The portable padding-free kernel (see :mod:`harness.models.packing`), used when flash-attn is missing.
PACKED_SDPA = "xrobust_packed_sdpa"


@dataclass
class RuntimeOptions:
    """What the user asked for; ``auto`` values are resolved per model and device by :func:`resolve`."""

    device: str = "auto"
    dtype: str = "auto"
    attn: str = "auto"
    padding_free: str = "auto"
    batch_size: int | None = None  # upper bound on rows per batch; None = the device's default
    max_tokens: int | None = None  # upper bound on padded (or packed) tokens per batch
    progress: bool = True
    label_map: dict[str, str] = field(default_factory=dict)  # model label → task label
    seed: int = 0
    trust_remote_code: bool = False  # run a checkpoint's own Python code (``auto_map``): only when asked for

    def resolved_device(self) -> str:
        import torch

        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise XRobustError("CUDA requested but not available", field="--device")
        return self.device

    def check(self) -> None:
        """One-line errors for values out of range (the CLI restricts choices; the API may not)."""
        for name, value, allowed in (("--dtype", self.dtype, DTYPES), ("--attn", self.attn, ATTENTIONS),
                                     ("--padding-free", self.padding_free, SWITCHES)):
            if value not in allowed:
                raise XRobustError(f"{value!r} is not one of {', '.join(allowed)}", field=name)
        for name, value in (("--batch-size", self.batch_size), ("--max-tokens", self.max_tokens)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise XRobustError(f"must be at least 1, got {value!r}", field=name)
        if not isinstance(self.trust_remote_code, bool):
            raise XRobustError(f"must be true or false, got {self.trust_remote_code!r}", field="--trust-remote-code")


@dataclass(frozen=True)
class Inference:
    """Resolved settings for one checkpoint on one device."""

    device: str
    dtype: str
    attn: str  # the transformers attention implementation the model is loaded with
    packed: bool  # padding-free: sequences concatenated, attention bounded per sequence
    max_tokens: int
    batch_size: int
    remote_code: bool = False  # the checkpoint's own code was allowed to run (``--trust-remote-code``)

    def pinned(self) -> dict[str, str | bool]:
        """The settings that can change a prediction (fingerprints and signatures hold exactly these); remote
        code only when allowed, so the fingerprints of ordinary runs are unchanged by it."""
        pinned: dict[str, str | bool] = {"dtype": self.dtype, "attn": self.attn,
                                         "packing": "packed" if self.packed else "padded"}
        if self.remote_code:
            pinned["remote_code"] = True
        return pinned

    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)

    def describe(self) -> str:
        return (f"{self.device} {self.dtype} attn={self.attn} {'packed' if self.packed else 'padded'} "
                f"≤{self.max_tokens} tokens/≤{self.batch_size} rows per batch")


def flash_attn_available() -> bool:
    return importlib.util.find_spec("flash_attn") is not None


def _bf16_ok(device: str) -> bool:
    import torch

    return device.startswith("cuda") and torch.cuda.is_bf16_supported()


def model_supports(config: Any, model_class: Any) -> dict[str, bool]:
    """Which attention implementations and packing ``model_class`` (built from ``config``) supports."""
    model_type = getattr(config, "model_type", None)
    absolute = getattr(config, "position_embedding_type", "absolute") in (None, "absolute")
    backend = bool(getattr(model_class, "_supports_attention_backend", False))
    return {"sdpa": bool(getattr(model_class, "_supports_sdpa", False)),
            "flash_attention_2": bool(getattr(model_class, "_supports_flash_attn", False)),
            "packing": model_type in PACKABLE and absolute and backend and not getattr(config, "is_decoder", False)
            and not getattr(model_class, "__name__", "").endswith("ForMultipleChoice")}  # choices stay grouped


def resolve(options: RuntimeOptions, config: Any = None, model_class: Any = None) -> Inference:
    """Settings for a model of ``config``/``model_class`` (either may be None: no model-specific support)."""
    options.check()
    device = options.resolved_device()
    cuda = device.startswith("cuda")
    support = model_supports(config, model_class) if config is not None else \
        {"sdpa": False, "flash_attention_2": False, "packing": False}
    dtype = options.dtype if options.dtype != "auto" else ("bfloat16" if _bf16_ok(device) else "float32")
    if options.attn == "flash_attention_2" and not (cuda and flash_attn_available()):
        raise XRobustError("flash_attention_2 needs a CUDA device and the flash-attn package (pip install "
                           "'xrobust[gpu]')", field="--attn")
    if options.attn == "flash_attention_2" and dtype == "float32":
        raise XRobustError("flash_attention_2 runs in bfloat16 or float16; pass --dtype bfloat16", field="--dtype")
    flash = cuda and flash_attn_available() and support["flash_attention_2"] and dtype != "float32"
    packed = _packing(options.padding_free, support["packing"], flash, options.attn)
    attn = _attention(options.attn, support, packed=packed, flash=flash, cuda=cuda)
    max_tokens = options.max_tokens or (65536 if cuda else 2048)
    batch_size = options.batch_size or (4096 if cuda else 64)
    return Inference(device, dtype, attn, packed, max_tokens, batch_size, remote_code=options.trust_remote_code is True)


def _packing(asked: str, supported: bool, flash: bool, attn: str) -> bool:
    if asked == "off":
        return False
    if asked == "on":
        if not supported:
            log.warning("this model has no verified padding-free path; running padded batches")
        return supported
    return supported and flash and attn in ("auto", "flash_attention_2")


def _attention(asked: str, support: dict[str, bool], *, packed: bool, flash: bool, cuda: bool) -> str:
    if packed:
        return "flash_attention_2" if flash and asked in ("auto", "flash_attention_2") else PACKED_SDPA
    if asked != "auto":
        if asked == "sdpa" and not support["sdpa"]:
            raise XRobustError("this model has no SDPA attention; use --attn eager", field="--attn")
        return asked
    if not cuda and support["sdpa"]:
        return "sdpa"
    return "eager"
