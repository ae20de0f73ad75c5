"""Fine-tuning hyper-parameters: XTREME's published defaults per task type (its ``training.defaults``),
overridden by the task YAML's ``training:`` block, overridden by command-line flags. Every value remembers where
it came from; values are checked by :mod:`perturbations.validation` rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness import tasktypes
from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec
from perturbations.validation import Invalid, Rule, coerce, read

COMMON_DEFAULTS: dict[str, Any] = {"warmup_ratio": 0.0, "warmup_steps": 0, "weight_decay": 0.0, "seed": 1,
                                   "max_steps": -1, "lr_scheduler": "linear", "max_grad_norm": 1.0}
SCHEDULERS = ("linear", "constant", "cosine")


def _positive(value: float) -> bool:
    return value > 0


def _non_negative(value: float) -> bool:
    return value >= 0


def _number(what: str, ok: Any = None) -> Rule:
    return Rule(float, what, ok)


def _integer(what: str, ok: Any = None) -> Rule:
    return Rule(int, what, ok, whole_floats=True)


# setting → what it accepts (also the order settings are listed in)
KEYS: dict[str, Rule] = {
    "learning_rate": _number("a positive number", _positive),
    "epochs": _number("a positive number", _positive),
    "batch_size": _integer("a positive integer", _positive),
    "max_length": _integer("a positive integer", _positive),
    "warmup_ratio": _number("a number in [0, 1)", lambda v: 0 <= v < 1),
    "warmup_steps": _integer("a non-negative integer", _non_negative),
    "weight_decay": _number("a non-negative number", _non_negative),
    "seed": _integer("an integer"),
    "max_steps": _integer("a positive integer, or -1 for epochs", lambda v: v > 0 or v == -1),
    "stride": _integer("a non-negative integer", _non_negative),
    "max_query_length": _integer("a positive integer", _positive),
    "lr_scheduler": Rule(str, "one of " + ", ".join(SCHEDULERS), lambda v: v in SCHEDULERS),
    "max_grad_norm": _number("a non-negative number (0: no clipping)", _non_negative),
}
MUST_BE = "must be {what}, got {value!r}"
ALIASES = {"lr": "learning_rate", "num_train_epochs": "epochs", "num_epochs": "epochs"}
CLI_FLAGS = {"learning_rate": "--lr", "epochs": "--epochs", "batch_size": "--batch-size", "max_steps": "--max-steps",
             "seed": "--seed", "max_length": "--max-length", "warmup_ratio": "--warmup-ratio",
             "weight_decay": "--weight-decay", "lr_scheduler": "--lr-scheduler", "max_grad_norm": "--max-grad-norm"}


def trainable_types() -> tuple[str, ...]:
    """Task types with fine-tuning defaults (and training features)."""
    return tuple(t.name for t in tasktypes.all_types() if t.training is not None)


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
        """Settings and their sources (settings of one task type only, e.g. QA windows, for that type)."""
        own = tasktypes.get(self.task_type).training.keys if self.task_type else ()
        only = {k for t in tasktypes.all_types() if t.training for k in t.training.keys}
        keys = [k for k in KEYS if k in own or k not in only]
        return {**{k: getattr(self, k) for k in keys}, "sources": {k: self.sources[k] for k in keys
                                                                   if k in self.sources}}


def _check(key: str, value: Any, *, file: str | None, field_name: str) -> Any:
    try:
        return coerce(KEYS[key], value, MUST_BE)
    except Invalid as err:
        raise XRobustError(err.message, file=file, field=field_name) from None


def task_training_block(spec: TaskSpec) -> dict[str, Any]:
    """The validated ``training:`` block of a task file (``epochs``/``lr`` aliases accepted)."""
    try:
        return read(spec.training, KEYS, MUST_BE, unknown="unknown training setting (known: {known})",
                    sort_known=False, aliases=ALIASES)
    except Invalid as err:
        raise XRobustError(err.message, file=spec.source_file, field=f"training.{err.field}") from None


def resolve_params(spec: TaskSpec, overrides: dict[str, Any] | None = None) -> HyperParams:
    """XTREME defaults for the task type < the task's own lengths < ``training:`` block < ``overrides`` (CLI)."""
    training = tasktypes.get(spec.type).training
    if training is None:
        raise XRobustError(f"fine-tuning supports {', '.join(trainable_types())} tasks, not {spec.type}",
                           file=spec.source_file, field="type")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(layer: dict[str, Any], source: str) -> None:
        for key, value in layer.items():
            if value is not None:
                values[key] = value
                sources[key] = source

    put(COMMON_DEFAULTS, "default")
    put(dict(training.defaults), "xtreme")
    put(*tasktypes.get(spec.type).training_lengths(spec))
    put(task_training_block(spec), "task.training")
    cli = {k: _check(k, v, file=None, field_name=CLI_FLAGS.get(k, k)) for k, v in (overrides or {}).items()
           if v is not None}
    put(cli, "cli")
    if values["warmup_ratio"] and sources["warmup_ratio"] in ("task.training", "cli") and \
            sources["warmup_steps"] not in ("task.training", "cli"):
        values["warmup_steps"], sources["warmup_steps"] = 0, sources["warmup_ratio"]
    tasktypes.get(spec.type).check_params(values, sources, spec)
    return HyperParams(**values, task_type=spec.type, sources=sources)
