"""Candidate edits for model-guided attacks: every replacement a perturbation family could make of each word.

Where a random condition draws one edit per selected word, an attack (``harness.attack.search``) needs the whole
menu: other inflections of the word's lemma (Morpheus, arXiv 2005.04364), its dictionary translations
(code-mixing attacks, arXiv 2103.09593), its keyboard typos … Each family enumerates them with its
``candidates`` method, from the same tables and under the same eligibility rules as its random edits:

* lexical families (``standalone_only``) skip words glued to digits, hyphens or apostrophes;
* token fields keep one token per token: replacements are non-empty and contain no whitespace, and at most
  one word of a token (or of a whitespace-separated word of a text) is ever edited.

Because a search seeks out the worst candidates, two filters drop edits that change the word rather than its
form: typo candidates that are words of the language themselves (simplemma's dictionary; de ``mit`` ->
``mir``), unless ``real_word_typos``, and inflection candidates sharing fewer than ``inflection_prefix``
initial letters with the word (simplemma's homograph and suppletion noise: ru ``на`` -> ``бальзам``).

A word gets at most ``max_candidates`` replacements per family: all of them when it has that few, else a
sample drawn with a generator seeded by (seed, step, example id, word position), so an example always gets the
same candidates. Steps that do not claim the language are skipped.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perturbations.base import Perturbation, WordPerturbation, _attached
from perturbations.inflection import InflectionSwap
from perturbations.lemmas import lemma_index, simplemma_languages
from perturbations.seeding import example_rng
from perturbations.text import WORD_SPLIT, lower

NONSPACE = re.compile(r"\S+")
Piece = tuple[str, int]  # (field name, element index in a list field, or -1 for a text field)


@dataclass(frozen=True)
class Slot:
    """One editable word: where it is, which word-group it belongs to, and its candidate replacements."""

    piece: Piece
    part: int  # odd index into WORD_SPLIT.split(text)
    group: int  # whitespace word / token id within the example: at most one edit per group
    word: str
    options: tuple[tuple[str, str], ...]  # (family, replacement), in a fixed order


@dataclass
class WordSlots:
    """An example's perturbable fields split into words, the editable words, and rendering with edits."""

    example: dict
    pieces: dict[Piece, list[str]]
    slots: list[Slot]
    n_words: int  # whitespace words (texts) / tokens (token fields): what budgets and change stats count

    def render(self, edits: Mapping[int, str]) -> dict:
        """A copy of the example with ``edits`` (slot index -> replacement) applied."""
        if not edits:
            return dict(self.example)
        changed: dict[Piece, list[str]] = {}
        for index, new in edits.items():
            slot = self.slots[index]
            parts = changed.get(slot.piece)
            if parts is None:
                parts = changed[slot.piece] = list(self.pieces[slot.piece])
            parts[slot.part] = new
        out = dict(self.example)
        for (name, element), parts in changed.items():
            if element < 0:
                out[name] = "".join(parts)
            else:
                if out[name] is self.example[name]:
                    out[name] = list(self.example[name])
                out[name][element] = "".join(parts)
        return out


class CandidateGenerator:
    """Slots and candidate replacements of examples in one language, from a condition's steps."""

    def __init__(self, steps: Sequence[Perturbation], lang: str, *, max_candidates: int, seed: int,
                 real_word_typos: bool = True, inflection_prefix: int = 0) -> None:
        self.lang = lang
        self.max_candidates = max_candidates
        self.seed = seed
        self.real_word_typos = real_word_typos
        self.inflection_prefix = inflection_prefix
        self.steps: list[tuple[int, WordPerturbation, Any]] = []
        for i, step in enumerate(steps):
            if not step.claims(lang):
                continue
            if not isinstance(step, WordPerturbation):
                raise TypeError(f"{step.name} is not a word-level perturbation")  # the suite loader checks this
            step.prepare(lang)
            self.steps.append((i, step, step.options_for(lang)))
        self._memo: dict[tuple[int, str], tuple[str, ...]] = {}

    def _all(self, i: int, step: WordPerturbation, options: Any, word: str) -> tuple[str, ...]:
        key = (i, word)
        hit = self._memo.get(key)
        if hit is None:
            opts = options(word)
            found = step.candidates(word, opts, self.lang) if opts else ()
            keep = self._keep(step, word)
            hit = self._memo[key] = tuple(dict.fromkeys(
                c for c in found if c and c != word and not any(ch.isspace() for ch in c) and keep(c)))
        return hit

    def _keep(self, step: WordPerturbation, word: str) -> Any:
        """The filter for one word's candidates from ``step`` (see the module docstring)."""
        lang = self.lang
        if not step.standalone_only and not self.real_word_typos and lang in simplemma_languages():
            forms, lemmas = lemma_index(lang).form_to_lemma, lemma_index(lang).lemma_to_forms

            def unknown(c: str) -> bool:
                return all(k not in forms and k not in lemmas for k in {c.encode(), lower(c, lang).encode()})

            return unknown
        if isinstance(step, InflectionSwap) and self.inflection_prefix:
            n = self.inflection_prefix
            stem = lower(word, lang)[:n]
            return lambda c: lower(c, lang)[:n] == stem
        return lambda c: True

    def word_options(self, word: str, attached: bool, ex_id: str, where: str) -> tuple[tuple[str, str], ...]:
        """(family, replacement) candidates for one word occurrence, deduplicated across families."""
        out: dict[str, str] = {}
        for i, step, options in self.steps:
            if attached and step.standalone_only:
                continue
            found = self._all(i, step, options, word)
            if len(found) > self.max_candidates:
                rng = example_rng(self.seed, i, step.name, ex_id, where)
                found = tuple(rng.sample(found, self.max_candidates))
            for candidate in found:
                out.setdefault(candidate, step.name)
        return tuple((family, candidate) for candidate, family in out.items())

    def slots(self, example: dict, fields: Sequence[str], token_task: bool) -> WordSlots:
        """Split ``example``'s ``fields`` (texts, or token lists when ``token_task``) into editable words."""
        ex_id = str(example["id"])
        pieces: dict[Piece, list[str]] = {}
        slots: list[Slot] = []
        n_words = group_base = 0
        for name in fields:
            value = example[name]
            if isinstance(value, str):
                elements: list[tuple[int, str]] = [(-1, value)]
            else:
                elements = list(enumerate(str(v) for v in value))
            for element, text in elements:
                parts = WORD_SPLIT.split(text)
                pieces[(name, element)] = parts
                starts = [m.start() for m in NONSPACE.finditer(text)]
                if token_task and element >= 0:
                    starts = [0]  # a token is one group, whatever its spaces
                offset = 0
                for k, part in enumerate(parts):
                    if k % 2:
                        group = group_base + max(bisect.bisect_right(starts, offset) - 1, 0)
                        attached = _attached(parts[k - 1], parts[k + 1])
                        options = self.word_options(part, attached, ex_id, f"{name}[{element}]#{k}")
                        if options:
                            slots.append(Slot((name, element), k, group, part, options))
                    offset += len(part)
                words = 1 if token_task and element >= 0 else len(starts)
                n_words += words
                group_base += max(len(starts), 1)
        return WordSlots(example, pieces, slots, n_words)


def edit_budget(fraction: float, n_words: int) -> int:
    """Most words an attack may edit: ``fraction`` of the words, rounded down, but at least one."""
    return max(1, int(fraction * n_words + 1e-9))
