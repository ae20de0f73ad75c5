"""The bootstrap and the tests score every resample of every submission in one aggregate call, for every
registered metric, and those scores equal a plain loop over the same resampled sums."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from harness.metrics import METRICS, Metric
from harness.stats.bootstrap import compare, gain_robustness, paired_bootstrap
from harness.stats.engine import bootstrap_sums, bootstrap_values, stack_stats


def random_stats(k: int, n: int = 300, m: int = 3, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 3, size=(n, k)).astype(np.float64) for _ in range(m)]


class Spy:
    """Wraps an aggregate; records the shape of every sums array it is called with."""

    def __init__(self, metric: Metric) -> None:
        self.inner, self.shapes = metric.aggregate, []
        self.metric = dataclasses.replace(metric, aggregate=self)

    def __call__(self, sums: np.ndarray, n: object) -> np.ndarray:
        self.shapes.append(np.shape(sums))
        return self.inner(sums, n)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_bootstrap_scores_all_resamples_in_one_call(name: str) -> None:
    metric = METRICS[name]
    k = len(metric.columns)
    stats = random_stats(k)
    spy = Spy(metric)
    point, samples, _ = bootstrap_values(stats, spy.metric, n_resamples=500, seed=4)
    assert spy.shapes == [(3, k), (500, 3, k)]  # the point scores, then every resample at once
    # the same numbers as a plain loop of the metric over the very same resampled sums
    sums, _ = bootstrap_sums(stack_stats(stats), 500, seed=4)
    with np.errstate(divide="ignore", invalid="ignore"):
        loop = np.array([[float(metric.aggregate(row[j * k:(j + 1) * k], 300)) for j in range(3)]
                         for row in sums])
    np.testing.assert_array_equal(samples, loop)
    np.testing.assert_array_equal(point, [metric.score(s) for s in stats])


def test_call_count_does_not_grow_with_resamples() -> None:
    metric = METRICS["accuracy"]
    rng = np.random.default_rng(1)
    stats = [np.stack([rng.random(400) < q, np.ones(400)], axis=1).astype(float)
             for q in (0.6, 0.7, 0.7, 0.8)]
    calls = []
    for resamples in (100, 2000):
        spy = Spy(metric)
        paired_bootstrap(stats, spy.metric, n_resamples=resamples)
        compare(stats[0], stats[1], spy.metric, test="permutation", n_resamples=resamples,
                n_permutations=resamples)
        gain_robustness(*stats, spy.metric, n_resamples=resamples, n_permutations=resamples)
        calls.append(len(spy.shapes))
    assert calls[0] == calls[1] <= 12
