"""Fine-tuning hyper-parameters: XTREME's published defaults per task type, overridden by the task YAML's
``training:`` block, overridden by command-line flags. Every value remembers where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec

# google-research/xtreme scripts/train_{xnli,udpos,panx,qa,xcopa}.sh for base-size models (batch 8 x grad-acc 4
# = 32, or 4 x 8 for QA); `seed 1` as in run_tag.py calls. Warm-up and weight decay are 0 unless listed.
XTREME_DEFAULTS: dict[str, dict[str, Any]] = {
    "pair_classification": {"learning_rate": 2e-5, "epochs": 5.0, "batch_size": 32, "max_length": 128},
    "token_classification": {"learning_rate": 2e-5, "epochs": 10.0, "batch_size": 32, "max_length": 128},
    "qa": {"learning_rate": 3e-5, "epochs": 3.0, "batch_size": 32, "max_length": 384, "warmup_steps": 500,
           "weight_decay": 1e-4},
    "multiple_choice": {"learning_rate": 2e-5, "epochs": 5.0, "batch_size": 32, "max_length": 128},
}
COMMON_DEFAULTS: dict[str, Any] = {"warmup_ratio": 0.0, "warmup_steps": 0, "weight_decay": 0.0, "seed": 1,
                                   "max_steps": -1, "lr_scheduler": "linear", "max_grad_norm": 1.0}
SCHEDULERS = ("linear", "constant", "cosine")
# key → (type, check, description)
KEYS: dict[str, tuple[type, str]] = {
    "learning_rate": (float, "a positive number"),
    "epochs": (float, "a positive number"),
    "batch_size": (int, "a positive integer"),
    "max_length": (int, "a positive integer"),
    "warmup_ratio": (float, "a number in [0, 1)"),
    "warmup_steps": (int, "a non-negative integer"),
    "weight_decay": (float, "a non-negative number"),
    "seed": (int, "an integer"),
    "max_steps": (int, "a positive integer, or -1 for epochs"),
    "stride": (int, "a non-negative integer"),
    "max_query_length": (int, "a positive integer"),
    "lr_scheduler": (str, "one of " + ", ".join(SCHEDULERS)),
    "max_grad_norm": (float, "a non-negative number (0: no clipping)"),
}
TRAINABLE_TYPES = tuple(XTREME_DEFAULTS)
QA_ONLY = ("stride", "max_query_length")
CLI_FLAGS = {"learning_rate": "--lr", "epochs": "--epochs", "batch_size": "--batch-size", "max_steps": "--max-steps",
             "seed": "--seed", "max_length": "--max-length", "warmup_ratio": "--warmup-ratio",
             "weight_decay": "--weight-decay", "lr_scheduler": "--lr-scheduler", "max_grad_norm": "--max-grad-norm"}


@dataclass(frozen=True)
class HyperParams:
    """Resolved training settings of one stage, with the origin of each value."""

    learning_rate: float
    epochs: float
    batch_size: int
    max_length: int
    warmup_ratio: float = 0.0
    warmup_steps: int = 0
    weight_decay: float = 0.0
    seed: int = 1
    max_steps: int = -1
    stride: int = 128
    max_query_length: int = 64
    lr_scheduler: str = "linear"
    max_grad_norm: float = 1.0
    task_type: str = ""
    sources: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Settings and their sources (window settings only for QA)."""
        keys = [k for k in KEYS if self.task_type == "qa" or k not in QA_ONLY]
        return {**{k: getattr(self, k) for k in keys}, "sources": {k: self.sources[k] for k in keys
                                                                   if k in self.sources}}


def _check(key: str, value: Any, *, file: str | None, field_name: str) -> Any:
    kind, what = KEYS[key]
    if kind is str:
        if value not in SCHEDULERS:
            raise XRobustError(f"must be {what}, got {value!r}", file=file, field=field_name)
        return value
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        ok = ok and float(value).is_integer()
    if ok:
        value = kind(value)
        if key in ("learning_rate", "epochs", "batch_size", "max_length", "max_query_length"):
            ok = value > 0
        elif key == "warmup_ratio":
            ok = 0 <= value < 1
        elif key in ("warmup_steps", "weight_decay", "stride", "max_grad_norm"):
            ok = value >= 0
        elif key == "max_steps":
            ok = value > 0 or value == -1
    if not ok:
        raise XRobustError(f"must be {what}, got {value!r}", file=file, field=field_name)
    return value


def task_training_block(spec: TaskSpec) -> dict[str, Any]:
    """The validated ``training:`` block of a task file (``epochs``/``lr`` aliases accepted)."""
    aliases = {"lr": "learning_rate", "num_train_epochs": "epochs", "num_epochs": "epochs"}
    out: dict[str, Any] = {}
    for raw_key, value in spec.training.items():
        key = aliases.get(raw_key, raw_key)
        if key not in KEYS:
            raise XRobustError(f"unknown training setting (known: {', '.join(KEYS)})", file=spec.source_file,
                               field=f"training.{raw_key}")
        out[key] = _check(key, value, file=spec.source_file, field_name=f"training.{raw_key}")
    return out


def resolve_params(spec: TaskSpec, overrides: dict[str, Any] | None = None) -> HyperParams:
    """XTREME defaults for the task type < the task's own lengths < ``training:`` block < ``overrides`` (CLI)."""
    if spec.type not in XTREME_DEFAULTS:
        raise XRobustError(f"fine-tuning supports {', '.join(TRAINABLE_TYPES)} tasks, not {spec.type}",
                           file=spec.source_file, field="type")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(layer: dict[str, Any], source: str) -> None:
        for key, value in layer.items():
            if value is not None:
                values[key] = value
                sources[key] = source

    put(COMMON_DEFAULTS, "default")
    put(XTREME_DEFAULTS[spec.type], "xtreme")
    if spec.type == "qa":
        put({"max_length": spec.qa.max_length, "stride": spec.qa.stride,
             "max_query_length": spec.qa.max_query_length}, "task.qa")
    else:
        put({"max_length": spec.max_length}, "task.max_length")
    put(task_training_block(spec), "task.training")
    cli = {k: _check(k, v, file=None, field_name=CLI_FLAGS.get(k, k)) for k, v in (overrides or {}).items()
           if v is not None}
    put(cli, "cli")
    if values["warmup_ratio"] and sources["warmup_ratio"] in ("task.training", "cli") and \
            sources["warmup_steps"] not in ("task.training", "cli"):
        values["warmup_steps"], sources["warmup_steps"] = 0, sources["warmup_ratio"]
    if spec.type == "qa" and not values["stride"] < values["max_length"] - values["max_query_length"] - 3:
        where = {"task.qa": "qa.stride", "task.training": "training.stride"}.get(sources["stride"])
        raise XRobustError(f"stride {values['stride']} leaves no room for context tokens in windows of "
                           f"{values['max_length']} tokens", file=spec.source_file if where else None,
                           field=where or "--max-length")
    return HyperParams(**values, task_type=spec.type, sources=sources)
