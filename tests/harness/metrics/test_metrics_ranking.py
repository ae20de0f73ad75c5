"""mAP@20 for retrieval from a candidate pool, on lists worked out by hand."""

from __future__ import annotations

import pytest

from harness.metrics import METRICS
from harness.metrics.ranking import average_precision


@pytest.mark.parametrize(
    ("ranked", "relevant", "expected"),
    [
        (["a", "x", "b"], ["a", "b"], (1 / 1 + 2 / 3) / 2),  # hits at ranks 1 and 3
        (["x", "a"], ["a"], 1 / 2),  # one relevant (Mewsli-X): reciprocal rank
        (["x", "y"], ["a"], 0.0),
        (["x", "a", "b", "y"], ["a", "b", "c"], (1 / 2 + 2 / 3) / 3),  # c never retrieved: divide by 3
        (["a", "a", "b"], ["a", "b"], (1 / 1 + 2 / 3) / 2),  # a repeated id counts once
        ([f"x{i}" for i in range(20)] + ["a"], ["a"], 0.0),  # rank 21 is outside the top 20
        (["a"], [], 0.0),
    ],
)
def test_average_precision_at_20(ranked: list[str], relevant: list[str], expected: float) -> None:
    assert average_precision(ranked, relevant) == pytest.approx(expected)


def test_divisor_is_min_of_k_and_relevant() -> None:
    relevant = [f"r{i}" for i in range(25)]
    assert average_precision(relevant, relevant) == pytest.approx(1.0)  # 20 hits / min(25, 20)


def test_map_metric_is_mean_ap_in_percent() -> None:
    records = [{"ranked": ["a", "x"], "gold": ["a"]}, {"ranked": ["x", "a"], "gold": ["a"]}]
    metric = METRICS["map_at_20"]
    assert metric.score(metric.stats(records)) == pytest.approx(75.0)
