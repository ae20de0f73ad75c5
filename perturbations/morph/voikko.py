"""Finnish: Voikko's morphological analyser (libvoikko over the ``voikko-fi`` dictionary).

Voikko (https://voikko.puimula.org; analysis attributes: libvoikko ``doc/morphological-analysis.txt``)
gives each reading's base form, word class (``CLASS``), case (``SIJAMUOTO``), number, person, tense,
mood, polarity, comparison and possessive suffix. libvoikko has no generator, so candidates are
simplemma's forms of the lemma (:mod:`perturbations.morph.lexicon`) and Voikko's re-analysis keeps the
allowed ones. Needs the Debian packages ``libvoikko1`` and ``voikko-fi`` and the PyPI binding ``libvoikko``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from perturbations.morph.engine import Engine, EngineMissing
from perturbations.morph.features import Reading, feats
from perturbations.morph.lexicon import lexicon_forms

DIM_OF = {"SIJAMUOTO": "case", "NUMBER": "number", "PERSON": "person", "TENSE": "tense", "MOOD": "mood",
          "NEGATIVE": "polarity", "COMPARISON": "comparison", "POSSESSIVE": "possession"}
IGNORED = frozenset({"BASEFORM", "CLASS", "FSTOUTPUT", "STRUCTURE", "WORDBASES", "WORDIDS",
                     "POSSIBLE_GEOGRAPHICAL_NAME", "MALAGA_VAPAA_JALKIOSA"})


@cache
def _voikko() -> Any:
    import libvoikko

    try:
        return libvoikko.Voikko("fi")
    except (OSError, libvoikko.VoikkoException) as err:
        raise EngineMissing(f"inflection engine voikko cannot load its Finnish dictionary (Debian packages "
                            f"libvoikko1 and voikko-fi): {err}") from None


class Voikko(Engine):
    name = "voikko"
    languages = frozenset({"fi"})
    dims = frozenset({"case", "number", "person", "tense"})
    packages = (("libvoikko", "libvoikko"),)
    system = "voikko-fi"

    @classmethod
    def missing(cls, lang: str) -> str | None:
        reason = super().missing(lang)
        if reason is None:
            try:
                _voikko()
            except EngineMissing as err:
                return str(err)
        return reason

    def analyse(self, word: str) -> tuple[Reading, ...]:
        out = []
        for analysis in _voikko().analyze(word):
            pairs = [(DIM_OF.get(k, "x:" + k), v) for k, v in analysis.items() if k not in IGNORED]
            out.append(Reading(analysis.get("BASEFORM", ""), analysis.get("CLASS", ""), feats(pairs)))
        return tuple(out)

    def generate(self, word: str, reading: Reading, groups: frozenset[str] | None) -> Iterable[str]:
        return lexicon_forms(self.lang, word, (reading.lemma,))

    def version(self) -> str:
        import libvoikko

        return f"{super().version()} voikko-fi:{libvoikko.Voikko.getVersion()}"
