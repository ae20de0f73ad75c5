"""Morphological inflection swaps: replace a word with another form of the same lemma.

Sources, tried in the order given by ``sources``; the first that knows a word decides (a word it finds
ambiguous is skipped, not passed on):

* ``engine``: the language's morphological engine (:mod:`perturbations.morph`: pymorphy3 for ru/uk,
  Voikko for fi, Vabamorf for et, Hunspell for hu, german-nouns for German nouns); feature-aware.
* ``unimorph``: ``<resources>/<unimorph_dir>/<iso639-3>.tsv`` tables; feature-aware.
* ``simplemma``: simplemma's lemma dictionaries inverted to lemma -> forms; no features, so only with
  ``change: [any]``, and only forms that keep the word's stem (:mod:`perturbations.lemmas`).

Feature-aware swaps keep the lemma and the part of speech and change only the dimensions in ``change``
(:mod:`perturbations.morph.features`); every replacement is re-analysed by the source that proposed it.
A language whose engine can serve ``change`` but is not installed is refused with a one-line error
naming the missing package. Eligible words are those with at least one replacement; ``rate`` is the
probability of swapping an eligible word. Replacements are never the same string (compared
case-insensitively), are always a single word and take the original's capitalisation. Words glued to
digits, hyphens or apostrophes and single letters are not eligible.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from perturbations import morph
from perturbations.base import WordPerturbation, register
from perturbations.lemmas import LemmaChoice, lemma_index, simplemma_languages, simplemma_version
from perturbations.params import BaseParams, ParamError, resolve_dir
from perturbations.text import match_case
from perturbations.unimorph import ISO3, SWAP_GROUPS, file_digest, swap_finder, table_engine, table_path

SOURCES = ("engine", "unimorph", "simplemma")
Options = tuple[str, ...] | LemmaChoice  # UniMorph replacements, or a lazy simplemma lemma


@dataclass(frozen=True)
class InflectionParams(BaseParams):
    """change: dimensions a swap may alter (``any``, or e.g. ``[case]``, ``[case, number]``);
    sources: lookup order; unimorph_dir: UniMorph folder (relative to the resources dir)."""

    change: tuple[str, ...] = ("any",)
    sources: tuple[str, ...] = SOURCES
    unimorph_dir: str = "unimorph"


@register
class InflectionSwap(WordPerturbation):
    """Swap words for other inflected forms of their lemma."""

    name = "inflection"
    Params = InflectionParams
    standalone_only = True

    def check_params(self) -> None:
        p = self.params
        bad = [c for c in p.change if c != "any" and c not in SWAP_GROUPS]
        if bad or not p.change or ("any" in p.change and len(p.change) > 1):
            raise ParamError(f"change must be [any] or a list of dimensions from {', '.join(sorted(SWAP_GROUPS))};"
                             f" got {list(p.change)}", "change")
        if not p.sources or len(set(p.sources)) != len(p.sources) or not set(p.sources) <= set(SOURCES):
            raise ParamError(f"sources must be a non-empty list from {', '.join(SOURCES)}; got {list(p.sources)}",
                             "sources")
        if self.groups is not None and not {"engine", "unimorph"} & set(p.sources):
            raise ParamError("feature-restricted swaps need the engine or unimorph source (simplemma has no "
                             "features)", "sources")
        self.folder = (resolve_dir(self.resources_dir, p.unimorph_dir, "unimorph_dir")
                       if "unimorph" in p.sources else None)
        self._options: dict[str, dict[str, Options]] = {}
        self._lookup_fns: dict[str, list[Callable[[str], Options | None]]] = {}

    @cached_property
    def groups(self) -> frozenset[str] | None:
        return None if self.params.change == ("any",) else frozenset(self.params.change)

    def _table(self, lang: str) -> str | None:
        if self.folder is None:
            return None
        path = table_path(self.folder, lang)
        return str(path) if path is not None and path.is_file() else None

    def _unimorph_ok(self, lang: str) -> bool:
        path = self._table(lang)
        return path is not None and (self.groups is None or table_engine(path, lang).has_swaps(self.groups))

    def _engine_cls(self, lang: str) -> type[morph.Engine] | None:
        """The engine serving ``lang`` for ``change`` when ``engine`` is a source (installed or not)."""
        cls = morph.engine_class(lang) if "engine" in self.params.sources else None
        if cls is None or (self.groups is not None and not self.groups <= cls.dims):
            return None
        return cls

    def _engine_ok(self, lang: str) -> bool:
        cls = self._engine_cls(lang)
        return cls is not None and cls.missing(lang) is None

    def is_supported(self, lang: str) -> bool:
        if self._engine_cls(lang) is not None:
            return self._engine_ok(lang)  # never silently served by another source
        if self._unimorph_ok(lang):
            return True
        return self.groups is None and "simplemma" in self.params.sources and lang in simplemma_languages()

    def supported_languages(self) -> frozenset[str]:
        langs = set(simplemma_languages()) if self.groups is None and "simplemma" in self.params.sources else set()
        langs |= {lang for lang in ISO3 if self._unimorph_ok(lang)}
        langs = {lang for lang in langs if self._engine_cls(lang) is None}
        langs |= {lang for lang in morph.ENGINES if self._engine_ok(lang)}
        return frozenset(langs)

    def unsupported_reason(self, lang: str) -> str:
        cls = self._engine_cls(lang)
        if cls is not None and cls.missing(lang) is not None:
            return f"{lang}: {cls.missing(lang)}"
        path = table_path(self.folder, lang) if self.folder is not None else None
        if path is not None and not path.is_file():
            return f"missing resource file {path} for language {lang!r}"
        if path is not None and self.groups is not None:
            return f"{path} has no forms of one lemma differing only in {', '.join(sorted(self.groups))}"
        return super().unsupported_reason(lang)

    def _lookups(self, lang: str) -> list[Callable[[str], Options | None]]:
        """Per-source ``word -> replacements`` (None: the source does not know the word)."""
        out: list[Callable[[str], Options | None]] = []
        for source in self.params.sources:
            path = self._table(lang)
            if source == "engine" and self._engine_cls(lang) is not None:
                out.append(morph.swap_finder(lang, self.groups).get)
            elif source == "unimorph" and path:
                out.append(swap_finder(path, lang, self.groups).get)
            elif source == "simplemma" and self.groups is None and lang in simplemma_languages():
                out.append(lemma_index(lang).lookup)
        return out

    def prepare(self, lang: str) -> None:
        if lang not in self._lookup_fns:
            self._lookup_fns[lang] = self._lookups(lang)
            self._options[lang] = {}

    def options_for(self, lang: str) -> Callable[[str], Options]:
        self.prepare(lang)
        memo, lookups = self._options[lang], self._lookup_fns[lang]

        def options(word: str) -> Options:
            hit = memo.get(word)
            if hit is None:
                hit = ()
                for lookup in lookups:
                    found = lookup(word)
                    if found is not None:  # the first source that knows the word decides
                        hit = found
                        break
                memo[word] = hit
            return hit

        return options

    def edit(self, word: str, options: Options, rng: random.Random, lang: str) -> str:
        form = rng.choice(options) if isinstance(options, tuple) else options.pick(rng)
        return match_case(word, form, lang)

    def candidates(self, word: str, options: Options, lang: str) -> Iterator[str]:
        forms = options if isinstance(options, tuple) else options.every()
        for form in forms:
            yield match_case(word, form, lang)

    def fingerprint(self) -> dict[str, str]:
        out = {}
        for lang in sorted(self.languages):
            if self._engine_cls(lang) is not None:
                out[f"engine/{lang}"] = f"{morph.engine(lang).name} {morph.engine(lang).version()}"
            path = self._table(lang)
            if path:
                out[f"unimorph/{Path(path).name}"] = file_digest(path)
        if self.groups is None and "simplemma" in self.params.sources:
            out["simplemma"] = simplemma_version()
        return out
