"""Diacritic stripping: text as typed on a keyboard without the national letters.

Policy (per script):

* Latin (every Latin-script language): NFD-decompose and drop combining marks (ä→a, ş→s, ő→o, ñ→n,
  ệ→e, ẹ́→e), plus letters that do not decompose: ``ı→i`` and ``İ→I`` (Turkish dotless/dotted i typed on
  a non-Turkish keyboard), ``ə→e`` (Azerbaijani), ``ŋ→n`` (Wolof), ``ø→o``, ``ł→l``, ``đ→d``, ``ħ→h``,
  ``ŧ→t``. German ``ß`` is kept (a letter, not a diacritic); umlauts become the bare vowel, not the
  ``ae`` digraph. Vietnamese and Yoruba lose tone marks and vowel-quality marks alike.
* Greek (el): tonos, dialytika and the polytonic marks are dropped (ά→α, ϊ→ι), as in text typed with
  the accent dead key skipped.
* Cyrillic: ru ``ё→е`` (common in print); ``й`` is a letter of its own and is kept. Kazakh (kk) typed on
  a Russian keyboard: ``ә→а ғ→г қ→к ң→н ө→о ұ→у ү→у һ→х і→и`` and ``ё→е``.
* Arabic script: harakat, tanwin, shadda, sukun and dagger alef are removed, and hamza/madda alefs
  (``أ إ آ ٱ``) become bare ``ا`` (ar, fa, ur); ``ؤ`` and ``ئ`` keep their hamza. Persian ``ۀ→ه``, Urdu
  ``ۂ→ہ`` and ``ۓ→ے`` (the hamza-above forms).
* Hebrew (he): niqqud and cantillation marks are removed (claimed only where text carries them).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from perturbations.base import WordPerturbation, register
from perturbations.params import BaseParams
from perturbations.text import char_class

NON_DECOMPOSING = {"ı": "i", "İ": "I", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                   "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ə": "e", "Ə": "E", "ŋ": "n", "Ŋ": "N"}
LATIN_BLOCKS = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))
GREEK_BLOCKS = ((0x0370, 0x03FF), (0x1F00, 0x1FFF))
HARAKAT = {chr(c): "" for c in range(0x064B, 0x0653)} | {"\u0670": ""}
ARABIC = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا"} | HARAKAT
PERSIAN = ARABIC | {"ۀ": "ه"}
URDU = ARABIC | {"ۂ": "ہ", "ۓ": "ے"}
HEBREW = {chr(c): "" for c in (*range(0x0591, 0x05BE), 0x05BF, 0x05C1, 0x05C2, 0x05C4, 0x05C5, 0x05C7)}
CYRILLIC = {"ё": "е", "Ё": "Е"}
KAZAKH = CYRILLIC | {a: b for pair in ("әа", "ғг", "қк", "ңн", "өо", "ұу", "үу", "һх", "іи")
                     for a, b in (pair, (pair[0].upper(), pair[1].upper()))}
FIXED = {"cyrillic": CYRILLIC, "kazakh": KAZAKH, "arabic": ARABIC, "persian": PERSIAN, "urdu": URDU,
         "hebrew": HEBREW}

LATIN_LANGS = ("af", "az", "de", "en", "es", "et", "eu", "fi", "fr", "ht", "hu", "id", "it", "jv", "lt", "ms", "nl",
               "pl", "pt", "qu", "ro", "sw", "tl", "tr", "vi", "wo", "yo")
SCRIPT_OF = {lang: "latin" for lang in LATIN_LANGS}
SCRIPT_OF |= {"el": "greek", "ru": "cyrillic", "kk": "kazakh", "ar": "arabic", "fa": "persian", "ur": "urdu",
              "he": "hebrew"}


def _decomposing(blocks: tuple[tuple[int, int], ...]) -> dict[str, str]:
    table = {}
    for lo, hi in blocks:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            if base and base != ch and base.isalpha() and len(base) == 1:
                table[ch] = base
    return table


@cache
def strip_table(lang: str) -> dict[str, str]:
    """Character -> replacement (possibly empty) for ``lang``'s script."""
    script = SCRIPT_OF[lang]
    if script in FIXED:
        return dict(FIXED[script])
    if script == "greek":
        return _decomposing(GREEK_BLOCKS) | {chr(cp): "" for cp in range(0x0300, 0x0370)}
    table = {ch: base for ch, base in _decomposing(LATIN_BLOCKS).items() if base.isascii()}
    table |= NON_DECOMPOSING
    table |= {chr(cp): "" for cp in range(0x0300, 0x0370)}  # loose combining marks (NFD input)
    return table


@cache
def _strip_re(lang: str) -> re.Pattern[str]:
    return char_class(strip_table(lang))


@cache
def _translation(lang: str) -> dict[int, str]:
    return str.maketrans(strip_table(lang))


@dataclass(frozen=True)
class StripParams(BaseParams):
    """``rate`` defaults to 1.0: every word with a diacritic loses all of them."""

    rate: float = 1.0


@register
class StripDiacritics(WordPerturbation):
    """Remove diacritics (see module docstring); per word strips all of a word's, per char each one."""

    name = "strip_diacritics"
    Params = StripParams
    units = ("word", "char")

    def supported_languages(self) -> frozenset[str]:
        return frozenset(SCRIPT_OF)

    def source(self, lang: str) -> str:
        """The stripping policy serving ``lang`` (its script's table)."""
        return f"strip:{SCRIPT_OF[lang]}"

    def prepare(self, lang: str) -> None:
        _strip_re(lang)

    def options_for(self, lang: str) -> Callable[[str], object]:
        return _strip_re(lang).search

    def edit(self, word: str, options: object, rng: random.Random, lang: str) -> str:
        new = word.translate(_translation(lang))
        return new or word

    def candidates(self, word: str, options: object, lang: str) -> Iterator[str]:
        yield word.translate(_translation(lang)) or word

    def edit_chars(self, word: str, rng: random.Random, lang: str, rate: float) -> tuple[str, int, int]:
        table = strip_table(lang)
        out = []
        n_ok = n_edit = 0
        for ch in word:
            rep = table.get(ch)
            if rep is not None:
                n_ok += 1
                if rng.random() < rate:
                    out.append(rep)
                    n_edit += 1
                    continue
            out.append(ch)
        new = "".join(out)
        return (new if n_edit and new else word), n_ok, (n_edit if new else 0)
