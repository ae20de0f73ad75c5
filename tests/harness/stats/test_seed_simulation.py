"""Simulations of the seed-aware test: two systems whose seeds come from ONE distribution (a true null).

Each simulated cell has ``n`` examples with difficulties shared by both systems (``p_i ~ Beta(4, 2)``), and
each fine-tuning seed shifts a system's accuracy by ``u ~ N(0, seed_sd²)``; a seed's outcome on example
``i`` is ``Bernoulli(p_i + u)``. Per simulation the same code path as :class:`harness.stats.analysis.Analysis`
runs: the engine's example resample of every seed of both systems (shared, so the pairing holds), the
report-wide seed draws, :func:`two_level`, and :func:`seed_aware_test` — vectorised over simulations. The
example-only test is the paired bootstrap test of the seed means with seeds held fixed (what a harness that
ignores seeds reports).
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.stats.engine import bootstrap_sums
from harness.stats.seeds import bootstrap_p, seed_aware_test, seed_weights, two_level

ALPHA = 0.05
SIMS = 2000
TOLERANCE = 0.015


def simulate(seed_sd: float, n_seeds: int, *, sims: int = SIMS, n: int = 300, resamples: int = 400,
             rng_seed: int = 0) -> dict[str, float]:
    """False-positive rates of both tests and coverage of one system's two-level interval."""
    rng = np.random.default_rng(rng_seed)
    difficulty = rng.beta(4, 2, size=(sims, 1, 1, n))
    shift = rng.normal(0.0, seed_sd, size=(sims, 2, n_seeds, 1))
    outcome = (rng.random((sims, 2, n_seeds, n)) < np.clip(difficulty + shift, 0, 1)).astype(np.float64)
    points = outcome.mean(axis=-1)  # (sims, system, seed): per-seed accuracy
    resampled = np.empty((sims, 2, resamples, n_seeds))
    group = 20  # simulations sharing one engine call (columns); each group gets its own example resample
    for start in range(0, sims, group):
        block = outcome[start:start + group]  # (g, 2, R, n)
        matrix = block.transpose(3, 0, 1, 2).reshape(n, -1)
        sums, _ = bootstrap_sums(matrix, resamples, seed=[rng_seed, start], method="gather")
        resampled[start:start + group] = (sums / n).reshape(resamples, -1, 2, n_seeds).transpose(1, 2, 0, 3)
    weights = np.stack([np.stack([seed_weights(n_seeds, resamples, rng) for _ in range(2)]) for _ in range(sims)])
    samples = two_level(points, resampled, weights)  # (sims, 2, B)
    diff = points[:, 1].mean(-1) - points[:, 0].mean(-1)
    seed_test = seed_aware_test(diff, samples[:, 1] - samples[:, 0], [points[:, 0], points[:, 1]], ALPHA)
    examples = resampled.mean(axis=-1)  # seeds fixed
    example_p = bootstrap_p(examples[:, 1] - examples[:, 0])
    truth = 4 / 6  # mean difficulty; seed shifts have mean 0
    one = seed_aware_test(points[:, 0].mean(-1) - truth, samples[:, 0], [points[:, 0]], ALPHA)
    return {"seed_aware": float(np.mean(seed_test.p_value < ALPHA)), "example_only": float(np.mean(example_p < ALPHA)),
            "coverage": float(np.mean(one.p_value >= ALPHA)), "median_df": float(np.median(seed_test.df))}


@pytest.mark.parametrize(("seed_sd", "n_seeds"), [(0.05, 3), (0.03, 5)])
def test_seed_aware_test_keeps_alpha_where_example_only_test_does_not(seed_sd: float, n_seeds: int) -> None:
    """Large seed variance (a seed moves accuracy by 3–5 points, about twice the example noise of a seed's
    score on 300 examples): the seed-aware test rejects a true null at α, the example-only test far more often."""
    res = simulate(seed_sd, n_seeds)
    assert abs(res["seed_aware"] - ALPHA) <= TOLERANCE, res
    assert res["example_only"] > ALPHA + 3 * TOLERANCE, res
    assert res["coverage"] >= 0.93, res


