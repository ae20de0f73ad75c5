"""Token classification (UD-POS, PAN-X): one tag per word of ``tokens``, from the task's ``labels``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.tasktypes.base import (
    AttackSupport,
    Section,
    Spec,
    Submission,
    TaskType,
    Training,
    column_label,
    label_lookup,
)
from harness.tasktypes.submission import check_count, label_of, read_sentences
from perturbations.policies import ALIGNED_TOKENS


@dataclass(frozen=True)
class TaggingOptions:
    """Token classification: the label predicted for words that truncation (or the tokenizer) dropped."""

    fallback_label: str = "O"


def _tag_names(dataset: Any, column: str) -> list[str] | None:
    """Names of a ``Sequence(ClassLabel)`` column (hub token-classification data stores tag ids)."""
    feature = getattr(dataset, "features", {}).get(column)
    inner = getattr(feature, "feature", None)
    return list(inner.names) if getattr(inner, "names", None) else None


def read_submission(spec: Spec, unit: Any, examples: list[dict], path: Path) -> list[dict]:
    """One tag per line per word, a blank line between sentences (runs of blank lines count as one); tag names
    or 0-based indices. A line ``word<TAB>tag`` (run_tag.py's ``output_word_prediction``) is read as its last
    field."""
    sentences = read_sentences(path)
    # the first sentence whose length is off also locates a missing or extra blank line
    for number, (ex, (start, raw_tags)) in enumerate(zip(examples, sentences, strict=False), 1):
        if len(raw_tags) != len(ex["tokens"]):
            raise XRobustError(f"sentence {number} (line {start}): {len(raw_tags)} tags but the gold sentence "
                               f"{ex['id']!r} has {len(ex['tokens'])} tokens", file=path, field="tags")
    check_count(path, len(sentences), examples, unit, "sentences")
    lookup = label_lookup(spec)
    records = []
    for ex, (start, raw_tags) in zip(examples, sentences, strict=True):
        tags = [label_of(lookup, raw, spec.labels, path, start + j) for j, raw in enumerate(raw_tags)]
        records.append({"id": ex["id"], "gold": list(ex["tags"]), "pred": tags, "lost": 0})
    return records


class TokenClassification(TaskType):
    name = "token_classification"
    required = ("tokens", "tags")
    optional = ("id",)
    section = Section("tagging", TaggingOptions)
    head = "AutoModelForTokenClassification"
    labelled_head = True
    predictor = "harness.models.predictors.token:TokenTagger"
    metrics = ("token_accuracy", "entity_f1", "entity_precision", "entity_recall")
    field_policy = ALIGNED_TOKENS
    attack = AttackSupport("harness.attack.judges:tags")
    submission = Submission("tsv", read_submission)
    # google-research/xtreme scripts/train_udpos.sh, train_panx.sh for base-size models
    training = Training({"learning_rate": 2e-5, "epochs": 10.0, "batch_size": 32, "max_length": 128},
                        "harness.finetune.features:token_features")

    def canonicalize(self, examples: list[dict], spec: Spec, *, dataset: Any, columns: dict[str, list[str]],
                     origin: str) -> None:
        names = _tag_names(dataset, columns["tags"][0]) or spec.labels
        for example in examples:
            example["tags"] = [names[t] if isinstance(t, int) else str(t) for t in example["tags"]]

    def validate(self, spec: Spec, path: Path) -> None:
        if not spec.labels:
            raise XRobustError("token classification needs the tag names", file=path, field="labels")
        if spec.tagging.fallback_label not in spec.labels:
            raise XRobustError(f"{spec.tagging.fallback_label!r} is not one of labels", file=path,
                               field="tagging.fallback_label")

    def check_training(self, spec: Spec, examples: list[dict], origin: str) -> None:
        known = set(spec.labels)
        for example in examples:
            unknown = sorted({t for t in example["tags"] if t not in known})
            if unknown:
                raise XRobustError(f"tag(s) {', '.join(map(repr, unknown))} of example {example['id']} not in "
                                   f"the task's labels ({', '.join(spec.labels)})", file=origin,
                                   field=column_label(spec, "tags"))
            if len(example["tags"]) != len(example["tokens"]):
                raise XRobustError(f"example {example['id']} has {len(example['tokens'])} tokens but "
                                   f"{len(example['tags'])} tags", file=origin, field=column_label(spec, "tags"))


TYPE = TokenClassification()
