"""From stored predictions of several systems to significance-tested tables (no model involved).

A *system* (:mod:`harness.stats.systems`) is one submission or a set of seed runs of one recipe; its score is
the mean over its seeds. Per cell (task, language, split, condition, metric) every seed of every system is
aligned by example id (the examples all of them have), and one bootstrap gives every score's distribution:
with ``resampling="seeds"`` (the default) the two-level bootstrap of :mod:`harness.stats.seeds` (examples
resampled and shared by all systems and seeds, each system's seeds resampled with one draw for the whole
report), with ``resampling="examples"`` examples only (seeds fixed). For one-seed systems both are the paired
example bootstrap. A task score is the mean over the languages all its systems share; its bootstrap
distribution is the mean of the per-language distributions (languages resampled independently, systems
paired), and the overall score likewise averages task scores.

Tests against the baseline: where a compared system has two or more seeds and seeds are resampled, the
seed-aware studentized test of :func:`harness.stats.seeds.seed_aware_test` (CI ``d ± t · se``); otherwise
exact McNemar (binary accuracy) or a paired permutation test per cell, and a bootstrap test (percentile CI)
for averages. p-values are corrected per page (Holm or Benjamini–Hochberg). Optionally the Almost Stochastic
Order of each system over the baseline on their per-seed scores (:mod:`harness.stats.aso`).

Scale: the work is cut into one job per (task, language, split) (:mod:`harness.stats.cells`), run in order,
in ``jobs`` processes, on unit digests (:mod:`harness.stats.digest`) rather than records. Only a cell's
rows and, for the ranked metric, its bootstrap distribution come back; the distributions are summed into
task and slice averages as they arrive and dropped, so memory holds one job's statistics per process plus
the averages. A job's result is cached under its inputs' sha256 and the estimator's settings
(:mod:`harness.stats.groupcache`): re-rendering recomputes only the jobs whose units changed.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import multiprocessing.pool
import os
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.metrics import METRICS, Metric
from harness.spec.slices import Bucket, load_buckets
from harness.stats.aso import aso
from harness.stats.bootstrap import (
    BootstrapResult,
    correct_pvalues,
    percentile_ci,
    rank_groups,
    rank_intervals,
)
from harness.stats.bysystem import PartCache, compute_by_system, job_idents, system_units
from harness.stats.cells import (
    DRAWS,
    SEED_TEST,
    CellResult,
    Estimator,
    GroupJob,
    GroupResult,
    UnitRef,
    compute_group,
    rounded,
    stable_seed,
)
from harness.stats.digest import DigestCache
from harness.stats.engine import bootstrap_values, evaluate, group_rows, set_threads, shared_sums, stack_stats
from harness.stats.groupcache import GroupCache, rows_key
from harness.stats.runs import Submission
from harness.stats.systems import System

RESAMPLING = ("seeds", "examples")
BUCKET_RESAMPLES = 1000

__all__ = ["DRAWS", "RESAMPLING", "SEED_TEST", "Analysis", "Distribution", "rounded"]


@dataclass
class Distribution:
    """Scores of ``names`` averaged over ``parts`` (languages or tasks): point ``(m,)``, bootstrap samples
    ``(R, m)`` and, per name, its per-seed scores."""

    names: list[str]
    parts: list[str]
    point: np.ndarray
    samples: np.ndarray
    seed_points: list[np.ndarray]


@dataclass
class _Average:
    """Running average of cells' distributions, per system (in the order cells arrive)."""

    parts: list[str] = field(default_factory=list)
    sums: dict[str, np.ndarray] = field(default_factory=dict)
    points: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    seeds: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    parts_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, part: str, cell: CellResult) -> None:
        """The cell's points; and its resamples, of the systems it carries them of (the others' sums come from
        :meth:`Analysis._summaries`)."""
        assert cell.samples is not None
        self.parts.append(part)
        for i, name in enumerate(cell.names):
            self.points[name].append(cell.point[i])
            self.seeds[name].append(cell.seed_points[i])
            self.parts_of[name].append(part)
        for _, name, j in cell.columns():
            column = cell.samples[:, j]
            self.sums[name] = column.copy() if name not in self.sums else self.sums[name] + column

    def common(self, order: Sequence[str]) -> Distribution | None:
        """The systems present in every cell, averaged over all cells."""
        names = [n for n in order if len(self.points.get(n, ())) == len(self.parts)]
        if not names or not self.parts:
            return None
        return self._of(names, len(self.parts), sorted(self.parts))

    def own(self, name: str) -> tuple[float, np.ndarray, np.ndarray, list[str]] | None:
        """One system over the cells it is in: point, samples, seed points, parts."""
        if name not in self.sums:
            return None
        k = len(self.points[name])
        return (float(np.mean(self.points[name])), self.sums[name] / k, np.mean(self.seeds[name], axis=0),
                sorted(self.parts_of[name]))

    def _of(self, names: list[str], k: int, parts: list[str]) -> Distribution:
        point = np.mean([[self.points[n][j] for n in names] for j in range(k)], axis=0)
        samples = np.stack([self.sums[n] / k for n in names], axis=1)
        seeds = [np.mean(self.seeds[n], axis=0) for n in names]
        return Distribution(names, parts, point, samples, seeds)


