"""Sequence-labelling metrics: token accuracy (UD-POS) and entity-level precision/recall/F1 (PAN-X).

Entities follow seqeval's default (non-strict, conlleval-style) chunking of IOB2/IOBES tags: a chunk is
a maximal run of one entity type that starts at B-X (or S-X), or at I-X/E-X whose left neighbour is O, an
E-/S- tag or a different type, i.e. a stray I-X starts a new entity. An entity is (type, first, last)
and counts as correct only if type and both boundaries match. Per-sentence statistics are (tp, fp, fn);
corpus F1 is computed from their sums, exactly as seqeval's micro average does over a whole corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from harness.metrics.aggregates import f1_from_counts, precision_from_counts, ratio, recall_from_counts
from harness.metrics.base import Metric, Records, register

Entity = tuple[str, int, int]


def _split(tag: str) -> tuple[str, str]:
    """"B-PER" → ("B", "PER"); "O" → ("O", ""); a bare type "PER" is read as I-PER."""
    if not tag or tag == "O":
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if sep and prefix in ("B", "I", "E", "S"):
        return prefix, kind
    return "I", tag


def _ends(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    if prev in ("E", "S"):
        return True
    if prev in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev != "O" and prev_kind != kind


def _starts(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    if tag in ("B", "S"):
        return True
    if tag in ("I", "E") and prev in ("E", "S", "O"):
        return True
    return tag != "O" and prev_kind != kind


def entities(tags: Sequence[str]) -> set[Entity]:
    """The set of (type, first index, last index) chunks in one tag sequence."""
    found: set[Entity] = set()
    prev, prev_kind, begin = "O", "", -1
    for i, raw in enumerate([*tags, "O"]):  # the trailing O closes a chunk that reaches the end
        tag, kind = _split(raw)
        if _ends(prev, tag, prev_kind, kind) and begin >= 0:
            found.add((prev_kind, begin, i - 1))
            begin = -1
        if _starts(prev, tag, prev_kind, kind):
            begin = i
        prev, prev_kind = tag, kind
    return found


@lru_cache(maxsize=1 << 16)
def _chunks(tags: tuple[str, ...]) -> frozenset[Entity]:
    return frozenset(entities(tags))


def entity_counts(gold: Sequence[str], pred: Sequence[str]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) for one sentence."""
    g, p = _chunks(tuple(gold)), _chunks(tuple(pred))  # gold sequences repeat across systems and conditions
    tp = len(g & p)
    return tp, len(p) - tp, len(g) - tp


def _entity_stats(records: Records) -> np.ndarray:
    rows = [entity_counts(r["gold"], r["pred"]) for r in records]
    return np.asarray(rows, dtype=np.float64).reshape(len(records), 3)


def _token_stats(records: Records) -> np.ndarray:
    rows = []
    for r in records:
        gold, pred = r["gold"], r["pred"]
        rows.append((sum(g == p for g, p in zip(gold, pred, strict=True)), len(gold)))
    return np.asarray(rows, dtype=np.float64).reshape(len(records), 2)


_TYPES = ("token_classification",)
register(Metric("token_accuracy", ("correct", "total"), _TYPES, _token_stats, ratio))
register(Metric("entity_f1", ("tp", "fp", "fn"), _TYPES, _entity_stats, f1_from_counts))
register(Metric("entity_precision", ("tp", "fp", "fn"), _TYPES, _entity_stats, precision_from_counts))
register(Metric("entity_recall", ("tp", "fp", "fn"), _TYPES, _entity_stats, recall_from_counts))
