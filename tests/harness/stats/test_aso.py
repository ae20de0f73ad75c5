"""Almost Stochastic Order (:mod:`harness.stats.aso`): hand-computed violation ratios, the symmetry of
del Barrio et al. (2018), and agreement with the ``deepsig`` package (Ulmer et al., 2022)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from harness.stats.aso import aso, violation_ratio


def test_violation_ratio_by_hand() -> None:
    assert violation_ratio([0, 1, 2], [1, 2, 3]) == 1.0  # A below B everywhere
    assert violation_ratio([1, 2, 3], [0, 1, 2]) == 0.0
    assert violation_ratio([1, 2], [1, 2]) == 0.5  # no distance, no order
    # quantiles of A: 0 on (0, 1/2], 4 on (1/2, 1]; B: 1 then 2 → (1-0)² on the first half, (2-4)² on the second
    assert violation_ratio([0, 4], [1, 2]) == pytest.approx(1 / (1 + 4))


def test_violation_ratios_of_the_two_directions_add_up_to_one() -> None:
    rng = np.random.default_rng(0)
    for n, m in ((3, 3), (5, 8), (20, 7)):
        a, b = rng.normal(0, 1, n), rng.normal(0.2, 1.5, m)
        assert violation_ratio(a, b) + violation_ratio(b, a) == pytest.approx(1.0)


def test_aso_separates_clear_and_unclear_seed_distributions() -> None:
    better, worse = [81.2, 81.9, 82.4, 81.5, 82.0], [78.0, 78.9, 79.3, 78.4, 79.0]
    assert aso(better, worse).better() and aso(better, worse).eps_min < 0.2
    assert not aso(worse, better).better()
    rng = np.random.default_rng(1)
    same_a, same_b = rng.normal(80, 1, 5), rng.normal(80, 1, 5)
    assert aso(same_a, same_b).eps_min > 0.2 or aso(same_b, same_a).eps_min > 0.2


def test_agrees_with_deepsig() -> None:
    deepsig = pytest.importorskip("deepsig")
    reference = importlib.import_module("deepsig.aso")
    rng = np.random.default_rng(2)
    cases = []
    for n, m, shift in ((5, 5, 0.5), (3, 3, 1.0), (10, 7, 0.3), (20, 20, 0.0), (8, 12, -0.4)):
        a, b = rng.normal(shift, 1, n), rng.normal(0, 1, m)
        cases.append((a, b))
        assert violation_ratio(a, b) == pytest.approx(
            reference.compute_violation_ratio(scores_a=a, scores_b=b, dt=1e-4), abs=2e-3)
    for a, b in cases[:3]:  # deepsig's bootstrap is slow: fewer pairs, a tolerance for their noise
        ours = aso(a, b, seed=3, n_resamples=2000).eps_min
        theirs = float(deepsig.aso(a, b, confidence_level=0.95, num_bootstrap_iterations=200, show_progress=False,
                                   seed=3))
        assert ours == pytest.approx(theirs, abs=0.06), (len(a), len(b))
