"""Conditions: what a unit's examples go through before the model predicts them.

A :class:`Condition` says which languages and tasks it covers, what pins its output (``signature``, part of
every unit fingerprint and of the run signature), and turns a unit's clean examples into prediction records
plus the unit meta entries it adds (its parameters, change and attack statistics). Implementations: clean and
the random suite conditions (here), cross-language pairs (:mod:`.crosspairs`), attacks and attack transfer
(:mod:`.adversarial`). Its :class:`~harness.store.conditions.ConditionId` names the unit on disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from harness.errors import XRobustError
from harness.models.predictors import Predictor
from harness.spec.taskspec import TaskSpec
from harness.store.conditions import CLEAN, ConditionId
from harness.store.rundir import Unit
from perturbations import Condition as SuiteCondition
from perturbations import perturb_examples


@dataclass(frozen=True)
class UnitData:
    """What a condition gets to predict one unit."""

    spec: TaskSpec
    unit: Unit
    examples: list[dict]  # the unit's clean examples
    predictor: Predictor
    load: Callable[[str], list[dict]]  # the same task, split and limit in another language

    @property
    def fields(self) -> list[str]:
        """The fields a condition may change."""
        return list(self.spec.perturb_fields)

    @property
    def desc(self) -> str:
        return str(self.unit)


@dataclass(frozen=True)
class Predicted:
    """A predicted unit: the inputs the model saw, one record per example, and the unit meta entries."""

    inputs: list[dict]
    records: list[dict]
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Condition(Protocol):
    """One condition of a run, as the runner plans, fingerprints and predicts it."""

    @property
    def id(self) -> ConditionId: ...

    @property
    def signature(self) -> str:
        """Short stable string of everything the condition's inputs depend on."""
        ...

    @property
    def params(self) -> dict[str, Any]:
        """Its parameters, as stored in the unit meta (``condition_params``)."""
        ...

    def claims(self, lang: str) -> bool:
        """True if the condition changes (or covers) this language."""
        ...

    def applies_to(self, spec: TaskSpec) -> bool:
        """True if the condition can run on this task."""
        ...

    def predict(self, data: UnitData) -> Predicted:
        """The unit's prediction records under this condition."""
        ...


@dataclass(frozen=True)
class Clean:
    """The examples as they are."""

    @property
    def id(self) -> ConditionId:
        return CLEAN

    @property
    def signature(self) -> str:
        return "clean"

    @property
    def params(self) -> dict[str, Any]:
        return {}

    def claims(self, lang: str) -> bool:
        return True

    def applies_to(self, spec: TaskSpec) -> bool:
        return True

    def predict(self, data: UnitData) -> Predicted:
        return Predicted(data.examples, data.predictor.predict(data.examples, desc=data.desc))


def run_condition_seed(condition_seed: int, run_seed: int) -> int:
    """The seed a suite condition uses in a run with ``--seed run_seed``: its own for seed 0 (runs stored before
    the run seed fed perturbations keep their units), else one derived from both (32 bits, like a suite's
    derived condition seeds)."""
    if run_seed == 0:
        return condition_seed
    digest = hashlib.blake2b(f"{condition_seed}/run-seed/{run_seed}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def seeded(condition: SuiteCondition, run_seed: int) -> SuiteCondition:
    """``condition`` with the seed it uses under ``--seed run_seed`` (its signature changes with the seed)."""
    if isinstance(run_seed, bool) or not isinstance(run_seed, int):
        raise XRobustError(f"must be an integer, got {run_seed!r}", field="--seed")
    seed = run_condition_seed(condition.seed, run_seed)
    return condition if seed == condition.seed else replace(condition, seed=seed)


@dataclass(frozen=True)
class SuiteBacked:
    """Base of the conditions a suite condition defines: its signature, parameters and languages are that
    condition's under the run seed (:func:`seeded`; the signature is the same for every variant: the variant
    is in the unit fingerprint)."""

    condition: SuiteCondition
    run_seed: int = field(default=0, kw_only=True)  # the run's --seed

    @property
    def seeded(self) -> SuiteCondition:
        """The suite condition as this run applies it (its seed derived from the run seed)."""
        return seeded(self.condition, self.run_seed)

    @property
    def signature(self) -> str:
        return self.seeded.signature()

    @property
    def params(self) -> dict[str, Any]:
        return self.seeded.to_dict() | ({"run_seed": self.run_seed} if self.run_seed else {})

    def claims(self, lang: str) -> bool:
        return self.condition.claims(lang)


@dataclass(frozen=True)
class Perturbed(SuiteBacked):
    """A random suite condition, one seeded variant of it (``~v<k>`` for k >= 1)."""

    variant: int = 0

    @property
    def id(self) -> ConditionId:
        return ConditionId(self.condition.suite, self.condition.name, variant=self.variant)

    def applies_to(self, spec: TaskSpec) -> bool:
        return self.condition.applies_to(spec.type)

    def predict(self, data: UnitData) -> Predicted:
        examples, change = perturb_examples(data.examples, task_type=data.spec.type, fields=data.fields,
                                            lang=data.unit.lang, condition=self.seeded, variant=self.variant)
        meta = {"condition_params": self.params, "variant": self.variant, "condition_signature": self.signature,
                "change": change.to_dict()}
        return Predicted(examples, data.predictor.predict(examples, desc=data.desc), meta)
