"""Bitext retrieval (Tatoeba): each ``source`` sentence's nearest ``target`` by pooled embeddings; no head,
no fine-tuning. The embedding settings are the task file's shared ``retrieval:`` section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.tasktypes.base import AttackSupport, Spec, Submission, TaskType
from harness.tasktypes.submission import check_count, index_of, read_lines
from perturbations.policies import TEXT


def read_submission(spec: Spec, unit: Any, examples: list[dict], path: Path) -> list[dict]:
    """One line per source sentence: the 0-based index of the predicted target (xx→en). The reverse
    direction is not part of a submission: ``pred_rev`` is None."""
    lines = read_lines(path)
    check_count(path, len(lines), examples, unit, "target indices")
    ids = [ex["id"] for ex in examples]
    return [{"id": ids[i], "gold": ids[i], "pred": ids[index_of(raw, len(ids), path, i + 1, "target index")],
             "pred_rev": None} for i, raw in enumerate(lines)]


class Retrieval(TaskType):
    name = "retrieval"
    required = ("source", "target")
    optional = ("id",)
    head = "AutoModel"
    predictor = "harness.models.predictors.retrieval:BitextRetriever"
    metrics = ("accuracy", "accuracy_en2xx")
    field_policy = TEXT
    attack = AttackSupport("harness.attack.judges:label", score_options=("unit",))
    submission = Submission("tsv", read_submission)


TYPE = Retrieval()
