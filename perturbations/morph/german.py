"""German nouns: case and number from the ``german-nouns`` table (Wiktionary-DE declension tables).

``german-nouns`` (PyPI; compiled from the German Wiktionary's noun inflection tables) gives each noun's
lemma, gender and its forms in the four cases and two numbers, with columns for alternative forms
(``genitiv singular*``), per-gender variants (``… 1``) and adjectival declension (``stark``/``schwach``/
``gemischt``). Only common nouns are used (rows marked as names, affixes or bound lexemes are skipped),
and only capitalised words are looked up: the table knows no other part of speech, so German verbs,
adjectives and pronouns are left to the next source.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

from perturbations.morph.engine import Engine
from perturbations.morph.features import Reading, feats

CASES = {"nominativ": "NOM", "genitiv": "GEN", "dativ": "DAT", "akkusativ": "ACC"}
NUMBERS = {"singular": "SG", "plural": "PL"}
NOT_COMMON = ("Eigenname", "Nachname", "Vorname", "Toponym", "Gebundenes Lexem", "Affix", "Abkürzung")


def _table_path() -> Path:
    import german_nouns

    return Path(next(iter(german_nouns.__path__))) / "nouns.csv"


class NounTable:
    """form -> readings and row -> forms over the common nouns of the table. Rows are kept as their CSV
    lines and parsed again on lookup (memoised), which keeps the index small."""

    def __init__(self, path: Path) -> None:
        self.by_form: dict[str, list[int]] = {}  # form -> row numbers
        self.lines: list[str] = []
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader([handle.readline()]))
            self.slots = [self._slot(name) for name in header]
            self.form_cols = [i for i, slot in enumerate(self.slots) if slot is not None]
            self.genus_cols = [header.index(n) for n in ("genus", "genus 1", "genus 2", "genus 3", "genus 4")]
            self.lemma_col, pos_col = header.index("lemma"), header.index("pos")
            lines = handle.read().splitlines()
        for line, row in zip(lines, csv.reader(lines), strict=True):
            if "Substantiv" not in row[pos_col] or any(tag in row[pos_col] for tag in NOT_COMMON):
                continue
            number = len(self.lines)
            self.lines.append(line)
            for col in self.form_cols:
                form = row[col]
                if form and " " not in form:
                    hit = self.by_form.get(form)
                    if hit is None:
                        self.by_form[form] = [number]
                    elif hit[-1] != number:
                        hit.append(number)

    @staticmethod
    def _slot(name: str) -> tuple[str, str, str] | None:
        parts = name.split()
        if len(parts) < 2 or parts[0] not in CASES or parts[1].rstrip("*") not in NUMBERS:
            return None
        return CASES[parts[0]], NUMBERS[parts[1].rstrip("*")], parts[2] if len(parts) > 2 else ""

    @lru_cache(maxsize=65536)  # noqa: B019  (one table per process)
    def row(self, number: int) -> tuple[tuple[str, Reading], ...]:
        """(form, reading) of every single-word cell of one row."""
        row = next(csv.reader([self.lines[number]]))
        genders = [row[c] for c in self.genus_cols]
        out = []
        for col in self.form_cols:
            form = row[col]
            if not form or " " in form:
                continue
            case, num, variant = self.slots[col]  # type: ignore[misc]
            gender = genders[int(variant)] if variant.isdigit() and int(variant) < len(genders) else genders[0]
            pairs = [("case", case), ("number", num), ("gender", gender)]
            if variant in ("stark", "schwach", "gemischt"):
                pairs.append(("x:declension", variant))
            out.append((form, Reading(row[self.lemma_col], "NOUN", feats(pairs))))
        return tuple(out)

    def readings(self, form: str) -> list[tuple[int, Reading]]:
        return [(n, r) for n in self.by_form.get(form, ()) for f, r in self.row(n) if f == form]


@cache
def noun_table() -> NounTable:
    return NounTable(_table_path())


class GermanNouns(Engine):
    name = "german_nouns"
    languages = frozenset({"de"})
    dims = frozenset({"case", "number"})
    packages = (("german_nouns", "german-nouns"),)

    def analyse(self, word: str) -> tuple[Reading, ...]:
        if not word[:1].isupper() or word.isupper():
            return ()
        return tuple(r for _, r in noun_table().readings(word))

    def generate(self, word: str, reading: Reading, groups: frozenset[str] | None) -> Iterable[str]:
        table = noun_table()
        for number, r in table.readings(word):
            if r == reading:
                yield from (form for form, _ in table.row(number))
