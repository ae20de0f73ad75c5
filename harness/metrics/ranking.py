"""Ranking metrics for retrieval from a candidate pool (LAReQA, Mewsli-X): mean average precision at k.

A record's ``gold`` is the list of relevant candidate ids and ``ranked`` the retrieved ids, best first.
AP@k = Σ_{i≤k, ranked[i] relevant} precision@i / min(k, #relevant), the definition the LAReQA and
XTREME-R evaluation code use; with one relevant candidate (Mewsli-X) it equals the reciprocal rank
within the top k. Per-query column ``ap`` (a fraction); the score is 100 · mean AP.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.metrics.aggregates import mean_of_first
from harness.metrics.base import Metric, Records, register

MAP_K = 20


def average_precision(ranked: Sequence[str], relevant: Sequence[str], k: int = MAP_K) -> float:
    """AP@k of one ranked list; repeated ids count once, at their first rank."""
    wanted = set(relevant)
    if not wanted:
        return 0.0
    seen: set[str] = set()
    hits, total = 0, 0.0
    for rank, cid in enumerate(ranked[:k], start=1):
        if cid in wanted and cid not in seen:
            hits += 1
            total += hits / rank
        seen.add(cid)
    return total / min(len(wanted), k)


def _stats(records: Records) -> np.ndarray:
    values = [average_precision(r["ranked"], r["gold"]) for r in records]
    return np.asarray(values, dtype=np.float64).reshape(len(records), 1)


register(Metric("map_at_20", ("ap",), ("candidate_retrieval",), _stats, mean_of_first))
