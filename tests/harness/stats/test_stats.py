"""Tests for harness.stats.bootstrap: exact tests, p-value corrections, bootstrap engine, ranks, robustness gain.

Scores come from the registered metrics (percent): accuracy and entity F1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.metrics import METRICS
from harness.stats.bootstrap import (
    benjamini_hochberg,
    compare,
    correct_pvalues,
    gain_robustness,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    paired_permutation_test,
    rank_groups,
    rank_intervals,
)
from harness.stats.engine import bootstrap_sums, group_rows, multinomial_counts, stack_stats

ACCURACY, ENTITY_F1 = METRICS["accuracy"], METRICS["entity_f1"]


def acc_stats(correct: np.ndarray) -> np.ndarray:
    """(n, 2) accuracy statistics [correct, total=1]."""
    correct = np.asarray(correct, dtype=np.float64)
    return np.stack([correct, np.ones_like(correct)], axis=1)


def exact_count(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A 0/1 vector of length n with exactly k ones at random positions."""
    out = np.zeros(n)
    out[rng.permutation(n)[:k]] = 1.0
    return out


def correlated_pair(sims: int, n: int, p: float, shared: float, rng: np.random.Generator):
    """Two systems with identical accuracy p; with probability ``shared`` an example's outcome is common."""
    common = rng.random((sims, n)) < shared
    base = rng.random((sims, n)) < p
    a = np.where(common, base, rng.random((sims, n)) < p)
    b = np.where(common, base, rng.random((sims, n)) < p)
    return a, b


# --- McNemar -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("only_a", "only_b", "both"), [(0, 0, 5), (3, 3, 10), (7, 1, 50), (0, 9, 2), (40, 61, 300)]
)
def test_mcnemar_equals_binomtest(only_a: int, only_b: int, both: int) -> None:
    a = np.array([1] * only_a + [0] * only_b + [1] * both + [0] * 4)
    b = np.array([0] * only_a + [1] * only_b + [1] * both + [0] * 4)
    res = mcnemar_exact(a, b)
    expected = 1.0 if only_a + only_b == 0 else binomtest(only_a, only_a + only_b, 0.5).pvalue
    assert res.p_value == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert res.difference == pytest.approx((only_b - only_a) / len(a))
    assert res.test == "mcnemar_exact" and res.n == len(a)