def _worker(args: tuple) -> GroupResult:
    out = _compute(*args)
    out.verified = DigestCache.take_learned()
    return out


def _compute(job: GroupJob, est: Estimator, ranked: str, attributes: list[str], per_page: int,
             digests: DigestCache, results: GroupCache | None, idents: dict[str, str] | None,
             skip: frozenset[str]) -> GroupResult:
    if results is not None and est.draws == "shared":  # cached per system (:mod:`harness.stats.bysystem`)
        out = compute_by_system(job, est, ranked, attributes, per_page, digests, results, idents, skip)
        if out is not None:
            return out
    if results is not None:
        cached = results.load(job, est, ranked, attributes, per_page)
        if cached is not None:
            for refs in job.units.values():
                for seeds in refs.values():
                    for ref in seeds:
                        ref.check(digests)  # cached numbers only for predictions that are still what they were
            return cached
    out = compute_group(job, est, ranked, attributes, per_page, digests)
    if results is not None:
        results.save(job, est, ranked, attributes, per_page, out)
    return out


def _idents(args: tuple) -> tuple[dict[str, str] | None, dict[str, list]]:
    job, attributes, digests = args
    return job_idents(job, attributes, digests), DigestCache.take_learned()


class Analysis:
    """All statistics a report page needs, computed once (module docstring)."""

    def __init__(self, subs: list[Submission] | list[System], *, baseline: str | None = None,
                 alpha: float = 0.05, n_resamples: int = 2000, correction: str = "holm", seed: int = 0,
                 resampling: str = "seeds", draws: str = "per-test", with_aso: bool = False, jobs: int = 1,
                 cache_dir: Path | None = None,
                 verify: str = "stamp", buckets: list[Bucket] | None = None, examples_per_section: int = 12,
                 slices: dict[str, list[str]] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 on_task: Callable[[Analysis, str], None] | None = None) -> None:
        if resampling not in RESAMPLING:
            raise ValueError(f"resampling must be one of {', '.join(RESAMPLING)}, got {resampling!r}")
        if draws not in DRAWS:
            raise ValueError(f"draws must be one of {', '.join(DRAWS)}, got {draws!r}")
        self.systems = [s if isinstance(s, System) else System.single(s) for s in subs]
        self.subs = [s.first for s in self.systems]
        self.names = [s.name for s in self.systems]
        self.n_seeds = {s.name: s.n_seeds for s in self.systems}
        self.baseline = baseline if baseline in self.names else (self.names[0] if self.names else None)
        self.alpha, self.n_resamples, self.correction, self.seed = alpha, n_resamples, correction, seed
        self.resampling, self.with_aso = resampling, with_aso
        self.est = Estimator(tuple(self.names), dict(self.n_seeds), self.baseline, alpha, n_resamples, seed,
                             resampling, draws)
        self.buckets = load_buckets() if buckets is None else buckets
        self.slices = slices or {}
        self.ranked: dict[str, str] = {}
        self.incomplete: list[str] = []  # "system: task/lang/condition" units some seeds lack
        self.cells: dict[tuple, CellResult] = {}
        self.comparisons: dict[str, list[dict]] = defaultdict(list)
        self.gains: dict[str, list[dict]] = defaultdict(list)
        self.drops: dict[str, list[dict]] = defaultdict(list)
        self.examples: list[dict] = []
        self.bucket_rows: dict[str, list[dict]] = {}
        self._task_avg: dict[tuple[str, str, str], _Average] = defaultdict(_Average)
        self._slice_avg: dict[tuple[str, str, str], _Average] = defaultdict(_Average)
        # shared draws, per task: systems whose averages and bucket rows are cached (their parts' arrays are not
        # read), those cached sums and rows, and the tasks a job of which was computed whole
        self._summarized: dict[str, dict[str, tuple[dict, list[dict]]]] = defaultdict(dict)
        self._whole: set[str] = set()
        self._pairwise: dict[tuple[str, str], dict | None] = {}  # (scope, condition) → matrix, once computed
        self._boards: dict[tuple[str, str], tuple[dict, list[dict]]] = {}  # (scope, condition) → leaderboard part
        jobs_ = self._plan()
        # the stamps the jobs learn come back with their results and are kept in the index (no file per unit)
        digests = DigestCache(cache_dir / "digests" if cache_dir else None, verify=verify, indexed=True)
        digests.open_index()  # before the workers fork: they share it
        self._verified: dict[str, list] = {}  # stamps the jobs learned, for the index
        self._results = PartCache(cache_dir / "cells") if cache_dir else None
        self._inputs: dict[str, list[str | None]] = defaultdict(list)  # task → its jobs' input fingerprints
        self._system_inputs: dict[str, dict[str, list | None]] = defaultdict(dict)  # task → system → its units
        for job in jobs_:
            self._inputs[job.task].append(job.fingerprint())
            for name in job.systems:
                units, own = system_units(job, name), self._system_inputs[job.task].get(name, [])
                self._system_inputs[job.task][name] = None if own is None or units is None else \
                    [*own, [*job.key[1:], units]]
        self.planned_tasks = sorted({job.task for job in jobs_})
        self.planned_conditions = sorted({c for job in jobs_ for c in job.units}, key=_condition_order)
        self._on_task = on_task
        self._run(jobs_, max(1, jobs), digests, self._results, examples_per_section, progress)

    # ----- construction -------------------------------------------------------------------------------
    def _plan(self) -> list[GroupJob]:
        """One job per (task, language, split), from unit metadata alone."""
        grouped: dict[tuple, dict[str, list[UnitRef]]] = defaultdict(dict)
        metrics: dict[tuple, list[str]] = {}
        for system in self.systems:
            per_unit: dict[tuple, list[UnitRef]] = defaultdict(list)
            for run in system.runs:
                for unit, (source, meta) in run.units.items():
                    if "~v" in unit.condition:
                        continue  # extra seeded variants only feed the "@worst" condition
                    self.ranked.setdefault(unit.task, meta.get("ranked_metric") or meta.get("metrics", [""])[0])
                    base = (unit.task, unit.lang, unit.split, unit.condition)
                    ref = UnitRef(unit, meta, records=source) if isinstance(source, list) else \
                        UnitRef(unit, meta, store=source)
                    per_unit[base].append(ref)
                    metrics[base] = meta.get("metrics", [])
            for base, refs in per_unit.items():
                if len(refs) == system.n_seeds:
                    grouped[base][system.name] = refs
                else:
                    self.incomplete.append(f"{system.name}: {'/'.join(base)} ({len(refs)} of {system.n_seeds} "
                                           "seeds)")
        jobs: dict[tuple, GroupJob] = {}
        for base, per_sys in sorted(grouped.items()):
            key = base[:3]
            job = jobs.setdefault(key, GroupJob(*key, {}, {}))
            job.units[base[3]] = {n: per_sys[n] for n in self.names if n in per_sys}
            job.metrics[base[3]] = metrics[base]
        return list(jobs.values())

    def _run(self, jobs: list[GroupJob], n_jobs: int, digests: DigestCache, results: GroupCache | None,
             per_page: int, progress: Callable[[int, int], None] | None) -> None:
        """Run the jobs in order (``n_jobs`` processes), absorbing each result as it arrives; a task's bucket
        scores are computed (in the pool too) once its last job is in, and a task whose numbers are all in
        (bucket rows too) is handed to ``on_task`` while the pool goes on with the next tasks. At most
        ``2 * n_jobs`` jobs are queued ahead (``8 * n_jobs`` with ``on_task``, so that the pool is not idle while
        it runs), so a task's bucket job runs soon after its last job and its pooled rows are dropped then, not
        at the end of the report."""
        attributes = sorted({b.attribute for b in self.buckets})
        parallel = n_jobs > 1 and len(jobs) > 1
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"

        def start() -> multiprocessing.pool.Pool:
            return multiprocessing.get_context(method).Pool(min(n_jobs, len(jobs)), initializer=set_threads,
                                                            initargs=(1,))

        pool = start() if parallel else None
        try:
            idents = self._summaries(jobs, attributes, digests, pool)
            if self._verified:
                # predictions just verified (a new submission's): in the index, and in this process's view of
                # it, which workers forked from now on share, so that no job hashes them again
                digests.save_index(self._verified)
                if pool is not None:
                    pool.terminate()
                    pool = start()
            work = [(job, self.est, self.ranked.get(job.task, ""), attributes, per_page, digests, results,
                     idents[i], frozenset(self._summarized.get(job.task, {}))) for i, job in enumerate(jobs)]
            ahead = (8 if self._on_task is not None else 2) * n_jobs
            outs = _in_order(pool, _worker, work, ahead) if pool is not None else map(_worker, work)
            pending: list[tuple[str, object]] = []
            pooled: dict = {}
            current = None
            for done, out in enumerate(outs, 1):
                if out.key[0] != current:
                    if current is not None:
                        pending.append((current, self._finish(current, pooled, pool)))
                    current, pooled = out.key[0], {}
                if not out.by_system:
                    self._whole.add(out.key[0])
                DigestCache.absorb(self._verified, out.verified)
                self._absorb(out, pooled)
                if progress is not None:
                    progress(done, len(work))
                self._hand_over(pending, wait=False)
            if current is not None:
                pending.append((current, self._finish(current, pooled, pool)))
            self._hand_over(pending, wait=True)
            DigestCache.absorb(self._verified, DigestCache.take_learned())  # and what this process learned
            digests.save_index(self._verified)
        finally:
            if pool is not None:
                pool.terminate()

    def _hand_over(self, pending: list[tuple[str, object]], *, wait: bool) -> None:
        """The bucket rows of the finished tasks at the head of ``pending`` (all of them with ``wait``), each
        task then handed to ``on_task``."""
        while pending and (wait or pending[0][1].ready()):  # type: ignore[attr-defined]
            task, handle = pending.pop(0)
            self.bucket_rows[task] = handle.get()  # type: ignore[attr-defined]
            if self._on_task is not None:
                self._on_task(self, task)

    # ----- shared draws: what is cached per (task, system) --------------------------------------------
    def _summary_key(self, task: str, name: str) -> str:
        """What a system's task and slice averages depend on when every job of the task is cut by system."""
        return rows_key("averages", task, name, self._system_inputs[task][name], self.est.key([name]),
                        self.ranked.get(task, ""), sorted(self.slices.items()))

    def _bucket_key(self, task: str, name: str) -> str:
        """What a system's bucket rows depend on: its own units' records (:func:`bucket_scores`)."""
        return rows_key("buckets-system", task, name, self._system_inputs[task][name], self.est.key([name]),
                        self.ranked.get(task, ""), [(b.name, b.attribute, list(b.edges)) for b in self.buckets])

    def _summaries(self, jobs: list[GroupJob], attributes: list[str], digests: DigestCache,
                   pool: multiprocessing.pool.Pool | None) -> list[dict[str, str] | None]:
        """Shared draws: the systems of each task whose averages and bucket rows are cached, kept (with those) in
        ``_summarized`` when every job of the task can be cut by system; and the ids per condition of each job
        of those tasks (None for the others: the job finds them itself)."""
        idents: list[dict[str, str] | None] = [None] * len(jobs)
        if self.est.draws != "shared" or not isinstance(self._results, PartCache):
            return idents
        cache = self._results
        keys = {(task, name): (self._summary_key(task, name), self._bucket_key(task, name))
                for task, systems in self._system_inputs.items() for name, units in systems.items()
                if units is not None}
        # the pool names the ids of the jobs of tasks with cached summaries while this process reads them (a
        # damaged one leaves its task's jobs with ids named, which they would have named themselves)
        kept = {task for (task, _), (summary, rows) in keys.items()
                if cache.has_entry(f"avg-{summary}") and cache.has_rows(rows)}
        chosen = [i for i, job in enumerate(jobs) if job.task in kept]
        args = [(jobs[i], attributes, digests) for i in chosen]
        naming = pool.map_async(_idents, args, chunksize=4) if pool is not None and chosen else None
        candidates: dict[str, dict[str, tuple[dict, list[dict]]]] = {}
        for (task, name), (summary_key, rows_key_) in keys.items():
            if task not in kept:
                continue
            summary = cache.load_summary(summary_key)
            rows = cache.rows(rows_key_) if summary is not None else None
            if summary is not None and rows is not None:
                candidates.setdefault(task, {})[name] = (summary, rows)
        if not chosen:
            return idents
        found = naming.get() if naming is not None else [_idents(a) for a in args]
        for i, (got, learned) in zip(chosen, found, strict=True):
            idents[i] = got
            DigestCache.absorb(self._verified, learned)
        for task, systems in candidates.items():
            if all(idents[i] is not None for i, job in enumerate(jobs) if job.task == task):
                self._summarized[task] = systems
        return idents

    def _finish(self, task: str, pooled: dict, pool: multiprocessing.pool.Pool | None) -> object:
        """A task whose last job is in: the cached sums of its summarized systems put in its averages, the other
        systems' sums cached (when every job of the task was cut by system), and its bucket scores started."""
        ranked = self.ranked.get(task, "")
        summarized = self._summarized.get(task, {})
        for name, (summary, _) in summarized.items():
            for cond, sums in summary["task"].items():
                self._task_avg[(task, cond, ranked)].sums[name] = sums
            for (group, cond), sums in summary["slice"].items():
                self._slice_avg[(task, group, cond)].sums[name] = sums
        if isinstance(self._results, PartCache) and self.est.draws == "shared" and task not in self._whole:
            for name, units in self._system_inputs.get(task, {}).items():
                if units is None or name in summarized:
                    continue
                summary = {"task": {k[1]: a.sums[name] for k, a in self._task_avg.items()
                                    if k[0] == task and k[2] == ranked and name in a.sums},
                           "slice": {(k[1], k[2]): a.sums[name] for k, a in self._slice_avg.items()
                                     if k[0] == task and name in a.sums}}
                self._results.save_summary(self._summary_key(task, name), summary)
        return self._buckets_of(task, pooled, pool)

    def _buckets_of(self, task: str, pooled: dict, pool: multiprocessing.pool.Pool | None) -> object:
        """The bucket scores of ``task`` (serial), or the pool's handle on them; cached beside the jobs' results
        under the task's jobs' inputs and the settings."""
        args = (self.buckets, self.task_conditions(task), self.names, self.ranked.get(task, ""), pooled, self.seed,
                self.alpha, self.est.draws)
        if self.est.draws == "shared" and self._results is not None and task not in self._whole:
            return self._buckets_by_system(task, args, pool)
        key = None
        if self._results is not None and all(f is not None for f in self._inputs.get(task, [None])):
            present = {name for cond in pooled.values() for name in cond}
            key = rows_key("buckets", task, self._inputs[task], self.est.key(present), args[3], args[1],
                           [(b.name, b.attribute, list(b.edges)) for b in self.buckets])
            cached = self._results.rows(key)
            if cached is not None:
                return _Ready(cached)
        if pool is not None:
            return _Saving(_start_buckets(pool, args), self._results, key)
        rows = bucket_scores(*args)
        if key is not None and self._results is not None:
            self._results.save_rows(key, rows)
        return _Ready(rows)

    def _buckets_by_system(self, task: str, args: tuple, pool: multiprocessing.pool.Pool | None) -> object:
        """Shared draws, every job of the task cut by system: a system's bucket scores depend on its own rows
        alone (:func:`bucket_scores`), so they are cached per system and only the systems without cached rows
        are computed (those of summarized systems were read before the jobs ran)."""
        assert self._results is not None
        pooled, summarized = args[4], self._summarized.get(task, {})
        present = [n for n in self.names if n in summarized or any(n in cond for cond in pooled.values())]
        keys = {n: self._bucket_key(task, n) for n in present
                if self._system_inputs.get(task, {}).get(n) is not None}
        cached = {n: summarized[n][1] for n in present if n in summarized}
        cached.update({n: rows for n, k in keys.items() if n not in cached and (rows := self._results.rows(k))
                       is not None})
        missing = [n for n in present if n not in cached]
        order = {"bucket": {(b.name, b.attribute): i for i, b in enumerate(self.buckets)},
                 "condition": {c: i for i, c in enumerate(args[1])}, "submission": {n: i for i, n in enumerate(self.names)}}
        sub = (args[0], args[1], missing, args[3], {c: {n: v for n, v in s.items() if n in missing}
                                                    for c, s in pooled.items()}, *args[5:])
        if not missing:
            handle: object = _Ready([])
        elif pool is not None:
            handle = _start_buckets(pool, sub)
        else:
            handle = _Ready(bucket_scores(*sub))
        return _BySystem(handle, cached, keys, self._results, order)

    def _absorb(self, out: GroupResult, pooled: dict) -> None:
        task = out.key[0]
        for cell in out.cells:
            if cell.samples is not None:
                self._task_avg[(task, cell.key[3], cell.key[4])].add(cell.key[1], cell)
                for group, members in self.slices.items():
                    if cell.key[1] in members:
                        self._slice_avg[(task, group, cell.key[3])].add(cell.key[1], cell)
                cell.samples = None  # averaged; not kept
            self.cells[cell.key] = cell
        self.comparisons[task] += out.comparisons
        self.gains[task] += out.gains
        self.drops[task] += out.drops
        self.examples += out.examples
        for cond, systems in out.pooled.items():
            for name, seeds in systems.items():
                pooled.setdefault(cond, {}).setdefault(name, []).append(seeds)

    # ----- helpers ------------------------------------------------------------------------------------
    def seed_aware(self, *names: str) -> bool:
        return self.est.seed_aware(*names)

    def single_seed_warning(self, *names: str) -> bool:
        return self.est.single_seed_warning(*names)

    def interval(self, name: str, point: float, samples: np.ndarray, seed_points: np.ndarray
                 ) -> tuple[float, float]:
        return self.est.interval(name, point, samples, seed_points)

    def difference(self, a: int, b: int, names: list[str], point: np.ndarray, samples: np.ndarray,
                   seed_points: list[np.ndarray]) -> dict:
        return self.est.difference(a, b, names, point, samples, seed_points)

    # ----- tables -------------------------------------------------------------------------------------
    def conditions(self) -> list[str]:
        return sorted({k[3] for k in self.cells}, key=_condition_order)

    def tasks(self) -> list[str]:
        return sorted({k[0] for k in self.cells})

    def cell_rows(self) -> list[dict]:
        """One row per cell and system: score with its CI and seed spread (the scores export)."""
        return [{"task": key[0], "language": key[1], "split": key[2], "condition": key[3], "metric": key[4],
                 "submission": name, **row}
                for key, cell in self.cells.items() for name, row in zip(cell.names, cell.rows, strict=True)]

    def task_conditions(self, task: str) -> list[str]:
        """The conditions that have a cell of ``task``, in :meth:`conditions` order."""
        return [c for c in self.conditions() if any(k[0] == task and k[3] == c for k in self.cells)]

    def task_distribution(self, task: str, condition: str) -> Distribution | None:
        """Scores of a task (ranked metric) over the languages its systems share."""
        average = self._task_avg.get((task, condition, self.ranked.get(task, "")))
        return average.common(self.names) if average is not None else None

    def slice_distribution(self, task: str, group: str, condition: str, name: str
                           ) -> tuple[float, np.ndarray, np.ndarray, list[str]] | None:
        """One system's score over the languages of slice ``group`` it has (ranked metric)."""
        average = self._slice_avg.get((task, group, condition))
        return average.own(name) if average is not None else None

    def overall_distribution(self, condition: str) -> Distribution | None:
        parts = [self.task_distribution(t, condition) for t in self.tasks()]
        tasks = [t for t, p in zip(self.tasks(), parts, strict=True) if p is not None]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        names = [n for n in self.names if all(n in p.names for p in parts)]
        if not names:
            return None
        point = np.mean([p.point[[p.names.index(n) for n in names]] for p in parts], axis=0)
        samples = np.mean([p.samples[:, [p.names.index(n) for n in names]] for p in parts], axis=0)
        seeds = [np.mean([p.seed_points[p.names.index(n)] for p in parts], axis=0) for n in names]
        return Distribution(names, tasks, point, samples, seeds)

    def leaderboard(self) -> dict:
        """Per condition: overall and task scores with CIs, rank intervals, rank groups, markers vs baseline."""
        out: dict = {"conditions": self.conditions(), "tasks": self.tasks(), "rows": {}, "groups": {},
                     "comparisons": []}
        for cond in self.conditions():
            for scope in ["overall", *self.tasks()]:
                rows, comparisons = self.scope_board(scope, cond)
                out["rows"].update(rows)
                out["comparisons"] += [dict(r) for r in comparisons]
        self._correct(out["comparisons"])
        return out

    def scope_board(self, scope: str, cond: str) -> tuple[dict, list[dict]]:
        """The leaderboard's rows of a task (or "overall") under ``cond`` and its comparisons with the baseline
        (raw p-values), computed once: like :meth:`pairwise`, ask for a task's once its numbers are in."""
        if (scope, cond) not in self._boards:
            dist = self.overall_distribution(cond) if scope == "overall" else self.task_distribution(scope, cond)
            self._boards[(scope, cond)] = ({}, []) if dist is None else self._scope_board(scope, cond, dist)
        return self._boards[(scope, cond)]

    def _scope_board(self, scope: str, cond: str, dist: Distribution) -> tuple[dict, list[dict]]:
        rows: dict = {}
        comparisons: list[dict] = []
        names, point, samples = dist.names, dist.point, dist.samples
        boot = _as_boot(point, samples, self.alpha)
        ranks = rank_intervals([], None, boot=boot, alpha=self.alpha)
        groups = rank_groups([], None, boot=boot, alpha=self.alpha)
        group_of = {names[i]: g + 1 for g, members in enumerate(groups) for i in members}
        intervals = self.est.intervals(names, point, samples, dist.seed_points)
        for i, name in enumerate(names):
            low, high = intervals[i]
            rows[(name, scope, cond)] = {
                "value": rounded(point[i]), "ci_low": rounded(low), "ci_high": rounded(high),
                "over": dist.parts, "rank": int(ranks.point_rank[i]), "rank_low": int(ranks.rank_low[i]),
                "rank_high": int(ranks.rank_high[i]), "group": group_of[name],
                **self.est.seed_columns(name, dist.seed_points[i])}
        if self.baseline in names:
            b = names.index(self.baseline)
            others = [i for i in range(len(names)) if i != b]
            found = self.est.differences([(b, i) for i in others], names, point, samples, dist.seed_points)
            for i, res in zip(others, found, strict=True):
                name = names[i]
                row = {"submission": name, "baseline": self.baseline, "scope": scope, "condition": cond,
                       **{k: rounded(v) if k in ("difference", "ci_low", "ci_high") else v
                          for k, v in res.items()}, **self.est.warning_columns(name)}
                if self.with_aso:
                    row.update(self._aso(dist.seed_points[i], dist.seed_points[b], (scope, cond, name)))
                comparisons.append(row)
        return rows, comparisons

    def _aso(self, seeds_b: np.ndarray, seeds_a: np.ndarray, key: tuple) -> dict:
        """ASO of B over A and of A over B on per-seed scores (both need two seeds)."""
        if len(seeds_b) < 2 or len(seeds_a) < 2:
            return {"aso_eps_min": math.nan, "aso_eps_min_reverse": math.nan}
        ahead = aso(seeds_b, seeds_a, self.alpha, seed=stable_seed(self.seed, "aso", key))
        behind = aso(seeds_a, seeds_b, self.alpha, seed=stable_seed(self.seed, "aso-reverse", key))
        return {"aso_eps_min": rounded(ahead.eps_min), "aso_eps_min_reverse": rounded(behind.eps_min)}

    def language_comparisons(self, task: str) -> list[dict]:
        """Each system vs the baseline per language and condition (ranked metric), corrected per task."""
        rows = [dict(r) for r in self.comparisons.get(task, [])]
        self._correct(rows)
        return rows

    def pairwise(self, scope: str, condition: str = "clean") -> dict | None:
        """Matrix of corrected p-values between all pairs, for a task or "overall" (computed once: ask for a
        task's once its numbers are all in, e.g. from ``on_task``, the overall one once the analysis is done)."""
        if (scope, condition) not in self._pairwise:
            self._pairwise[(scope, condition)] = self._pairwise_matrix(scope, condition)
        return self._pairwise[(scope, condition)]

    def _pairwise_matrix(self, scope: str, condition: str) -> dict | None:
        if scope == "overall":
            dist = self.overall_distribution(condition)
        else:
            dist = self.task_distribution(scope, condition)
        if dist is None or len(dist.names) < 2:
            return None
        names = dist.names
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
        raw = [r["p_value"] for r in self.est.differences(pairs, names, dist.point, dist.samples, dist.seed_points)]
        adjusted = correct_pvalues(raw, self.correction)
        matrix = [[None] * len(names) for _ in names]
        for (i, j), p in zip(pairs, adjusted, strict=True):
            matrix[i][j] = matrix[j][i] = float(p)
        return {"names": names, "point": [rounded(x) for x in dist.point], "p": matrix,
                "seeds": [self.n_seeds[n] for n in names]}

    def gain_robustness(self, task: str) -> list[dict]:
        """For each system B vs the baseline A: (B−A perturbed) − (B−A clean) per language and condition,
        with seeds and examples resampled together when a system has several seeds; corrected per task."""
        rows = [dict(r) for r in self.gains.get(task, [])]
        self._correct(rows)
        return rows

    def _correct(self, rows: list[dict]) -> None:
        if not rows:
            return
        adjusted = correct_pvalues([r["p_value"] for r in rows], self.correction)
        for row, p in zip(rows, adjusted, strict=True):
            row["p_adjusted"] = float(p)
            row["significant"] = bool(p < self.alpha)
            row["correction"] = self.correction


