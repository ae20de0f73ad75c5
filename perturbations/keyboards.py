"""Keyboard-neighbour tables: our own physical national layouts, nlpaug's tables, and Korean jamo.

Own layouts are written as rows of keys on a standard ISO staggered board (key width 1; the first
key of each row sits at x = 0, 1.5, 1.75, 1.25 for the number row and the three letter rows).
Two letter keys are neighbours if they are adjacent in a row, or in adjacent rows with horizontal
offset below one key. ``·`` marks a key that types no letter (digits, punctuation, the ISO ``<>``
key, the Arabic ``لا`` ligature key); such keys are never produced as typos. Letters typed with a
modifier on another key's position (Shift/AltGr: ``š`` on ``s`` for fi/et, Arabic hamza alefs on
``ا``) borrow that key's neighbours. Upper-case letters get the upper-cased neighbours (Shift held).

Languages nlpaug ships a table for, and we do not, use nlpaug's JSON (non-letters and the key
itself are dropped). A few languages are typed on another language's layout (``ALIASES``).
Korean (``ko``) substitutes one jamo of a Hangul syllable with a neighbouring key on the 2-set
(Dubeolsik) layout, consonant for consonant and vowel for vowel, so the syllable stays well-formed.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from functools import cache
from pathlib import Path

from perturbations.text import upper

ROW_X = (0.0, 1.5, 1.75, 1.25)

# rows: number row, top, home, bottom (unshifted), one character per physical key
OWN_LAYOUTS: dict[str, tuple[str, str, str, str]] = {
    "en": ("", "qwertyuiop··", "asdfghjkl··", "·zxcvbnm···"),  # US QWERTY
    "de": ("···········ß", "qwertzuiopü·", "asdfghjklöä·", "·yxcvbnm···"),  # German QWERTZ (T1)
    "fi": ("", "qwertyuiopå·", "asdfghjklöä·", "·zxcvbnm···"),  # Finnish/Swedish
    "et": ("", "qwertyuiopüõ", "asdfghjklöä·", "·zxcvbnm···"),  # Estonian
    "hu": ("··········öüó", "qwertzuiopőú", "asdfghjkléáű", "íyxcvbnm···"),  # Hungarian 102-key QWERTZ
    "tr": ("", "qwertyuıopğü", "asdfghjklşi·", "·zxcvbnmöç·"),  # Turkish Q
    "ru": ("ё", "йцукенгшщзхъ", "фывапролджэ", "·ячсмитьбю·"),  # Russian ЙЦУКЕН
    "ar": ("ذ", "ضصثقفغعهخحجد", "شسيبلاتنمكط", "·ئءؤر·ىةوزظ"),  # Arabic (101)
}
MODIFIER_LETTERS: dict[str, dict[str, str]] = {
    "fi": {"š": "s", "ž": "z"},
    "et": {"š": "s", "ž": "z"},
    "ar": {"أ": "ا", "إ": "ا", "آ": "ا"},
}
NLPAUG_LANGS = ("es", "fr", "he", "it", "nl", "pl", "uk")  # nlpaug also has th: no word spaces, not claimed
ALIASES = {"sw": "en", "id": "en", "eu": "es"}  # typed on the US / Spanish layout
KOREAN = "ko"

HANGUL_ROWS = ("", "ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "·ㅋㅌㅊㅍㅠㅜㅡ")
HANGUL_SHIFT = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ", "ㅒ": "ㅐ", "ㅖ": "ㅔ"}
L_JAMO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
V_JAMO = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
T_JAMO = ("", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ", "ㅁ", "ㅂ",
          "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")


def grid_neighbours(rows: tuple[str, ...]) -> dict[str, str]:
    """Letter -> neighbouring letters on a staggered board (see module docstring)."""
    keys = [(ch, r, ROW_X[r] + i) for r, row in enumerate(rows) for i, ch in enumerate(row)]
    out: dict[str, str] = {}
    for ch, r, x in keys:
        if ch == "·":
            continue
        near = [c for c, r2, x2 in keys
                if c != "·" and c != ch and ((r2 == r and abs(x2 - x) == 1) or (abs(r2 - r) == 1 and abs(x2 - x) < 1))]
        out[ch] = "".join(near)
    return out


def _with_case(table: dict[str, str], lang: str) -> dict[str, str]:
    out = dict(table)
    for ch, near in table.items():
        big = upper(ch, lang)
        if big != ch and len(big) == 1 and big not in out:
            out[big] = "".join(upper(c, lang) for c in near if len(upper(c, lang)) == 1)
    return out


@cache
def nlpaug_dir() -> Path | None:
    """nlpaug's keyboard JSON folder, found without importing nlpaug (None if not installed)."""
    spec = importlib.util.find_spec("nlpaug")
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).parent / "res" / "char" / "keyboard"
    return folder if folder.is_dir() else None