def test_binomial_half_cdf_is_the_correctly_rounded_exact_sum() -> None:
    """The McNemar p-value's CDF: exact integer sums, correctly rounded (scipy's ``binom.cdf`` is within a few
    ulp of it); beyond ``EXACT_CDF_UP_TO`` trials, scipy's incomplete beta."""
    from fractions import Fraction
    from itertools import accumulate
    from math import comb

    from scipy.stats import binom

    from harness.stats.significance import EXACT_CDF_UP_TO, binomial_half_cdf

    for n in (1, 2, 7, 100, 999, 2000, EXACT_CDF_UP_TO):
        below = [0, *accumulate(comb(n, i) for i in range(n + 1))]  # below[k + 1] = sum of C(n, i), i <= k
        for k in range(-1, n + 2, max(1, n // 37)):
            got = binomial_half_cdf(k, n)
            assert got == float(Fraction(below[min(max(k + 1, 0), n + 1)], 2 ** n)), (k, n)
            assert got == pytest.approx(float(binom.cdf(k, n, 0.5)), rel=1e-12, abs=0.0), (k, n)
    n = EXACT_CDF_UP_TO + 1
    for k in (0, n // 3, n // 2, n - 1):
        assert binomial_half_cdf(k, n) == pytest.approx(float(binom.cdf(k, n, 0.5)), rel=1e-12, abs=1e-300)
    a = np.array([1] * 9 + [0] * 91)
    assert mcnemar_exact(a, 1 - a).p_value == 2.0 * binomial_half_cdf(9, 100)


def test_a_report_process_does_not_import_scipy_stats() -> None:
    """scipy takes 0.2 s (``scipy.special``) to 0.8 s (``scipy.stats``) to import: the command line, the
    analysis and the site do without it until a test needs it (seeds, ``--aso``, 5,000+ discordant pairs)."""
    code = ("import sys, harness.cli.main, harness.stats.analysis, reports.site, harness.stats.aso; "
            "print(any(m.startswith('scipy') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.stdout.strip() == "False"


def test_mcnemar_equals_statsmodels() -> None:
    from statsmodels.stats import contingency_tables as contingency  # test dependency
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b = rng.random(80) < 0.6, rng.random(80) < 0.7
        table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
        expected = contingency.mcnemar(table, exact=True).pvalue
        assert mcnemar_exact(a, b).p_value == pytest.approx(expected, rel=1e-10)


def test_mcnemar_rejects_non_binary() -> None:
    with pytest.raises(ValueError):
        mcnemar_exact([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError):
        mcnemar_exact([0, 1], [0, 1, 1])


# --- multiple comparisons ------------------------------------------------------------------------------


def test_holm_hand_worked() -> None:
    # p = [0.01, 0.04, 0.03, 0.005], m = 4. Sorted: 0.005 (#3), 0.01 (#0), 0.03 (#2), 0.04 (#1)
    # raw Holm factors (m - i + 1): 4*0.005=0.02, 3*0.01=0.03, 2*0.03=0.06, 1*0.04=0.04
    # running max: 0.02, 0.03, 0.06, 0.06  -> back to input order: [0.03, 0.06, 0.06, 0.02]
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # capping: [0.3, 0.6] -> sorted 2*0.3=0.6, 1*0.6=0.6 -> [0.6, 0.6]; [0.4, 0.7] -> 0.8, max(0.8, 0.7)=0.8
    assert holm([0.3, 0.6]) == pytest.approx([0.6, 0.6])
    assert holm([0.4, 0.7]) == pytest.approx([0.8, 0.8])
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])  # 2*0.6=1.2 capped at 1


def test_bh_hand_worked() -> None:
    # p = [0.01, 0.04, 0.03, 0.005], m = 4. Sorted p_(i) * m / i:
    # 0.005*4/1=0.02, 0.01*4/2=0.02, 0.03*4/3=0.04, 0.04*4/4=0.04; running min from the top: unchanged
    # -> input order: [0.02, 0.04, 0.04, 0.02]
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # monotonicity matters: p = [0.04, 0.01, 0.039]; sorted 0.01*3/1=0.03, 0.039*3/2=0.0585, 0.04*3/3=0.04
    # running min from the largest: 0.04, min(0.0585, 0.04)=0.04, 0.03 -> input order [0.04, 0.03, 0.04]
    assert benjamini_hochberg([0.04, 0.01, 0.039]) == pytest.approx([0.04, 0.03, 0.04])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])


def test_correct_pvalues_dispatch_and_nan() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert correct_pvalues(p, "holm") == pytest.approx(holm(p))
    assert correct_pvalues(p, "bh") == pytest.approx(benjamini_hochberg(p))
    assert correct_pvalues(p, "none") == pytest.approx(p)
    out = correct_pvalues([0.01, np.nan, 0.04], "holm")  # NaN kept in place, m = 2
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx([0.02, 0.04])
    with pytest.raises(ValueError):
        correct_pvalues(p, "bonferroni-ish")


# --- error rates under a simulated null ----------------------------------------------------------------


def test_false_positive_rate_under_null() -> None:
    # identical accuracy 0.7, per-example outcomes shared with probability 0.3 (correlated systems);
    # the exact McNemar test's expected size here is about 0.045 (conservative by construction)
    sims, n = 3000, 2000
    rng = np.random.default_rng(2024)
    a, b = correlated_pair(sims, n, p=0.7, shared=0.3, rng=rng)
    ones = np.ones(n)
    rejections_mc = rejections_perm = 0
    for i in range(sims):
        rejections_mc += mcnemar_exact(a[i], b[i]).p_value <= 0.05
        sa, sb = np.stack([a[i], ones], 1), np.stack([b[i], ones], 1)
        res = paired_permutation_test(sa, sb, ACCURACY, n_permutations=199, seed=i)
        rejections_perm += res.p_value <= 0.05
    assert abs(rejections_mc / sims - 0.05) <= 0.02
    assert abs(rejections_perm / sims - 0.05) <= 0.02


def test_bootstrap_ci_coverage() -> None:
    sims, n, p = 500, 400, 0.7
    rng = np.random.default_rng(7)
    correct = rng.random((sims, n)) < p
    covered = 0
    for i in range(sims):
        res = paired_bootstrap([acc_stats(correct[i])], ACCURACY, n_resamples=1000, seed=i)
        covered += res.ci_low[0] <= 100 * p <= res.ci_high[0]
    assert abs(covered / sims - 0.95) <= 0.03


# --- engine: grouped multinomial == plain index gather ----------------------------------------------------


def test_grouped_sums_equal_gather_on_same_draws() -> None:
    rng = np.random.default_rng(0)
    stats = [acc_stats(rng.random(300) < q) for q in (0.6, 0.7, 0.8)]
    joint = stack_stats(stats)
    values, inverse, counts = group_rows(joint)
    assert counts.sum() == 300 and np.array_equal(values[inverse], joint)
    idx = rng.integers(0, 300, size=(50, 300))
    group_counts = np.stack([np.bincount(inverse[row], minlength=len(counts)) for row in idx])
    np.testing.assert_array_equal(group_counts @ values, joint[idx].sum(axis=1))



def test_one_column_groups_are_those_of_its_bytes() -> None:
    """A single column is grouped through integer keys: the same groups, in the same (byte) order, as whole
    rows' bytes give (the order seeds the grouped draws), NaN, signed zeros and infinities included."""
    rng = np.random.default_rng(1)
    column = rng.choice([0.0, -0.0, 1.0, -2.5, np.nan, np.inf, -np.inf, 1e-300, -1e300, 7.25], size=(500, 1))
    values, inverse, counts = group_rows(column)
    keys = column.view(np.dtype((np.void, 8))).ravel()
    _, first, want_inverse, want_counts = np.unique(keys, return_index=True, return_inverse=True,
                                                    return_counts=True)
    assert values.tobytes() == column[first].tobytes()
    assert np.array_equal(inverse, want_inverse.ravel()) and np.array_equal(counts, want_counts)

def test_poissonized_multinomial_moments() -> None:
    rng = np.random.default_rng(5)
    n, pvals = 400, np.array([0.05, 0.15, 0.3, 0.5])
    table = np.repeat(np.arange(4), (pvals * n).astype(int))
    draws = multinomial_counts(rng, n, pvals, table, 200_000)
    assert np.all(draws.sum(axis=1) == n) and draws.min() >= 0
    np.testing.assert_allclose(draws.mean(axis=0), n * pvals, rtol=0.005)
    expected_cov = n * (np.diag(pvals) - np.outer(pvals, pvals))
    np.testing.assert_allclose(np.cov(draws.T), expected_cov, rtol=0.03, atol=0.3)


@pytest.mark.parametrize("kind", ["accuracy", "f1"])
def test_grouped_and_gather_bootstrap_agree(kind: str) -> None:
    rng = np.random.default_rng(11)
    n = 400
    if kind == "accuracy":
        stats, agg = [acc_stats(rng.random(n) < q) for q in (0.6, 0.7, 0.75)], ACCURACY
    else:
        gold = rng.integers(0, 4, size=n)
        stats = []
        for q in (0.6, 0.75, 0.8):
            tp = rng.binomial(gold, q)
            stats.append(np.stack([tp, rng.integers(0, 2, size=n), gold - tp], axis=1).astype(float))
        agg = ENTITY_F1
    grouped = paired_bootstrap(stats, agg, n_resamples=20_000, seed=1, method="grouped")
    gather = paired_bootstrap(stats, agg, n_resamples=20_000, seed=2, method="gather")
    assert grouped.method == "grouped" and gather.method == "gather"
    np.testing.assert_array_equal(grouped.point, gather.point)
    tol = 0.6  # accuracy (percent) lives on a 100/400 lattice: allow two lattice steps of Monte Carlo noise
    np.testing.assert_allclose(grouped.ci_low, gather.ci_low, atol=tol)
    np.testing.assert_allclose(grouped.ci_high, gather.ci_high, atol=tol)
    np.testing.assert_allclose(grouped.diff_ci_low, gather.diff_ci_low, atol=tol)
    np.testing.assert_allclose(grouped.diff_ci_high, gather.diff_ci_high, atol=tol)


def test_bootstrap_sums_constant_columns_and_seed() -> None:
    joint = stack_stats([acc_stats([1, 0, 1, 1])])
    s1, _ = bootstrap_sums(joint, 100, seed=3)
    s2, _ = bootstrap_sums(joint, 100, seed=3, n_jobs=1)
    np.testing.assert_array_equal(s1, s2)
    assert np.all(s1[:, 1] == 4)
    with pytest.raises(ValueError):
        paired_bootstrap([acc_stats([1, 0]), acc_stats([1, 0, 1])], ACCURACY)


# --- ranks ---------------------------------------------------------------------------------------------


def test_rank_groups_separated_and_identical() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    stats = [acc_stats(exact_count(n, k, rng)) for k in (1000, 1800, 1400)]
    assert rank_groups(stats, ACCURACY, n_resamples=2000) == [[1], [2], [0]]
    ranks = rank_intervals(stats, ACCURACY, n_resamples=2000)
    np.testing.assert_array_equal(ranks.point_rank, [3, 1, 2])
    np.testing.assert_array_equal(ranks.rank_low, ranks.rank_high)
    same = acc_stats(exact_count(n, 1400, rng))
    assert rank_groups([same, same.copy()], ACCURACY, n_resamples=2000) == [[0, 1]]
    assert rank_groups(stats, ACCURACY, higher_is_better=False, n_resamples=2000) == [[0], [2], [1]]


# --- tests and comparisons -----------------------------------------------------------------------------


def test_permutation_extremes() -> None:
    rng = np.random.default_rng(4)
    a = acc_stats(rng.random(500) < 0.6)
    assert paired_permutation_test(a, a.copy(), ACCURACY, n_permutations=999).p_value == 1.0
    b = acc_stats(np.ones(500))
    assert paired_permutation_test(a, b, ACCURACY, n_permutations=999).p_value == pytest.approx(1 / 1000)


def test_compare_picks_test_and_accepts_a_batched_aggregate() -> None:
    rng = np.random.default_rng(6)
    a, b = correlated_pair(1, 1000, p=0.7, shared=0.5, rng=rng)
    sa, sb = acc_stats(a[0]), acc_stats(b[0] | (rng.random(1000) < 0.1))
    res = compare(sa, sb, ACCURACY, n_resamples=2000)
    assert res.test == "mcnemar_exact" and res.ci_low <= res.difference <= res.ci_high
    assert res.p_value == pytest.approx(mcnemar_exact(a[0], sb[:, 0]).p_value)

    def fraction(sums: np.ndarray, n: int) -> np.ndarray:  # batched, a fraction rather than percent
        return sums[..., 0] / sums[..., 1]

    scaled = compare(sa, sb, fraction, n_resamples=2000)
    assert scaled.test == "mcnemar_exact"
    assert res.difference == pytest.approx(100 * scaled.difference)
    assert res.ci_low == pytest.approx(100 * scaled.ci_low)

    def scalar(sums: np.ndarray, n: int) -> float:  # one sums vector only: refused, not looped
        return 100.0 * sums[0] / sums[1] if sums[1] else float("nan")

    with pytest.raises(ValueError, match="batched over leading axes"):
        compare(sa, sb, scalar, n_resamples=200)
    perm = compare(sa, sb, ACCURACY, test="permutation", n_resamples=2000, n_permutations=2000)
    assert perm.test == "permutation" and abs(perm.p_value - res.p_value) < 0.01
    f1 = [
        np.stack([rng.integers(0, 3, 300), rng.integers(0, 2, 300), rng.integers(0, 2, 300)], 1) for _ in "ab"
    ]
    assert compare(f1[0], f1[1], ENTITY_F1, n_resamples=500, n_permutations=500).test == "permutation"
    with pytest.raises(ValueError):
        compare(f1[0], f1[1], ENTITY_F1, test="mcnemar")


def test_gain_robustness() -> None:
    rng = np.random.default_rng(9)
    n = 2000
    clean_a, clean_b = acc_stats(exact_count(n, 1200, rng)), acc_stats(exact_count(n, 1400, rng))
    # B keeps its +10 points under perturbation (both lose 10): the interaction is exactly 0
    kept = gain_robustness(
        clean_a, clean_b, acc_stats(exact_count(n, 1000, rng)), acc_stats(exact_count(n, 1200, rng)), ACCURACY
    )
    assert kept.difference == pytest.approx(0.0, abs=1e-12)
    assert kept.ci_low <= 0.0 <= kept.ci_high and kept.p_value > 0.5
    # B's gain vanishes under perturbation: interaction -10 points
    gone = gain_robustness(
        clean_a, clean_b, acc_stats(exact_count(n, 1000, rng)), acc_stats(exact_count(n, 1000, rng)), ACCURACY
    )
    assert gone.difference == pytest.approx(-10.0)
    assert gone.ci_high < 0.0 and gone.p_value < 0.01
    assert gone.test == "condition_swap" and gone.n == n
