"""UniMorph tables (``lemma<TAB>form<TAB>features``) and feature-aware swap indexes.

Features are grouped into dimensions (``case``, ``number``, ``person`` …). A swap that may change
the dimensions ``G`` replaces a form by another form of the same lemma whose feature bundle differs
in at least one dimension of ``G`` and in no other dimension; ``any`` allows every other form.
Matching is on a normalised key (lower case, Turkic i's handled; Arabic without harakat, since
UniMorph Arabic is fully vocalised and running text is not). Multi-word forms (``ole maikkunut``)
are never used, as sources or as replacements.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

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


def _outside(dims: frozenset[tuple[str, frozenset[str]]], groups: frozenset[str]) -> frozenset:
    return frozenset(d for d in dims if d[0] not in groups)


class SwapIndex:
    """key -> replacement forms allowed for ``groups`` (None: any other form of the same lemma).

    Replacements are computed on first lookup of a key and memoised.
    """

    def __init__(self, table: dict[str, list[tuple[str, str]]], lang: str, groups: frozenset[str] | None) -> None:
        self.groups = groups
        self.paradigms: list[list[tuple[str, str, frozenset]]] = []
        self.by_key: dict[str, list[tuple[int, frozenset]]] = {}
        for entries in table.values():
            number = len(self.paradigms)
            paradigm = [(form, key_of(form, lang), _dims(feats)) for form, feats in entries]
            self.paradigms.append(paradigm)
            for _, key, dims in paradigm:
                self.by_key.setdefault(key, []).append((number, dims))
        self._memo: dict[str, tuple[str, ...]] = {}

    def _allowed(self, a: frozenset, b: frozenset) -> bool:
        if self.groups is None:
            return True
        return a != b and _outside(a, self.groups) == _outside(b, self.groups)

    def get(self, key: str) -> tuple[str, ...]:
        hit = self._memo.get(key)
        if hit is None:
            out: dict[str, None] = {}
            for number, dims in self.by_key.get(key, ()):
                for form, other_key, other_dims in self.paradigms[number]:
                    if other_key != key and self._allowed(dims, other_dims):
                        out[form] = None
            hit = self._memo[key] = tuple(out)
        return hit

    def has_swaps(self) -> bool:
        """True if at least one key has a replacement."""
        for paradigm in self.paradigms:
            seen: dict[frozenset, set[str]] = {}
            for _, key, dims in paradigm:
                bucket = seen.setdefault(_outside(dims, self.groups) if self.groups else frozenset(), set())
                if bucket and (bucket - {key}):
                    return True
                bucket.add(key)
        return False


@cache
def swap_index(path: str, lang: str, groups: frozenset[str] | None) -> SwapIndex:
    """The (memoised) swap index of one UniMorph file for one set of changeable dimensions."""
    return SwapIndex(read_table(path, lang), lang, groups)


@cache
def file_digest(path: str) -> str:
    """Short content hash of a resource file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
