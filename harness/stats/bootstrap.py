"""Paired bootstrap confidence intervals, rank intervals and rank groups for leaderboard scores.

A metric is per-example statistics ``S`` of shape ``(n, k)`` plus an aggregate ``agg(S.sum(0), n)`` batched
over leading axes (see :mod:`harness.metrics.aggregates` and :mod:`harness.stats.engine`). All submissions
are scored on the same examples in the same order, and every resample draws the same examples for all of them
(paired). Significance tests live in :mod:`harness.stats.significance`; everything is re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.stats.engine import AggFn, AggLike, bootstrap_values
from harness.stats.significance import (
    Comparison,
    SignificanceResult,
    benjamini_hochberg,
    compare,
    correct_pvalues,
    gain_robustness,
    holm,
    mcnemar_exact,
    paired_permutation_test,
)

__all__ = [
    "AggFn",
    "AggLike",
    "BootstrapResult",
    "Comparison",
    "RankIntervals",
    "SignificanceResult",
    "benjamini_hochberg",
    "compare",
    "correct_pvalues",
    "gain_robustness",
    "holm",
    "mcnemar_exact",
    "paired_bootstrap",
    "paired_permutation_test",
    "percentile_ci",
    "rank_groups",
    "rank_intervals",
]


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Paired percentile bootstrap for ``m`` submissions.

    ``diff[i, j] = point[i] - point[j]`` with percentile CI ``diff_ci_low/high[i, j]``; ``samples`` is the
    ``(n_resamples, m)`` bootstrap distribution of the scores."""

    point: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    diff: np.ndarray
    diff_ci_low: np.ndarray
    diff_ci_high: np.ndarray
    samples: np.ndarray
    alpha: float
    n: int
    method: str

    def pair(self, i: int, j: int) -> tuple[float, float, float]:
        """``(point[i] - point[j], ci_low, ci_high)``."""
        return float(self.diff[i, j]), float(self.diff_ci_low[i, j]), float(self.diff_ci_high[i, j])


@dataclass(frozen=True, eq=False)
class RankIntervals:
    """Per-submission rank (1 = best) at the point estimate, its bootstrap interval, and P(rank 1)."""

    point_rank: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    p_best: np.ndarray
    alpha: float


def percentile_ci(samples: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``alpha/2`` and ``1 - alpha/2`` quantiles of bootstrap ``samples`` along the first axis: exactly
    ``np.quantile`` (its default linear method: the same order statistics, interpolated by the same
    arithmetic), ~1.7x faster on a column of 10,000 (one partition of the columns laid out contiguously, without
    its general path). Columns with NaN, and other dtypes, go to ``np.quantile`` itself."""
    quantiles = [alpha / 2.0, 1.0 - alpha / 2.0]
    a = np.asarray(samples)
    if a.dtype != np.float64 or a.ndim not in (1, 2) or a.shape[0] < 2 or a.size == 0 or np.isnan(a).any():
        low, high = np.quantile(samples, quantiles, axis=0)
        return low, high
    n = a.shape[0]
    virtual = (n - 1) * np.asarray(quantiles)
    previous = np.floor(virtual)
    following = previous + 1
    previous[virtual >= n - 1] = following[virtual >= n - 1] = -1
    previous[virtual < 0] = following[virtual < 0] = 0
    lo_i, hi_i = previous.astype(np.intp), following.astype(np.intp)
    kth = np.unique(np.concatenate((lo_i, hi_i)) % n)
    rows = np.ascontiguousarray(a.T if a.ndim == 2 else a[None, :])
    rows.partition(kth, axis=1)
    below, above = rows[:, lo_i].T, rows[:, hi_i].T  # (2, m): each quantile's two order statistics
    gamma = np.asarray(virtual - previous, dtype=np.float64)[:, None]
    step = above - below
    out = below + step * gamma
    np.subtract(above, step * (1 - gamma), out=out, where=gamma >= 0.5)
    if a.ndim == 1:
        return out[0, 0], out[1, 0]
    return out[0], out[1]


def _percentiles(samples: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return percentile_ci(samples, alpha)


def paired_bootstrap(
    stats: Sequence[np.ndarray],
    agg: AggLike,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    method: str = "auto",
    n_jobs: int | None = None,
) -> BootstrapResult:
    """Percentile CIs for every submission and every pairwise difference, from one paired bootstrap.

    ``stats``: one ``(n, k)`` array per submission, same examples in the same order. ``method`` selects the
    engine (``"auto"``, ``"grouped"``, ``"gather"``); all give the same bootstrap distribution."""
    point, samples, used = bootstrap_values(stats, agg, n_resamples, seed, method, n_jobs)
    low, high = _percentiles(samples, alpha)
    diffs = samples[:, :, None] - samples[:, None, :]
    d_low, d_high = _percentiles(diffs, alpha)
    return BootstrapResult(
        point=point,
        ci_low=low,
        ci_high=high,
        diff=point[:, None] - point[None, :],
        diff_ci_low=d_low,
        diff_ci_high=d_high,
        samples=samples,
        alpha=alpha,
        n=int(np.asarray(stats[0]).shape[0]),
        method=used,
    )


def _ranks(scores: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Competition ranks along the last axis (1 = best; ties share the best rank)."""
    s = scores if higher_is_better else -scores
    # rank = 1 + number of strictly better submissions
    return 1 + (s[..., None, :] > s[..., :, None]).sum(axis=-1)


def rank_intervals(
    stats: Sequence[np.ndarray],
    agg: AggLike,
    higher_is_better: bool = True,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    boot: BootstrapResult | None = None,
) -> RankIntervals:
    """Each submission's rank across paired bootstrap resamples: the ``alpha/2`` and ``1 - alpha/2``
    percentiles of its rank (1 = best; ties share the best rank). Pass ``boot`` to reuse a bootstrap."""
    if boot is None:
        boot = paired_bootstrap(stats, agg, n_resamples=n_resamples, seed=seed, alpha=alpha)
    ranks = _ranks(boot.samples, higher_is_better)
    low = np.percentile(ranks, 100 * alpha / 2, axis=0, method="lower").astype(int)
    high = np.percentile(ranks, 100 * (1 - alpha / 2), axis=0, method="higher").astype(int)
    return RankIntervals(
        point_rank=_ranks(boot.point, higher_is_better),
        rank_low=low,
        rank_high=high,
        p_best=(ranks == 1).mean(axis=0),
        alpha=alpha,
    )


def rank_groups(
    stats: Sequence[np.ndarray],
    agg: AggLike,
    higher_is_better: bool = True,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    boot: BootstrapResult | None = None,
) -> list[list[int]]:
    """Greedy groups of submissions not separable from their group's best, best group first.

    Rule: sort by point score (best first, ties by index). The first submission leads group 1. Each next
    submission joins the current group unless the paired bootstrap ``(1 - alpha)`` percentile CI of
    ``leader - candidate`` (oriented so positive = leader better) lies entirely above 0; then it starts and
    leads a new group. Groups are contiguous in score order; membership is relative to the leader only
    (non-significance is not transitive)."""
    if boot is None:
        boot = paired_bootstrap(stats, agg, n_resamples=n_resamples, seed=seed, alpha=alpha)
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(range(len(boot.point)), key=lambda i: (-sign * boot.point[i], i))
    groups: list[list[int]] = []
    leader = -1
    for idx in order:
        if groups:
            low = np.quantile(sign * (boot.samples[:, leader] - boot.samples[:, idx]), alpha / 2.0)
            if low <= 0:
                groups[-1].append(idx)
                continue
        groups.append([idx])
        leader = idx
    return groups
