"""Seeds as a resampling dimension: the two-level bootstrap and the seed-aware test.

A *system* is a set of fine-tuning seeds of one recipe. Its score on a cell is the mean over its seeds of the
per-seed scores ``a_r``. A per-seed score is seed effect plus example noise: ``a_r = mu + u_r + e_r`` where
``u_r`` is what the seed changed and ``e_r`` the luck of that checkpoint on these ``n`` examples. Resample ``b``
of the two-level bootstrap adds two independent draws:

* **examples**: one multinomial resample of the cell's ``n`` examples, shared by every seed of every system
  (the pairing of systems on examples is kept); every seed is rescored on it
  (:func:`harness.stats.engine.bootstrap_values` over all seeds at once) and the system moves by the mean
  change of its seeds, ``f_b = mean_r(a*_{r,b} - a_r)``;
* **seeds**: per system, ``R`` of its ``R`` seeds drawn with replacement (the same draw in every cell,
  language and condition of a report: a lucky seed is lucky everywhere), each drawn seed contributing its
  deviation from the seed mean. The deviations are shrunk to the between-seed part, ``kappa = sqrt(max(0,
  1 - tau² / s²))`` with ``s²`` the sample variance of the ``a_r`` and ``tau²`` the example-noise variance of
  one seed's score (the across-seed variance of ``a*_r - a_r``, averaged over resamples), because that noise
  is already in ``f_b`` (a method-of-moments split of variance components). The draw is scaled by
  ``sqrt(R / (R - 1))`` so that its variance is the unbiased ``s² / R`` rather than ``(R - 1) / R · s² / R``
  (Davison & Hinkley 1997, *Bootstrap Methods and their Application*, §3.8): seed counts ``c`` give seed
  ``r`` the weight ``(1 - k) / R + k · c_r / R`` with ``k = sqrt(R / (R - 1))``.

So ``score*_b = mean_r a_r + sum_r w_{r,b} · kappa · (a_r - mean_r a_r) + f_b``. Rescoring each drawn seed on
the drawn examples instead (resampling both crossed factors at once, Owen's 2007 pigeonhole bootstrap) counts
the seed × example noise three times; on the binary-outcome simulations of the tests that made the test
reject 1% of true nulls at α = 0.05.

With 3 or 5 seeds the seed variance rests on 2 or 4 degrees of freedom, and a normal or percentile reference
over-rejects (z = 1.96 against t₄ = 2.78). The seed-aware test is therefore studentized: ``t = d / se`` with
``se²`` the two-level bootstrap variance of ``d``, referred to Student's t with Welch–Satterthwaite degrees of
freedom ``sum_s (R_s - 1) · se⁴ / (sum_s s²_s / R_s)²`` (``s²_s`` the sample variance of system ``s``'s
per-seed values of the same quantity, pooled over the compared systems). Its interval is ``d ± t_{nu, 1-alpha/2} · se``. A single-seed system adds no
seed variance (it cannot be estimated), which is why reports flag it.

All functions broadcast over leading axes (many cells or many simulations at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def seed_weights(n_seeds: int, n_resamples: int, rng: np.random.Generator, *, two_level: bool = True
                 ) -> np.ndarray:
    """``(n_resamples, n_seeds)`` weights of one system's seeds per resample (rows sum to 1).

    ``two_level``: scaled bootstrap draws of the seeds (module docstring); otherwise ``1 / R`` everywhere
    (seeds fixed: the example-only bootstrap of the seed mean)."""
    if n_seeds < 1:
        raise ValueError("a system needs at least one seed")
    if n_seeds == 1 or not two_level:
        return np.full((n_resamples, n_seeds), 1.0 / n_seeds)
    counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=n_resamples)
    k = np.sqrt(n_seeds / (n_seeds - 1))
    return (1.0 - k) / n_seeds + k * counts / n_seeds


def seed_deviations(points: np.ndarray, resampled: np.ndarray) -> np.ndarray:
    """Per seed, its deviation from the seed mean shrunk to the between-seed part: ``kappa · (a_r - mean)``,
    ``(..., R)`` (zeros for one seed). ``points (..., R)``, ``resampled (..., B, R)`` as in :func:`two_level`."""
    points = np.asarray(points, dtype=np.float64)
    centred = points - points.mean(axis=-1, keepdims=True)
    if points.shape[-1] < 2:
        return centred
    change = np.asarray(resampled, dtype=np.float64) - points[..., None, :]
    tau2 = change.var(axis=-1, ddof=1).mean(axis=-1)
    s2 = points.var(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.sqrt(np.clip(np.where(s2 > 0, 1.0 - tau2 / np.where(s2 > 0, s2, 1.0), 0.0), 0.0, 1.0))
    return kappa[..., None] * centred


def two_level(points: np.ndarray, resampled: np.ndarray, weights: np.ndarray,
              deviations: np.ndarray | None = None) -> np.ndarray:
    """Two-level bootstrap samples of a system's seed mean (module docstring).

    ``points (..., R)``: per-seed scores on the cell's examples; ``resampled (..., B, R)``: the same seeds
    rescored on ``B`` example resamples; ``weights (B, R)`` or ``(..., B, R)``: :func:`seed_weights`;
    ``deviations``: :func:`seed_deviations` (computed when omitted). Returns ``(..., B)``; with constant
    weights ``1 / R`` it is the example-only bootstrap of the seed mean."""
    points = np.asarray(points, dtype=np.float64)
    resampled = np.asarray(resampled, dtype=np.float64)
    out = resampled.mean(axis=-1)
    if points.shape[-1] < 2:
        return out
    dev = seed_deviations(points, resampled) if deviations is None else deviations
    return out + np.einsum("...br,...r->...b", np.broadcast_to(weights, resampled.shape), dev)


def seed_variance(points: np.ndarray) -> np.ndarray:
    """``s² / R``: the sample variance of ``(..., R)`` per-seed values over ``R`` (0 for one seed)."""
    values = np.asarray(points, dtype=np.float64)
    if values.shape[-1] < 2:
        return np.zeros(values.shape[:-1])
    return values.var(axis=-1, ddof=1) / values.shape[-1]


@dataclass(frozen=True)
class SeedTest:
    """A studentized two-level bootstrap test of ``estimate`` (arrays broadcast over leading axes)."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray


