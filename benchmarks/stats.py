"""Benchmark: paired bootstrap, 10,000 resamples x 100,000 examples x 10 submissions (binary correctness).

Times the path ``xrobust report`` takes for a cell's CIs — :func:`harness.stats.engine.bootstrap_values` with
the registered metric ``METRICS["accuracy"]`` (what :class:`harness.stats.analysis.Analysis` calls), then
:func:`harness.stats.bootstrap.percentile_ci` of the scores and of every pairwise difference — against a plain
numpy index-gather loop (one resample per iteration, the same metric's aggregate), both in the same run, and
times ``scipy.stats.bootstrap`` on a smaller paired problem.

    python benchmarks/stats.py            # plain loop timed on --plain-resamples and extrapolated
    python benchmarks/stats.py --full     # plain loop over all resamples (slow, exact CI comparison)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.metrics import METRICS  # noqa: E402
from harness.stats.bootstrap import percentile_ci  # noqa: E402
from harness.stats.engine import bootstrap_values, group_rows, stack_stats  # noqa: E402

ACCURACY = METRICS["accuracy"]


def make_stats(n: int, m: int, seed: int = 0) -> list[np.ndarray]:
    """Correlated binary correctness: a shared per-example difficulty plus system noise, accuracy 0.6-0.8."""
    rng = np.random.default_rng(seed)
    difficulty = rng.standard_normal(n)
    out = []
    for acc in np.linspace(0.6, 0.8, m):
        latent = 0.8 * difficulty + 0.6 * rng.standard_normal(n)
        correct = (latent < sps.norm.ppf(acc)).astype(np.float64)
        out.append(np.stack([correct, np.ones(n)], axis=1))
    return out


def plain_bootstrap(stats: list[np.ndarray], n_resamples: int, seed: int, alpha: float) -> dict:
    """Reference: one index draw and one gather per resample, scored by the metric's aggregate; percentile
    CIs of scores and differences."""
    joint = stack_stats(stats)
    n, m = joint.shape[0], len(stats)
    rng = np.random.default_rng(seed)
    values = np.empty((n_resamples, m))
    for b in range(n_resamples):
        sums = joint[rng.integers(0, n, size=n)].sum(axis=0).reshape(m, -1)
        values[b] = ACCURACY.aggregate(sums, n)
    q = [alpha / 2, 1 - alpha / 2]
    low, high = np.quantile(values, q, axis=0)
    d_low, d_high = np.quantile(values[:, :, None] - values[:, None, :], q, axis=0)
    return {"low": low, "high": high, "d_low": d_low, "d_high": d_high}


def report_path(stats: list[np.ndarray], n_resamples: int, seed: int, alpha: float) -> dict:
    """What the report computes for one cell: point scores and bootstrap samples from the engine, then the
    percentile CIs of the scores and of every pairwise difference."""
    point, samples, method = bootstrap_values(stats, ACCURACY, n_resamples, seed=seed)
    low, high = percentile_ci(samples, alpha)
    d_low, d_high = percentile_ci(samples[:, :, None] - samples[:, None, :], alpha)
    return {"point": point, "low": low, "high": high, "d_low": d_low, "d_high": d_high, "method": method}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--m", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--plain-resamples", type=int, default=1_000)
    parser.add_argument("--full", action="store_true", help="run the plain loop over all resamples")
    args = parser.parse_args()
    alpha = 0.05
    stats = make_stats(args.n, args.m)
    print(
        f"problem: {args.resamples} resamples x {args.n} examples x {args.m} submissions, cores={os.cpu_count()}"
    )
    print("accuracies:", np.round([s[:, 0].mean() for s in stats], 3))
    n_groups = len(group_rows(np.stack([s[:, 0] for s in stats], axis=1))[2])
    print(f"distinct joint correctness patterns: {n_groups}")

    report_path(stats[:2], 100, seed=0, alpha=alpha)  # warm-up (thread pool, BLAS)
    t0 = time.perf_counter()
    fast = report_path(stats, args.resamples, seed=0, alpha=alpha)
    t_fast = time.perf_counter() - t0
    print(f"report path (bootstrap_values + percentile_ci, METRICS['accuracy'], {fast['method']}): "
          f"{t_fast:.3f} s")

    n_plain = args.resamples if args.full else min(args.plain_resamples, args.resamples)
    t0 = time.perf_counter()
    plain = plain_bootstrap(stats, n_plain, seed=1, alpha=alpha)
    t_plain = (time.perf_counter() - t0) * args.resamples / n_plain
    note = (
        ""
        if n_plain == args.resamples
        else f" (timed {n_plain} resamples, extrapolated x{args.resamples / n_plain:g})"
    )
    print(f"plain index-gather loop: {t_plain:.3f} s{note}")
    print(f"side by side: report path {t_fast:.3f} s, plain loop {t_plain:.3f} s, "
          f"speed-up {t_plain / t_fast:.1f}x")

    ci_diff = max(np.abs(fast["low"] - plain["low"]).max(), np.abs(fast["high"] - plain["high"]).max())
    pair_diff = max(np.abs(fast["d_low"] - plain["d_low"]).max(),
                    np.abs(fast["d_high"] - plain["d_high"]).max())
    half_width = float(np.mean(fast["high"] - fast["low"]) / 2)
    print(
        f"max |CI endpoint difference|: scores {ci_diff:.5f}, pairwise differences {pair_diff:.5f} "
        f"(percentage points; different random draws, {n_plain} vs {args.resamples} resamples; "
        f"mean CI half-width {half_width:.5f})"
    )

    # scipy.stats.bootstrap on a smaller paired problem: 2 submissions, difference of accuracies (percent)
    n_small, b_small = 10_000, 10_000
    a, b = (s[:n_small, 0] for s in stats[:2])
    t0 = time.perf_counter()
    res = sps.bootstrap(
        (a, b),
        lambda x, y, axis=-1: 100.0 * (y.mean(axis=axis) - x.mean(axis=axis)),
        paired=True,
        vectorized=True,
        n_resamples=b_small,
        method="percentile",
        random_state=np.random.default_rng(0),
        batch=500,
    )
    t_scipy = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = report_path([s[:n_small] for s in stats[:2]], b_small, seed=0, alpha=alpha)
    t_ours = time.perf_counter() - t0
    ci = res.confidence_interval
    print(
        f"scipy.stats.bootstrap ({b_small} resamples x {n_small} examples, 2 submissions, paired diff): "
        f"{t_scipy:.3f} s, CI [{ci.low:.4f}, {ci.high:.4f}]; ours {t_ours:.3f} s, "
        f"CI [{ours['d_low'][1, 0]:.4f}, {ours['d_high'][1, 0]:.4f}]"
    )


if __name__ == "__main__":
    main()
