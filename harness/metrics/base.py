"""Metrics as per-example sufficient statistics plus a batched aggregate of their column sums.

Every score the harness reports is ``metric.aggregate(stats.sum(0), n)`` where ``stats`` is an
``(n_examples, k)`` array computed from stored prediction records alone. Bootstrap and permutation tests
resample rows of that array and score all resamples in one call, since every registered aggregate is batched
over leading axes (:mod:`harness.metrics.aggregates`, checked by :func:`register`). Values are in percent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from harness.metrics.aggregates import Aggregate, check_batched, ratio

Records = Sequence[dict]


@dataclass(frozen=True)
class Metric:
    """A named metric: columns of per-example statistics and how their sums become a score.

    ``aggregate(sums, n)`` takes sums of shape ``(..., k)`` and returns scores of shape ``(...)``."""

    name: str
    columns: tuple[str, ...]
    task_types: tuple[str, ...]
    per_example: Callable[[Records], np.ndarray]
    aggregate: Aggregate
    higher_is_better: bool = True

    def stats(self, records: Records) -> np.ndarray:
        out = np.asarray(self.per_example(records), dtype=np.float64)
        return out.reshape(len(records), len(self.columns))

    def score(self, stats: np.ndarray) -> float:
        n = int(stats.shape[0])
        if n == 0:
            return float("nan")
        return float(self.aggregate(stats.sum(axis=0), n))


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add ``metric`` to :data:`METRICS`; refuses a second metric of the same name and an aggregate that is not
    batched over leading axes (:func:`harness.metrics.aggregates.check_batched`)."""
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} registered twice")
    check_batched(metric.name, metric.aggregate, len(metric.columns))
    METRICS[metric.name] = metric
    return metric


def _match(key: str, gold_key: str = "gold") -> Callable[[Records], np.ndarray]:
    def per_example(records: Records) -> np.ndarray:
        correct = np.fromiter((r[key] == r[gold_key] for r in records), dtype=np.float64, count=len(records))
        return np.stack([correct, np.ones_like(correct)], axis=1)

    return per_example


register(Metric("accuracy", ("correct", "total"), ("pair_classification", "multiple_choice", "retrieval"),
                _match("pred"), ratio))
register(Metric("accuracy_en2xx", ("correct", "total"), ("retrieval",), _match("pred_rev"), ratio))


def metric_table(metric_names: Sequence[str], records: Records) -> dict[str, tuple[float, np.ndarray]]:
    """name → (score, per-example stats) for each metric."""
    out = {}
    for name in metric_names:
        metric = METRICS[name]
        stats = metric.stats(records)
        out[name] = (metric.score(stats), stats)
    return out
