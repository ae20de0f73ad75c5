"""Diacritic stripping: text as typed on a keyboard without the national letters.

Policy (per script):

* Latin: NFD-decompose and drop combining marks (ä→a, ş→s, ő→o, ñ→n, ệ→e), plus letters that do
  not decompose: ``ı→i`` and ``İ→I`` (Turkish dotless/dotted i typed on a non-Turkish keyboard),
  ``ø→o``, ``ł→l``, ``đ→d``, ``ħ→h``, ``ŧ→t``. German ``ß`` is kept (a letter, not a diacritic);
  umlauts become the bare vowel, not the ``ae`` digraph.
* Cyrillic (ru): only ``ё→е`` (common in print); ``й`` is a letter of its own and is kept.
* Arabic: harakat, tanwin, shadda, sukun and dagger alef are removed, and hamza/madda alefs
  (``أ إ آ ٱ``) become bare ``ا``. ``ؤ`` and ``ئ`` keep their hamza.
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
                   "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T"}
LATIN_BLOCKS = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))
ARABIC = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا"} | {chr(c): "" for c in range(0x064B, 0x0653)} | {"\u0670": ""}
CYRILLIC = {"ё": "е", "Ё": "Е"}

SCRIPT_OF = {lang: "latin" for lang in ("de", "es", "et", "fi", "fr", "hu", "it", "pl", "tr", "vi")}
SCRIPT_OF |= {"ru": "cyrillic", "ar": "arabic"}


@cache
def strip_table(lang: str) -> dict[str, str]:
    """Character -> replacement (possibly empty) for ``lang``'s script."""
    script = SCRIPT_OF[lang]
    if script == "arabic":
        return dict(ARABIC)
    if script == "cyrillic":
        return dict(CYRILLIC)
    table = dict(NON_DECOMPOSING)
    for lo, hi in LATIN_BLOCKS:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            if base != ch and base.isascii() and base.isalpha():
                table[ch] = base
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
