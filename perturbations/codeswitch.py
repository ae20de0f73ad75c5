"""Code-switching: swap words for their translation from MUSE bilingual dictionaries.

MUSE files are ``<muse_dir>/en-<x>.txt`` with one ``english foreign`` pair per line. For a sentence
in language ``L`` and a target ``T`` from ``into``:

* ``L`` -> ``en``: the en-L dictionary read backwards;
* ``en`` -> ``T``: the en-T dictionary read forwards;
* ``L`` -> ``T`` (third language): pivot through English, L -> en -> T.

Identity pairs (``the the``), non-word entries and translations equal to the source word are
skipped. Chinese MUSE entries are Traditional; each is also indexed in its Simplified form (zhconv's
MediaWiki conversion tables), since the XTREME-R Chinese data are Simplified. Text in languages written
without spaces between words (ja, zh, th) is segmented by forward maximum matching against the
dictionary's source words (pieces of two or more characters, or one hanzi); each matched piece is a word,
except that the piece right after a switched one is left alone, so that two switched words never merge.
Eligible words are those with at least one translation into some target other than ``L``;
a swapped word gets a target chosen uniformly among those it has, then a translation uniformly
among that target's. Dictionary entries are lower case; replacements copy the original's
capitalisation. Pivoting inherits English ambiguity (fi ``kuin`` -> en ``like`` -> de ``gefällt``),
and agglutinated words (Korean eojeol with particles, Finnish case forms) are found only when the
dictionary lists that exact form.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import regex

from perturbations.base import Tally, WordPerturbation, register
from perturbations.errors import PerturbationError
from perturbations.graphemes import well_formed
from perturbations.params import BaseParams, ParamError, resolve_dir
from perturbations.text import WORD_SPLIT, is_word, lower, match_case
from perturbations.unimorph import file_digest

Options = tuple[tuple[str, tuple[str, ...]], ...]  # ((target language, translations), ...)
UNSPACED = frozenset({"ja", "zh", "th"})
MAX_PIECE = 8  # longest dictionary word (in grapheme clusters) tried when segmenting unspaced text
CLUSTER = regex.compile(r"\X")


def _simplified(word: str) -> str:
    try:
        import zhconv
    except ImportError:
        raise PerturbationError("code-switching Chinese needs the zhconv package: pip install zhconv",
                                field="languages") from None
    return zhconv.convert(word, "zh-hans")


def source_pairs(path: str, lang: str) -> list[tuple[str, str]]:
    """(english, foreign) pairs of one MUSE file; for zh each Traditional entry also in Simplified."""
    pairs = list(read_muse(path))
    if lang == "zh":
        pairs += [(en, simple) for en, x in pairs if (simple := _simplified(x)) != x]
    return pairs


def _single_hanzi(piece: str) -> bool:
    return len(piece) == 1 and "\u4e00" <= piece <= "\u9fff"


@cache
def read_muse(path: str) -> tuple[tuple[str, str], ...]:
    """(english, foreign) pairs, identity pairs and non-words dropped, file order kept."""
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and parts[0] != parts[1] and is_word(parts[0]) and is_word(parts[1]):
                pairs.append((parts[0], parts[1]))
    return tuple(pairs)


def _group(pairs: list[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, dict[str, None]] = {}
    for key, value in pairs:
        out.setdefault(key, {})[value] = None
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class CodeSwitchParams(BaseParams):
    """into: target languages (``en`` or any language with a MUSE file); muse_dir: MUSE folder."""

    into: tuple[str, ...] = ("en",)
    muse_dir: str = "muse"


@register
class CodeSwitch(WordPerturbation):
    """Replace words by translations into one or more other languages."""

    name = "codeswitch"
    Params = CodeSwitchParams
    standalone_only = True

    def check_params(self) -> None:
        self.folder = resolve_dir(self.resources_dir, self.params.muse_dir, "muse_dir")
        if not self.params.into:
            raise ParamError("into must name at least one target language", "into")
        for target in self.params.into:
            if target != "en" and not self._file(target).is_file():
                raise ParamError(f"missing resource file {self._file(target)} for target language {target!r}",
                                 "into")
        self._index: dict[str, dict[str, Options]] = {}

    def _file(self, lang: str) -> Path:
        return self.folder / f"en-{lang}.txt"

    def _targets(self, lang: str) -> list[str]:
        """Targets reachable from ``lang`` with the dictionaries present."""
        if lang != "en" and not self._file(lang).is_file():
            return []
        return [t for t in self.params.into if t != lang]

    def is_supported(self, lang: str) -> bool:
        return bool(self._targets(lang))

    def supported_languages(self) -> frozenset[str]:
        langs = {p.stem[3:] for p in self.folder.glob("en-*.txt")} | {"en"}
        return frozenset(lang for lang in langs if self._targets(lang))

    def unsupported_reason(self, lang: str) -> str:
        if lang != "en" and not self._file(lang).is_file():
            return f"missing resource file {self._file(lang)} for language {lang!r}"
        return f"no target language other than {lang!r} in into={list(self.params.into)}"

    def _build(self, lang: str) -> dict[str, Options]:
        per_target: dict[str, dict[str, tuple[str, ...]]] = {}
        to_en = (_group([(lower(x, lang), en) for en, x in source_pairs(str(self._file(lang)), lang)])
                 if lang != "en" else {})
        for target in self._targets(lang):
            if target == "en":
                per_target[target] = to_en
                continue
            forward = _group(list(read_muse(str(self._file(target)))))
            if lang == "en":
                per_target[target] = forward
                continue
            pivot: dict[str, dict[str, None]] = {}
            for word, english in to_en.items():
                for en in english:
                    for t in forward.get(en, ()):
                        pivot.setdefault(word, {})[t] = None
            per_target[target] = {w: tuple(ts) for w, ts in pivot.items()}
        index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for target, table in per_target.items():
            for word, translations in table.items():
                keep = tuple(t for t in translations if lower(t, target) != word)
                if keep:
                    index.setdefault(word, []).append((target, keep))
        return {w: tuple(opts) for w, opts in index.items()}

    def prepare(self, lang: str) -> None:
        if lang not in self._index:
            self._index[lang] = self._build(lang)

    def source(self, lang: str) -> str:
        """The dictionaries serving ``lang``: ``muse:en-<lang>`` (+ the targets' files when pivoting)."""
        files = [f"en-{lang}"] if lang != "en" else []
        files += [f"en-{t}" for t in self._targets(lang) if t != "en"]
        seg = "+segmented" if lang in UNSPACED else ""
        return "muse:" + ",".join(dict.fromkeys(files)) + seg

    def segment(self, run: str, lang: str) -> list[str]:
        """Forward maximum matching of an unspaced run against ``lang``'s dictionary words, over grapheme
        clusters (a match never splits a cluster or strands a Thai leading vowel); the characters between
        matches form pieces of their own."""
        self.prepare(lang)
        index = self._index[lang]
        units = CLUSTER.findall(run)
        out: list[str] = []
        gap = ""
        i = 0
        n = len(units)
        while i < n:
            for size in range(min(MAX_PIECE, n - i), 0, -1):
                piece = "".join(units[i:i + size])
                if ((len(piece) > 1 or _single_hanzi(piece)) and lower(piece, lang) in index
                        and well_formed(piece)):
                    if gap:
                        out.append(gap)
                        gap = ""
                    out.append(piece)
                    i += size
                    break
            else:
                gap += units[i]
                i += 1
        if gap:
            out.append(gap)
        return out

    def word_eligibility(self, text: str, lang: str) -> list[tuple[str, bool]]:
        if lang not in UNSPACED:
            return super().word_eligibility(text, lang)
        parts = WORD_SPLIT.split(text)
        return [(piece, bool(self.options(piece, lang))) for k in range(1, len(parts), 2)
                for piece in self.segment(parts[k], lang)]

    def apply(self, text: str, rng: random.Random, lang: str, tally: Tally | None) -> str:
        if lang not in UNSPACED:
            return super().apply(text, rng, lang, tally)
        parts = WORD_SPLIT.split(text)
        eligible = edited = 0
        rate = self.params.rate
        for k in range(1, len(parts), 2):
            pieces = self.segment(parts[k], lang)
            changed = False
            after_switch = False  # a piece right after a switched one stays (no glued "motoroverheating")
            for j, piece in enumerate(pieces):
                opts = None if after_switch else self.options(piece, lang)
                after_switch = False
                if not opts:
                    continue
                eligible += 1
                if rng.random() < rate:
                    new = self.edit(piece, opts, rng, lang)
                    if new and new != piece:
                        pieces[j] = new
                        edited += 1
                        changed = after_switch = True
            if changed:
                parts[k] = "".join(pieces)
        if tally is not None:
            tally.add(eligible, edited, eligible * rate)
        return "".join(parts) if edited else text

    def options(self, word: str, lang: str) -> Options | None:
        index = self._index.get(lang)
        if index is None:
            self.prepare(lang)
            index = self._index[lang]
        return index.get(lower(word, lang))

    def edit(self, word: str, options: Options, rng: random.Random, lang: str) -> str:
        target, translations = options[0] if len(options) == 1 else rng.choice(options)
        return match_case(word, rng.choice(translations), target)

    def candidates(self, word: str, options: Options, lang: str) -> Iterator[str]:
        for target, translations in options:
            for translation in translations:
                yield match_case(word, translation, target)

    def fingerprint(self) -> dict[str, str]:
        files = {self._file(lang) for lang in self.languages if lang != "en"}
        files |= {self._file(t) for t in self.params.into if t != "en"}
        return {f"muse/{p.name}": file_digest(str(p)) for p in sorted(files)}
