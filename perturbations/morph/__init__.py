"""Morphological engines for feature-aware inflection swaps, one module per engine.

=========  =============================  =========================================  =======================
language   engine (module)                 what it needs                              dimensions it changes
=========  =============================  =========================================  =======================
ru, uk     pymorphy3 (:mod:`.pymorphy`)    pymorphy3, pymorphy3-dicts-ru/-uk (PyPI)   case number person tense gender
fi         Voikko (:mod:`.voikko`)         libvoikko (PyPI) + Debian voikko-fi        case number person tense
et         Vabamorf (:mod:`.vabamorf`)     estnltk (PyPI)                             case number person tense
hu         Hunspell (:mod:`.hunspell`)     hunspell (PyPI) + Debian hunspell-hu       case number person tense
de         german-nouns (:mod:`.german`)   german-nouns (PyPI); nouns only            case number
=========  =============================  =========================================  =======================

All are installed by the ``morph`` extra (``pip install 'xrobust[morph]'``) plus the Debian packages.
UniMorph tables (:mod:`perturbations.unimorph`) use the same swap rule (:mod:`.features`) and finder
(:mod:`.engine`).
"""

from __future__ import annotations

from functools import cache

from perturbations.morph.engine import Engine, EngineMissing, SwapFinder
from perturbations.morph.german import GermanNouns
from perturbations.morph.hunspell import Hunspell
from perturbations.morph.pymorphy import Pymorphy
from perturbations.morph.vabamorf import Vabamorf
from perturbations.morph.voikko import Voikko

ENGINES: dict[str, type[Engine]] = {"ru": Pymorphy, "uk": Pymorphy, "fi": Voikko, "et": Vabamorf, "hu": Hunspell,
                                    "de": GermanNouns}


def engine_class(lang: str) -> type[Engine] | None:
    """The engine class for ``lang``, or None where there is none."""
    return ENGINES.get(lang)


@cache
def engine(lang: str) -> Engine:
    """The (memoised) engine instance for ``lang``; raises :class:`EngineMissing` if it cannot run here."""
    cls = ENGINES[lang]
    reason = cls.missing(lang)
    if reason is not None:
        raise EngineMissing(reason)
    return cls(lang)


@cache
def swap_finder(lang: str, groups: frozenset[str] | None) -> SwapFinder:
    """The (memoised) swap finder of ``lang``'s engine for one set of changeable dimensions."""
    return SwapFinder(engine(lang), groups)


__all__ = ["ENGINES", "Engine", "EngineMissing", "SwapFinder", "engine", "engine_class", "swap_finder"]
