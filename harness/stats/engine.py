"""Resampling engine behind :mod:`harness.stats.bootstrap`: fast bootstrap / sign-flip sums and their scores.

Every metric is a function of sums: per-example statistics ``S`` of shape ``(n, k)`` and an aggregate
``value = agg(S.sum(0), n)`` batched over leading axes (:mod:`harness.metrics.aggregates`). Because the
value only depends on column sums, a bootstrap resample only needs the resampled column sums. Per-example
rows take few distinct values (``correct`` is 0/1, ...), so identical rows (jointly across all submissions,
which keeps the resampling paired) are grouped, and a resample is a multinomial count vector over the groups:
``sums = counts @ group_values``. Resampling ``n`` examples with replacement and counting how many fall into
each group gives exactly such a multinomial, so the result has the same distribution as the plain
index-gather bootstrap. When rows are mostly distinct (continuous statistics) the engine falls back to a
chunked index-gather. All resamples of all submissions are then scored by one call of the aggregate.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

AggFn = Callable[[np.ndarray, Any], np.ndarray]
"""``agg(sums, n)``: ``sums`` has shape ``(..., k)`` (index the LAST axis), returns shape ``(...)``; see
:mod:`harness.metrics.aggregates`. Every registered metric's aggregate is one (checked at registration)."""


class HasAggregate(Protocol):
    """Anything with a batched ``aggregate(sums, n)``, e.g. ``harness.metrics.base.Metric``."""

    @property
    def aggregate(self) -> AggFn: ...


AggLike = AggFn | HasAggregate

_CELLS_PER_CHUNK = 10_000_000  # float cells of one chunk's count matrix (~80 MB)
_RESAMPLES_PER_CHUNK = 1_000
_COUNTED_PER_BLOCK = 250_000  # draws counted by one bincount of shared_sums (its 2 MB of counts stay in cache)


def stack_stats(stats: Sequence[np.ndarray]) -> np.ndarray:
    """Validate per-submission ``(n, k)`` arrays and stack them into one ``(n, m*k)`` float matrix."""
    if len(stats) == 0:
        raise ValueError("need at least one stats array")
    arrays = [np.asarray(s, dtype=np.float64) for s in stats]
    arrays = [a[:, None] if a.ndim == 1 else a for a in arrays]
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.ndim != 2 or a.shape != shape:
            raise ValueError(
                f"stats[{i}] has shape {a.shape}, expected {shape} (same examples, same columns)"
            )
    if shape[0] == 0:
        raise ValueError("stats arrays have no examples")
    return np.ascontiguousarray(np.concatenate(arrays, axis=1))


def group_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of a 2-D array: ``(values (G, c), inverse (n,), counts (G,))``, rows in byte order."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    n, c = matrix.shape
    if c == 0:
        return np.zeros((1, 0)), np.zeros(n, dtype=np.intp), np.array([n])
    if c == 1:  # one column: its bytes as a big-endian integer sort as the bytes do, 3x faster than void keys
        keys = matrix.view(np.uint64).ravel()
        keys = keys.byteswap() if sys.byteorder == "little" else keys
    else:
        keys = matrix.view(np.dtype((np.void, matrix.itemsize * c))).ravel()
    _, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    return matrix[first], inverse.ravel(), counts


_THREADS: int | None = None  # the default of n_jobs=None; None: up to 8, one per core


def set_threads(n: int | None) -> None:
    """Threads a resampling call uses when not told (``None``: one per core, at most 8). Processes that run
    in parallel already (a report's ``--jobs``) set 1, which also limits BLAS to one thread there: a worker's
    matrix products must not spread over the cores the other workers use (OpenBLAS threads spin while they
    wait). Results do not depend on it (:func:`_run_chunks`)."""
    global _THREADS
    _THREADS = n
    if n is not None:
        threadpool_limits(limits=max(1, n), user_api="blas")


def _n_threads(n_jobs: int | None) -> int:
    if n_jobs is not None:
        return max(1, n_jobs)
    if _THREADS is not None:
        return max(1, _THREADS)
    return max(1, min(8, os.cpu_count() or 1))


def _run_chunks(
    n_total: int, chunk: int, seed: int | np.random.SeedSequence, work: Callable, n_jobs: int | None
) -> np.ndarray:
    """Run ``work(rng, size)`` over fixed-size chunks, each with its own spawned generator.

    The chunk layout and the seeds depend only on ``n_total``, ``chunk`` and ``seed``, so results are
    identical whatever the number of threads (numpy's samplers release the GIL)."""
    sizes = [min(chunk, n_total - start) for start in range(0, n_total, chunk)]
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rngs = [np.random.default_rng(s) for s in seq.spawn(len(sizes))]
    threads = min(_n_threads(n_jobs), len(sizes))
    if threads == 1:
        parts = [work(r, s) for r, s in zip(rngs, sizes, strict=True)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(work, rngs, sizes))
    return np.concatenate(parts, axis=0)


