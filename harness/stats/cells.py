"""The statistics of one (task, language, split): every cell of it (condition × metric), computed from unit
digests alone, in one process, as one job of :class:`harness.stats.analysis.Analysis`.

A cell's systems are aligned on the example ids all their seeds share; one bootstrap gives every score's
distribution (:class:`Estimator`, the estimator the report documents). What leaves a job is small: per cell the
rows of the score tables, the language comparisons and gain contrasts with raw p-values, the drops, the examples
the browser shows (records read back by offset), the pooled statistics of the bucket scores and, for the ranked
metric only, the bootstrap distributions the task and slice averages are made of.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from harness.metrics import METRICS, Metric
from harness.stats.bootstrap import compare, gain_robustness, percentile_ci
from harness.stats.digest import DigestCache, UnitDigest, digest_records, ids_sha
from harness.stats.engine import bootstrap_values, evaluate, shared_sums
from harness.stats.seeds import bootstrap_p, seed_aware_test, seed_weights, two_level
from harness.stats.significance import _binary_column, _two_sided_count, mcnemar_exact
from harness.store.rundir import RunStore, Unit

SEED_TEST = "two-level bootstrap t"
DRAWS = ("per-test", "shared")
"""How a group's resamples are drawn. ``per-test``: each cell, comparison and gain draws its own (seeded by
its key). ``shared``: one example resample and one sign-flip draw per (task, language, split) and set of
example ids serve every cell, comparison and gain of it (:func:`harness.stats.engine.shared_sums`): the same
tests and estimators, other Monte Carlo draws, at a fraction of the cost."""


def stable_seed(*parts: object) -> int:
    """A 32-bit seed from ``parts`` (the same in every process and run)."""
    return int(hashlib.sha256(repr(parts).encode()).hexdigest()[:8], 16)


def rounded(x: float) -> float:
    """``x`` rounded to 4 decimals, as every exported score is; NaN stays NaN."""
    return float("nan") if x is None or math.isnan(float(x)) else round(float(x), 4)


@dataclass(frozen=True)
class Estimator:
    """Settings every number of a report depends on, and the per-cell estimators built on them."""

    names: tuple[str, ...]
    n_seeds: dict[str, int]
    baseline: str | None
    alpha: float = 0.05
    n_resamples: int = 2000
    seed: int = 0
    resampling: str = "seeds"
    draws: str = "per-test"

    @cached_property
    def weights(self) -> dict[str, np.ndarray]:
        return {name: seed_weights(r, self.n_resamples, np.random.default_rng(stable_seed(self.seed, "seeds", name)),
                                   two_level=self.resampling == "seeds") for name, r in self.n_seeds.items()}

    def key(self, present: Sequence[str] | None = None) -> list:
        """What numbers computed for the systems ``present`` (default: all) depend on: their order and seed
        counts, whether the baseline is among them, and the resampling settings (not the other systems)."""
        names = [n for n in self.names if present is None or n in present]
        key = [names, [self.n_seeds[n] for n in names], self.baseline if self.baseline in names else None,
               self.alpha, self.n_resamples, self.seed, self.resampling]
        return key if self.draws == "per-test" else [*key, self.draws]

    def seed_aware(self, *names: str) -> bool:
        """Whether comparisons among ``names`` use the seed-aware test."""
        return self.resampling == "seeds" and any(self.n_seeds.get(n, 1) > 1 for n in names)

    def single_seed_warning(self, *names: str) -> bool:
        """A one-seed system compared with a multi-seed one: its seed variance is unknown."""
        counts = [self.n_seeds.get(n, 1) for n in names]
        return min(counts) == 1 and max(counts) > 1

    def combine(self, names: Sequence[str], points: np.ndarray, samples: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Per-seed points ``(ΣR,)`` and resamples ``(B, ΣR)`` → system points, samples, per-seed points."""
        out_point, out_samples, seed_points, start = [], [], [], 0
        for name in names:
            r = self.n_seeds[name]
            own, own_samples = points[start:start + r], samples[:, start:start + r]
            out_point.append(own.mean())
            out_samples.append(two_level(own, own_samples, self.weights[name]))
            seed_points.append(np.asarray(own, dtype=np.float64))
            start += r
        return np.array(out_point), np.stack(out_samples, axis=1), seed_points

    def interval(self, name: str, point: float, samples: np.ndarray, seed_points: np.ndarray
                 ) -> tuple[float, float]:
        """``1 - alpha`` interval of one system's score: studentized when seed-aware, else percentile."""
        if self.seed_aware(name):
            res = seed_aware_test(point, samples, [seed_points], self.alpha)
            return float(res.ci_low), float(res.ci_high)
        low, high = percentile_ci(samples, self.alpha)
        return float(low), float(high)

    def difference(self, a: int, b: int, names: Sequence[str], point: np.ndarray, samples: np.ndarray,
                   seed_points: Sequence[np.ndarray]) -> dict:
        """``names[b] - names[a]``: difference, CI, p-value and test (seed-aware or bootstrap)."""
        diff = samples[:, b] - samples[:, a]
        est = float(point[b] - point[a])
        if self.seed_aware(names[a], names[b]):
            res = seed_aware_test(est, diff, [seed_points[a], seed_points[b]], self.alpha)
            return {"difference": est, "ci_low": float(res.ci_low), "ci_high": float(res.ci_high),
                    "p_value": float(res.p_value), "test": SEED_TEST, "df": float(res.df)}
        low, high = percentile_ci(diff, self.alpha)
        test = "paired bootstrap" if max(self.n_seeds[names[a]], self.n_seeds[names[b]]) == 1 else \
            "paired bootstrap (examples)"
        return {"difference": est, "ci_low": float(low), "ci_high": float(high),
                "p_value": float(bootstrap_p(np.asarray(diff).ravel())), "test": test, "df": math.inf}

    def differences(self, pairs: Sequence[tuple[int, int]], names: Sequence[str], point: np.ndarray,
                    samples: np.ndarray, seed_points: Sequence[np.ndarray]) -> list[dict]:
        """:meth:`difference` of each ``(a, b)`` of ``pairs``, the bootstrap ones in one batch (the same
        numbers, without a quantile call per pair)."""
        out: list[dict] = [{} for _ in pairs]
        plain = []
        for k, (a, b) in enumerate(pairs):
            if self.seed_aware(names[a], names[b]):
                out[k] = self.difference(a, b, names, point, samples, seed_points)
            else:
                plain.append(k)
        if plain:
            diff = samples[:, [pairs[k][1] for k in plain]] - samples[:, [pairs[k][0] for k in plain]]
            low, high = percentile_ci(diff, self.alpha)
            p = bootstrap_p(diff.T)
            for j, k in enumerate(plain):
                a, b = pairs[k]
                test = "paired bootstrap" if max(self.n_seeds[names[a]], self.n_seeds[names[b]]) == 1 else \
                    "paired bootstrap (examples)"
                out[k] = {"difference": float(point[b] - point[a]), "ci_low": float(low[j]),
                          "ci_high": float(high[j]), "p_value": float(p[j]), "test": test, "df": math.inf}
        return out

    def intervals(self, names: Sequence[str], point: np.ndarray, samples: np.ndarray,
                  seed_points: Sequence[np.ndarray]) -> list[tuple[float, float]]:
        """:meth:`interval` of every column of ``samples``, the percentile ones in one batch."""
        plain = [i for i, n in enumerate(names) if not self.seed_aware(n)]
        chosen = samples if len(plain) == len(names) else samples[:, plain]  # no copy when every column is
        low, high = percentile_ci(chosen, self.alpha) if plain else ((), ())
        at = {i: j for j, i in enumerate(plain)}
        return [(float(low[at[i]]), float(high[at[i]])) if i in at else
                self.interval(n, point[i], samples[:, i], seed_points[i]) for i, n in enumerate(names)]

    def seed_columns(self, name: str, seed_points: np.ndarray) -> dict:
        return {"seeds": int(self.n_seeds[name]), "seed_min": rounded(float(np.min(seed_points))),
                "seed_max": rounded(float(np.max(seed_points)))}

    def warning_columns(self, name: str) -> dict:
        return {"seeds": self.n_seeds[name], "baseline_seeds": self.n_seeds[self.baseline],
                "single_seed_warning": self.single_seed_warning(name, self.baseline)}


