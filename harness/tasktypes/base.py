"""What a task type is, and the registry every layer looks task types up in.

A :class:`TaskType` holds everything that varies by task type: its canonical example fields and how source
rows become them, its option section in task files and its checks, the model head, the predictor, the
metrics that apply, fine-tuning defaults and features, the XTREME submission reader, the perturbation field
policy and how attacks apply. Built-in types live one per module in this package; a new type is one
subclass and one :func:`register` call, from anywhere.

This package sits below ``harness.spec``: it imports nothing of the harness but :mod:`harness.errors`.
Behaviour that needs the layers above (the predictor, training features, a special example loader) is named
by a reference (an object, or ``"module:attribute"``) that the layer using it resolves with :func:`resolve`.
Hooks receive the task's ``harness.spec.taskspec.TaskSpec`` (typed ``Spec`` here for that reason).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perturbations.policies import TEXT, FieldPolicy, register_policy, unregister_policy

Spec = Any  # a harness.spec.taskspec.TaskSpec (defined in a layer above this one)
Ref = Any  # an object, or "module:attribute" naming one
Reader = Callable[[Spec, Any, list[dict], Path], list[dict]]


@dataclass(frozen=True)
class Section:
    """A task file's option section for one task type: its key and its frozen dataclass of defaults."""

    name: str
    options: type


@dataclass(frozen=True)
class Submission:
    """Predictions in the XTREME leaderboard layout: ``<task>/test-<lang>.<ext>``, read into records by
    ``read(spec, unit, gold examples, path)``."""

    ext: str
    read: Reader


@dataclass(frozen=True)
class Training:
    """Fine-tuning: XTREME's published defaults, the training features (``features(spec, examples, tokenizer,
    params) -> Features``) and settings only this type reads."""

    defaults: Mapping[str, Any]
    features: Ref
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttackSupport:
    """How model-guided attacks (``harness.attack``) treat a task type.

    The predictor's ``score_gold(examples, **options)`` returns, per example, the score the search lowers and an
    array of per-label correctness (one entry for a label, one per word for tags); ``judge(record, params)``
    gives the same array for a prediction record (``params``: the attack's ``AttackParams``), which decides
    success on the final predictions. ``score_options`` names the keywords ``score_gold`` takes beyond the
    examples: ``unit`` (the unit's clean examples, e.g. the targets a query is ranked among) and ``qa_success``
    (the attack's QA success criterion). Which fields are edited, and what an edit must keep (one token per
    token, gold answer spans), is the type's :class:`~perturbations.policies.FieldPolicy`.
    """

    judge: Ref
    score_options: tuple[str, ...] = ()


class TaskType:
    """One task type. Subclass, set the attributes, override the hooks that differ, :func:`register` it."""

    name: str = ""
    required: tuple[str, ...] = ()  # canonical example fields
    optional: tuple[str, ...] = ()
    list_fields: tuple[str, ...] = ()  # canonical fields a task file may map to a list of columns
    section: Section | None = None
    requires_labels: str = ""  # the error when a task file of this type lists no labels
    head: str = "AutoModel"  # transformers Auto class
    labelled_head: bool = False  # one head output per task label (num_labels, id2label when fine-tuning)
    predictor: Ref = None  # a harness.models.predictors.Predictor subclass
    metrics: tuple[str, ...] = ()  # the metrics a task of this type may report
    field_policy: FieldPolicy = TEXT
    attack: AttackSupport | None = None  # model-guided attacks apply (None: they skip this type)
    text_pairs: bool = False  # examples are (text_a, text_b) pairs a cross-language condition may mix
    examples: Ref = None  # a loader replacing the generic one: (spec, lang, split, *, data_dir, limit) -> examples
    submission: Submission | None = None
    training: Training | None = None  # None: not trainable

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def attackable(self) -> bool:
        """Model-guided attacks apply (:attr:`attack` is declared)."""
        return self.attack is not None

    def canonicalize(self, examples: list[dict], spec: Spec, *, dataset: Any, columns: dict[str, list[str]],
                     origin: str) -> None:
        """Turn mapped source values into canonical ones, in place (label names, tag names, answer layout)."""

    def after_load(self, examples: list[dict], spec: Spec, lang: str, reload: Callable[[str], list[dict]]) -> None:
        """Complete loaded examples in place; ``reload(lang)`` loads the same split in another language."""

    def check_section(self, options: Any, path: Path) -> None:
        """Checks of this type's option section, run for every task file (a section only counts for its type)."""

    def validate(self, spec: Spec, path: Path) -> None:
        """Checks of a task file of this type, after the common ones."""

    def check_training(self, spec: Spec, examples: list[dict], origin: str) -> None:
        """Training examples must be usable by the head (one-line error naming the file and field)."""

    def training_lengths(self, spec: Spec) -> tuple[dict[str, Any], str]:
        """Training settings the task file fixes outside ``training:``, and where they come from."""
        return {"max_length": spec.max_length}, "task.max_length"

    def check_params(self, values: dict[str, Any], sources: dict[str, str], spec: Spec) -> None:
        """Checks of resolved training settings that involve several of them."""

    def data_source(self, spec: Spec) -> str:
        """Where examples come from without a hub dataset (``xrobust tasks``)."""
        return "(--data-dir only)"

    def head_kwargs(self, spec: Spec) -> dict[str, Any]:
        """Keyword arguments for a fresh head of this type."""
        if not self.labelled_head:
            return {}
        return {"num_labels": len(spec.labels), "id2label": dict(enumerate(spec.labels)),
                "label2id": {name: i for i, name in enumerate(spec.labels)}}


_REGISTRY: dict[str, TaskType] = {}


def register(task_type: TaskType) -> TaskType:
    """Add a task type (its field policy goes to the perturbation library); names are unique."""
    if not task_type.name or task_type.name in _REGISTRY:
        raise ValueError(f"task type {task_type.name!r} is unnamed or registered twice")
    register_policy(task_type.name, task_type.field_policy)
    _REGISTRY[task_type.name] = task_type
    return task_type


def unregister(name: str) -> None:
    """Remove a task type registered with :func:`register` (tests of added types clean up with it)."""
    if _REGISTRY.pop(name, None) is not None:
        unregister_policy(name)


def get(name: str) -> TaskType:
    """The task type called ``name``; KeyError if none is registered."""
    return _REGISTRY[name]


def names() -> tuple[str, ...]:
    """Registered task types, built-ins first, in registration order."""
    return tuple(_REGISTRY)


def all_types() -> tuple[TaskType, ...]:
    return tuple(_REGISTRY.values())


def section_owner(section: str) -> TaskType | None:
    """The task type whose option section is called ``section``."""
    return next((t for t in _REGISTRY.values() if t.section and t.section.name == section), None)


def resolve(ref: Ref) -> Any:
    """The object a reference names: ``"package.module:attribute"`` is imported, anything else returned."""
    if not isinstance(ref, str):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


def label_lookup(spec: Spec) -> dict[str, str]:
    """Label name, alias (case-insensitive) or 0-based index → label name."""
    table = {}
    for index, name in enumerate(spec.labels):
        table[name.casefold()] = name
        table[str(index)] = name
        for alias in spec.label_aliases.get(name, ()):
            table[alias.casefold()] = name
    return table


def column_label(spec: Spec, canonical: str) -> str:
    """``fields.<canonical> (<column>)``: how errors name a canonical field and the column it is read from."""
    column = spec.fields_for("local").get(canonical, canonical)
    return f"fields.{canonical} ({column})"
