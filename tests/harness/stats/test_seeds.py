"""The pieces of the two-level bootstrap (:mod:`harness.stats.seeds`) and their algebra."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ttest_ind

from harness.stats.seeds import bootstrap_p, seed_aware_test, seed_deviations, seed_weights, two_level


def test_seed_weights_sum_to_one_and_give_the_unbiased_variance() -> None:
    rng = np.random.default_rng(0)
    values = np.array([71.0, 74.5, 73.0])
    weights = seed_weights(3, 200_000, rng)
    assert np.allclose(weights.sum(axis=1), 1.0)
    draws = weights @ values
    assert draws.mean() == pytest.approx(values.mean(), abs=0.01)
    assert draws.var() == pytest.approx(values.var(ddof=1) / 3, rel=0.02)  # s²/R, not (R-1)/R · s²/R
    assert np.all(seed_weights(1, 5, rng) == 1.0)
    assert np.all(seed_weights(4, 5, rng, two_level=False) == 0.25)


def test_constant_weights_give_the_example_only_bootstrap() -> None:
    rng = np.random.default_rng(1)
    points = np.array([0.70, 0.74, 0.71])
    resampled = points + rng.normal(0, 0.01, size=(50, 3))
    flat = two_level(points, resampled, seed_weights(3, 50, rng, two_level=False))
    assert np.allclose(flat, resampled.mean(axis=1))


def test_seed_deviations_shrink_to_the_between_seed_part() -> None:
    rng = np.random.default_rng(2)
    noise = rng.normal(0, 0.01, size=(400, 3))
    far = np.array([0.60, 0.70, 0.80])  # seeds 10 points apart, example noise 1 point
    assert np.allclose(seed_deviations(far, far + noise), far - far.mean(), rtol=0.01)
    close = np.array([0.700, 0.701, 0.699])  # seeds no further apart than their example noise
    assert np.allclose(seed_deviations(close, close + noise), 0.0)
    assert np.all(seed_deviations(np.array([0.5]), np.zeros((4, 1))) == 0.0)


def test_seed_aware_test_is_the_pooled_t_test_without_example_noise() -> None:
    """With no example noise the bootstrap variance is the seed variance, and the test is Student's pooled
    two-sample t-test on the per-seed scores (equal seed counts)."""
    a, b = np.array([70.1, 72.3, 71.0, 69.8]), np.array([72.9, 73.5, 71.7, 74.0])
    var = a.var(ddof=1) / 4 + b.var(ddof=1) / 4
    z = np.random.default_rng(3).normal(size=5000)
    samples = b.mean() - a.mean() + np.sqrt(var) * (z - z.mean()) / z.std(ddof=1)
    res = seed_aware_test(b.mean() - a.mean(), samples, [a, b])
    ref = ttest_ind(b, a, equal_var=True)
    assert float(res.df) == pytest.approx(6.0)
    assert float(res.p_value) == pytest.approx(ref.pvalue, rel=1e-9)
    assert float(res.ci_low) < b.mean() - a.mean() < float(res.ci_high)


def test_one_seed_systems_fall_back_to_the_normal_reference() -> None:
    z = np.random.default_rng(4).normal(size=4000)
    res = seed_aware_test(1.96, (z - z.mean()) / z.std(ddof=1), [np.array([1.0]), np.array([2.0])])
    assert np.isinf(float(res.df)) and float(res.p_value) == pytest.approx(0.05, abs=1e-3)


def test_bootstrap_p_counts_both_tails() -> None:
    d = np.concatenate([np.full(90, 1.0), np.full(10, -1.0)])
    assert float(bootstrap_p(d)) == pytest.approx(2 * 11 / 101)
    assert float(bootstrap_p(np.ones(99))) == pytest.approx(2 / 100)