def _nlpaug_table(lang: str) -> dict[str, str]:
    folder = nlpaug_dir()
    if folder is None or not (folder / f"{lang}.json").is_file():
        return {}
    raw = json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))
    out = {}
    for key, near in raw.items():
        if len(key) == 1 and key.isalpha():
            letters = "".join(dict.fromkeys(c for c in near if len(c) == 1 and c.isalpha() and c != key))
            if letters:
                out[key] = letters
    return out


def layout_source(lang: str) -> str:
    """Where ``lang``'s table comes from: ``own:<lang>``, ``nlpaug:<lang>``, ``hangul`` or ``""``."""
    base = ALIASES.get(lang, lang)
    if base in OWN_LAYOUTS:
        return f"own:{base}"
    if base == KOREAN:
        return "hangul"
    folder = nlpaug_dir() if base in NLPAUG_LANGS else None
    if folder is not None and (folder / f"{base}.json").is_file():
        return f"nlpaug:{base}"
    return ""


def nlpaug_version() -> str:
    try:
        return importlib.metadata.version("nlpaug")
    except importlib.metadata.PackageNotFoundError:
        return ""


@cache
def keyboard_languages() -> frozenset[str]:
    """Languages with a substitution table (letters or Hangul syllables)."""
    langs = set(OWN_LAYOUTS) | set(NLPAUG_LANGS) | set(ALIASES) | {KOREAN}
    return frozenset(lang for lang in langs if layout_source(lang))


@cache
def neighbours(lang: str) -> dict[str, str]:
    """Character -> string of possible typo replacements (for ``ko``: whole Hangul syllables)."""
    source = layout_source(lang)
    if source == "hangul":
        return _hangul_table()
    kind, _, base = source.partition(":")
    if kind == "own":
        table = grid_neighbours(OWN_LAYOUTS[base])
        for letter, key in MODIFIER_LETTERS.get(base, {}).items():
            table[letter] = table[key]
    elif kind == "nlpaug":
        table = _nlpaug_table(base)
    else:
        raise KeyError(f"no keyboard layout for {lang!r}")
    return {ch: near for ch, near in _with_case(table, lang).items() if near}


def _hangul_table() -> dict[str, str]:
    keys = grid_neighbours(HANGUL_ROWS)

    def near(jamo: str, allowed: str | tuple[str, ...]) -> list[str]:
        return [j for j in keys.get(HANGUL_SHIFT.get(jamo, jamo), "") if j in allowed and j != jamo]

    l_near = {j: [L_JAMO.index(n) for n in near(j, L_JAMO)] for j in L_JAMO}
    v_near = {j: [V_JAMO.index(n) for n in near(j, V_JAMO)] for j in V_JAMO}
    t_near = {j: [T_JAMO.index(n) for n in near(j, T_JAMO[1:])] for j in T_JAMO[1:]}
    table: dict[str, str] = {}
    for code in range(11172):
        li, rest = divmod(code, 588)
        vi, ti = divmod(rest, 28)
        alts = [(n * 21 + vi) * 28 + ti for n in l_near[L_JAMO[li]]]
        alts += [(li * 21 + n) * 28 + ti for n in v_near[V_JAMO[vi]]]
        if ti:
            alts += [(li * 21 + vi) * 28 + n for n in t_near[T_JAMO[ti]]]
        table[chr(0xAC00 + code)] = "".join(chr(0xAC00 + a) for a in alts)
    return table
