"""What an attack needs from a task type, read from its declaration (:class:`harness.tasktypes.AttackSupport`):
the predictor's gold scorer bound to its options, the judge of prediction records, the field policy."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness import tasktypes
from harness.attack.search import Scorer
from harness.errors import XRobustError
from perturbations.policies import FieldPolicy
from perturbations.suite import AttackParams


@dataclass(frozen=True)
class Support:
    """One task type's attack hooks, for one unit and attack."""

    score: Scorer  # the predictor's score_gold with the options the type declares
    judge: Callable[[dict], np.ndarray]  # prediction record -> per-label correctness
    policy: FieldPolicy

    def correct(self, records: Sequence[dict]) -> list[np.ndarray]:
        return [self.judge(r) for r in records]


def attack_support(predictor: Any, examples: Sequence[dict], params: AttackParams) -> Support:
    """The hooks of ``predictor``'s task type for attacking ``examples`` (the unit's clean examples) under
    ``params``."""
    task_type = tasktypes.get(predictor.spec.type)
    declared = task_type.attack
    if declared is None:
        raise XRobustError(f"task type {task_type.name!r} declares no attack support", field="suite")
    available: dict[str, Any] = {"unit": list(examples), "qa_success": params.qa_success}
    unknown = [name for name in declared.score_options if name not in available]
    if unknown:
        raise XRobustError(f"task type {task_type.name!r} asks for unknown score options {unknown}", field="suite")
    options = {name: available[name] for name in declared.score_options}
    score = functools.partial(predictor.score_gold, **options) if options else predictor.score_gold
    judge = functools.partial(tasktypes.resolve(declared.judge), params=params)
    return Support(score, judge, task_type.field_policy)


def protected_fields(policy: FieldPolicy, fields: Sequence[str]) -> list[str]:
    """The answers fields whose offsets edits of ``fields`` move (QA: ``answers``), in field order."""
    return list(dict.fromkeys(a for name in fields if (a := policy.answers_for(name)) is not None))
