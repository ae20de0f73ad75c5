"""Keyboard-neighbour tables from the physical national layouts of :mod:`perturbations.layouts`.

Keys sit on a standard ISO staggered board (key width 1; the first key of the number row and of the
three letter rows at x = 0, 1.5, 1.75, 1.25). Two keys are neighbours if they are adjacent in a row, or
in adjacent rows with horizontal offset below one key. Neighbours are taken within one layer: a Shift
letter's neighbours are the Shift letters around it (for cased layouts, the upper case of the base
neighbours); keys typing no letter (``·``) are never produced. Letters typed with a dead key or AltGr
on a base key borrow that key's neighbours. Indic languages use InScript shifted to their Unicode block.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from perturbations.layouts import INDIC_BLOCKS, INDIC_SCRIPTS, LANGUAGE_LAYOUT, LAYOUTS, Layout
from perturbations.text import lower, upper

ROW_X = (0.0, 1.5, 1.75, 1.25)
NO_KEY = "·"


def grid_neighbours(rows: tuple[str, ...]) -> dict[str, str]:
    """Key character -> neighbouring key characters on a staggered board (see module docstring)."""
    keys = [(ch, r, ROW_X[r] + i) for r, row in enumerate(rows) for i, ch in enumerate(row)]
    out: dict[str, str] = {}
    for ch, r, x in keys:
        if ch == NO_KEY:
            continue
        near = [c for c, r2, x2 in keys
                if c != NO_KEY and c != ch and ((r2 == r and abs(x2 - x) == 1) or (abs(r2 - r) == 1 and abs(x2 - x) < 1))]
        out[ch] = "".join(dict.fromkeys(out.get(ch, "") + "".join(near)))
    return out


def _shift_block(rows: tuple[str, ...], base: int) -> tuple[str, ...]:
    """InScript rows moved from Devanagari to another Indic block (unassigned code points type nothing)."""
    def move(ch: str) -> str:
        if ch == NO_KEY or not 0x0900 <= ord(ch) <= 0x097F:
            return ch
        new = chr(ord(ch) - 0x0900 + base)
        return new if unicodedata.name(new, "") and unicodedata.category(new)[0] in "LM" else NO_KEY
    return tuple("".join(move(c) for c in row) for row in rows)


def layout_for(lang: str) -> Layout | None:
    name = LANGUAGE_LAYOUT.get(lang)
    return LAYOUTS[name] if name else None


def layout_source(lang: str) -> str:
    """The layout a language is typed on, e.g. ``de``, ``inscript:Bengali`` (``""`` if none)."""
    name = LANGUAGE_LAYOUT.get(lang, "")
    if name == "inscript":
        return f"inscript:{INDIC_SCRIPTS[INDIC_BLOCKS[lang]]}"
    return name


def layout_languages() -> frozenset[str]:
    return frozenset(LANGUAGE_LAYOUT)


@cache
def neighbours(lang: str) -> dict[str, str]:
    """Character -> the characters a neighbouring key types, on ``lang``'s layout."""
    layout = layout_for(lang)
    if layout is None:
        raise KeyError(f"no keyboard layout for {lang!r}")
    rows, shift = layout.rows, layout.shift
    if lang in INDIC_BLOCKS:
        rows = _shift_block(rows, INDIC_BLOCKS[lang])
        shift = _shift_block(shift, INDIC_BLOCKS[lang]) if shift else None
    table = grid_neighbours(rows)
    if shift:
        for ch, near in grid_neighbours(shift).items():
            table[ch] = "".join(dict.fromkeys(table.get(ch, "") + near))
    for letter, key in layout.modifiers.items():
        if key in table and letter not in table:
            table[letter] = table[key]
    if layout.cased:
        for ch, near in list(table.items()):
            big = upper(ch, lang)
            if big != ch and len(big) == 1 and big not in table and lower(big, lang) == ch:  # not final ς -> Σ
                table[big] = "".join(u for c in near if len(u := upper(c, lang)) == 1 and u != big)
    return {ch: near for ch, near in table.items() if near and unicodedata.category(ch)[0] in "LM"}
