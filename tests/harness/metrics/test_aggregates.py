"""Aggregates are batched over leading axes: registration checks it; batched scores equal row-by-row ones."""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics import METRICS, Metric, base
from harness.metrics.aggregates import check_batched


def random_sums(k: int, shape: tuple[int, ...] = (40, 3), seed: int = 0) -> np.ndarray:
    """Small non-negative integer sums with many zeros, so every zero-denominator branch is hit."""
    rng = np.random.default_rng(seed)
    sums = rng.integers(0, 4, size=(*shape, k)).astype(np.float64)
    sums[rng.random(shape) < 0.2] = 0.0
    return sums


# the aggregates as they were written before they were batched (one 1-D sums vector each)
def _ratio(s: np.ndarray, n: int) -> float:
    return 100.0 * s[0] / s[1] if s[1] else float("nan")


def _f1(s: np.ndarray, n: int) -> float:
    denom = 2 * s[0] + s[1] + s[2]
    return 100.0 * 2 * s[0] / denom if denom else 0.0


def _precision(s: np.ndarray, n: int) -> float:
    predicted = s[0] + s[1]
    return 100.0 * s[0] / predicted if predicted else 0.0


def _recall(s: np.ndarray, n: int) -> float:
    actual = s[0] + s[2]
    return 100.0 * s[0] / actual if actual else 0.0


SCALAR = {
    "accuracy": _ratio, "accuracy_en2xx": _ratio, "token_accuracy": _ratio,
    "map_at_20": lambda s, n: 100.0 * s[0] / n,
    "exact_match": lambda s, n: 100.0 * s[0] / n, "f1": lambda s, n: 100.0 * s[1] / n,
    "em_f1": lambda s, n: 100.0 * (s[0] + s[1]) / (2 * n),
    "entity_f1": _f1, "entity_precision": _precision, "entity_recall": _recall,
}


def test_every_registered_metric_has_a_reference() -> None:
    assert set(SCALAR) == set(METRICS)


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_batched_aggregate_equals_row_by_row(name: str) -> None:
    metric = METRICS[name]
    sums = random_sums(len(metric.columns))
    n = 11
    batched = metric.aggregate(sums, n)
    assert batched.shape == sums.shape[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = np.array([[metric.aggregate(row, n) for row in block] for block in sums])
        old = np.array([[SCALAR[name](row, n) for row in block] for block in sums])
    # exactly the same floats, row by row and as the unbatched definition computed them
    np.testing.assert_array_equal(batched, rows)
    np.testing.assert_array_equal(batched, old)
    counts = np.arange(1, sums.shape[0] + 1)[:, None]  # n broadcast over the leading axes
    by_count = [[metric.aggregate(row, int(c)) for row in block]
                for block, c in zip(sums, counts[:, 0], strict=True)]
    np.testing.assert_array_equal(metric.aggregate(sums, counts), np.array(by_count))


def test_score_of_stats_is_the_aggregate_of_their_sums() -> None:
    metric = METRICS["entity_f1"]
    stats = random_sums(3, shape=(25,), seed=3)
    assert metric.score(stats) == float(metric.aggregate(stats.sum(axis=0), 25))


def _toy(aggregate: object, name: str = "toy") -> Metric:
    return Metric(name, ("correct", "total"), ("pair_classification",), lambda records: np.zeros((0, 2)),
                  aggregate)


@pytest.mark.parametrize(("aggregate", "message"), [
    (_ratio, "raised ValueError"),  # a Python branch on one sums vector
    (lambda s, n: 100.0 * s[0] / s[1], "gave shape"),  # indexes the first axis, not the last
    (lambda s, n: np.float64(100.0 * s[..., 0].sum() / s[..., 1].sum()), "gave shape"),  # collapses the stack
    (lambda s, n: 100.0 * s[..., 0] / max(float(np.max(s[..., 1])), 1.0), "differs"),  # couples the rows
])
def test_register_refuses_an_aggregate_that_is_not_batched(monkeypatch: pytest.MonkeyPatch, aggregate: object,
                                                           message: str) -> None:
    monkeypatch.setattr(base, "METRICS", dict(METRICS))
    refused = "metric 'toy': aggregate is not batched over leading axes"
    with pytest.raises(ValueError, match=f"{refused}.*{message}"):
        base.register(_toy(aggregate))
    assert "toy" not in base.METRICS


def test_register_accepts_a_batched_aggregate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "METRICS", dict(METRICS))

    def error_rate(sums: np.ndarray, n: object) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sums[..., 1] != 0, 100.0 * (sums[..., 1] - sums[..., 0]) / sums[..., 1], np.nan)

    metric = base.register(_toy(error_rate, "error_rate"))
    assert base.METRICS["error_rate"] is metric
    with pytest.raises(ValueError, match="registered twice"):
        base.register(metric)


def test_check_batched_passes_every_registered_metric() -> None:
    for metric in METRICS.values():
        check_batched(metric.name, metric.aggregate, len(metric.columns))
