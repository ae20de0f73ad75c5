"""Russian and Ukrainian: pymorphy3 with the OpenCorpora (ru) and VESUM-derived (uk) dictionaries.

pymorphy3 analyses a word into OpenCorpora tags and inflects a parse to any grammeme set of its lexeme
(Korobov 2015, "Morphological Analyzer and Generator for Russian and Ukrainian Languages",
arXiv:1503.07283; tag set: https://opencorpora.org/dict.php?act=gram). Only dictionary analyses are
used (no guesses for unknown words); replacements come from ``Parse.inflect`` (or the whole lexeme for
``any``) and are re-analysed before use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from itertools import product
from typing import Any

from perturbations.morph.engine import Engine
from perturbations.morph.features import Reading, feats

DIMS = {
    "case": "nomn gent datv accs ablt loct voct gen1 gen2 acc2 loc1 loc2",
    "number": "sing plur",
    "gender": "masc femn neut ms-f",
    "person": "1per 2per 3per",
    "tense": "pres past futr",
    "mood": "indc impr",
    "voice": "actv pssv",
    "aspect": "perf impf",
    "animacy": "anim inan",
    "transitivity": "tran intr",
    "involvement": "incl excl",
}
DIM_OF = {g: dim for dim, grams in DIMS.items() for g in grams.split()}
VALUES = {dim: tuple(grams.split()) for dim, grams in DIMS.items()}
INFLECTABLE = ("case", "number", "person", "tense", "gender")


@cache
def _analyzer(lang: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


class Pymorphy(Engine):
    name = "pymorphy3"
    languages = frozenset({"ru", "uk"})
    dims = frozenset({"case", "number", "person", "tense", "gender"})

    @classmethod
    def requirements(cls, lang: str) -> tuple[tuple[str, str], ...]:
        return (("pymorphy3", "pymorphy3"), (f"pymorphy3_dicts_{lang}", f"pymorphy3-dicts-{lang}"))

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self._parses: dict[str, list[Any]] = {}

    def parses(self, word: str) -> list[Any]:
        hit = self._parses.get(word)
        if hit is None:
            hit = self._parses[word] = [p for p in _analyzer(self.lang).parse(word)
                                        if len(p.methods_stack) == 1
                                        and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer"]
        return hit

    @staticmethod
    def reading(parse: Any) -> Reading:
        tag = parse.tag
        pos = str(tag.POS)
        pairs = [(DIM_OF.get(g, "x:" + g), g) for g in map(str, tag.grammemes) if g != pos]
        return Reading(parse.normal_form, pos, feats(pairs))

    def analyse(self, word: str) -> tuple[Reading, ...]:
        return tuple(self.reading(p) for p in self.parses(word))

    def generate(self, word: str, reading: Reading, groups: frozenset[str] | None) -> Iterable[str]:
        for parse in self.parses(word):
            if self.reading(parse) == reading:
                yield from self._forms(parse, groups)

    @staticmethod
    def _forms(parse: Any, groups: frozenset[str] | None) -> Iterator[str]:
        if groups is None:
            for form in parse.lexeme:
                yield form.word
            return
        dims = [d for d in INFLECTABLE if d in groups]
        for combo in product(*(VALUES[d] for d in dims)):
            try:
                form = parse.inflect(set(combo))
            except ValueError:  # a grammeme the loaded dictionary's tag set lacks (uk has no gen1/loc1 …)
                continue
            if form is not None:
                yield form.word
