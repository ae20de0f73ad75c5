"""Load any Hugging Face checkpoint (hub id or local dir) with the head a task type needs (its ``head``)."""

from __future__ import annotations

import hashlib
import logging
import re
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


#: a hub model id: ``name`` or ``owner/name`` (huggingface_hub's rule: word characters, ``-`` and ``.``)
HUB_ID = re.compile(r"(?:[\w.-]+/)?[\w.-]{1,96}")
#: checkpoint files that cannot change a prediction (documentation, VCS metadata)
_NOT_INPUTS = re.compile(r"(?i)^(readme.*|.*\.md|license.*|\.git.*|.*\.lock)$")
_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth")


def looks_like_path(model: str) -> bool:
    """True if ``model`` can only be a local path (absolute, ``./``, ``~``, several folders, a trailing slash),
    not a hub id."""
    return (model.startswith((".", "/", "~", "\\")) or model.endswith(("/", "\\")) or "--" in model
            or ".." in model or not HUB_ID.fullmatch(model))


def check_model_ref(model: str) -> None:
    """A missing local checkpoint is reported as a missing directory, not as an unknown hub repository."""
    if not Path(model).exists() and looks_like_path(model):
        raise XRobustError("model directory not found (a hub id is owner/name)", file=model, field="--model")


def checkpoint_files(path: Path) -> list[Path]:
    """The files of a local checkpoint folder that ``from_pretrained`` reads and that can change a prediction:
    weights, config, tokenizer and vocabulary files, any code (``auto_map``); documentation, VCS and hidden
    files and sub-folders (training checkpoints) left out."""
    return sorted(p for p in path.iterdir() if p.is_file() and not _NOT_INPUTS.match(p.name)
                  and not p.name.startswith("."))


_UNRESOLVED = object()


def weights_fingerprint(model: str, revision: Any = _UNRESOLVED) -> str:
    """sha256 (12 hex) over every input file of a local checkpoint (weights, ``config.json`` with its
    ``id2label``, tokenizer files, code), by name and content. For a hub id: "hub", or with ``revision`` given
    (None: the default branch) ``hub@<commit>``, the commit it resolves to now (asked of the hub, else the local
    hub cache's ref), so a new commit on the hub is never served from units stored for the old one."""
    check_model_ref(model)
    path = Path(model)
    if not path.exists():
        commit = None if revision is _UNRESOLVED else hub_commit(model, revision)
        return f"hub@{commit[:12]}" if commit else "hub"
    if not path.is_dir():
        raise XRobustError("expected a checkpoint directory", file=path, field="--model")
    files = checkpoint_files(path)
    if not any(p.suffix in _WEIGHTS and p.parent == path for p in files):
        raise XRobustError("no weight files (*.safetensors, *.bin) in model directory", file=path,
                           field="--model")
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda h=handle: h.read(1 << 22), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()[:12]


_COMMIT = re.compile(r"[0-9a-f]{40}")


def hub_commit(model: str, revision: str | None) -> str | None:
    """The commit a hub model ``revision`` points to: as given when it is a commit hash, else asked of the hub
    (unless ``HF_HUB_OFFLINE``), else the commit the local hub cache last saw for it; None when unknown."""
    if revision and _COMMIT.fullmatch(revision):
        return revision
    from huggingface_hub import HfApi, constants

    if not constants.HF_HUB_OFFLINE:
        try:
            return HfApi().model_info(model, revision=revision, timeout=20).sha
        except Exception:  # offline or unknown: the cache, else the load reports it
            pass
    ref = Path(constants.HF_HUB_CACHE) / f"models--{model.replace('/', '--')}" / "refs" / (revision or "main")
    try:
        text = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text if _COMMIT.fullmatch(text) else None


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
        check_model_ref(model)
        self.model_ref = model
        self.options = options
        self.revision = revision
        self._loaded: dict[str, LoadedModel] = {}
        self._tokenizer: Any = None
        self._config: Any = None
        self._inference: dict[str, Inference] = {}

    @property
    def trust_remote_code(self) -> bool:
        """Run the checkpoint's own code only with ``--trust-remote-code`` (never by answering a prompt)."""
        return self.options.trust_remote_code is True

    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            try:
                self._tokenizer = AutoTokenizer.from_pretrained(self.model_ref, revision=self.revision,
                                                                trust_remote_code=self.trust_remote_code)
            except Exception as err:
                raise _load_error("tokenizer", err, self.model_ref) from None
            if not getattr(self._tokenizer, "is_fast", False):
                log.warning("tokenizer of %s is not a fast tokenizer; word alignment needs one", self.model_ref)
        return self._tokenizer

    def config(self) -> Any:
        if self._config is None:
            from transformers import AutoConfig

            try:
                self._config = AutoConfig.from_pretrained(self.model_ref, revision=self.revision,
                                                          trust_remote_code=self.trust_remote_code)
            except Exception as err:
                raise _load_error("config", err, self.model_ref) from None
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
                                             attn_implementation=settings.attn,
                                             trust_remote_code=self.trust_remote_code, **kwargs)
            except XRobustError:
                raise
            except Exception as err:
                raise _load_error(f"weights as {head}", err, self.model_ref) from None
            model.to(settings.device).eval()
            log.info("%s as %s: %s", self.model_ref, head, settings.describe())
            self._loaded[key] = LoadedModel(model, self.tokenizer(), settings.device, head, settings)
        return self._loaded[key]


def _load_error(what: str, err: BaseException, model_ref: str) -> XRobustError:
    """``MODEL: field '--model': cannot load WHAT: …`` (a checkpoint's own code: its config and the flag)."""
    if "trust_remote_code" in str(err) or "custom code" in str(err):
        config = Path(model_ref) / "config.json"
        where = config if config.is_file() else model_ref
        return XRobustError("the checkpoint ships its own code (auto_map), which runs only with "
                            "--trust-remote-code", file=where, field="auto_map")
    return XRobustError(f"cannot load {what}: {type(err).__name__}: {_first_line(err)}", file=model_ref,
                        field="--model")


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