def _condition_order(condition: str) -> tuple[bool, str]:
    """Clean first, then the others by name (the order of every condition list of a report)."""
    return condition != "clean", condition


def _start_buckets(pool: multiprocessing.pool.Pool, args: tuple) -> _Joined:
    """:func:`bucket_scores` of ``args`` on the pool, one call per (bucket, condition), each sent only that
    condition's statistics and that bucket's attribute: the calls spread over the workers, and their rows, joined
    in order, are the rows of one call (each resample draw is seeded by its own bucket, label and condition)."""
    buckets, conditions, names, metric, pooled, *rest = args
    calls = []
    for bucket in buckets:
        for cond in conditions:
            if cond not in pooled:
                continue
            own = {name: [[(stats, {bucket.attribute: attrs[bucket.attribute]}) for stats, attrs in cell]
                          for cell in cells] for name, cells in pooled[cond].items()}
            calls.append(pool.apply_async(bucket_scores, ([bucket], [cond], names, metric, {cond: own}, *rest)))
    return _Joined(calls)


class _Joined:
    """Several pending calls' rows, joined in order, with the interface of a pool's result."""

    def __init__(self, calls: list[multiprocessing.pool.AsyncResult]) -> None:
        self.calls = calls

    def ready(self) -> bool:
        return all(call.ready() for call in self.calls)

    def get(self) -> list[dict]:
        return [row for call in self.calls for row in call.get()]