def multinomial_counts(
    rng: np.random.Generator, n: int, pvals: np.ndarray, table: np.ndarray, size: int
) -> np.ndarray:
    """``size`` exact Multinomial(n, pvals) draws, ``(size, G)``; ``table`` lists each row's group (length n).

    Faster than ``rng.multinomial`` (one sequential binomial per group) via Poissonization: draw independent
    ``X_g ~ Poisson(theta * n * p_g)`` with ``theta = 1 - 2 / sqrt(n)``. Given ``T = sum(X) = t``, ``X`` is
    Multinomial(t, p); when ``t <= n`` (about 98% of rows) adding ``n - t`` iid categorical draws (a uniform
    row of ``table``) gives Multinomial(n, p); rows with ``t > n`` are redrawn with ``rng.multinomial``. Both
    branches are exactly Multinomial(n, p), hence so is the result."""
    if n < 100:
        return rng.multinomial(n, pvals, size=size)
    theta = 1.0 - 2.0 / np.sqrt(n)
    out = rng.poisson(theta * n * pvals, size=(size, len(pvals)))
    deficit = n - out.sum(axis=1)
    over = np.flatnonzero(deficit < 0)
    if len(over):
        out[over] = rng.multinomial(n, pvals, size=len(over))
        deficit[over] = 0
    rows = np.repeat(np.arange(size) * len(pvals), deficit)
    extra = table[rng.integers(0, n, size=len(rows))]
    out += np.bincount(rows + extra, minlength=size * len(pvals)).reshape(size, len(pvals))
    return out


def bootstrap_sums(
    matrix: np.ndarray,
    n_resamples: int,
    seed: int | np.random.SeedSequence = 0,
    method: str = "auto",
    n_jobs: int | None = None,
) -> tuple[np.ndarray, str]:
    """Column sums of ``n_resamples`` bootstrap resamples of the rows of ``matrix``: ``((B, c), method)``.

    ``method``: ``"grouped"`` (multinomial over distinct rows), ``"gather"`` (chunked index draw), or
    ``"auto"`` (grouped unless more than half of the rows are distinct)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    n, c = matrix.shape
    const = np.all(matrix == matrix[:1], axis=0)
    varying = matrix[:, ~const]
    out = np.empty((n_resamples, c))
    out[:, const] = n * matrix[0, const]
    if varying.shape[1] == 0:
        return out, "constant"
    values, _, counts = group_rows(varying)
    if method == "auto":
        method = "grouped" if 2 * len(counts) <= n else "gather"
    if method == "grouped":
        order = np.argsort(counts, kind="stable")  # small groups first: cheaper sequential binomials
        values, pvals = values[order], counts[order] / n
        chunk = max(1, min(_RESAMPLES_PER_CHUNK, _CELLS_PER_CHUNK // len(pvals)))

        table = np.repeat(np.arange(len(pvals)), counts[order])

        def work(rng: np.random.Generator, size: int) -> np.ndarray:
            return multinomial_counts(rng, n, pvals, table, size).astype(np.float64) @ values

    elif method == "gather":
        chunk = max(1, min(_RESAMPLES_PER_CHUNK, _CELLS_PER_CHUNK // n))

        def work(rng: np.random.Generator, size: int) -> np.ndarray:
            idx = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
            return np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(np.float64) @ varying

    else:
        raise ValueError(f"unknown bootstrap method {method!r}; use 'auto', 'grouped' or 'gather'")
    out[:, ~const] = _run_chunks(n_resamples, chunk, seed, work, n_jobs)
    return out, method


def flip_sums(
    diffs: np.ndarray,
    n_draws: int,
    seed: int | np.random.SeedSequence = 0,
    n_jobs: int | None = None,
) -> np.ndarray:
    """``(n_draws, c)`` sums of the rows of ``diffs`` each kept independently with probability 1/2.

    Zero rows are dropped and identical rows grouped: the number kept from a group of size ``c_g`` is
    ``Binomial(c_g, 1/2)``, which is exactly the distribution of independent per-row coin flips."""
    diffs = np.asarray(diffs, dtype=np.float64)
    nonzero = diffs[np.any(diffs != 0, axis=1)]
    if nonzero.shape[0] == 0:
        return np.zeros((n_draws, diffs.shape[1]))
    values, _, counts = group_rows(nonzero)
    if 2 * len(counts) <= nonzero.shape[0]:
        chunk = max(1, min(_RESAMPLES_PER_CHUNK, _CELLS_PER_CHUNK // len(counts)))

        def work(rng: np.random.Generator, size: int) -> np.ndarray:
            return rng.binomial(counts, 0.5, size=(size, len(counts))).astype(np.float64) @ values

    else:
        chunk = max(1, min(_RESAMPLES_PER_CHUNK, _CELLS_PER_CHUNK // nonzero.shape[0]))

        def work(rng: np.random.Generator, size: int) -> np.ndarray:
            return rng.integers(0, 2, size=(size, nonzero.shape[0])).astype(np.float64) @ nonzero

    return _run_chunks(n_draws, chunk, seed, work, n_jobs)


def apply_agg(agg: AggLike, sums: np.ndarray, n: Any) -> np.ndarray:
    """``agg`` over the last axis of ``sums`` (``(..., k)`` → ``(...)``), in one batched call.

    ``agg`` is a batched aggregate or has one as ``.aggregate`` (e.g. ``harness.metrics.base.Metric``)."""
    fn = agg if callable(agg) else getattr(agg, "aggregate", None)
    if fn is None:
        raise TypeError(f"aggregate must be callable or have .aggregate, got {type(agg).__name__}")
    sums = np.asarray(sums, dtype=np.float64)
    batched = "it must be batched over leading axes (harness.metrics.aggregates)"
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            out = np.asarray(fn(sums, n), dtype=np.float64)
        except (ValueError, TypeError, IndexError) as err:
            raise ValueError(f"aggregate failed on sums of shape {sums.shape} ({err}): {batched}") from err
    if out.shape != sums.shape[:-1]:
        raise ValueError(f"aggregate gave shape {out.shape} for sums of shape {sums.shape}, expected "
                         f"{sums.shape[:-1]}: {batched}")
    return out


def evaluate(agg: AggLike, sums: np.ndarray, n_submissions: int, n: int) -> np.ndarray:
    """Apply ``agg`` to stacked sums ``(..., m*k)`` → values ``(..., m)``."""
    sums = np.asarray(sums, dtype=np.float64)
    per = sums.reshape(*sums.shape[:-1], n_submissions, sums.shape[-1] // n_submissions)
    return apply_agg(agg, per, n)


def bootstrap_values(
    stats: Sequence[np.ndarray],
    agg: AggLike,
    n_resamples: int = 10_000,
    seed: int = 0,
    method: str = "auto",
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Point scores ``(m,)``, paired bootstrap scores ``(n_resamples, m)`` and the engine method used."""
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    joint = stack_stats(stats)
    n, m = joint.shape[0], len(stats)
    point = evaluate(agg, joint.sum(axis=0), m, n)
    sums, used = bootstrap_sums(joint, n_resamples, seed=seed, method=method, n_jobs=n_jobs)
    return point, evaluate(agg, sums, m, n), used


