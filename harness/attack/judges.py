"""Which labels of a prediction record are right, per task type (its ``attack.judge``): the arrays an attack's
success is decided on, as the predictors' ``score_gold`` gives them for the inputs it scores.

Each judge takes a record and the attack's :class:`~perturbations.suite.AttackParams` and returns a boolean
array: one entry for a label, choice, target or answer, one per word for tags.
"""

from __future__ import annotations

import numpy as np

from harness.models.predictors.qa import answer_correct
from perturbations.suite import AttackParams


def label(record: dict, params: AttackParams) -> np.ndarray:
    """The predicted label (choice index, target id) is the gold one."""
    return np.array([record["pred"] == record["gold"]])


def tags(record: dict, params: AttackParams) -> np.ndarray:
    """Per word, the predicted tag is the gold one."""
    return np.array([p == g for p, g in zip(record["pred"], record["gold"], strict=True)], dtype=bool)


def listed(record: dict, params: AttackParams) -> np.ndarray:
    """The best-ranked candidate is one of the relevant ones."""
    return np.array([record["pred"] is not None and record["pred"] in record["gold"]])


def answer(record: dict, params: AttackParams) -> np.ndarray:
    """The predicted answer is still right under ``params.qa_success`` (F1 of at least 0.5, or exact match)."""
    return np.array([answer_correct(record["pred"], record["gold"], norm=record.get("norm", "squad"),
                                    lang=record.get("language", "en"), success=params.qa_success)])
