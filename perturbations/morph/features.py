"""Readings of a word (lemma, part of speech, feature bundle) and the rule a feature-aware swap obeys.

Every engine maps its own tags onto shared *dimensions* (``case``, ``number``, ``tense``, ``person`` …);
a tag an engine cannot place keeps a dimension of its own (``x:<tag>``), so it can never be swapped.
A swap from a word with readings ``R`` to a replacement with readings ``T`` is allowed when

* every reading in ``R`` and ``T`` has one and the same lemma and part of speech (a word or replacement
  the engine reads as two lemmas or two parts of speech is ambiguous and skipped);
* no feature bundle is in both ``R`` and ``T`` (the swap always changes something);
* for every reading of the word there is a reading of the replacement that differs from it in at least
  one dimension and only in the dimensions asked for (all of them but lemma and POS for ``any``), so
  the swap changes only the requested features whichever reading the sentence meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Feats = frozenset[tuple[str, str]]  # (dimension, value); one value per dimension
# Agreement dimensions a form may simply lack where the language neutralises them: gender in Russian plurals,
# person in the past tense, animacy outside the accusative. Missing on one side only, they do not count.
NEUTRALISED = frozenset({"gender", "person", "animacy"})


@dataclass(frozen=True, slots=True)
class Reading:
    """One analysis of a word form."""

    lemma: str
    pos: str
    feats: Feats

    def get(self, dim: str) -> str | None:
        for d, v in self.feats:
            if d == dim:
                return v
        return None


def feats(pairs: Iterable[tuple[str, str]]) -> Feats:
    """A feature bundle from (dimension, value) pairs; a repeated dimension keeps its values joined."""
    out: dict[str, str] = {}
    for dim, value in pairs:
        out[dim] = f"{out[dim]}+{value}" if dim in out and out[dim] != value else value
    return frozenset(out.items())


def changed_dims(a: Feats, b: Feats) -> frozenset[str]:
    """Dimensions whose value differs between two bundles. A missing dimension counts as a value, except
    a :data:`NEUTRALISED` one missing on one side only (``красный`` -> ``красные`` changes number only)."""
    da, db = dict(a), dict(b)
    return frozenset(d for d in da.keys() | db.keys()
                     if da.get(d) != db.get(d) and not (d in NEUTRALISED and (d not in da or d not in db)))


def allowed(a: Feats, b: Feats, groups: frozenset[str] | None) -> bool:
    """True if ``b`` differs from ``a`` somewhere, and only in ``groups`` (None: anywhere)."""
    diff = changed_dims(a, b)
    return bool(diff) and (groups is None or diff <= groups)


def identity(readings: tuple[Reading, ...]) -> tuple[str, str] | None:
    """The single (lemma, POS) of a set of readings, or None if there are several (ambiguous)."""
    ids = {(r.lemma, r.pos) for r in readings}
    return next(iter(ids)) if len(ids) == 1 else None


def swap_ok(source: tuple[Reading, ...], target: tuple[Reading, ...], groups: frozenset[str] | None) -> bool:
    """The module's rule: may a word read as ``source`` be replaced by one read as ``target``?"""
    ident = identity(source)
    if ident is None or not target or identity(target) != ident:
        return False
    src = {r.feats for r in source}
    dst = {r.feats for r in target}
    if src & dst:
        return False
    return all(any(allowed(s, t, groups) for t in dst) for s in src)