class _Ready:
    """Rows already at hand, with the interface of a pool's result."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def get(self) -> list[dict]:
        return self.rows

    def ready(self) -> bool:
        return True


def _in_order(pool: multiprocessing.pool.Pool, fn: Callable, items: list, ahead: int) -> Iterator:
    """``fn`` over ``items`` on ``pool``, results in order, with at most ``ahead`` calls queued or running (other
    calls put on the pool meanwhile run after those, not after every item)."""
    queue: deque = deque()
    rest = iter(items)
    for item in itertools.islice(rest, ahead):
        queue.append(pool.apply_async(fn, (item,)))
    while queue:
        result = queue.popleft().get()
        for item in itertools.islice(rest, 1):
            queue.append(pool.apply_async(fn, (item,)))
        yield result


class _BySystem:
    """Bucket rows of a task: the cached systems' and those being computed, in :func:`bucket_scores` order;
    the computed ones cached per system when they arrive."""

    def __init__(self, handle: object, cached: dict[str, list[dict]], keys: dict[str, str], cache: GroupCache,
                 order: dict[str, dict]) -> None:
        self.handle, self.cached, self.keys, self.cache, self.order = handle, cached, keys, cache, order

    def ready(self) -> bool:
        return self.handle.ready()  # type: ignore[attr-defined]

    def get(self) -> list[dict]:
        fresh = self.handle.get()  # type: ignore[attr-defined]
        for name, key in self.keys.items():
            if name not in self.cached:
                self.cache.save_rows(key, [r for r in fresh if r["submission"] == name])
        rows = [r for rows in self.cached.values() for r in rows] + fresh
        o = self.order
        return sorted(rows, key=lambda r: (o["bucket"][(r["bucket"], r["attribute"])], o["condition"][r["condition"]],
                                           o["submission"][r["submission"]]))


class _Saving:
    """A pool's pending rows, cached when they arrive."""

    def __init__(self, handle: _Joined, cache: GroupCache | None, key: str | None) -> None:
        self.handle, self.cache, self.key = handle, cache, key

    def ready(self) -> bool:
        return self.handle.ready()

    def get(self) -> list[dict]:
        rows = self.handle.get()
        if self.cache is not None and self.key is not None:
            self.cache.save_rows(self.key, rows)
        return rows


