"""How much a condition changed a set of examples."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any

from perturbations.text import edit_distance


@dataclass
class ChangeStats:
    """Summary of the edits: over examples, over whitespace-separated words (or tokens) of the
    perturbed fields, and per step (``eligible`` units, ``edited`` units, ``realised_rate``)."""

    n_examples: int = 0
    frac_examples_changed: float = 0.0
    frac_words_changed: float = 0.0
    mean_char_edit_distance: float = 0.0
    n_words: int = 0
    n_words_changed: int = 0
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def text_change(clean: str, perturbed: str) -> tuple[int, int, int]:
    """(words in clean, words changed, character edit distance) between two versions of a text."""
    a = clean.split()
    if clean == perturbed:
        return len(a), 0, 0
    b = perturbed.split()
    if len(a) == len(b):
        changed = dist = 0
        for x, y in zip(a, b, strict=True):
            if x != y:
                changed += 1
                dist += edit_distance(x, y)
        return len(a), changed, dist
    changed = dist = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            changed += max(i2 - i1, j2 - j1)
            dist += edit_distance(" ".join(a[i1:i2]), " ".join(b[j1:j2]))
    return len(a), min(changed, len(a)), dist


def tokens_change(clean: list[str], perturbed: list[str]) -> tuple[int, int, int]:
    """Same as :func:`text_change` for aligned token lists."""
    changed = dist = 0
    for x, y in zip(clean, perturbed, strict=True):
        if x != y:
            changed += 1
            dist += edit_distance(x, y)
    return len(clean), changed, dist


class StatsAccumulator:
    """Collects per-example changes into a :class:`ChangeStats`."""

    def __init__(self) -> None:
        self.n = self.n_changed = self.words = self.words_changed = self.dist = 0

    def add_example(self, parts: list[tuple[int, int, int]], changed_any: bool) -> None:
        self.n += 1
        words = sum(p[0] for p in parts)
        changed = sum(p[1] for p in parts)
        dist = sum(p[2] for p in parts)
        self.words += words
        self.words_changed += changed
        self.dist += dist
        self.n_changed += changed_any

    def finish(self, steps: list[dict[str, Any]]) -> ChangeStats:
        n = max(self.n, 1)
        return ChangeStats(n_examples=self.n, frac_examples_changed=self.n_changed / n,
                           frac_words_changed=self.words_changed / max(self.words, 1),
                           mean_char_edit_distance=self.dist / n, n_words=self.words,
                           n_words_changed=self.words_changed, steps=steps)
