"""The built-in task types: every reference resolves to what its layer expects, and what a type declares agrees
with the metric registry, the perturbation library's own policy table and the task files of its type."""

from __future__ import annotations

import inspect

import pytest

from harness import tasktypes
from harness.metrics import METRICS
from harness.models.predictors import Predictor
from harness.spec.taskspec import builtin_task_files, load_task
from perturbations.policies import (
    ALIGNED_TOKENS,
    BUILTIN_TASK_TYPES,
    POLICIES,
    TEXT,
    FieldPolicy,
    register_policy,
)
from perturbations.suite import ATTACK_TASK_TYPES

BUILTIN = ("pair_classification", "retrieval", "token_classification", "qa", "multiple_choice",
           "candidate_retrieval")


def test_builtin_types_in_order_and_their_policies_match_the_library() -> None:
    assert tasktypes.names()[:len(BUILTIN)] == BUILTIN == BUILTIN_TASK_TYPES
    for task_type in tasktypes.all_types():
        assert POLICIES[task_type.name] == task_type.field_policy
    assert tasktypes.get("token_classification").field_policy == ALIGNED_TOKENS
    assert tasktypes.get("qa").field_policy.answers_for("context") == "answers"
    attackable = tuple(t.name for t in tasktypes.all_types() if t.attackable)
    assert attackable == ATTACK_TASK_TYPES  # what the library's own Condition.applies_to assumes
    assert [t.name for t in tasktypes.all_types() if t.text_pairs] == ["pair_classification"]


@pytest.mark.parametrize("name", BUILTIN)
def test_references_resolve(name: str) -> None:
    import transformers

    task_type = tasktypes.get(name)
    assert inspect.isclass(tasktypes.resolve(task_type.predictor))
    assert issubclass(tasktypes.resolve(task_type.predictor), Predictor)
    assert hasattr(transformers, task_type.head)
    if task_type.training is not None:
        assert callable(tasktypes.resolve(task_type.training.features))
    if task_type.examples is not None:
        assert callable(tasktypes.resolve(task_type.examples))
    assert set(task_type.metrics) == {m for m, metric in METRICS.items() if name in metric.task_types}


def test_task_files_use_their_types_vocabulary() -> None:
    for path in builtin_task_files().values():
        spec = load_task(path)
        task_type = tasktypes.get(spec.type)
        assert set(spec.perturb_fields) <= set(task_type.fields)
        assert set(spec.metrics) <= set(task_type.metrics)
        assert (task_type.submission is not None) == (spec.type != "candidate_retrieval")


def test_registry_rejects_duplicates_and_conflicting_policies() -> None:
    class Twin(tasktypes.TaskType):
        name = "qa"

    with pytest.raises(ValueError, match="registered twice"):
        tasktypes.register(Twin())

    class Clash(tasktypes.TaskType):
        name = "pair_classification_clash"
        field_policy = FieldPolicy(tokens=True)

    tasktypes.register(Clash())
    try:
        assert POLICIES["pair_classification_clash"].tokens
        with pytest.raises(ValueError, match="another field policy"):
            register_policy("pair_classification_clash", TEXT)
    finally:
        tasktypes.unregister("pair_classification_clash")
    assert "pair_classification_clash" not in POLICIES and "pair_classification_clash" not in tasktypes.names()
