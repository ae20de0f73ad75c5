"""Adversarial conditions: a suite's attack searched with the model under test (:mod:`harness.attack.unit`),
or another submission's stored adversarial inputs replayed on it (:mod:`harness.attack.transfer`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import tasktypes
from harness.attack.transfer import TransferSource, safe_name, transfer_unit
from harness.attack.unit import attack_unit
from harness.run.conditions import Predicted, SuiteBacked, UnitData
from harness.spec.taskspec import TaskSpec
from harness.store.conditions import ConditionId


@dataclass(frozen=True)
class Attack(SuiteBacked):
    """A suite condition with an ``attack`` block: greedy search, or its same-budget random baseline."""

    @property
    def id(self) -> ConditionId:
        return ConditionId(self.condition.suite, self.condition.name)

    def applies_to(self, spec: TaskSpec) -> bool:
        return tasktypes.get(spec.type).attackable

    def predict(self, data: UnitData) -> Predicted:
        inputs, records, meta = attack_unit(data.predictor, data.examples, data.unit.lang, self.seeded,
                                            fields=data.fields, desc=data.desc)
        return Predicted(inputs, records, meta)


@dataclass(frozen=True)
class Transfer:
    """A stored greedy attack unit of another run: ``<suite>.<cond>@from-<its submission>``, for the task,
    language and split of that unit."""

    source: TransferSource

    @property
    def id(self) -> ConditionId:
        return self.source.unit.condition_id.transferred(safe_name(self.source.submission))

    @property
    def signature(self) -> str:
        return self.source.signature()

    @property
    def params(self) -> dict[str, Any]:
        return self.source.to_dict()

    def claims(self, lang: str) -> bool:
        return lang == self.source.unit.lang

    def applies_to(self, spec: TaskSpec) -> bool:
        return spec.name == self.source.unit.task

    def predict(self, data: UnitData) -> Predicted:
        inputs, records, meta = transfer_unit(data.predictor, data.examples, self.source, fields=data.fields,
                                              desc=data.desc)
        return Predicted(inputs, records, meta)
