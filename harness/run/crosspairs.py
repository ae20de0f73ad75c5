"""Generalised cross-lingual transfer (arXiv 2104.08645) as a condition: for a pair task with parallel test
sets, ``text_a`` stays in the evaluated language and ``text_b`` comes from another language, aligned by id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from harness import tasktypes
from harness.run.conditions import Predicted, UnitData
from harness.spec.taskspec import TaskSpec
from harness.store.conditions import ConditionId
from perturbations import crosslingual_pairs

SUITE = "xling"


@dataclass(frozen=True)
class CrossLingualPairs:
    """Condition "xling.b-<lang>": the second segment of each pair taken from ``second_lang``."""

    second_lang: str

    @property
    def id(self) -> ConditionId:
        return ConditionId(SUITE, f"b-{self.second_lang}")

    def claims(self, lang: str) -> bool:
        return lang != self.second_lang

    def applies_to(self, spec: TaskSpec) -> bool:
        return tasktypes.get(spec.type).text_pairs

    @property
    def params(self) -> dict[str, Any]:
        return {"name": self.id.name, "suite": SUITE, "second_lang": self.second_lang, "field": "text_b"}

    @property
    def signature(self) -> str:
        return hashlib.sha256(repr(sorted(self.params.items())).encode()).hexdigest()[:12]

    def predict(self, data: UnitData) -> Predicted:
        mixed = crosslingual_pairs(data.examples, data.load(self.second_lang))
        meta = {"condition_params": self.params, "condition_signature": self.signature,
                "change": pair_change(data.examples, mixed)}
        return Predicted(mixed, data.predictor.predict(mixed, desc=data.desc), meta)


def pair_change(clean: list[dict], mixed: list[dict]) -> dict[str, float]:
    """How much the condition changed, in the same terms as the perturbation suites' change statistics."""
    changed = [c["text_b"] != m["text_b"] for c, m in zip(clean, mixed, strict=True)]
    words = sum(len(c["text_a"].split()) + len(c["text_b"].split()) for c in clean) or 1
    words_changed = sum(len(c["text_b"].split()) for c, ch in zip(clean, changed, strict=True) if ch)
    return {"n_examples": len(clean), "frac_examples_changed": sum(changed) / max(1, len(clean)),
            "frac_words_changed": words_changed / words, "mean_char_edit_distance": float("nan")}
