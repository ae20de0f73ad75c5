"""Typo perturbations: keyboard-neighbour substitution, insertion, deletion and transposition.

``unit: word`` edits one character of each selected word (eligible words: those the edit can act
on); ``unit: char`` edits each eligible character with probability ``rate``. No edit ever empties a
word or introduces whitespace, so token tasks keep one token per token. Combining marks stay
attached to their base character (deletion and transposition act on base+marks clusters).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from functools import cache

from perturbations.base import WordPerturbation, register
from perturbations.keyboards import KOREAN, keyboard_languages, layout_source, neighbours, nlpaug_version
from perturbations.text import char_class, clusters


@cache
def _keys_re(lang: str) -> re.Pattern[str]:
    return char_class(neighbours(lang))


class _Typo(WordPerturbation):
    units = ("word", "char")

    def supported_languages(self) -> frozenset[str]:
        return keyboard_languages() - {KOREAN}

    def prepare(self, lang: str) -> None:
        _keys_re(lang)

    def fingerprint(self) -> dict[str, str]:
        sources = sorted({layout_source(lang) for lang in self.languages})
        out = {"layouts": ",".join(sources)}
        if any(s.startswith("nlpaug:") for s in sources):
            out["nlpaug"] = nlpaug_version()
        return out


@register
class KeyboardTypo(_Typo):
    """Replace a character with a neighbouring key of the language's national layout (ko: a jamo)."""

    name = "keyboard"

    def supported_languages(self) -> frozenset[str]:
        return keyboard_languages()

    def options_for(self, lang: str) -> Callable[[str], object]:
        return _keys_re(lang).search

    def edit(self, word: str, options: object, rng: random.Random, lang: str) -> str:
        table = neighbours(lang)
        where = [i for i, ch in enumerate(word) if ch in table]
        i = rng.choice(where)
        return word[:i] + rng.choice(table[word[i]]) + word[i + 1:]

    def candidates(self, word: str, options: object, lang: str) -> Iterator[str]:
        table = neighbours(lang)
        for i, ch in enumerate(word):
            for near in table.get(ch, ""):
                yield word[:i] + near + word[i + 1:]

    def edit_chars(self, word: str, rng: random.Random, lang: str, rate: float) -> tuple[str, int, int]:
        table = neighbours(lang)
        chars = list(word)
        n_ok = n_edit = 0
        for i, ch in enumerate(chars):
            near = table.get(ch)
            if near:
                n_ok += 1
                if rng.random() < rate:
                    chars[i] = rng.choice(near)
                    n_edit += 1
        return ("".join(chars) if n_edit else word), n_ok, n_edit


@register
class CharInsert(_Typo):
    """Insert a neighbouring key next to a character (hitting two keys at once)."""

    name = "char_insert"

    def options_for(self, lang: str) -> Callable[[str], object]:
        return _keys_re(lang).search

    @staticmethod
    def _insert(ch: str, near: str, rng: random.Random) -> str:
        extra = rng.choice(near)
        return ch + extra if rng.random() < 0.5 else extra + ch

    def edit(self, word: str, options: object, rng: random.Random, lang: str) -> str:
        table = neighbours(lang)
        where = [i for i, ch in enumerate(word) if ch in table]
        i = rng.choice(where)
        return word[:i] + self._insert(word[i], table[word[i]], rng) + word[i + 1:]

    def candidates(self, word: str, options: object, lang: str) -> Iterator[str]:
        table = neighbours(lang)
        for i, ch in enumerate(word):
            for near in table.get(ch, ""):
                yield word[:i] + ch + near + word[i + 1:]
                yield word[:i] + near + ch + word[i + 1:]

    def edit_chars(self, word: str, rng: random.Random, lang: str, rate: float) -> tuple[str, int, int]:
        table = neighbours(lang)
        out = []
        n_ok = n_edit = 0
        for ch in word:
            near = table.get(ch)
            if near:
                n_ok += 1
                if rng.random() < rate:
                    out.append(self._insert(ch, near, rng))
                    n_edit += 1
                    continue
            out.append(ch)
        return ("".join(out) if n_edit else word), n_ok, n_edit


@register
class CharDelete(_Typo):
    """Drop a character (with its combining marks); words of one character are left alone."""

    name = "char_delete"

    def options(self, word: str, lang: str) -> bool:
        return len(word) > 1

    def edit(self, word: str, options: object, rng: random.Random, lang: str) -> str:
        parts = clusters(word)
        if len(parts) < 2:
            return word
        del parts[rng.randrange(len(parts))]
        return "".join(parts)

    def candidates(self, word: str, options: object, lang: str) -> Iterator[str]:
        parts = clusters(word)
        if len(parts) > 1:
            for i in range(len(parts)):
                yield "".join(parts[:i] + parts[i + 1:])

    def edit_chars(self, word: str, rng: random.Random, lang: str, rate: float) -> tuple[str, int, int]:
        parts = clusters(word)
        if len(parts) < 2:
            return word, 0, 0
        keep = [p for p in parts if rng.random() >= rate]
        if not keep:  # never delete a whole word: restore its first cluster
            keep = parts[:1]
        n_edit = len(parts) - len(keep)
        return ("".join(keep) if n_edit else word), len(parts), n_edit


@register
class CharSwap(_Typo):
    """Transpose two adjacent, different characters (clusters)."""

    name = "char_swap"

    def options(self, word: str, lang: str) -> bool:
        return len(word) > 1 and word.count(word[0]) != len(word)

    def edit(self, word: str, options: object, rng: random.Random, lang: str) -> str:
        parts = clusters(word)
        where = [i for i in range(len(parts) - 1) if parts[i] != parts[i + 1]]
        if not where:
            return word
        i = rng.choice(where)
        parts[i], parts[i + 1] = parts[i + 1], parts[i]
        return "".join(parts)

    def candidates(self, word: str, options: object, lang: str) -> Iterator[str]:
        parts = clusters(word)
        for i in range(len(parts) - 1):
            if parts[i] != parts[i + 1]:
                yield "".join(parts[:i] + [parts[i + 1], parts[i]] + parts[i + 2:])

    def edit_chars(self, word: str, rng: random.Random, lang: str, rate: float) -> tuple[str, int, int]:
        parts = clusters(word)
        n_ok = n_edit = 0
        i = 0
        while i < len(parts) - 1:
            if parts[i] != parts[i + 1]:
                n_ok += 1
                if rng.random() < rate:
                    parts[i], parts[i + 1] = parts[i + 1], parts[i]
                    n_edit += 1
                    i += 2
                    continue
            i += 1
        return ("".join(parts) if n_edit else word), n_ok, n_edit
