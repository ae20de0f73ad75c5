"""Aggregates: how column sums of per-example statistics become a score, batched over leading axes.

An aggregate is ``agg(sums, n)`` with ``sums`` of shape ``(..., k)`` (the LAST axis holds the k column sums)
and ``n`` the example count (a scalar, or an array broadcastable to ``sums.shape[:-1]``); it returns scores of
shape ``(...)``, in percent. It uses numpy only — ``sums[..., i]`` and ``np.where`` rather than Python
branches — so one call scores every bootstrap resample of every submission. :func:`check_batched` verifies
this on a random stack of sums; :func:`harness.metrics.base.register` refuses an aggregate that fails it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Aggregate = Callable[[np.ndarray, Any], np.ndarray]

_PROBE_SHAPE = (3, 4)


def _columns(sums: np.ndarray) -> np.ndarray:
    return np.asarray(sums, dtype=np.float64)


def ratio(sums: np.ndarray, n: Any) -> np.ndarray:
    """100 · Σcorrect / Σtotal (columns 0 and 1); NaN where Σtotal is 0."""
    sums = _columns(sums)
    top, bottom = sums[..., 0], sums[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom != 0, 100.0 * top / bottom, np.nan)


def mean_of_column(index: int) -> Aggregate:
    """100 · Σcolumn / n: the mean of one per-example column, in percent."""

    def aggregate(sums: np.ndarray, n: Any) -> np.ndarray:
        return 100.0 * _columns(sums)[..., index] / n

    return aggregate


mean_of_first = mean_of_column(0)


def mean_of_two(sums: np.ndarray, n: Any) -> np.ndarray:
    """100 · (Σcolumn 0 + Σcolumn 1) / 2n, e.g. (EM + F1) / 2."""
    sums = _columns(sums)
    return 100.0 * (sums[..., 0] + sums[..., 1]) / (2 * n)


def f1_from_counts(sums: np.ndarray, n: Any) -> np.ndarray:
    """Micro F1 = 100 · 2tp / (2tp + fp + fn) from summed (tp, fp, fn); 0 where all three sums are 0."""
    sums = _columns(sums)
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    denom = 2 * tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom != 0, 100.0 * 2 * tp / denom, 0.0)


def precision_from_counts(sums: np.ndarray, n: Any) -> np.ndarray:
    """100 · tp / (tp + fp); 0 where nothing was predicted."""
    sums = _columns(sums)
    predicted = sums[..., 0] + sums[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(predicted != 0, 100.0 * sums[..., 0] / predicted, 0.0)


def recall_from_counts(sums: np.ndarray, n: Any) -> np.ndarray:
    """100 · tp / (tp + fn); 0 where nothing was to be found."""
    sums = _columns(sums)
    actual = sums[..., 0] + sums[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(actual != 0, 100.0 * sums[..., 0] / actual, 0.0)


def check_batched(name: str, aggregate: Aggregate, k: int) -> None:
    """Raise ``ValueError`` unless ``aggregate`` scores a ``(3, 4, k)`` stack of sums in one call exactly as
    it scores each ``(k,)`` row on its own, with ``n`` a scalar and with ``n`` an array of the leading shape.

    The probe sums are small non-negative integers, some rows all zero, so zero-denominator branches count."""
    rng = np.random.default_rng(0)
    sums = rng.integers(0, 5, size=(*_PROBE_SHAPE, k)).astype(np.float64)
    sums[0, :2] = 0.0
    refused = f"metric {name!r}: aggregate is not batched over leading axes:"
    for n in (7, rng.integers(1, 9, size=_PROBE_SHAPE)):
        each = np.broadcast_to(n, _PROBE_SHAPE)
        with np.errstate(divide="ignore", invalid="ignore"):
            try:
                batched = np.asarray(aggregate(sums, n), dtype=np.float64)
            except Exception as err:  # any failure on a stack means: not batched
                raise ValueError(f"{refused} on sums of shape {sums.shape} it raised "
                                 f"{type(err).__name__}: {err} "
                                 "(index the last axis, sums[..., i], and branch with np.where)") from err
            rows = np.array([[float(aggregate(sums[i, j], int(each[i, j]))) for j in range(_PROBE_SHAPE[1])]
                             for i in range(_PROBE_SHAPE[0])])
        if batched.shape != _PROBE_SHAPE:
            raise ValueError(f"{refused} sums of shape {sums.shape} gave shape {batched.shape}, "
                             f"expected {_PROBE_SHAPE}")
        if not np.allclose(batched, rows, rtol=1e-12, atol=0.0, equal_nan=True):
            raise ValueError(f"{refused} scoring a stack of sums in one call differs from scoring its rows "
                             "one by one")
