"""Load any Hugging Face checkpoint (hub id or local dir) with the head a task type needs (its ``head``)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import tasktypes
from harness.errors import XRobustError
from harness.models.inference import PACKED_SDPA, Inference, RuntimeOptions, resolve

__all__ = ["Inference", "LoadedModel", "ModelCache", "RuntimeOptions", "head_class", "match_labels"]

log = logging.getLogger(__name__)



def head_class(task_type: str) -> str:
    """The transformers Auto class name of ``task_type``'s head."""
    return tasktypes.get(task_type).head


def is_local(model: str) -> bool:
    return Path(model).exists()


def weights_fingerprint(model: str) -> str:
    """sha256 (12 hex) over a local checkpoint's weight files; for a hub id, its resolved commit if known."""
    path = Path(model)
    if not path.exists():
        return "hub"
    files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin", ".pt", ".pth"))
    if not files:
        raise XRobustError("no weight files (*.safetensors, *.bin) in model directory", file=path,
                           field="--model")
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda h=handle: h.read(1 << 22), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    device: str
    head: str
    inference: Inference | None = None  # None: padded batches under the predictor's options


class ModelCache:
    """Loads a checkpoint once per head class and keeps it for every task of that type in a run."""

    def __init__(self, model: str, options: RuntimeOptions, revision: str | None = None) -> None:
        self.model_ref = model
        self.options = options
        self.revision = revision
        self._loaded: dict[str, LoadedModel] = {}
        self._tokenizer: Any = None
        self._config: Any = None
        self._inference: dict[str, Inference] = {}

    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            try:
                self._tokenizer = AutoTokenizer.from_pretrained(self.model_ref, revision=self.revision)
            except Exception as err:
                raise XRobustError(f"cannot load tokenizer: {type(err).__name__}: {_first_line(err)}",
                                   field="--model") from None
            if not getattr(self._tokenizer, "is_fast", False):
                log.warning("tokenizer of %s is not a fast tokenizer; word alignment needs one", self.model_ref)
        return self._tokenizer

    def config(self) -> Any:
        if self._config is None:
            from transformers import AutoConfig

            try:
                self._config = AutoConfig.from_pretrained(self.model_ref, revision=self.revision)
            except Exception as err:
                raise XRobustError(f"cannot load config: {type(err).__name__}: {_first_line(err)}",
                                   field="--model") from None
        return self._config

    def inference(self, task_type: str) -> Inference:
        """Resolved settings for this checkpoint with ``task_type``'s head (from its config; no weights read)."""
        head = head_class(task_type)
        if head not in self._inference:
            import transformers

            config = self.config()
            try:
                model_class = getattr(transformers, head)._model_mapping[type(config)]
            except (KeyError, AttributeError):
                model_class = None
            self._inference[head] = resolve(self.options, config, model_class)
        return self._inference[head]

    def get(self, task_type: str, **kwargs: Any) -> LoadedModel:
        head = head_class(task_type)
        key = head + repr(sorted(kwargs.items()))
        if key not in self._loaded:
            import torch
            import transformers

            settings = self.inference(task_type)
            if settings.attn == PACKED_SDPA:
                from harness.models.packing import register_kernel

                register_kernel()
            torch.manual_seed(self.options.seed)  # fresh heads are initialised reproducibly
            auto = getattr(transformers, head)
            try:
                model = auto.from_pretrained(self.model_ref, revision=self.revision, dtype=settings.torch_dtype(),
                                             attn_implementation=settings.attn, **kwargs)
            except XRobustError:
                raise
            except Exception as err:
                raise XRobustError(f"cannot load {self.model_ref} as {head}: {type(err).__name__}: "
                                   f"{_first_line(err)}", field="--model") from None
            model.to(settings.device).eval()
            log.info("%s as %s: %s", self.model_ref, head, settings.describe())
            self._loaded[key] = LoadedModel(model, self.tokenizer(), settings.device, head, settings)
        return self._loaded[key]


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""


def match_labels(id2label: dict[int, str], task_labels: tuple[str, ...], aliases: dict[str, tuple[str, ...]],
                 explicit: dict[str, str], *, task: str, model: str, file: str | None = None) -> dict[int, str]:
    """Model output index → task label name, matched by name (case-insensitive), aliases, or ``explicit``.

    Every task label must be matched by exactly one model output; model outputs that match nothing are
    ignored at prediction time. Raises a one-line error listing both label sets otherwise.
    """
    lookup: dict[str, str] = {}
    for name in task_labels:
        lookup[name.casefold()] = name
        for alias in aliases.get(name, ()):
            lookup[alias.casefold()] = name
    explicit_cf = {k.casefold(): v for k, v in explicit.items()}
    mapping: dict[int, str] = {}
    for index, label in sorted(id2label.items()):
        label_cf = str(label).casefold()
        target = explicit_cf.get(label_cf) or explicit_cf.get(str(index)) or lookup.get(label_cf)
        if target is not None and target in task_labels:
            mapping[int(index)] = target
    matched = sorted(mapping.values())
    if sorted(task_labels) != matched:
        model_labels = ", ".join(str(id2label[i]) for i in sorted(id2label))
        raise XRobustError(
            f"labels of model {model} ({model_labels}) do not match task {task} labels "
            f"({', '.join(task_labels)}); pass --label-map MODEL_LABEL=TASK_LABEL,...", file=file, field="labels")
    return mapping
