"""Multiple choice (XCOPA): which of ``choices`` follows from ``premise``; ``question`` (cause / effect) picks
the connective of the choice templates in the task file's ``choice:`` section."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.tasktypes.base import AttackSupport, Section, Spec, Submission, TaskType, Training, column_label
from harness.tasktypes.submission import check_count, index_of, read_lines
from perturbations.policies import TEXT


@dataclass(frozen=True)
class ChoiceOptions:
    """Multiple choice (XCOPA): segment templates and the connective chosen by the example's ``question``."""

    connectives: dict[str, str] = field(default_factory=lambda: {"cause": "because", "effect": "so"})
    first: str = "{premise}"
    second: str = "{connective} {choice}"
    question_from: str = ""  # language whose file of the same split supplies `question`, matched by id
    question_from_langs: tuple[str, ...] = ()  # where question_from applies (empty: every other language)


def read_submission(spec: Spec, unit: Any, examples: list[dict], path: Path) -> list[dict]:
    """One 0-based choice index per line."""
    lines = read_lines(path)
    check_count(path, len(lines), examples, unit, "labels")
    return [{"id": ex["id"], "gold": int(ex["label"]),
             "pred": index_of(raw, len(ex["choices"]), path, i, "choice index"), "probs": None}
            for i, (ex, raw) in enumerate(zip(examples, lines, strict=True), 1)]


class MultipleChoice(TaskType):
    name = "multiple_choice"
    required = ("premise", "question", "choices", "label")
    optional = ("id",)
    list_fields = ("choices",)
    section = Section("choice", ChoiceOptions)
    head = "AutoModelForMultipleChoice"
    predictor = "harness.models.predictors.choice:ChoiceScorer"
    metrics = ("accuracy",)
    field_policy = TEXT
    attack = AttackSupport("harness.attack.judges:label")
    submission = Submission("tsv", read_submission)
    # google-research/xtreme scripts/train_xcopa.sh for base-size models
    training = Training({"learning_rate": 2e-5, "epochs": 5.0, "batch_size": 32, "max_length": 128},
                        "harness.finetune.features:choice_features")

    def canonicalize(self, examples: list[dict], spec: Spec, *, dataset: Any, columns: dict[str, list[str]],
                     origin: str) -> None:
        for example in examples:
            example["label"] = int(example["label"])

    def after_load(self, examples: list[dict], spec: Spec, lang: str, reload: Callable[[str], list[dict]]) -> None:
        """XCOPA th/tr: the upstream files disagree with English COPA on cause/effect for some items (labels
        agree), so ``choice.question_from`` takes each ``question`` from another language's file, by id."""
        choice = spec.choice
        if not choice.question_from or lang == choice.question_from or (
                choice.question_from_langs and lang not in choice.question_from_langs):
            return
        by_id = {e["id"]: e["question"] for e in reload(choice.question_from)}
        for example in examples:
            if example["id"] not in by_id:
                raise XRobustError(f"example id {example['id']!r} not found in the {choice.question_from!r} "
                                   "file", file=spec.source_file, field="choice.question_from")
            example["question"] = by_id[example["id"]]

    def check_section(self, options: ChoiceOptions, path: Path) -> None:
        for key in ("first", "second"):
            template = getattr(options, key)
            if "{premise}" not in template and "{choice}" not in template:
                raise XRobustError("template must use {premise} or {choice}", file=path, field=f"choice.{key}")

    def check_training(self, spec: Spec, examples: list[dict], origin: str) -> None:
        for example in examples:
            if not 0 <= example["label"] < len(example["choices"]):
                raise XRobustError(f"label {example['label']} of example {example['id']} is not a choice index "
                                   f"(0..{len(example['choices']) - 1})", file=origin, field=column_label(spec, "label"))


TYPE = MultipleChoice()
