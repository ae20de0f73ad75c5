"""The engine interface and the verified, per-word-type cached swap finder built on it.

An engine analyses a word into :class:`~perturbations.morph.features.Reading` s and proposes candidate
forms for one reading (by generating them, or by listing forms of the lemma from another lexicon).
:class:`SwapFinder` keeps only candidates that the engine itself re-analyses as allowed swaps
(:func:`~perturbations.morph.features.swap_ok`) and memoises both analyses and swaps per word type, so
each distinct word is analysed once per process however often it occurs.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from typing import ClassVar

from perturbations.morph.features import Reading, identity, swap_ok
from perturbations.text import is_word, lower

INSTALL_HINT = "pip install 'xrobust[morph]'"


class EngineMissing(Exception):
    """An engine's package or data is not installed; the message is one line naming what is missing."""


class Engine:
    """A morphological engine for one language.

    ``packages``: Python modules (import name, distribution name) it needs; ``system``: the Debian packages
    with its data, named in the error when the data are missing; ``dims``: the dimensions it can change.
    """

    name: ClassVar[str] = ""
    languages: ClassVar[frozenset[str]] = frozenset()
    dims: ClassVar[frozenset[str]] = frozenset()
    packages: ClassVar[tuple[tuple[str, str], ...]] = ()
    system: ClassVar[str] = ""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    @classmethod
    def requirements(cls, lang: str) -> tuple[tuple[str, str], ...]:
        """(import name, distribution name) of every Python package the engine needs for ``lang``."""
        return cls.packages

    @classmethod
    def missing(cls, lang: str) -> str | None:
        """One-line reason the engine cannot run here for ``lang``, or None when it can."""
        for module, dist in cls.requirements(lang):
            try:
                importlib.import_module(module)
            except ImportError:
                extra = f" and the Debian package {cls.system}" if cls.system else ""
                return (f"inflection engine {cls.name} needs the Python package {dist!r}{extra}"
                        f" ({INSTALL_HINT})")
        return None

    def analyse(self, word: str) -> tuple[Reading, ...]:
        """Every reading of ``word`` the engine's lexicon gives (empty if it does not know the word)."""
        raise NotImplementedError

    def generate(self, word: str, reading: Reading, groups: frozenset[str] | None) -> Iterable[str]:
        """Candidate replacements of ``word`` read as ``reading`` (checked afterwards; may over-generate)."""
        raise NotImplementedError

    def version(self) -> str:
        """Identity of the engine and its data, for fingerprints."""
        parts = []
        for _, dist in self.requirements(self.lang):
            try:
                parts.append(f"{dist}=={importlib.metadata.version(dist)}")
            except importlib.metadata.PackageNotFoundError:
                parts.append(dist)
        return " ".join(parts)


class SwapFinder:
    """Allowed replacements of words for one engine and one set of changeable dimensions (None: any)."""

    def __init__(self, engine: Engine, groups: frozenset[str] | None) -> None:
        self.engine = engine
        self.groups = groups
        self._readings: dict[str, tuple[Reading, ...]] = {}
        self._swaps: dict[str, tuple[str, ...] | None] = {}

    def readings(self, word: str) -> tuple[Reading, ...]:
        hit = self._readings.get(word)
        if hit is None:
            hit = self._readings[word] = tuple(dict.fromkeys(self.engine.analyse(word)))
        return hit

    def get(self, word: str) -> tuple[str, ...] | None:
        """Replacements of ``word``; None if the engine does not know it, () if it knows it but has none
        (ambiguous, or no form differing only as asked)."""
        try:
            return self._swaps[word]
        except KeyError:
            pass
        found = self._find(word)
        self._swaps[word] = found
        return found

    def _find(self, word: str) -> tuple[str, ...] | None:
        source = self.readings(word)
        if not source:
            return None
        if identity(source) is None:
            return ()
        low = lower(word, self.engine.lang)
        out: dict[str, None] = {}
        for reading in source:
            for form in self.engine.generate(word, reading, self.groups):
                if (form in out or len(form) < 2 or not is_word(form) or lower(form, self.engine.lang) == low):
                    continue
                if swap_ok(source, self.readings(form), self.groups):
                    out[form] = None
        return tuple(out)
