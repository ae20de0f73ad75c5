"""Morphological inflection swaps: replace a word with another form of the same lemma.

Sources, tried in the order given by ``sources`` (the first that knows a word supplies its forms):

* ``unimorph``: ``<resources>/<unimorph_dir>/<iso639-3>.tsv`` tables; feature-aware (``change``).
* ``simplemma``: simplemma's lemma dictionaries inverted to lemma -> forms; no features, so it is
  only used with ``change: [any]``. Its dictionaries also map derived forms to their root
  (Turkish ``çoklaşması`` -> ``çok``) and merge homographs, so its swaps are noisier than UniMorph's.

Eligible words are those with at least one replacement; ``rate`` is the probability of swapping an
eligible word. Replacements are never the same string (compared case-insensitively), are always a
single word (multi-word UniMorph forms are never used) and take the original's capitalisation.
Words glued to digits, hyphens or apostrophes and single letters are not eligible.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from perturbations.base import WordPerturbation, register
from perturbations.lemmas import LemmaChoice, lemma_index, simplemma_languages, simplemma_version
from perturbations.params import BaseParams, ParamError, resolve_dir
from perturbations.text import match_case
from perturbations.unimorph import ISO3, SWAP_GROUPS, file_digest, key_of, swap_index, table_path

SOURCES = ("unimorph", "simplemma")
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
        if self.groups is not None and "unimorph" not in p.sources:
            raise ParamError("feature-restricted swaps need the unimorph source (simplemma has no features)",
                             "sources")
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
        return path is not None and (self.groups is None or swap_index(path, lang, self.groups).has_swaps())

    def is_supported(self, lang: str) -> bool:
        if self._unimorph_ok(lang):
            return True
        return self.groups is None and "simplemma" in self.params.sources and lang in simplemma_languages()

    def supported_languages(self) -> frozenset[str]:
        langs = set(simplemma_languages()) if self.groups is None and "simplemma" in self.params.sources else set()
        langs |= {lang for lang in ISO3 if self._unimorph_ok(lang)}
        return frozenset(langs)

    def unsupported_reason(self, lang: str) -> str:
        path = table_path(self.folder, lang) if self.folder is not None else None
        if path is not None and not path.is_file():
            return f"missing resource file {path} for language {lang!r}"
        if path is not None and self.groups is not None:
            return f"{path} has no forms of one lemma differing only in {', '.join(sorted(self.groups))}"
        return super().unsupported_reason(lang)

    def _lookups(self, lang: str) -> list[Callable[[str], Options | None]]:
        out: list[Callable[[str], Options | None]] = []
        for source in self.params.sources:
            path = self._table(lang)
            if source == "unimorph" and path:
                index = swap_index(path, lang, self.groups)
                out.append(lambda word, index=index: index.get(key_of(word, lang)))  # type: ignore[misc]
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
                    if found:
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
            path = self._table(lang)
            if path:
                out[f"unimorph/{Path(path).name}"] = file_digest(path)
        if self.groups is None and "simplemma" in self.params.sources:
            out["simplemma"] = simplemma_version()
        return out
