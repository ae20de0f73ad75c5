"""Word segmentation, casing and small string helpers shared by every perturbation.

A *word* is a maximal run of letters and combining marks (digits, underscores, punctuation and
whitespace separate words). Marks are included so that Arabic harakat, Tamil vowel signs or NFD
accents never split a word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

TURKIC = frozenset({"tr", "az"})


def _mark_ranges() -> str:
    """Regex character-class body covering all combining marks of the Basic Multilingual Plane."""
    parts: list[str] = []
    start = prev = -2
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp))[0] != "M":
            continue
        if cp != prev + 1:
            if start >= 0:
                parts.append(f"\\u{start:04x}-\\u{prev:04x}")
            start = cp
        prev = cp
    parts.append(f"\\u{start:04x}-\\u{prev:04x}")
    return "".join(parts)


MARKS = _mark_ranges()
WORD_RE = re.compile(f"(?:[^\\W\\d_]|[{MARKS}])+")
WORD_SPLIT = re.compile(f"((?:[^\\W\\d_]|[{MARKS}])+)")  # re.split keeps words at odd positions
MARK_RE = re.compile(f"[{MARKS}]")


def char_class(chars: Iterable[str]) -> re.Pattern[str]:
    """A compiled ``[...]`` class matching any of ``chars`` (consecutive code points become ranges)."""
    points = sorted({ord(c) for c in chars})
    if not points:
        return re.compile(r"(?!x)x")  # matches nothing
    parts: list[str] = []
    start = prev = points[0]
    for cp in points[1:] + [-1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
        start = prev = cp
    return re.compile("[" + "".join(parts) + "]")


def is_word(text: str) -> bool:
    """True if ``text`` is exactly one word (see module docstring)."""
    return WORD_RE.fullmatch(text) is not None


def lower(text: str, lang: str) -> str:
    """Lower-case, with Turkish/Azerbaijani dotted and dotless i handled."""
    if lang in TURKIC:
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


def upper(text: str, lang: str) -> str:
    """Upper-case, with Turkish/Azerbaijani dotted and dotless i handled."""
    if lang in TURKIC:
        text = text.replace("i", "İ")
    return text.upper()


def match_case(template: str, word: str, lang: str) -> str:
    """Give ``word`` the capitalisation pattern of ``template`` (ALL CAPS, Title, or leave as is)."""
    if len(template) > 1 and template.isupper():
        return upper(word, lang)
    if template[:1].isupper():
        return upper(word[:1], lang) + word[1:]
    return word


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (common prefix and suffix are stripped first, so local edits are cheap)."""
    if a == b:
        return 0
    i = 0
    n = min(len(a), len(b))
    while i < n and a[i] == b[i]:
        i += 1
    a, b = a[i:], b[i:]
    j = 0
    n = min(len(a), len(b))
    while j < n and a[-1 - j] == b[-1 - j]:
        j += 1
    if j:
        a, b = a[:-j], b[:-j]
    if not a or not b:
        return max(len(a), len(b))
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for x, ca in enumerate(a, 1):
        prev_diag, row[0] = row[0], x
        for y, cb in enumerate(b, 1):
            cur = min(row[y] + 1, row[y - 1] + 1, prev_diag + (ca != cb))
            prev_diag, row[y] = row[y], cur
    return row[-1]