_BLOCK = 32  # columns per product in :func:`_Blocks`


class _Blocks:
    """Columns ready for ``weights @ columns`` in products of exactly :data:`_BLOCK` columns (the last padded
    with zeros): a column's sums are then the same whatever columns share the call (BLAS may sum differently
    for other shapes, and a report adding a system must leave the others' numbers as they were). The columns
    marked ``exact32`` (integers whose every partial sum stays below 2**24) are summed in float32: exactly the
    float64 sums, at half the cost. Built once per call of :func:`shared_sums`, used by every chunk."""

    def __init__(self, columns: np.ndarray, exact32: np.ndarray) -> None:
        self.width = columns.shape[1]
        self.parts = []
        for mask, dtype in ((exact32, np.float32), (~exact32, np.float64)):
            if mask.any():
                chosen = columns[:, mask]
                padded = np.zeros((chosen.shape[0], -(-chosen.shape[1] // _BLOCK) * _BLOCK), dtype=dtype)
                padded[:, :chosen.shape[1]] = chosen
                blocks = [np.ascontiguousarray(padded[:, i:i + _BLOCK]) for i in range(0, padded.shape[1], _BLOCK)]
                self.parts.append((mask, dtype, blocks, chosen.shape[1]))

    def sums(self, weights: np.ndarray, scratch: dict) -> np.ndarray:
        """``weights @ columns`` ``(size, width)`` for integer ``weights`` ``(size, n)``; ``scratch`` keeps the
        converted weights between chunks (fresh 10 MB arrays cost a page fault per 4 KB)."""
        out = np.empty((weights.shape[0], self.width))
        for mask, dtype, blocks, used in self.parts:
            w = _buffer(scratch, f"w{np.dtype(dtype).itemsize}", weights.shape, dtype)
            np.copyto(w, weights, casting="unsafe")
            out[:, mask] = np.concatenate([w @ b for b in blocks], axis=1)[:, :used]
        return out


def _buffer(scratch: dict, name: str, shape: tuple, dtype: type) -> np.ndarray:
    """The buffer ``name`` of ``scratch`` (one thread's, for one call of :func:`shared_sums`), reused by the
    chunks it draws while their shape is the same; dropped when the call returns."""
    buf = scratch.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = scratch[name] = np.empty(shape, dtype=dtype)
    return buf


def shared_sums(
    matrix: np.ndarray,
    n_resamples: int,
    seed: int | np.random.SeedSequence = 0,
    n_jobs: int | None = None,
    flips: bool | np.ndarray = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Column sums of the rows of ``matrix`` ``(n, c)`` under one set of draws shared by every column:
    ``(boot, flips)``, each ``(n_resamples, c)``.

    ``boot[b]`` sums resample ``b`` (``n`` rows drawn with replacement, as a count vector); ``flips[b]`` sums the
    rows kept by draw ``b`` of independent fair coins, one per row. The draws depend only on ``n``,
    ``n_resamples`` and ``seed``, never on the columns: any column (a system of a cell, a difference of two,
    a perturbed-minus-clean row) is resampled by the same draws, so a paired statistic of several columns is a
    linear combination of their sums. Constant columns sum to exactly ``n`` times their value; equal columns
    (metrics computed from the same statistics) are summed once. ``flips``: False, no sign flips drawn (None
    returned for them); a boolean mask over the columns, flips summed for those only (NaN in the others)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    n, c = matrix.shape
    wanted = np.full(c, bool(flips)) if isinstance(flips, bool) else np.asarray(flips, dtype=bool)
    const = np.all(matrix == matrix[:1], axis=0)
    varying = np.flatnonzero(~const)
    distinct, inverse, _ = group_rows(matrix[:, varying].T)  # one column per distinct varying column
    columns = distinct.T
    flipped = np.zeros(columns.shape[1], dtype=bool)
    np.logical_or.at(flipped, inverse, wanted[varying])
    flip_columns = columns[:, flipped]
    # weights are counts summing to n or 0/1 coins: an integer column's sums are at most n · max|value|
    exact32 = np.all(columns == np.round(columns), axis=0) & (n * np.abs(columns).max(axis=0, initial=0) < 2**24)
    boot_blocks, flip_blocks = _Blocks(columns, exact32), _Blocks(flip_columns, exact32[flipped])
    draw_coins = bool(wanted.any())
    chunk = max(1, min(_RESAMPLES_PER_CHUNK, _CELLS_PER_CHUNK // max(n, 1)))
    # 16-bit draws where they fit (numpy fills them twice as fast as 32-bit ones)
    drawn = np.uint16 if n <= 2**16 else np.int64
    scratches: dict[int, dict] = {}  # per thread drawing chunks

    def work(rng: np.random.Generator, size: int) -> np.ndarray:
        scratch = scratches.setdefault(threading.get_ident(), {})
        draws = rng.integers(0, n, size=(size, n), dtype=drawn)
        counts = _buffer(scratch, "counts", (size, n), np.intp)
        # rows counted a block at a time, row b's indices offset by b * n so that one bincount counts the block
        # (a block's counts stay in cache: 1.6x faster than one bincount over the chunk, the same counts)
        block = min(size, max(1, _COUNTED_PER_BLOCK // n))
        idx = _buffer(scratch, "idx", (block, n), np.intp)
        offsets = (np.arange(block, dtype=np.intp) * n)[:, None]
        for start in range(0, size, block):
            rows = min(block, size - start)
            np.add(draws[start:start + rows], offsets[:rows], out=idx[:rows], dtype=np.intp)
            counts[start:start + rows] = np.bincount(idx[:rows].ravel(), minlength=rows * n).reshape(rows, n)
        if not draw_coins:
            return boot_blocks.sums(counts, scratch)
        bits = np.frombuffer(rng.bytes((size * n + 7) // 8), dtype=np.uint8)  # one fair coin per random bit
        coins = np.unpackbits(bits, count=size * n).reshape(size, n)
        return np.concatenate([boot_blocks.sums(counts, scratch), flip_blocks.sums(coins, scratch),
                               coins.sum(axis=1, keepdims=True, dtype=np.float64)], axis=1)

    both = _run_chunks(n_resamples, chunk, seed, work, n_jobs)
    width = columns.shape[1]
    boot = np.empty((n_resamples, c))
    boot[:, varying] = both[:, inverse]
    boot[:, const] = n * matrix[0, const]
    if not draw_coins:
        return boot, None
    kept = np.full((n_resamples, c), np.nan)
    slot = np.cumsum(flipped) - 1  # a distinct column's place among the flipped ones
    own = wanted[varying]
    kept[:, varying[own]] = both[:, width + slot[inverse[own]]]
    fixed = const & wanted
    kept[:, fixed] = both[:, -1:] * matrix[0, fixed]  # rows kept times the constant
    return boot, kept