@dataclass
class UnitRef:
    """Where one seed's unit is: records in memory, or a complete unit of a run directory."""

    unit: Unit
    meta: dict
    store: RunStore | None = None
    records: list[dict] | None = None

    def check(self, cache: DigestCache) -> None:
        """Raise unless the unit's predictions still match their meta (records in memory always do)."""
        if self.store is not None:
            cache.check(self.store, self.unit, self.meta)

    def digest(self, metrics: Sequence[str], attributes: Sequence[str], cache: DigestCache) -> UnitDigest:
        if self.records is not None:
            return digest_records(self.records, metrics, attributes)
        assert self.store is not None
        return cache.load(self.store, self.unit, self.meta, metrics, attributes)


@dataclass
class GroupJob:
    """One (task, language, split): per condition, per system, its seeds' units; and the metrics per condition."""

    task: str
    lang: str
    split: str
    units: dict[str, dict[str, list[UnitRef]]]  # condition → system → seeds
    metrics: dict[str, list[str]]  # condition → metric names (unit meta order)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.task, self.lang, self.split)

    @property
    def systems(self) -> set[str]:
        return {name for per_sys in self.units.values() for name in per_sys}

    def fingerprint(self) -> str | None:
        """What the group's numbers depend on in its inputs: every unit's predictions sha256 (None when a unit
        has none, e.g. records held in memory)."""
        body = []
        for cond in sorted(self.units):
            for name, refs in self.units[cond].items():
                shas = [ref.meta.get("sha256") for ref in refs]
                if any(not isinstance(sha, str) or ref.records is not None for sha, ref in zip(shas, refs,
                                                                                            strict=True)):
                    return None
                body.append([cond, name, shas, self.metrics.get(cond, [])])
        return hashlib.sha256(repr([self.key, body]).encode()).hexdigest()


