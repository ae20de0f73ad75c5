"""UniMorph tables (``lemma<TAB>form<TAB>features``) as a morphological engine.

Features are grouped into dimensions (``case``, ``number``, ``person`` …; the POS tag is the reading's
part of speech). Swaps follow the rule of :mod:`perturbations.morph.features` with the table as the
analyser: a form listed under two lemmas or two parts of speech is ambiguous and skipped, and a
replacement must differ from every reading of the word only in the requested dimensions.
Matching is on a normalised key (lower case, Turkic i's handled; Arabic without harakat, since
UniMorph Arabic is fully vocalised and running text is not). Multi-word forms (``ole maikkunut``)
are never used, as sources or as replacements.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from perturbations.morph.engine import Engine, SwapFinder
from perturbations.morph.features import Reading
from perturbations.text import is_word, lower

ISO3 = {"ar": "ara", "bg": "bul", "cs": "ces", "de": "deu", "el": "ell", "en": "eng", "es": "spa", "et": "est",
        "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun", "it": "ita",
        "ka": "kat", "kk": "kaz", "ko": "kor", "lt": "lit", "lv": "lav", "nl": "nld", "pl": "pol", "pt": "por",
        "qu": "que", "ro": "ron", "ru": "rus", "sw": "swc", "ta": "tam", "tr": "tur", "uk": "ukr", "ur": "urd"}

_GROUP_TAGS = {
    "case": "NOM ACC GEN DAT INS INST ESS LOC ABL ALL PRT TRANS TERM COM PRIV FRML PRP BEN INTER DISTR EXCLV "
            "CAUSV COMPV VOC ERG ABS EQTV PROL AVR SUB APUD",
    "number": "SG PL DU TRI PAUC GRPL",
    "person": "0 1 2 3 4 1+EXCL 1+INCL INCL EXCL 1S 2S 3S 1P 2P 3P",
    "tense": "PRS PST FUT RCT RMT HOD",
    "aspect": "PFV IPFV PRF PROG HAB ITER PROSP DUR",
    "mood": "IND SBJV COND IMP POT QUOT OPT DECL",
    "voice": "ACT PASS MID",
    "polarity": "POS NEG",
    "definiteness": "DEF NDEF INDF SPEC NSPEC",
    "gender": "MASC FEM NEUT",
    "animacy": "ANIM INAN HUM NHUM",
    "finiteness": "NFIN FIN",
    "valency": "INTR TR DITR",
    "comparison": "CMPR SPRL EQT",
    "pos": "N V ADJ ADV PRO DET ADP NUM PROPN V.PTCP V.CVB V.MSDR",
}
TAG_GROUP = {tag: group for group, tags in _GROUP_TAGS.items() for tag in tags.split()}
GROUPS = frozenset(_GROUP_TAGS) | {"possession"}
SWAP_GROUPS = GROUPS - {"pos"}  # a swap never changes part of speech
ARABIC_MARKS = re.compile("[\u064b-\u0652\u0670\u0640]")


def tag_group(tag: str) -> str:
    """The dimension a UniMorph tag belongs to (unknown tags are their own dimension)."""
    if tag in TAG_GROUP:
        return TAG_GROUP[tag]
    if tag.startswith("PSS"):
        return "possession"
    if "+" in tag and not tag[0].isdigit():
        return "case"  # spatial cases: IN+ESS, AT+ALL, ON+ABL …
    return "tag:" + tag


@cache
def _dims(feats: str) -> frozenset[tuple[str, frozenset[str]]]:
    by_group: dict[str, set[str]] = {}
    for tag in feats.split(";"):
        if tag:
            by_group.setdefault(tag_group(tag), set()).add(tag)
    return frozenset((g, frozenset(t)) for g, t in by_group.items())


def surface(lang: str) -> Callable[[str], str]:
    """Form as inserted into text (Arabic loses its harakat)."""
    if lang == "ar":
        return lambda s: ARABIC_MARKS.sub("", s)
    return lambda s: s


def key_of(word: str, lang: str) -> str:
    """Normalised lookup key of a word."""
    if lang == "ar":
        word = ARABIC_MARKS.sub("", word)
    return lower(word, lang)


def table_path(folder: Path, lang: str) -> Path | None:
    iso3 = ISO3.get(lang)
    return folder / f"{iso3}.tsv" if iso3 else None


@cache
def read_table(path: str, lang: str) -> dict[str, list[tuple[str, str]]]:
    """lemma -> [(surface form, features)] for single-word forms."""
    show = surface(lang)
    out: dict[str, list[tuple[str, str]]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            form = show(parts[1].strip())
            if not is_word(form):
                continue
            out.setdefault(parts[0], []).append((form, parts[2].strip()))
    return out


def _value(tags: frozenset[str]) -> str:
    return "+".join(sorted(tags))


class TableEngine(Engine):
    """A UniMorph table as a morphological engine: a form's readings are its table rows (lemma, the POS
    tag, the other dimensions); candidates are the other single-word forms of the same paradigm."""

    name = "unimorph"
    dims = frozenset(SWAP_GROUPS)

    def __init__(self, table: dict[str, list[tuple[str, str]]], lang: str) -> None:
        super().__init__(lang)
        self.paradigms: list[tuple[str, ...]] = []
        self.by_key: dict[str, list[tuple[int, Reading]]] = {}
        for lemma, entries in table.items():
            number = len(self.paradigms)
            self.paradigms.append(tuple(form for form, _ in entries))
            for form, feats in entries:
                dims = _dims(feats)
                pos = _value(next((t for g, t in dims if g == "pos"), frozenset()))
                reading = Reading(lemma, pos, frozenset((g, _value(t)) for g, t in dims if g != "pos"))
                self.by_key.setdefault(key_of(form, lang), []).append((number, reading))

    def analyse(self, word: str) -> tuple[Reading, ...]:
        return tuple(r for _, r in self.by_key.get(key_of(word, self.lang), ()))

    def generate(self, word: str, reading: Reading, groups: frozenset[str] | None) -> Iterable[str]:
        for number, r in self.by_key.get(key_of(word, self.lang), ()):
            if r == reading:
                yield from self.paradigms[number]

    def has_swaps(self, groups: frozenset[str] | None) -> bool:
        """True if some paradigm has two forms differing only in ``groups`` (a quick claim check)."""
        for number, paradigm in enumerate(self.paradigms):
            seen: dict[frozenset, set[str]] = {}  # (POS, dimensions outside groups) -> keys
            for form in paradigm:
                key = key_of(form, self.lang)
                for n, r in self.by_key[key]:
                    if n != number:
                        continue
                    outside = frozenset(kv for kv in r.feats if groups is not None and kv[0] not in groups)
                    bucket = seen.setdefault(frozenset({("pos", r.pos), *outside}), set())
                    if bucket - {key}:
                        return True
                    bucket.add(key)
        return False


@cache
def table_engine(path: str, lang: str) -> TableEngine:
    """The (memoised) engine over one UniMorph file."""
    return TableEngine(read_table(path, lang), lang)


@cache
def swap_finder(path: str, lang: str, groups: frozenset[str] | None) -> SwapFinder:
    """The (memoised) swap finder over one UniMorph file for one set of changeable dimensions."""
    return SwapFinder(table_engine(path, lang), groups)


@cache
def file_digest(path: str) -> str:
    """Short content hash of a resource file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
