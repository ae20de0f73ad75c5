"""Extractive QA (XQuAD, MLQA, TyDiQA-GoldP): the answer span of ``question`` in ``context``; SQuAD-style
``answers``. Perturbations keep the gold spans and recompute their offsets."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.tasktypes.base import AttackSupport, Section, Spec, Submission, TaskType, Training
from harness.tasktypes.submission import read_text
from perturbations.policies import ANSWER_SPANS


@dataclass(frozen=True)
class QAOptions:
    """Extractive QA: sliding windows over long contexts and span decoding (lengths in tokens)."""

    max_length: int = 384
    stride: int = 128  # tokens shared by consecutive windows
    max_query_length: int = 64
    n_best: int = 20  # top-k start and top-k end positions per window
    max_answer_length: int = 30
    normalization: str = "squad"  # squad (SQuAD v1.1 script) | mlqa (MLQA script, language-aware)


def answers(value: Any, origin: str, row: int) -> dict[str, list]:
    """SQuAD answers in any common layout → ``{"text": [...], "answer_start": [...]}``."""
    if isinstance(value, dict) and "text" in value:
        texts, starts = value["text"], value.get("answer_start", [])
        texts = [texts] if isinstance(texts, str) else list(texts)
        starts = [starts] if isinstance(starts, int) else list(starts)
    elif isinstance(value, list) and all(isinstance(a, dict) for a in value):
        texts = [a["text"] for a in value]
        starts = [a.get("answer_start", -1) for a in value]
    elif isinstance(value, str):
        texts, starts = [value], []
    else:
        raise XRobustError(f"answers in row {row} are not SQuAD-style ({type(value).__name__})", file=origin,
                           field="fields.answers")
    starts = (starts + [-1] * len(texts))[:len(texts)]
    return {"text": [str(t) for t in texts], "answer_start": [int(s) for s in starts]}


def read_submission(spec: Spec, unit: Any, examples: list[dict], path: Path) -> list[dict]:
    """A JSON object question id → answer text (``{"data": {...}}`` also accepted, as XTREME's ``read_squad``
    does) answering exactly the gold questions; ``start`` = the answer's first occurrence in the context."""
    try:
        given = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise XRobustError(f"not valid JSON: {err.msg} (column {err.colno})", file=path, line=err.lineno) from None
    if isinstance(given, dict) and set(given) == {"data"} and isinstance(given["data"], dict):
        given = given["data"]
    if not isinstance(given, dict):
        raise XRobustError("must be a JSON object mapping question id to answer text", file=path)
    ids = [ex["id"] for ex in examples]
    missing = [qid for qid in ids if qid not in given]
    if missing:
        raise XRobustError(f"no answer for {len(missing)} of the {len(ids)} gold {unit.task}/{unit.lang} "
                           f"{unit.split} question ids (first: {missing[0]!r})", file=path)
    extra = sorted(set(given) - set(ids))
    if extra:
        raise XRobustError(f"{len(extra)} question ids are not in the gold {unit.task}/{unit.lang} {unit.split} "
                           f"data (first: {extra[0]!r})", file=path)
    records = []
    for ex in examples:
        text = given[ex["id"]]
        if not isinstance(text, str):
            raise XRobustError(f"answer for question {ex['id']!r} is not a string ({type(text).__name__})",
                               file=path)
        records.append({"id": ex["id"], "gold": list(ex["answers"]["text"]), "pred": text,
                        "start": ex["context"].find(text) if text else -1, "score": None, "windows": None,
                        "language": ex.get("language", unit.lang), "norm": spec.qa.normalization})
    return records


class QA(TaskType):
    name = "qa"
    required = ("context", "question", "answers")
    optional = ("id", "title")
    section = Section("qa", QAOptions)
    head = "AutoModelForQuestionAnswering"
    predictor = "harness.models.predictors.qa:SpanExtractor"
    metrics = ("exact_match", "f1", "em_f1")
    field_policy = ANSWER_SPANS
    attack = AttackSupport("harness.attack.judges:answer", score_options=("qa_success",))
    submission = Submission("json", read_submission)
    # google-research/xtreme scripts/train_qa.sh for base-size models (batch 4 x grad-acc 8)
    training = Training({"learning_rate": 3e-5, "epochs": 3.0, "batch_size": 32, "max_length": 384,
                         "warmup_steps": 500, "weight_decay": 1e-4},
                        "harness.finetune.features:qa_features", keys=("stride", "max_query_length"))

    def canonicalize(self, examples: list[dict], spec: Spec, *, dataset: Any, columns: dict[str, list[str]],
                     origin: str) -> None:
        for row, example in enumerate(examples):
            example["answers"] = answers(example["answers"], origin, row)

    def after_load(self, examples: list[dict], spec: Spec, lang: str, reload: Callable[[str], list[dict]]) -> None:
        for example in examples:  # answer normalization is language-aware
            example["language"] = lang

    def check_section(self, options: QAOptions, path: Path) -> None:
        if options.normalization not in ("squad", "mlqa"):
            raise XRobustError("must be squad or mlqa", file=path, field="qa.normalization")
        for key in ("max_length", "n_best", "max_answer_length", "max_query_length"):
            if getattr(options, key) < 1:
                raise XRobustError("must be at least 1", file=path, field=f"qa.{key}")
        if not 0 <= options.stride < options.max_length - options.max_query_length - 3:
            raise XRobustError("must be >= 0 and leave room for context tokens in each window", file=path,
                               field="qa.stride")

    def training_lengths(self, spec: Spec) -> tuple[dict[str, Any], str]:
        return {"max_length": spec.qa.max_length, "stride": spec.qa.stride,
                "max_query_length": spec.qa.max_query_length}, "task.qa"

    def check_params(self, values: dict[str, Any], sources: dict[str, str], spec: Spec) -> None:
        if not values["stride"] < values["max_length"] - values["max_query_length"] - 3:
            where = {"task.qa": "qa.stride", "task.training": "training.stride"}.get(sources["stride"])
            raise XRobustError(f"stride {values['stride']} leaves no room for context tokens in windows of "
                               f"{values['max_length']} tokens", file=spec.source_file if where else None,
                               field=where or "--max-length")


TYPE = QA()
