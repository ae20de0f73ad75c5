"""Sentence-pair classification (XNLI, PAWS-X): ``text_a`` + ``text_b`` → one of the task's ``labels``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.tasktypes.base import (
    AttackSupport,
    Spec,
    Submission,
    TaskType,
    Training,
    column_label,
    label_lookup,
)
from harness.tasktypes.submission import check_count, label_of, read_lines
from perturbations.policies import TEXT


def read_submission(spec: Spec, unit: Any, examples: list[dict], path: Path) -> list[dict]:
    """One label per line (name, alias or 0-based index); a line ``label<TAB>…`` is read as its first field."""
    lines = read_lines(path)
    check_count(path, len(lines), examples, unit, "labels")
    lookup = label_lookup(spec)
    lines = [line.split("\t", 1)[0].strip() for line in lines]
    return [{"id": ex["id"], "gold": ex["label"], "pred": label_of(lookup, raw, spec.labels, path, i),
             "probs": None} for i, (ex, raw) in enumerate(zip(examples, lines, strict=True), 1)]


class PairClassification(TaskType):
    name = "pair_classification"
    required = ("text_a", "text_b", "label")
    optional = ("id",)
    requires_labels = "pair classification needs label names"
    head = "AutoModelForSequenceClassification"
    labelled_head = True
    predictor = "harness.models.predictors.pair:PairClassifier"
    metrics = ("accuracy",)
    field_policy = TEXT
    attack = AttackSupport("harness.attack.judges:label")
    text_pairs = True
    submission = Submission("tsv", read_submission)
    # google-research/xtreme scripts/train_xnli.sh for base-size models (batch 8 x grad-acc 4)
    training = Training({"learning_rate": 2e-5, "epochs": 5.0, "batch_size": 32, "max_length": 128},
                        "harness.finetune.features:pair_features")

    def canonicalize(self, examples: list[dict], spec: Spec, *, dataset: Any, columns: dict[str, list[str]],
                     origin: str) -> None:
        if not spec.labels:
            return
        labels = label_lookup(spec)
        for row, example in enumerate(examples):
            raw = example["label"]
            name = labels.get(str(raw).casefold())
            if name is None:
                raise XRobustError(
                    f"label {raw!r} in row {row} is not one of {', '.join(spec.labels)}", file=origin,
                    field=f"fields.label ({', '.join(columns['label'])})")
            example["label"] = name

    def check_training(self, spec: Spec, examples: list[dict], origin: str) -> None:
        bad = next((e for e in examples if e["label"] not in spec.labels), None)
        if bad is not None:
            raise XRobustError(f"label {bad['label']!r} of example {bad['id']} is not one of the task's labels "
                               f"({', '.join(spec.labels)})", file=origin, field=column_label(spec, "label"))


TYPE = PairClassification()
