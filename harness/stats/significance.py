"""Paired significance tests and multiple-comparison corrections (re-exported by :mod:`harness.stats.bootstrap`).

Conventions: ``stats_a`` / ``stats_b`` are ``(n, k)`` per-example statistics of two submissions on the same
examples; differences are always ``B - A``; p-values are two-sided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.stats.engine import AggLike, apply_agg, bootstrap_values, evaluate, flip_sums, stack_stats


@dataclass(frozen=True)
class SignificanceResult:
    """A two-sided paired test of ``B - A``."""

    difference: float
    p_value: float
    test: str
    n: int


@dataclass(frozen=True)
class Comparison:
    """``B - A`` with its paired percentile bootstrap CI and a two-sided p-value."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    n: int


def _two_sided_count(perm: np.ndarray, observed: float) -> float:
    """Randomization p-value ``(r + 1) / (N + 1)``, ``r`` = draws at least as extreme (float-tie tolerant)."""
    tol = 1e-12 * max(1.0, abs(observed))
    r = int(np.count_nonzero(np.abs(perm) >= abs(observed) - tol))
    return (r + 1) / (perm.shape[0] + 1)


def paired_permutation_test(
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    agg: AggLike,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> SignificanceResult:
    """Approximate randomization test of ``agg(B) - agg(A)``.

    Each example's A and B statistics are swapped independently with probability 1/2 (valid under H0: the
    two systems' outputs are exchangeable per example); p = ``(r + 1) / (N + 1)`` with ``r`` the number of
    the ``N`` randomized differences at least as large in absolute value as the observed one."""
    joint = stack_stats([stats_a, stats_b])
    n, k = joint.shape[0], joint.shape[1] // 2
    a_sum, b_sum = joint[:, :k].sum(axis=0), joint[:, k:].sum(axis=0)
    observed = float(evaluate(agg, np.concatenate([a_sum, b_sum]), 2, n) @ np.array([-1.0, 1.0]))
    flips = flip_sums(joint[:, k:] - joint[:, :k], n_permutations, seed=seed)
    values = evaluate(agg, np.concatenate([a_sum + flips, b_sum - flips], axis=1), 2, n)
    p = _two_sided_count(values[:, 1] - values[:, 0], observed)
    return SignificanceResult(observed, p, "permutation", n)


EXACT_CDF_UP_TO = 5_000
"""Trials up to which :func:`binomial_half_cdf` sums exact integers (at most ~2 ms); beyond, ``scipy.special``."""


def binomial_half_cdf(k: int, n: int) -> float:
    """``P(X <= k)`` for ``X ~ Binomial(n, 1/2)``: ``sum(C(n, i) for i <= k) / 2**n`` in exact integers, then
    divided once (Python rounds an integer quotient correctly), so it is the correctly rounded CDF; scipy's
    ``binom.cdf`` agrees to a few ulp. Without importing scipy (0.2 s of every report's start). Beyond
    :data:`EXACT_CDF_UP_TO` trials: the regularized incomplete beta ``I_{1/2}(n - k, k + 1)``."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if n > EXACT_CDF_UP_TO:
        from scipy.special import betainc

        return float(betainc(n - k, k + 1, 0.5))
    total, term = 0, 1
    for i in range(k + 1):  # term = C(n, i)
        total += term
        term = term * (n - i) // (i + 1)
    return total / (1 << n)


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> SignificanceResult:
    """Exact two-sided McNemar test: binomial(n01 + n10, 1/2) on the discordant pairs.

    ``difference`` is accuracy(B) - accuracy(A); ``p = min(1, 2 * P(X <= min(n01, n10)))``, which equals
    ``scipy.stats.binomtest(n01, n01 + n10).pvalue`` because the null distribution is symmetric
    (:func:`binomial_half_cdf`)."""
    a = np.asarray(correct_a).ravel()
    b = np.asarray(correct_b).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(
            f"need two non-empty correctness vectors of equal length, got {a.shape} and {b.shape}"
        )
    if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError("McNemar needs binary correctness (0/1 or bool)")
    a, b = a.astype(bool), b.astype(bool)
    only_a, only_b = int(np.count_nonzero(a & ~b)), int(np.count_nonzero(b & ~a))
    discordant = only_a + only_b
    p = 1.0 if discordant == 0 else min(1.0, 2.0 * binomial_half_cdf(min(only_a, only_b), discordant))
    return SignificanceResult((only_b - only_a) / a.size, p, "mcnemar_exact", int(a.size))


def _prepare(pvals: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pvals, dtype=np.float64)
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    return p, finite


def holm(pvals: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (FWER): sorted ``p_(i) * (m - i + 1)``, running max, capped at 1.

    NaNs are kept in place and do not count towards ``m``."""
    p, finite = _prepare(pvals)
    out = np.full(p.shape, np.nan)
    q = p[finite]
    order = np.argsort(q, kind="stable")
    m = q.size
    adjusted = np.minimum(1.0, np.maximum.accumulate(q[order] * (m - np.arange(m))))
    res = np.empty(m)
    res[order] = adjusted
    out[finite] = res
    return out


def benjamini_hochberg(pvals: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (FDR): sorted ``p_(i) * m / i``, running min from the largest,
    capped at 1. NaNs are kept in place and do not count towards ``m``."""
    p, finite = _prepare(pvals)
    out = np.full(p.shape, np.nan)
    q = p[finite]
    order = np.argsort(q, kind="stable")
    m = q.size
    scaled = q[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    res = np.empty(m)
    res[order] = adjusted
    out[finite] = res
    return out


def correct_pvalues(pvals: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Dispatch to :func:`holm` (``"holm"``), :func:`benjamini_hochberg` (``"bh"``) or no correction."""
    if method == "holm":
        return holm(pvals)
    if method in ("bh", "fdr_bh"):
        return benjamini_hochberg(pvals)
    if method == "none":
        return _prepare(pvals)[0].copy()
    raise ValueError(f"unknown p-value correction {method!r}; use 'holm', 'bh' or 'none'")


def _binary_column(stats_a: np.ndarray, stats_b: np.ndarray, agg: AggLike) -> int | None:
    """Column index of 0/1 correctness when the metric is binary accuracy, else None.

    Binary accuracy: at most one column varies, it is 0/1 in both submissions, every other column is the same
    constant in both (the totals), and ``agg`` is proportional to the mean of that column on probe sums
    (so percent-scaled accuracies qualify)."""
    joint = stack_stats([stats_a, stats_b])
    n, k = joint.shape[0], joint.shape[1] // 2
    a, b = joint[:, :k], joint[:, k:]
    same_const = np.all(a == a[:1], axis=0) & np.all(b == a[:1], axis=0)
    binary = np.isin(a, (0.0, 1.0)).all(axis=0) & np.isin(b, (0.0, 1.0)).all(axis=0)
    varying = np.flatnonzero(~same_const)
    if len(varying) > 1:
        return None
    candidates = varying if len(varying) else np.flatnonzero(binary)
    if len(candidates) == 0 or not binary[candidates[0]]:
        return None
    col = int(candidates[0])
    probe = np.repeat(n * a[:1], 3, axis=0)
    probe[:, col] = [0.0, n / 3.0, float(n)]
    got = apply_agg(agg, probe, n)
    if not (np.isfinite(got).all() and got[2] > 0):
        return None
    return col if np.allclose(got, got[2] * probe[:, col] / n, rtol=1e-9, atol=1e-12 * got[2]) else None


def _as_2d(stats: np.ndarray) -> np.ndarray:
    arr = np.asarray(stats, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def compare(
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    agg: AggLike,
    test: str = "auto",
    n_resamples: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> Comparison:
    """``agg(B) - agg(A)`` with a paired bootstrap percentile CI and a two-sided p-value.

    ``test="auto"`` uses exact McNemar when the metric is binary accuracy (one 0/1 column, constant totals,
    ``agg`` = its mean), else the paired permutation test; ``"mcnemar"`` / ``"permutation"`` force one."""
    col = _binary_column(stats_a, stats_b, agg)
    if test == "auto":
        test = "mcnemar" if col is not None else "permutation"
    if test == "mcnemar":
        if col is None:
            raise ValueError("McNemar needs binary accuracy statistics (correct in {0,1}, constant total)")
        res = mcnemar_exact(_as_2d(stats_a)[:, col], _as_2d(stats_b)[:, col])
    elif test == "permutation":
        res = paired_permutation_test(stats_a, stats_b, agg, n_permutations=n_permutations, seed=seed + 1)
    else:
        raise ValueError(f"unknown test {test!r}; use 'auto', 'mcnemar' or 'permutation'")
    point, samples, _ = bootstrap_values([stats_a, stats_b], agg, n_resamples, seed)
    low, high = np.quantile(samples[:, 1] - samples[:, 0], [alpha / 2.0, 1.0 - alpha / 2.0])
    return Comparison(float(point[1] - point[0]), float(low), float(high), res.p_value, res.test, res.n)


def gain_robustness(
    clean_a: np.ndarray,
    clean_b: np.ndarray,
    pert_a: np.ndarray,
    pert_b: np.ndarray,
    agg: AggLike,
    n_resamples: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> Comparison:
    """Does B's gain over A survive the perturbation? Statistic (an interaction contrast):
    ``[agg(pert_b) - agg(pert_a)] - [agg(clean_b) - agg(clean_a)]``; negative = the gain shrinks.

    All four arrays cover the same ``n`` examples (row i of ``pert_*`` is the perturbed row i of ``clean_*``).
    CI: paired percentile bootstrap, one shared example resample for all four arrays.
    p-value: condition-swap randomization. For each example independently with probability 1/2 the clean and
    perturbed rows are exchanged for both systems at once; this flips the sign of that example's contrast
    ``e_i = (pb_i - pa_i) - (cb_i - ca_i)`` while leaving the main effect of the perturbation on each system
    out of the null. For mean-type metrics (and ratio metrics whose denominators do not change with the
    condition) the statistic is ``sum(e_i) / T`` and this is exactly a sign-flip test: exact when ``e_i`` is
    symmetric about 0, asymptotically valid when it only has mean 0. For non-linear aggregates (F1) it is
    the same randomization applied to the aggregate, valid to first order. p = ``(r + 1) / (N + 1)``."""
    stats = [clean_a, clean_b, pert_a, pert_b]
    point, samples, _ = bootstrap_values(stats, agg, n_resamples, seed)
    weights = np.array([1.0, -1.0, -1.0, 1.0])  # -(cb - ca) + (pb - pa)
    observed = float(point @ weights)
    low, high = np.quantile(samples @ weights, [alpha / 2.0, 1.0 - alpha / 2.0])
    joint = stack_stats(stats)
    n, k = joint.shape[0], joint.shape[1] // 4
    ca, cb, pa, pb = (joint[:, i * k : (i + 1) * k] for i in range(4))
    flips = flip_sums(np.concatenate([pa - ca, pb - cb], axis=1), n_permutations, seed=seed + 1)
    fa, fb = flips[:, :k], flips[:, k:]
    sums = [ca.sum(0) + fa, cb.sum(0) + fb, pa.sum(0) - fa, pb.sum(0) - fb]
    values = evaluate(agg, np.concatenate(sums, axis=1), 4, n)
    p = _two_sided_count(values @ weights, observed)
    return Comparison(observed, float(low), float(high), p, "condition_swap", n)
