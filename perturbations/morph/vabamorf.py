"""Estonian: Vabamorf (Kaalep & Vaino; the analyser and synthesiser shipped in EstNLTK).

Vabamorf's form codes (https://filosoft.ee/html_morf_et/morfoutinfo.html) give number and case of
nominals (``sg n``, ``pl in``, ``adt`` …) and mood/tense/person/number of verbs (``b``, ``sin`` …).
Analysis is dictionary-only (no guessing, no proper-name readings added) and unambiguous readings are
not required: the swap rule of :mod:`perturbations.morph.features` handles syncretism. Replacements
are synthesised (``Vabamorf.synthesize``) from the lemma and the form codes that differ only in the
requested dimensions, then re-analysed. Needs the PyPI package ``estnltk``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from itertools import product
from typing import Any

from perturbations.morph.engine import Engine
from perturbations.morph.features import Reading, feats

CASES = ("n", "g", "p", "ill", "in", "el", "all", "ad", "abl", "tr", "ter", "es", "ab", "kom")
NUMBERS = ("sg", "pl")
# finite indicative verb forms: code -> (tense, person, number); ``sid`` is 2sg and 3pl past
VERB_FORMS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "n": (("pres", "1", "sg"),), "d": (("pres", "2", "sg"),), "b": (("pres", "3", "sg"),),
    "me": (("pres", "1", "pl"),), "te": (("pres", "2", "pl"),), "vad": (("pres", "3", "pl"),),
    "sin": (("past", "1", "sg"),), "sid": (("past", "2", "sg"), ("past", "3", "pl")), "s": (("past", "3", "sg"),),
    "sime": (("past", "1", "pl"),), "site": (("past", "2", "pl"),),
}
CODE_OF = {value: code for code, values in VERB_FORMS.items() for value in values}


@cache
def _vabamorf() -> Any:
    from estnltk.vabamorf.morf import Vabamorf

    return Vabamorf.instance()


def readings_of(lemma: str, pos: str, form: str, clitic: str) -> Iterator[Reading]:
    """Readings of one Vabamorf analysis (a verb form like ``sid`` gives two)."""
    extra = [("x:clitic", clitic)] if clitic else []
    codes = form.split()
    if len(codes) == 2 and codes[0] in NUMBERS:
        yield Reading(lemma, pos, feats([("number", codes[0]), ("case", codes[1]), *extra]))
    elif form == "adt":
        yield Reading(lemma, pos, feats([("number", "sg"), ("case", "adt"), *extra]))
    elif form in VERB_FORMS:
        for tense, person, number in VERB_FORMS[form]:
            yield Reading(lemma, pos, feats([("tense", tense), ("person", person), ("number", number),
                                             ("mood", "indic"), *extra]))
    else:
        yield Reading(lemma, pos, feats([("x:form", form), *extra]))


class Vabamorf(Engine):
    name = "vabamorf"
    languages = frozenset({"et"})
    dims = frozenset({"case", "number", "person", "tense"})
    packages = (("estnltk.vabamorf.morf", "estnltk"),)

    def analyse(self, word: str) -> tuple[Reading, ...]:
        result = _vabamorf().analyze([word], disambiguate=False, guess=False, propername=False)
        out: list[Reading] = []
        for a in result[0]["analysis"] if result else ():
            out += readings_of(a["lemma"], a["partofspeech"], a["form"], a["clitic"])
        return tuple(out)

    def generate(self, word: str, reading: Reading, groups: frozenset[str] | None) -> Iterable[str]:
        synth = _vabamorf().synthesize
        for code in self._codes(reading, groups):
            yield from synth(reading.lemma, code, reading.pos, guess=False)

    @staticmethod
    def _codes(reading: Reading, groups: frozenset[str] | None) -> Iterator[str]:
        case, tense = reading.get("case"), reading.get("tense")
        if case is not None:
            numbers = NUMBERS if groups is None or "number" in groups else (reading.get("number"),)
            cases = CASES if groups is None or "case" in groups else (case,)
            for number, c in product(numbers, cases):
                yield f"{number} {c}"
            if groups is None or "case" in groups:
                yield "adt"
        elif tense is not None:
            key = (tense, reading.get("person"), reading.get("number"))
            for value, code in CODE_OF.items():
                if all(groups is None or dim in groups or value[i] == key[i]
                       for i, dim in enumerate(("tense", "person", "number"))):
                    yield code
