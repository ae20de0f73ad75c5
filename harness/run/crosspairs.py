"""Generalised cross-lingual transfer (arXiv 2104.08645) as a condition: for a pair task with parallel test
sets, ``text_a`` stays in the evaluated language and ``text_b`` comes from another language, aligned by id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CrossLingualPairs:
    """Condition "xling.b-<lang>": the second segment of each pair taken from ``second_lang``."""

    second_lang: str
    suite: str = "xling"
    variants: int = 1

    @property
    def name(self) -> str:
        return f"b-{self.second_lang}"

    def claims(self, lang: str) -> bool:
        return lang != self.second_lang

    def applies_to(self, task_type: str) -> bool:
        return task_type == "pair_classification"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "suite": self.suite, "second_lang": self.second_lang, "field": "text_b"}

    def signature(self) -> str:
        return hashlib.sha256(repr(sorted(self.to_dict().items())).encode()).hexdigest()[:12]


def pair_change(clean: list[dict], mixed: list[dict]) -> dict[str, float]:
    """How much the condition changed, in the same terms as the perturbation suites' change statistics."""
    changed = [c["text_b"] != m["text_b"] for c, m in zip(clean, mixed, strict=True)]
    words = sum(len(c["text_a"].split()) + len(c["text_b"].split()) for c in clean) or 1
    words_changed = sum(len(c["text_b"].split()) for c, ch in zip(clean, changed, strict=True) if ch)
    return {"n_examples": len(clean), "frac_examples_changed": sum(changed) / max(1, len(clean)),
            "frac_words_changed": words_changed / words, "mean_char_edit_distance": float("nan")}