def seed_aware_test(estimate: np.ndarray | float, samples: np.ndarray, seed_points: Sequence[np.ndarray],
                    alpha: float = 0.05) -> SeedTest:
    """Test ``estimate = 0`` (two-sided) and its ``1 - alpha`` interval.

    ``samples (..., B)``: two-level bootstrap samples of the estimate; ``seed_points``: per system involved,
    its ``(..., R_s)`` per-seed values of the quantity whose seed mean enters the estimate (e.g. A's and B's
    per-seed scores for ``B - A``). Degrees of freedom: ``se⁴ / (V_seed² / sum_s (R_s - 1))`` with
    ``V_seed = sum_s s²_s / R_s`` — the seed variances pooled over the compared systems (exact for the null
    of one seed distribution, where Welch's own degrees of freedom make a 3 + 3 seed test conservative); the
    example part of ``se²`` counts as known. Infinite when no system has two seeds."""
    est = np.asarray(estimate, dtype=np.float64)
    var = np.asarray(samples, dtype=np.float64).var(axis=-1, ddof=1)
    v_seed = np.zeros_like(var)
    dof = 0
    for values in seed_points:
        v_seed = v_seed + seed_variance(values)
        dof += max(0, np.shape(values)[-1] - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where((v_seed > 0) & (dof > 0), dof * var ** 2 / np.where(v_seed > 0, v_seed, 1.0) ** 2, np.inf)
    df = np.maximum(df, 1.0)
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, np.abs(est) / np.where(se > 0, se, 1.0), np.where(est == 0, 0.0, np.inf))
    from scipy.special import stdtr, stdtrit  # here: a report of one-seed systems never imports scipy

    p = 2.0 * stdtr(df, -t)  # Student's t survival function, as scipy.stats.t.sf
    q = stdtrit(df, 1.0 - alpha / 2.0)  # its quantile, as scipy.stats.t.ppf
    return SeedTest(est, se, df, est - q * se, est + q * se, np.minimum(1.0, p))


def bootstrap_p(diff_samples: np.ndarray) -> np.ndarray:
    """Two-sided bootstrap p-value of a difference along the last axis (inverts the percentile interval):
    ``min(1, 2 · min(#(d ≤ 0) + 1, #(d ≥ 0) + 1) / (B + 1))``."""
    d = np.asarray(diff_samples, dtype=np.float64)
    b = d.shape[-1]
    low = (np.count_nonzero(d <= 0, axis=-1) + 1) / (b + 1)
    high = (np.count_nonzero(d >= 0, axis=-1) + 1) / (b + 1)
    return np.minimum(1.0, 2.0 * np.minimum(low, high))


def spread(seed_values: np.ndarray) -> tuple[float, float]:
    """(min, max) of a system's per-seed values."""
    values = np.asarray(seed_values, dtype=np.float64)
    return float(values.min()), float(values.max())
