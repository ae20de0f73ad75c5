"""The fast percentile interval is np.quantile's, bit for bit (numbers in reports must not move)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.stats.bootstrap import percentile_ci

VALUES = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, 0.25, 0.5, 1.0]))


def _expected(samples: np.ndarray, alpha: float) -> tuple:
    low, high = np.quantile(samples, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    return low, high


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 4)), elements=VALUES),
       st.sampled_from([0.05, 0.1, 0.01, 0.5, 0.999, 1e-9]))
def test_matches_numpy_on_columns_and_vectors(samples: np.ndarray, alpha: float) -> None:
    for x in (samples, samples[:, 0], samples[:, :1]):
        low, high = percentile_ci(x, alpha)
        want_low, want_high = _expected(x, alpha)
        assert np.array_equal(low, want_low) and np.array_equal(high, want_high)
        assert type(low) is type(want_low) and np.shape(low) == np.shape(want_low)


def test_matches_numpy_on_bootstrap_sized_samples() -> None:
    rng = np.random.default_rng(3)
    for samples in (rng.random((10_000, 3)), rng.integers(0, 40, (2000, 2)) / 40.0, rng.normal(size=(10_001,))):
        low, high = percentile_ci(samples, 0.05)
        want_low, want_high = _expected(samples, 0.05)
        assert np.array_equal(low, want_low) and np.array_equal(high, want_high)


def test_nan_and_integer_samples_give_numpys_answer() -> None:
    samples = np.array([[0.1, 0.2], [np.nan, 0.4], [0.3, 0.5], [0.7, 0.1]])
    low, high = percentile_ci(samples, 0.05)
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert low[1] == _expected(samples, 0.05)[0][1]
    counts = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    assert percentile_ci(counts, 0.1) == _expected(counts, 0.1)