def bucket_scores(buckets: list[Bucket], conditions: list[str], names: list[str], metric_name: str, pooled: dict,
                  seed: int, alpha: float, draws: str = "per-test") -> list[dict]:
    """Score per example bucket of one task (pooled over languages; membership from each record's attributes),
    per condition and system. A multi-seed system scores the mean over its seeds, with the example-only
    interval (seeds fixed). With ``draws="shared"`` the systems and seeds of a (bucket, label, condition) that
    have as many examples share one resample draw (one call of :func:`shared_sums`); each interval is one
    system's own, so only the cost changes."""
    rows: list[dict] = []
    metric = METRICS.get(metric_name)
    if metric is None:
        return rows
    for bucket in buckets:
        for cond in conditions:
            chosen_of: dict[str, dict[str, list[np.ndarray]]] = {}  # label → system → per seed
            for name in names:
                cells = pooled.get(cond, {}).get(name)
                if not cells:
                    continue
                r = len(cells[0])
                stats = [np.concatenate([c[k][0] for c in cells]) for k in range(r)]
                codes = [_assign(bucket, np.concatenate([c[k][1][bucket.attribute] for c in cells]))
                         for k in range(r)]
                for j, label in enumerate(bucket.labels()):
                    chosen = [s[code == j] for s, code in zip(stats, codes, strict=True)]
                    if len(chosen[0]):
                        chosen_of.setdefault(label, {})[name] = chosen
            scored = {label: _bucket_shared(per_sys, metric, seed, (bucket.name, label, cond))
                      if draws == "shared" else
                      {name: bootstrap_values(chosen, metric, BUCKET_RESAMPLES, seed=seed)[:2]
                       for name, chosen in per_sys.items()} for label, per_sys in chosen_of.items()}
            for name in names:
                for label in bucket.labels():
                    if name not in chosen_of.get(label, {}):
                        continue
                    chosen = chosen_of[label][name]
                    point, samples = scored[label][name]
                    low, high = percentile_ci(samples.mean(axis=1), alpha)
                    rows.append({"bucket": bucket.name, "attribute": bucket.attribute, "label": label,
                                 "condition": cond, "submission": name, "value": rounded(point.mean()),
                                 "ci_low": rounded(low), "ci_high": rounded(high), "n": len(chosen[0]),
                                 "seeds": len(chosen)})
    return rows


