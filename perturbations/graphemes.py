"""Well-formed grapheme clusters: which character may follow which, so a typo never leaves a dangling
combining mark, virama or vowel sign.

Characters get a class from their Unicode block, general category and name:

* Brahmic scripts of India (U+0900-U+0DFF): consonant ``C``, independent vowel ``V``, dependent vowel sign
  ``M``, virama ``H``, nukta ``N``, other signs ``B`` (anusvara, candrabindu, visarga, tippi, addak).
  A vowel sign or virama follows a consonant (or consonant + nukta); a nukta follows a consonant; a ``B``
  sign follows a consonant, vowel, vowel sign or nukta (Unicode Standard ch. 12, "Devanagari" rules for
  dependent vowels and dotted-circle display of stray marks). Two vowel signs may meet only as the
  canonical halves of a two-part vowel (Tamil ெ+ா = ொ, Bengali ে+া = ো), and a virama follows an
  independent vowel only in Bengali (অ্যা, the ya-phala of loanwords).
* Thai (U+0E00-U+0E7F): consonant ``C``, above/below vowel or nikhahit ``M`` (follows a consonant), tone mark or
  thanthakhat ``T`` (follows a consonant or an above/below vowel, never another tone mark), following
  vowel ``F`` (ะ า ำ ๅ; not word-initial), leading vowel ``P`` (เ แ โ ใ ไ; must be followed by a
  consonant), per the TIS 620 / WTT 2.0 input sequence check.
* Myanmar (U+1000-U+109F): marks ``Y`` follow a consonant or another, different, mark; the stacking
  virama ``K`` (U+1039) must be followed by a consonant.
* Everything else: combining marks ``G`` follow a letter or a different mark (Latin NFD accents, Arabic
  harakat, Hebrew niqqud); other characters ``X`` and letters ``C`` are free.

No mark of any class may start a word, and no ``P`` or ``K`` may end one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from perturbations.text import MARKS

INDIC = (0x0900, 0x0DFF)
THAI = (0x0E00, 0x0E7F)
MYANMAR = (0x1000, 0x109F)
BENGALI = (0x0980, 0x09FF)
INDIC_VOWELS = frozenset({"A", "AA", "I", "II", "U", "UU", "VOCALIC R", "VOCALIC RR", "VOCALIC L", "VOCALIC LL",
                          "CANDRA E", "SHORT E", "E", "EE", "AI", "CANDRA O", "SHORT O", "O", "OO", "AU",
                          "CANDRA A", "OE", "OOE", "AW", "UE", "UUE"})
MARK_CLASSES = frozenset("MHNBTFYKG")
AFTER: dict[str, frozenset[str]] = {  # class -> classes it may follow
    "M": frozenset("CN"), "H": frozenset("CN"), "N": frozenset("C"), "B": frozenset("CVMN"),
    "T": frozenset("CM"), "F": frozenset("CMTF"), "Y": frozenset("CY"), "K": frozenset("CY"),
    "G": frozenset("CVG"),
}
CONSTRAINED = re.compile(f"[{MARKS}\u0e30-\u0e4e]")  # characters whose neighbours matter


@cache
def char_class(ch: str) -> str:
    """The class of one character (see module docstring)."""
    cp = ord(ch)
    cat = unicodedata.category(ch)
    if THAI[0] <= cp <= THAI[1]:
        if 0x0E01 <= cp <= 0x0E2E:
            return "C"
        if 0x0E40 <= cp <= 0x0E44:
            return "P"
        if cp in (0x0E30, 0x0E32, 0x0E33, 0x0E45):
            return "F"
        if cp == 0x0E31 or 0x0E34 <= cp <= 0x0E3A or cp in (0x0E47, 0x0E4D):
            return "M"
        if 0x0E48 <= cp <= 0x0E4E:
            return "T"
        return "C" if cat[0] == "L" else "X"
    if MYANMAR[0] <= cp <= MYANMAR[1]:
        if cp == 0x1039:
            return "K"
        if cat[0] == "M":
            return "Y"
        return "C" if cat[0] == "L" else "X"
    if INDIC[0] <= cp <= INDIC[1]:
        name = unicodedata.name(ch, "")
        if cat[0] == "L":
            _, _, rest = name.partition(" LETTER ")
            return "V" if rest in INDIC_VOWELS else "C"
        if cat[0] == "M":
            if "VIRAMA" in name:
                return "H"
            if "NUKTA" in name:
                return "N"
            if "VOWEL SIGN" in name:
                return "M"
            return "B"
        return "X"
    if cat[0] == "M":
        return "G"
    return "C" if cat[0] == "L" else "X"


def ok_pair(a: str, b: str) -> bool:
    """True if character ``b`` may directly follow ``a`` inside a word."""
    ca, cb = char_class(a), char_class(b)
    if ca == "P" and cb != "C":
        return False
    if ca == "K" and cb != "C":
        return False
    allowed = AFTER.get(cb)
    if allowed is None:
        return True
    if ca not in allowed:
        return (ca == cb == "M" and len(unicodedata.normalize("NFC", a + b)) == 1) or (
            ca == "V" and cb == "H" and BENGALI[0] <= ord(a) <= BENGALI[1])
    return not (cb in "TYG" and a == b)


def ok_start(ch: str) -> bool:
    return char_class(ch) not in MARK_CLASSES


def ok_end(ch: str) -> bool:
    return char_class(ch) not in "PK"


def well_formed(word: str) -> bool:
    """True if every character of ``word`` may follow its predecessor, and the word starts and ends well."""
    if not word:
        return False
    if CONSTRAINED.search(word) is None:
        return True
    if not (ok_start(word[0]) and ok_end(word[-1])):
        return False
    return all(ok_pair(word[i - 1], word[i]) for i in range(1, len(word)))


def ok_between(prev: str | None, seq: list[str], nxt: str | None) -> bool:
    """True if ``seq`` may stand between ``prev`` and ``nxt`` (None: the word's start / end); an empty
    ``seq`` checks that ``prev`` and ``nxt`` may meet (a deletion)."""
    chars = ([prev] if prev is not None else []) + seq + ([nxt] if nxt is not None else [])
    if not chars:
        return False
    if not any(CONSTRAINED.match(c) for c in chars):
        return True
    if prev is None and not ok_start(chars[0]):
        return False
    if nxt is None and not ok_end(chars[-1]):
        return False
    return all(ok_pair(chars[k - 1], chars[k]) for k in range(1, len(chars)))


def ok_window(chars: list[str], lo: int, hi: int) -> bool:
    """Local check after an edit of ``chars[lo:hi]`` (the changed slice; may be empty for a deletion):
    the pairs crossing the slice's edges and inside it, and the word's ends if the slice touches them."""
    n = len(chars)
    if n == 0:
        return False
    if lo <= 0 and not ok_start(chars[0]):
        return False
    if hi >= n and not ok_end(chars[-1]):
        return False
    for k in range(max(lo, 1), min(hi + 1, n)):
        if not ok_pair(chars[k - 1], chars[k]):
            return False
    return True
