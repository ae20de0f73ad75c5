"""Training examples for fine-tuning: the task's train split in one or more languages (optionally the first
N per language), checked against the task's labels, hashed, and optionally augmented with perturbed copies
from a perturbation suite (randomized smoothing with data augmentation, arXiv 2104.08645)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import tasktypes
from harness.data.examples import load_examples, local_path
from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """Examples of one stage plus what the card records about them."""

    examples: list[dict]
    task: str
    split: str
    languages: list[str]
    per_language: dict[str, int]
    ids_sha256: str
    limits: dict[str, int] = field(default_factory=dict)
    augmentation: dict[str, Any] | None = None

    def card(self) -> dict[str, Any]:
        return {"task": self.task, "split": self.split, "languages": self.languages,
                "examples_per_language": self.per_language, "n_examples": sum(self.per_language.values()),
                "n_training_examples": len(self.examples), "limits": self.limits,
                "ids_sha256": self.ids_sha256}


def parse_limits(value: str | None, langs: list[str]) -> dict[str, int]:
    """``N`` (every language) or ``LANG=N,…`` → per-language caps."""
    if not value:
        return {}
    text = value.strip()
    if text.isdigit():
        return dict.fromkeys(langs, _positive(text))
    out = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        lang, sep, number = part.partition("=")
        if not sep or not number.strip().isdigit():
            raise XRobustError(f"expected N or LANG=N,…, got {part!r}", field="--train-limit")
        if lang.strip() not in langs:
            raise XRobustError(f"language {lang.strip()!r} is not a training language ({', '.join(langs)})",
                               field="--train-limit")
        out[lang.strip()] = _positive(number)
    return out


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise XRobustError("must be at least 1", field="--train-limit")
    return number


def ids_hash(spec: TaskSpec, split: str, examples: list[dict]) -> str:
    """sha256 over ``task/lang/split/id`` of the training examples, in training order."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{spec.name}/{example['_lang']}/{split}/{example['id']}\n".encode())
    return digest.hexdigest()


def load_training(spec: TaskSpec, split: str, langs: list[str], *, data_dir: str | Path | None,
                  limits: dict[str, int] | None = None) -> TrainingData:
    """Load and check the training examples of ``spec`` (each tagged with its ``_lang``)."""
    limits = limits or {}
    examples: list[dict] = []
    per_language = {}
    for lang in langs:
        if data_dir is not None and not local_path(spec, lang, split, data_dir).is_file():
            raise XRobustError(f"no {split!r} split of task {spec.name} for language {lang!r}",
                               file=local_path(spec, lang, split, data_dir), field=f"splits.{split}")
        rows = load_examples(spec, lang, split, data_dir=data_dir, limit=limits.get(lang))
        origin = str(local_path(spec, lang, split, data_dir)) if data_dir is not None else spec.source_file
        check_labels(spec, rows, origin)
        for row in rows:
            row["_lang"] = lang
        examples += rows
        per_language[lang] = len(rows)
    if not examples:
        raise XRobustError(f"no training examples for task {spec.name} ({split}, {', '.join(langs)})",
                           field="--train-langs")
    return TrainingData(examples, spec.name, split, list(langs), per_language, ids_hash(spec, split, examples),
                        limits=dict(limits))


def check_labels(spec: TaskSpec, examples: list[dict], origin: str) -> None:
    """Every training label must be one the head knows (the task type's check; one-line error naming file and
    field)."""
    tasktypes.get(spec.type).check_training(spec, examples, origin)


def augmentation_seed(condition_seed: int, train_seed: int, round_: int) -> int:
    """Perturbation seed of the ``round_``-th pass over a condition (never the evaluation seed)."""
    blob = f"xrobust-augment/{condition_seed}/{train_seed}/{round_}".encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "big")


def augment(data: TrainingData, spec: TaskSpec, suite: Any, copies: int, *, seed: int) -> TrainingData:
    """Add ``copies`` perturbed copies of every example; copy k uses condition k mod C (C = conditions that
    claim the example's language) with its own perturbation seed. Ids become ``<id>~aug<k>``."""
    from perturbations import perturb_examples

    if copies < 1:
        raise XRobustError("must be at least 1", field="--augment-copies")
    if not spec.perturb_fields:
        raise XRobustError("task declares no perturb_fields", file=spec.source_file, field="perturb_fields")
    added: list[dict] = []
    plan: list[dict[str, Any]] = []
    changed = 0
    for lang in data.languages:
        rows = [e for e in data.examples if e["_lang"] == lang]
        conditions = [c for c in suite.conditions if c.claims(lang)]
        if not conditions:
            raise XRobustError(f"no condition of suite {suite.name!r} claims training language {lang!r}",
                               file=suite.path, field="--augment")
        for k in range(copies):
            condition = conditions[k % len(conditions)]
            round_ = k // len(conditions)
            cond_seed = augmentation_seed(condition.seed, seed, round_)
            variant = dataclasses.replace(condition, seed=cond_seed)
            new, stats = perturb_examples([_public(r) for r in rows], task_type=spec.type,
                                          fields=list(spec.perturb_fields), lang=lang, condition=variant,
                                          strict=False)
            n_changed = 0
            for old, row in zip(rows, new, strict=True):
                row["_lang"] = lang
                row["_original"] = old["id"]
                row["id"] = f"{old['id']}~aug{k}"
                n_changed += any(row.get(f) != old.get(f) for f in spec.perturb_fields)
            changed += n_changed
            added += new
            plan.append({"language": lang, "copy": k, "condition": condition.name, "seed": cond_seed,
                         "examples": len(new), "changed": n_changed,
                         "frac_words_changed": round(stats.frac_words_changed, 4)})
    info = {"suite": suite.name, "suite_file": str(suite.path), "copies": copies,
            "fields": list(spec.perturb_fields), "n_original": len(data.examples), "n_added": len(added),
            "n_changed": changed, "copies_detail": plan}
    examples = data.examples + added
    return dataclasses.replace(data, examples=examples, augmentation=info)


def _public(example: dict) -> dict:
    return {k: v for k, v in example.items() if not k.startswith("_")}