@dataclass
class CellResult:
    """What the report keeps of one cell."""

    key: tuple[str, str, str, str, str]
    names: list[str]
    n: int
    point: np.ndarray
    seed_points: list[np.ndarray]
    rows: list[dict]  # per system: value, ci_low, ci_high, n, seeds, seed_min, seed_max
    samples: np.ndarray | None = None  # (B, m), the ranked metric's cells only
    sampled: list[str] | None = None  # the names ``samples`` has a column of, in order (None: all of ``names``)

    def columns(self) -> list[tuple[int, str, int]]:
        """``(index in names, name, column of samples)`` of each system whose resamples the cell carries."""
        if self.samples is None:
            return []
        if self.sampled is None:
            return [(i, n, i) for i, n in enumerate(self.names)]
        return [(self.names.index(n), n, j) for j, n in enumerate(self.sampled)]


@dataclass
class GroupResult:
    """Everything one :class:`GroupJob` contributes to a report."""

    key: tuple[str, str, str]
    cells: list[CellResult] = field(default_factory=list)
    comparisons: list[dict] = field(default_factory=list)  # ranked metric, raw p-values
    gains: list[dict] = field(default_factory=list)
    drops: list[dict] = field(default_factory=list)
    examples: list[dict] = field(default_factory=list)
    # condition → system → per seed (stats of every record, attribute → values): the bucket scores' input
    pooled: dict[str, dict[str, list[tuple[np.ndarray, dict[str, np.ndarray]]]]] = field(default_factory=dict)
    by_system: bool = False  # made of per-system parts (:mod:`harness.stats.bysystem`)
    verified: dict[str, list] = field(default_factory=dict)  # stamps learned (:meth:`DigestCache.take_learned`)