def test_without_seed_variance_both_tests_stay_valid() -> None:
    """Seeds that differ only by example noise: the example-only test is right, the seed-aware one is not
    anti-conservative (the seed draw shrinks to nothing: kappa → 0)."""
    res = simulate(0.0, 3, rng_seed=1)
    assert abs(res["example_only"] - ALPHA) <= TOLERANCE, res
    assert res["seed_aware"] <= ALPHA + TOLERANCE, res
    assert res["coverage"] >= 0.93, res


def test_product_resampling_would_be_conservative() -> None:
    """Why the seed draw is added rather than multiplied: rescoring every drawn seed on the drawn examples (the
    pigeonhole bootstrap) counts the seed × example noise three times, so its variance is far above the
    two-level one on the same data."""
    rng = np.random.default_rng(3)
    n, r, b = 300, 3, 2000
    outcome = (rng.random((r, n)) < rng.beta(4, 2, size=n)).astype(np.float64)
    points = outcome.mean(axis=1)
    sums, _ = bootstrap_sums(outcome.T, b, seed=5, method="gather")
    resampled = sums / n
    weights = seed_weights(r, b, rng)
    pigeonhole = np.einsum("br,br->b", weights, resampled)
    two = two_level(points, resampled, weights)
    assert pigeonhole.var() > 1.5 * two.var()


def simulate_gain(drop_sd: float, n_seeds: int, *, sims: int = SIMS, n: int = 300, resamples: int = 400,
                  rng_seed: int = 0) -> dict[str, float]:
    """The gain-robustness contrast (B−A perturbed) − (B−A clean) when each seed's perturbation costs it its own
    share of the examples it got right (``0.15 + N(0, drop_sd²)``), both systems from one distribution."""
    rng = np.random.default_rng(rng_seed)
    difficulty = rng.beta(4, 2, size=(sims, 1, 1, n))
    clean = (rng.random((sims, 2, n_seeds, n)) < difficulty).astype(np.float64)
    drop = np.clip(0.15 + rng.normal(0.0, drop_sd, size=(sims, 2, n_seeds, 1)), 0, 1)
    pert = clean * (rng.random((sims, 2, n_seeds, n)) >= drop)
    rows = np.stack([clean, pert], axis=2)  # (sims, system, clean|pert, seed, n)
    change_points = pert.mean(-1) - clean.mean(-1)  # (sims, system, seed)
    change = np.empty((sims, 2, resamples, n_seeds))
    group = 20
    for start in range(0, sims, group):
        block = rows[start:start + group]
        sums, _ = bootstrap_sums(block.transpose(4, 0, 1, 2, 3).reshape(n, -1), resamples, seed=[rng_seed, start],
                                 method="gather")
        values = (sums / n).reshape(resamples, -1, 2, 2, n_seeds)
        change[start:start + group] = (values[:, :, :, 1] - values[:, :, :, 0]).transpose(1, 2, 0, 3)
    weights = np.stack([np.stack([seed_weights(n_seeds, resamples, rng) for _ in range(2)]) for _ in range(sims)])
    samples = two_level(change_points, change, weights)
    contrast = change_points[:, 1].mean(-1) - change_points[:, 0].mean(-1)
    seeded = seed_aware_test(contrast, samples[:, 1] - samples[:, 0], [change_points[:, 0], change_points[:, 1]])
    fixed = bootstrap_p(change[:, 1].mean(-1) - change[:, 0].mean(-1))
    return {"seed_aware": float(np.mean(seeded.p_value < ALPHA)), "example_only": float(np.mean(fixed < ALPHA))}


def test_gain_contrast_with_seeds_keeps_alpha() -> None:
    """Seeds that differ in how much the perturbation costs them (3 points of drop, sd): the seed-aware
    contrast test holds α, the example-only one does not."""
    res = simulate_gain(0.03, 3)
    assert abs(res["seed_aware"] - ALPHA) <= TOLERANCE, res
    assert res["example_only"] > ALPHA + 3 * TOLERANCE, res
