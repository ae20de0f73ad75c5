"""simplemma's offline lemma dictionaries (form -> lemma), inverted to lemma -> forms.

simplemma ships one lzma-compressed dictionary per language; its ``DefaultDictionaryFactory``
returns a ``Mapping[str, str]`` from inflected forms to lemmas. We invert it once per language
(bytes, to keep memory down); a replacement is drawn by rejection sampling over the lemma's raw form
list, so no lemma's (possibly thousands of) forms are ever decoded in full.

simplemma has no parts of speech, and its lemma keys merge homographs and suppletive forms (de ``hast``
-> ``haben`` -> ``gehabt``, ``du`` -> ``dir``; ru ``на`` -> ``бальзам``). A replacement must therefore keep
the word's *stem*, the common prefix of the word and its lemma (at least two letters): only the ending
changes, as in inflection, and forms built on another stem or with a prefix (participles, suppletive
and pronoun forms) are never drawn.
"""

from __future__ import annotations

import importlib.metadata
import os
import random
from functools import cache
from itertools import chain
from typing import Any

from perturbations.text import is_word, lower


def simplemma_version() -> str:
    try:
        return importlib.metadata.version("simplemma")
    except importlib.metadata.PackageNotFoundError:
        return ""


@cache
def simplemma_languages() -> frozenset[str]:
    """Languages with a shipped simplemma dictionary (empty if simplemma is not installed)."""
    try:
        from simplemma.strategies.dictionaries import dictionary_factory
    except ImportError:
        return frozenset()
    langs = getattr(dictionary_factory, "SUPPORTED_LANGUAGES", None)
    if langs is None:  # older releases: list the data folder
        folder = getattr(dictionary_factory, "DATA_FOLDER", None)
        langs = [p.stem for p in folder.glob("*.plzma")] if folder is not None else []
    return frozenset(langs)


def _raw_pairs(lang: str) -> Any:
    """Iterable of (form, lemma) as bytes (fast path) or str (public Mapping API)."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    mapping = DefaultDictionaryFactory(cache_max_size=0).get_dictionary(lang)
    raw = getattr(mapping, "_dict", None)  # bytes -> bytes store behind the str view, when present
    if isinstance(raw, dict):
        return raw
    return {k.encode(): v.encode() for k, v in mapping.items()}


class LemmaIndex:
    """Other forms of a word's lemma, from simplemma's dictionary for one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.form_to_lemma: dict[bytes, bytes] = _raw_pairs(lang)
        inverse: dict[bytes, list[bytes]] = {}
        for form, lemma in self.form_to_lemma.items():
            bucket = inverse.get(lemma)
            if bucket is None:
                inverse[lemma] = [form]
            else:
                bucket.append(form)
        self.lemma_to_forms = inverse

    def usable(self, raw: bytes, lemma: bytes, low: str, stem: str = "") -> str | None:
        """``raw`` as a replacement for a word whose lower-case form is ``low``, or None.

        Single letters, non-words, the word itself and forms not starting with ``stem`` are rejected;
        a capitalised variant is replaced by its lower-case twin when that is a form of the same lemma
        too (sentence starts).
        """
        form = raw.decode()
        key = lower(form, self.lang)
        if key == low or len(form) < 2 or not key.startswith(stem) or not is_word(form):
            return None
        if form != key and (self.form_to_lemma.get(key.encode()) == lemma or key.encode() == lemma):
            return key
        return form

    def lookup(self, word: str) -> LemmaChoice | None:
        """The lemma of ``word`` as a :class:`LemmaChoice`, or None if it has no other usable form."""
        if len(word) < 2:  # single letters are initials and symbols far more often than words
            return None
        low = lower(word, self.lang)
        for probe in (word, low):
            raw = probe.encode()
            lemma = self.form_to_lemma.get(raw) or (raw if raw in self.lemma_to_forms else None)
            if lemma is not None:
                stem = os.path.commonprefix([low, lower(lemma.decode(), self.lang)])
                if len(stem) < 2:
                    return None
                forms = self.lemma_to_forms.get(lemma, [])
                if any(self.usable(f, lemma, low, stem) for f in chain((lemma,), forms)):  # usually stops at once
                    return LemmaChoice(self, lemma, forms, low, stem)
                return None
        return None


class LemmaChoice:
    """Draws a random other form of one lemma (rejection sampling over the raw form list)."""

    __slots__ = ("index", "lemma", "forms", "low", "stem")

    def __init__(self, index: LemmaIndex, lemma: bytes, forms: list[bytes], low: str, stem: str) -> None:
        self.index, self.lemma, self.forms, self.low, self.stem = index, lemma, forms, low, stem

    def pick(self, rng: random.Random) -> str:
        n = len(self.forms) + 1
        usable = self.index.usable
        for _ in range(32):
            i = rng.randrange(n)
            form = usable(self.forms[i - 1] if i else self.lemma, self.lemma, self.low, self.stem)
            if form is not None:
                return form
        everything = [usable(f, self.lemma, self.low, self.stem) for f in chain((self.lemma,), self.forms)]
        return rng.choice([f for f in everything if f is not None])

    def every(self) -> list[str]:
        """Every usable other form of the lemma (lemma first, then the dictionary's order), without repeats."""
        usable = self.index.usable
        forms = (usable(f, self.lemma, self.low, self.stem) for f in chain((self.lemma,), self.forms))
        return list(dict.fromkeys(f for f in forms if f is not None))


@cache
def lemma_index(lang: str) -> LemmaIndex:
    return LemmaIndex(lang)