@dataclass
class _Cell:
    key: tuple[str, str, str, str, str]
    names: list[str]
    ids: list[str]
    metric: Metric
    digests: dict[str, list[UnitDigest]]
    rows: dict[str, list[np.ndarray]]  # system → per seed, positions of ``ids`` in its digest
    point: np.ndarray = field(default_factory=lambda: np.zeros(0))
    samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    seed_points: list[np.ndarray] = field(default_factory=list)
    # shared draws only: per seed (names × seeds order) its points, resampled scores and column sums
    flat_points: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flat_samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    boot: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (B, ΣR·k) resample sums
    flips: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (B, ΣR·k) sign-flip sums

    def columns(self, name: str) -> slice:
        """The columns of ``boot`` / ``flips`` of ``name``'s first seed (``k`` per seed)."""
        k = self.boot.shape[1] // self.flat_points.size
        start = self.flat_index(name).start
        return slice(start * k, (start + 1) * k)

    def flat_index(self, name: str) -> slice:
        """``name``'s seeds in ``flat_points`` / ``flat_samples``."""
        start = sum(len(self.digests[n]) for n in self.names[:self.names.index(name)])
        return slice(start, start + len(self.digests[name]))

    def seed_stats(self, name: str, ids: Sequence[str] | None = None) -> list[np.ndarray]:
        if ids is None:
            return [d.stats[self.metric.name][r] for d, r in zip(self.digests[name], self.rows[name], strict=True)]
        return [d.stats[self.metric.name][[d.positions[i] for i in ids]] for d in self.digests[name]]

    def stats(self, name: str, ids: Sequence[str] | None = None) -> np.ndarray:
        """The system's stats (one seed) or the mean over its seeds."""
        s = self.seed_stats(name, ids)
        return s[0] if len(s) == 1 else np.mean([np.asarray(x, dtype=np.float64) for x in s], axis=0)


def _aligned(key: tuple, digests: dict[str, list[UnitDigest]], metric: Metric) -> _Cell | None:
    names = list(digests)
    every = [d for seeds in digests.values() for d in seeds]
    head = every[0]
    if head.n and len(head.positions) == head.n and all(d.ids == head.ids for d in every[1:]):
        # the common case, every unit holding the same ids in the same order, each once: what the general
        # case gives (those ids, each row its own position) without an id → row map per unit
        whole = np.arange(head.n, dtype=np.intp)
        return _Cell(key, names, list(head.ids), metric, digests, {name: [whole] * len(seeds)
                                                                   for name, seeds in digests.items()})
    maps = {name: [d.positions for d in seeds] for name, seeds in digests.items()}
    common = set.intersection(*(set(m) for ms in maps.values() for m in ms))
    first = maps[names[0]][0]
    ids = [i for i in first if i in common]
    if not ids:
        return None
    rows = {name: [np.fromiter((m[i] for i in ids), dtype=np.intp, count=len(ids)) for m in ms]
            for name, ms in maps.items()}
    return _Cell(key, names, ids, metric, digests, rows)


def compute_group(job: GroupJob, est: Estimator, ranked: str, attributes: Sequence[str], per_page: int,
                  cache: DigestCache, *, examples: bool = True) -> GroupResult:
    """Every cell of ``job`` and what the report takes from them (module docstring); ``examples=False``: no
    example browser sections (they are built elsewhere)."""
    out = GroupResult(job.key)
    cache.prefetch([(ref.store, ref.unit, ref.meta) for per_sys in job.units.values() for refs in per_sys.values()
                    for ref in refs if ref.store is not None and ref.records is None])
    digests: dict[str, dict[str, list[UnitDigest]]] = {}
    for cond in sorted(job.units):
        metrics = job.metrics.get(cond, [])
        digests[cond] = {name: [ref.digest(metrics, attributes, cache) for ref in refs]
                         for name, refs in job.units[cond].items()}
    cells: dict[tuple, _Cell] = {}
    for cond in sorted(job.units):
        base = (*job.key, cond)
        ordered = {n: digests[cond][n] for n in est.names if n in digests[cond]}
        for name in job.metrics.get(cond, []):
            if name in METRICS and ordered:
                cell = _aligned((*base, name), ordered, METRICS[name])
                if cell is not None:
                    cells[cell.key] = cell
    shared = est.draws == "shared"
    if shared:
        _draw_shared(job, cells, est, ranked)
    for cell in cells.values():
        if not shared:
            _resample(cell, est)
        out.cells.append(_result(cell, est, ranked))
    for cell in cells.values():
        if cell.key[4] != ranked:
            continue
        out.comparisons += _language_comparisons(cell, est)
        clean = cells.get((*job.key, "clean", ranked))
        if cell.key[3] != "clean" and clean is not None:
            out.drops += _drops(clean, cell)
            out.gains += _gains(clean, cell, est)
        if examples:
            out.examples += _examples(cell, clean, cells, per_page)
        out.pooled[cell.key[3]] = _pooled(cell, attributes)
    return out