def _bucket_shared(per_sys: dict[str, list[np.ndarray]], metric: Metric, seed: int, key: tuple
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per system: per-seed points ``(r,)`` and resampled scores ``(B, r)``, one draw per example count. A system
    whose rows take few distinct values is resampled on its own by the grouped engine (cheaper than any shared
    draw, and exactly its per-test numbers)."""
    by_n: dict[int, list[str]] = {}
    out = {}
    for name, chosen in per_sys.items():
        n = len(chosen[0])
        if 2 * len(group_rows(stack_stats(chosen))[2]) <= n:
            out[name] = bootstrap_values(chosen, metric, BUCKET_RESAMPLES, seed=seed)[:2]
        else:
            by_n.setdefault(n, []).append(name)
    for n, group in by_n.items():
        parts = [np.asarray(s, dtype=np.float64).reshape(n, -1) for name in group for s in per_sys[name]]
        boot, _ = shared_sums(np.concatenate(parts, axis=1), BUCKET_RESAMPLES,
                              seed=stable_seed(seed, "buckets", *key, n), flips=False)
        start = 0
        for name in group:
            r = len(per_sys[name])
            k = parts[0].shape[1]
            own = boot[:, start * k:(start + r) * k]
            sums = np.concatenate([p.sum(axis=0) for p in parts[start:start + r]])
            out[name] = (evaluate(metric, sums, r, n), evaluate(metric, own, r, n))
            start += r
    return out


def _assign(bucket: Bucket, values: np.ndarray) -> np.ndarray:
    """Each value's bucket (:meth:`Bucket.assign`, vectorised): the index of its label in ``bucket.labels()``,
    -1 for none (integers: comparing them is what selecting a bucket's rows costs, 10x less than strings)."""
    out = np.full(len(values), -1, dtype=np.intp)
    edges = (*bucket.edges[1:], math.inf)
    with np.errstate(invalid="ignore"):
        for j, (lo, hi) in enumerate(zip(bucket.edges, edges, strict=True)):
            out[(values >= lo) & (values < hi)] = j
    return out


def _as_boot(point: np.ndarray, samples: np.ndarray, alpha: float) -> BootstrapResult:
    """Averaged scores as the input of :func:`rank_intervals` and :func:`rank_groups`, which read the point and
    the samples only: the pairwise intervals (an ``(R, m, m)`` quantile) are left NaN, not computed."""
    m = len(point)
    return BootstrapResult(point=point, ci_low=np.full(m, np.nan), ci_high=np.full(m, np.nan),
                           diff=point[:, None] - point[None, :], diff_ci_low=np.full((m, m), np.nan),
                           diff_ci_high=np.full((m, m), np.nan), samples=samples, alpha=alpha,
                           n=samples.shape[0], method="averaged")


def default_jobs() -> int:
    """Processes for ``--jobs 0``: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
