"""Hungarian: Hunspell's morphological analysis and generation with the Magyar Ispell dictionary.

The ``hunspell-hu`` dictionary (Németh & Godó, http://magyarispell.sourceforge.net) annotates stems
(``st:``), parts of speech (``po:``), derivations (``ds:``) and inflections (``is:``): ``PLUR``, the case
suffixes (``INE``, ``DAT`` …), possessives (``POSS_SG_1``) and verb endings
(``PAST_INDIC_INDEF_SG_1`` = tense, mood, definiteness, number, person). Hunspell's ``generate2``
builds a word's forms from such a description (Németh et al. 2004, "Leveraging the open source ispell
codebase for minority language analysis"). Nominals without a case or ``PLUR`` tag are nominative
singular. Needs the Debian packages ``hunspell-hu`` and ``libhunspell-dev`` and the PyPI binding
``hunspell``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

from perturbations.morph.engine import Engine, EngineMissing
from perturbations.morph.features import Reading, feats

DICT = Path("/usr/share/hunspell/hu_HU")
CASES = ("NOM", "ACC", "DAT", "INSTR", "CAUS", "TRANS", "ESS", "INE", "ILL", "ELA", "SUE", "SBL", "DEL", "ALL",
         "ADE", "ABL", "TERM", "FORM", "TEMP")
NOMINAL = frozenset({"noun", "adj", "num", "pron", "ppron"})
TENSES = ("PRES", "PAST", "FUTURE")
MOODS = ("INDIC", "COND", "SUBJUNC", "IMPER")
VERB_SLOTS = ("tense", "mood", "definiteness", "number", "person")


@cache
def _hunspell() -> Any:
    import hunspell

    if not DICT.with_suffix(".dic").is_file():
        raise EngineMissing(f"inflection engine hunspell needs the Debian package hunspell-hu ({DICT}.dic not found)")
    return hunspell.HunSpell(str(DICT.with_suffix(".dic")), str(DICT.with_suffix(".aff")))


def _verb(tag: str) -> list[tuple[str, str]] | None:
    """``PAST_INDIC_INDEF_SG_1`` -> [(tense, PAST), (mood, INDIC), (definiteness, INDEF), (number, SG),
    (person, 1)]; ``PRES_INDIC_SG_1_OBJ_2`` (the -lak/-lek form) has definiteness ``OBJ_2``."""
    parts = tag.split("_")
    if len(parts) < 4 or parts[0] not in TENSES or parts[1] not in MOODS:
        return None
    if len(parts) == 6 and parts[4] == "OBJ":
        definiteness, number, person = "OBJ_" + parts[5], parts[2], parts[3]
    elif len(parts) == 5:
        definiteness, number, person = parts[2], parts[3], parts[4]
    else:
        return None
    return list(zip(VERB_SLOTS, (parts[0], parts[1], definiteness, number, person), strict=True))


def parse(analysis: str) -> Reading:
    """One Hunspell analysis string as a reading.

    The form's inflection is in its ``is:`` fields; ``ts:`` fields describe the dictionary entry the form is
    built on, and are the form's own only when no affix added ``is:`` fields: lexicalised plural stems
    (``házak``: ``ts:PLUR ts:NOM``) are nominative plurals, but ``házat``, built on that entry
    (``ts:PLUR ts:NOM … is:ACC``), is a singular accusative.
    """
    stems, pos, derivs, inflections, terminal = [], "", [], [], []
    for field in analysis.split():
        key, _, value = field.partition(":")
        if key == "st":
            stems.append(value)
        elif key == "po":
            pos = value
        elif key == "ds":
            derivs.append(value)
        elif key == "is" and value:
            inflections.append(value)
        elif key == "ts" and value:
            terminal.append(value)
    pairs: list[tuple[str, str]] = []
    for value in dict.fromkeys(inflections or terminal):
        verb = _verb(value)
        if verb is not None:
            pairs += verb
        elif value == "PLUR":
            pairs.append(("number", "PL"))
        elif value in CASES:
            pairs.append(("case", value))
        elif value.startswith("POSS"):
            pairs.append(("possession", value))
        else:
            pairs.append(("x:" + value, value))
    if pos in NOMINAL:
        dims = {d for d, _ in pairs}
        pairs += [("case", "NOM")] if "case" not in dims else []
        pairs += [("number", "SG")] if "number" not in dims else []
    return Reading("+".join(stems), "+".join([pos, *derivs]), feats(pairs))


def description(reading: Reading) -> str:
    """The ``is:`` description that makes Hunspell generate ``reading``'s form of the stem."""
    d = dict(reading.feats)
    tags = [v for k, v in sorted(d.items()) if k.startswith("x:")]
    if "tense" in d:
        person = d.get("person", "")
        if d.get("definiteness", "").startswith("OBJ_"):
            tags.append(f"{d['tense']}_{d['mood']}_{d['number']}_{person}_{d['definiteness']}")
        else:
            tags.append("_".join(d.get(s, "") for s in VERB_SLOTS))
    else:
        if d.get("number") == "PL":
            tags.append("PLUR")
        if "possession" in d:
            tags.append(d["possession"])
        tags.append(d.get("case", "NOM"))  # generate2 needs the case, nominative included (is:PLUR is:NOM)
    return " ".join("is:" + t for t in tags)


class Hunspell(Engine):
    name = "hunspell"
    languages = frozenset({"hu"})
    dims = frozenset({"case", "number", "person", "tense"})
    packages = (("hunspell", "hunspell"),)
    system = "hunspell-hu"

    @classmethod
    def missing(cls, lang: str) -> str | None:
        reason = super().missing(lang)
        if reason is None:
            try:
                _hunspell()
            except EngineMissing as err:
                return str(err)
        return reason

    def analyse(self, word: str) -> tuple[Reading, ...]:
        return tuple(parse(raw.decode("utf-8", "replace")) for raw in _hunspell().analyze(word))

    def generate(self, word: str, reading: Reading, groups: frozenset[str] | None) -> Iterable[str]:
        gen = _hunspell().generate2
        for target in self._targets(reading, groups):
            for raw in gen(word, description(target)):
                yield raw.decode("utf-8", "replace")

    @staticmethod
    def _targets(reading: Reading, groups: frozenset[str] | None) -> Iterator[Reading]:
        d = dict(reading.feats)
        if "tense" in d:
            axes = {"tense": TENSES, "person": ("1", "2", "3"), "number": ("SG", "PL")}
        elif "case" in d:
            axes = {"case": CASES, "number": ("SG", "PL")}
        else:
            return
        names = [a for a in axes if groups is None or a in groups]
        for values in product(*(axes[a] for a in names)):
            yield Reading(reading.lemma, reading.pos, frozenset({**d, **dict(zip(names, values, strict=True))}.items()))

    def version(self) -> str:
        return f"{super().version()} hu_HU.dic:{DICT.with_suffix('.dic').stat().st_size}"