def _as_2d(stats: np.ndarray) -> np.ndarray:
    arr = np.asarray(stats, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def _draw_shared(job: GroupJob, cells: dict[tuple, _Cell], est: Estimator, ranked: str) -> None:
    """Every cell's scores under the draws its group shares with every cell on the same example ids (sign
    flips summed for the ranked metric's cells, the only ones tested)."""
    by_ids: dict[tuple[str, ...], list[_Cell]] = {}
    for cell in cells.values():
        by_ids.setdefault(tuple(cell.ids), []).append(cell)
    for ids, group in by_ids.items():
        flat = {cell.key: [_as_2d(x) for name in cell.names for x in cell.seed_stats(name)] for cell in group}
        matrix = np.concatenate([x for cell in group for x in flat[cell.key]], axis=1)
        ident = ids_sha(ids)
        tested = np.concatenate([np.full(x.shape[1], cell.key[4] == ranked) for cell in group for x in flat[cell.key]])
        boot, flips = shared_sums(matrix, est.n_resamples, seed=stable_seed(est.seed, job.key, "shared", ident),
                                  flips=tested)  # sign flips: the ranked metric's tests only
        start, n = 0, len(ids)
        for cell in group:
            width = sum(x.shape[1] for x in flat[cell.key])
            cell.boot, cell.flips = boot[:, start:start + width], flips[:, start:start + width]
            start += width
            m = len(flat[cell.key])
            sums = np.concatenate([x.sum(axis=0) for x in flat[cell.key]])
            cell.flat_points = evaluate(cell.metric, sums, m, n)
            cell.flat_samples = evaluate(cell.metric, cell.boot, m, n)
            cell.point, cell.samples, cell.seed_points = est.combine(cell.names, cell.flat_points, cell.flat_samples)


def _shared_compare(cell: _Cell, est: Estimator, name: str) -> dict:
    """``name`` − baseline (one seed each) under the cell's shared draws: percentile CI of the resampled
    difference; exact McNemar for binary accuracy, else the paired permutation test on the shared sign flips."""
    a, b = cell.names.index(est.baseline), cell.names.index(name)
    stats_a, stats_b = _as_2d(cell.stats(est.baseline)), _as_2d(cell.stats(name))
    diff = float(cell.point[b] - cell.point[a])
    low, high = percentile_ci(cell.samples[:, b] - cell.samples[:, a], est.alpha)
    col = _binary_column(stats_a, stats_b, cell.metric)
    if col is not None:
        res = mcnemar_exact(stats_a[:, col], stats_b[:, col])
        p, test = res.p_value, res.test
    else:
        n = len(cell.ids)
        flips = cell.flips[:, cell.columns(name)] - cell.flips[:, cell.columns(est.baseline)]
        values = evaluate(cell.metric, np.concatenate([stats_a.sum(0) + flips, stats_b.sum(0) - flips], axis=1),
                          2, n)
        observed = float(evaluate(cell.metric, np.concatenate([stats_a.sum(0), stats_b.sum(0)]), 2, n)
                         @ np.array([-1.0, 1.0]))
        p, test = _two_sided_count(values[:, 1] - values[:, 0], observed), "permutation"
    return {"difference": rounded(diff), "ci_low": rounded(low), "ci_high": rounded(high), "p_value": p,
            "test": test}


def _shared_gain(clean: _Cell, pert: _Cell, name: str, est: Estimator) -> dict:
    """The gain contrast of ``name`` over the baseline under the shared draws of its clean and perturbed cells
    (the same example ids, hence the same draws): the resampled contrast's percentile CI (or the seed-aware
    test), and for one seed each the condition-swap randomization on the shared sign flips."""
    names = [est.baseline, name]
    if max(est.n_seeds[name], est.n_seeds[est.baseline]) > 1:
        own = np.r_[tuple(pert.flat_index(n) for n in names)]
        own_clean = np.r_[tuple(clean.flat_index(n) for n in names)]
        combined = est.combine(names, pert.flat_points[own] - clean.flat_points[own_clean],
                               pert.flat_samples[:, own] - clean.flat_samples[:, own_clean])
        return _seeded_contrast(names, *combined, est)
    ca, cb = clean.names.index(est.baseline), clean.names.index(name)
    pa, pb = pert.names.index(est.baseline), pert.names.index(name)
    contrast = (pert.samples[:, pb] - pert.samples[:, pa]) - (clean.samples[:, cb] - clean.samples[:, ca])
    observed = float((pert.point[pb] - pert.point[pa]) - (clean.point[cb] - clean.point[ca]))
    low, high = percentile_ci(contrast, est.alpha)
    sums = [_as_2d(c.stats(n)).sum(0) for c in (clean, pert) for n in names]  # ca, cb, pa, pb
    fa = pert.flips[:, pert.columns(est.baseline)] - clean.flips[:, clean.columns(est.baseline)]
    fb = pert.flips[:, pert.columns(name)] - clean.flips[:, clean.columns(name)]
    values = evaluate(pert.metric, np.concatenate([sums[0] + fa, sums[1] + fb, sums[2] - fa, sums[3] - fb],
                                                  axis=1), 4, len(pert.ids))
    p = _two_sided_count(values @ np.array([1.0, -1.0, -1.0, 1.0]), observed)
    return {"contrast": observed, "ci_low": float(low), "ci_high": float(high), "p_value": p,
            "test": "condition_swap"}


def _resample(cell: _Cell, est: Estimator) -> None:
    flat = [s for name in cell.names for s in cell.seed_stats(name)]
    points, samples, _ = bootstrap_values(flat, cell.metric, est.n_resamples, seed=stable_seed(est.seed, cell.key))
    cell.point, cell.samples, cell.seed_points = est.combine(cell.names, points, samples)


def _result(cell: _Cell, est: Estimator, ranked: str) -> CellResult:
    rows = []
    intervals = est.intervals(cell.names, cell.point, cell.samples, cell.seed_points)  # one quantile call
    for i, name in enumerate(cell.names):
        low, high = intervals[i]
        rows.append({"value": rounded(cell.point[i]), "ci_low": rounded(low), "ci_high": rounded(high),
                     "n": len(cell.ids), **est.seed_columns(name, cell.seed_points[i])})
    return CellResult(cell.key, cell.names, len(cell.ids), cell.point, cell.seed_points, rows,
                      cell.samples if cell.key[4] == ranked else None)


def _language_comparisons(cell: _Cell, est: Estimator) -> list[dict]:
    if est.baseline not in cell.names:
        return []
    rows = []
    b = cell.names.index(est.baseline)
    for i, name in enumerate(cell.names):
        if i == b:
            continue
        if max(est.n_seeds[name], est.n_seeds[est.baseline]) > 1:
            res = est.difference(b, i, cell.names, cell.point, cell.samples, cell.seed_points)
            res = {**{k: rounded(v) for k, v in res.items() if k in ("difference", "ci_low", "ci_high")},
                   "p_value": res["p_value"], "test": res["test"]}
        elif est.draws == "shared":
            res = _shared_compare(cell, est, name)
        else:
            cmp = compare(cell.stats(est.baseline), cell.stats(name), cell.metric, n_resamples=est.n_resamples,
                          n_permutations=est.n_resamples, seed=stable_seed(est.seed, cell.key, name),
                          alpha=est.alpha)
            res = {"difference": rounded(cmp.difference), "ci_low": rounded(cmp.ci_low),
                   "ci_high": rounded(cmp.ci_high), "p_value": cmp.p_value, "test": cmp.test}
        rows.append({"task": cell.key[0], "language": cell.key[1], "condition": cell.key[3], "submission": name,
                     "baseline": est.baseline, **res, "n": len(cell.ids), **est.warning_columns(name)})
    return rows


def _drops(clean: _Cell, cell: _Cell) -> list[dict]:
    rows = []
    for i, name in enumerate(cell.names):
        if name not in clean.names:
            continue
        before = clean.point[clean.names.index(name)]
        rows.append({"submission": name, "language": cell.key[1], "condition": cell.key[3],
                     "clean": rounded(before), "perturbed": rounded(cell.point[i]),
                     "drop": rounded(before - cell.point[i])})
    return rows


def _gains(clean: _Cell, cell: _Cell, est: Estimator) -> list[dict]:
    """(B−A perturbed) − (B−A clean) of each system B over the baseline A."""
    if est.baseline not in cell.names:
        return []
    rows = []
    shared = set(clean.ids)
    ids = [i for i in cell.ids if i in shared]
    for name in cell.names:
        if name == est.baseline or name not in clean.names:
            continue
        if est.draws == "shared" and clean.ids == cell.ids:  # the same ids: the same draws
            res = _shared_gain(clean, cell, name, est)
        elif max(est.n_seeds[name], est.n_seeds[est.baseline]) > 1:
            res = _seeded_gain(clean, cell, name, ids, est)
        else:
            res_ = gain_robustness(clean.seed_stats(est.baseline, ids)[0], clean.seed_stats(name, ids)[0],
                                   cell.seed_stats(est.baseline, ids)[0], cell.seed_stats(name, ids)[0], cell.metric, n_resamples=est.n_resamples,
                                   n_permutations=est.n_resamples, seed=stable_seed(est.seed, cell.key, name),
                                   alpha=est.alpha)
            res = {"contrast": res_.difference, "ci_low": res_.ci_low, "ci_high": res_.ci_high,
                   "p_value": res_.p_value, "test": res_.test}
        rows.append({"task": cell.key[0], "language": cell.key[1], "condition": cell.key[3], "submission": name,
                     "baseline": est.baseline, "contrast": rounded(res["contrast"]), "ci_low": rounded(res["ci_low"]),
                     "ci_high": rounded(res["ci_high"]), "p_value": res["p_value"], "test": res["test"],
                     "n": len(ids), **est.warning_columns(name)})
    return rows


def _seeded_gain(clean: _Cell, pert: _Cell, name: str, ids: list[str], est: Estimator) -> dict:
    """The gain contrast from one example resample of the clean and perturbed rows of every seed of both
    systems, and the systems' seed draws (the report-wide ones)."""
    names = [est.baseline, name]
    stats = [s for cell in (clean, pert) for n in names for s in cell.seed_stats(n, ids)]
    points, samples, _ = bootstrap_values(stats, pert.metric, est.n_resamples,
                                          seed=stable_seed(est.seed, pert.key, name, "gain"))
    half = len(stats) // 2
    combined = est.combine(names, points[half:] - points[:half], samples[:, half:] - samples[:, :half])
    return _seeded_contrast(names, *combined, est)


def _seeded_contrast(names: list[str], point: np.ndarray, boot: np.ndarray, seeds: list[np.ndarray],
                     est: Estimator) -> dict:
    """The gain contrast of ``names[1]`` over ``names[0]`` from their combined (perturbed − clean) points and
    resamples: the seed-aware test where it applies, else the percentile CI and bootstrap p-value."""
    value = float(point[1] - point[0])
    diff = boot[:, 1] - boot[:, 0]
    if est.seed_aware(*names):
        res = seed_aware_test(value, diff, seeds, est.alpha)
        return {"contrast": value, "ci_low": float(res.ci_low), "ci_high": float(res.ci_high),
                "p_value": float(res.p_value), "test": SEED_TEST}
    low, high = percentile_ci(diff, est.alpha)
    return {"contrast": value, "ci_low": float(low), "ci_high": float(high),
            "p_value": float(bootstrap_p(np.asarray(diff).ravel())), "test": "paired bootstrap (examples)"}


def _examples(cell: _Cell, clean: _Cell | None, cells: dict[tuple, _Cell], per_page: int) -> list[dict]:
    """Up to ``per_page`` examples of the cell whose prediction changed under its condition (clean only: where
    systems disagree), with the records the browser shows (first seed of each system)."""
    cond = cell.key[3]
    if cond == "clean" and any(k[:3] == cell.key[:3] and k[3] != "clean" for k in cells):
        return []
    first = {n: cell.digests[n][0] for n in cell.names}
    clean_first = {n: clean.digests[n][0] for n in cell.names if clean is not None and n in clean.digests}
    chosen = []
    for ex_id in cell.ids:
        rows = {n: first[n].positions[ex_id] for n in cell.names}
        if cond == "clean":
            interesting = len({int(first[n].pred[rows[n]]) for n in cell.names}) > 1
        else:
            interesting = False
            for n in cell.names:
                if n in clean_first and ex_id in clean_first[n].positions:
                    before = clean_first[n].pred[clean_first[n].positions[ex_id]]
                    if before != first[n].pred[rows[n]]:
                        interesting = True
                        break
        if interesting:
            chosen.append(ex_id)
            if len(chosen) >= per_page:
                break
    fetched = {n: first[n].fetch([first[n].positions[i] for i in chosen]) for n in cell.names} if chosen else {}
    fetched_clean = {n: d.fetch([d.positions[i] for i in chosen if i in d.positions])
                     for n, d in clean_first.items()} if chosen else {}
    return example_section(cell.key, cell.names, chosen, fetched, fetched_clean)


def example_section(key: tuple, names: Sequence[str], chosen: Sequence[str], fetched: dict[str, list[dict]],
                    fetched_clean: dict[str, list[dict]]) -> list[dict]:
    """The example browser's section of cell ``key`` (none without ``chosen`` ids): per chosen id the first
    system's record and its clean record, and each system's clean and perturbed predictions. ``fetched``: per
    system its records of the chosen ids; ``fetched_clean``: its clean records of those of them it has."""
    if not chosen:
        return []
    task, lang, _, cond, _ = key
    clean_by_id = {n: {r["id"]: r for r in recs} for n, recs in fetched_clean.items()}
    examples = []
    for k, ex_id in enumerate(chosen):
        preds = {n: fetched[n][k] for n in names}
        before = {n: clean_by_id.get(n, {}).get(preds[n]["id"]) for n in names}
        examples.append({"id": ex_id, "record": preds[names[0]], "clean_record": before[names[0]],
                         "preds": [{"submission": n, "clean": (before[n] or {}).get("pred"),
                                    "perturbed": preds[n].get("pred"),
                                    "correct": preds[n].get("pred") == preds[n].get("gold")} for n in names]})
    return [{"task": task, "language": lang, "condition": cond, "examples": examples}]


def _pooled(cell: _Cell, attributes: Sequence[str]) -> dict[str, list[tuple[np.ndarray, dict[str, np.ndarray]]]]:
    """Per system and seed, the stats and attributes of every record of the cell (ids deduplicated as a
    ``{id: record}`` map does): what bucket scores pool over languages."""
    out = {}
    for name in cell.names:
        seeds = []
        for d in cell.digests[name]:
            rows = np.fromiter(d.positions.values(), dtype=np.intp)
            seeds.append((d.stats[cell.metric.name][rows], {a: d.attrs[a][rows] for a in attributes}))
        out[name] = seeds
    return out
