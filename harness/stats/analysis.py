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
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from harness.metrics import METRICS, Metric
from harness.stats.aso import aso
from harness.stats.bootstrap import (
    BootstrapResult,
    compare,
    correct_pvalues,
    gain_robustness,
    percentile_ci,
    rank_groups,
    rank_intervals,
)
from harness.stats.engine import bootstrap_values
from harness.stats.runs import Submission
from harness.stats.seeds import bootstrap_p, seed_aware_test, seed_weights, two_level
from harness.stats.systems import System

RESAMPLING = ("seeds", "examples")
SEED_TEST = "two-level bootstrap t"


def _seed(*parts: object) -> int:
    return int(hashlib.sha256(repr(parts).encode()).hexdigest()[:8], 16)


def _boot_p(diff_samples: np.ndarray) -> float:
    """Two-sided bootstrap p-value of a difference: inverts the percentile interval."""
    return float(bootstrap_p(np.asarray(diff_samples).ravel()))


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
class Cell:
    """One (task, lang, split, condition, metric) across the systems that have it."""

    key: tuple[str, str, str, str, str]
    names: list[str]
    ids: list[str]
    stats: list[np.ndarray]  # per system: its stats (one seed) or the mean over seeds of the stats
    metric: Metric
    point: np.ndarray = field(default_factory=lambda: np.zeros(0))
    samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    records: dict[str, dict[str, dict]] = field(default_factory=dict)  # name → id → record (first seed)
    seed_stats: list[list[np.ndarray]] = field(default_factory=list)  # per system, per seed
    seed_records: dict[str, list[dict[str, dict]]] = field(default_factory=dict)  # name → per seed id → record
    seed_points: list[np.ndarray] = field(default_factory=list)  # per system, (R,) per-seed scores


def _aligned_cell(key: tuple, per_sys: dict[str, list[list[dict]]], metric: Metric) -> Cell | None:
    names = list(per_sys)
    common = set.intersection(*(set(r["id"] for r in recs) for runs in per_sys.values() for recs in runs))
    ids = [r["id"] for r in per_sys[names[0]][0] if r["id"] in common]
    if not ids:
        return None
    by_id = {name: [{r["id"]: r for r in recs} for recs in runs] for name, runs in per_sys.items()}
    seed_stats = [[metric.stats([seed[i] for i in ids]) for seed in by_id[name]] for name in names]
    stats = [s[0] if len(s) == 1 else np.mean([np.asarray(x, dtype=np.float64) for x in s], axis=0)
             for s in seed_stats]
    return Cell(key, names, ids, stats, metric, records={n: by_id[n][0] for n in names}, seed_stats=seed_stats,
                seed_records=by_id)


class Analysis:
    """All statistics a report page needs, computed once."""

    def __init__(self, subs: list[Submission] | list[System], *, baseline: str | None = None,
                 alpha: float = 0.05, n_resamples: int = 2000, correction: str = "holm", seed: int = 0,
                 resampling: str = "seeds", with_aso: bool = False) -> None:
        if resampling not in RESAMPLING:
            raise ValueError(f"resampling must be one of {', '.join(RESAMPLING)}, got {resampling!r}")
        self.systems = [s if isinstance(s, System) else System.single(s) for s in subs]
        self.subs = [s.first for s in self.systems]
        self.names = [s.name for s in self.systems]
        self.n_seeds = {s.name: s.n_seeds for s in self.systems}
        self.baseline = baseline if baseline in self.names else (self.names[0] if self.names else None)
        self.alpha, self.n_resamples, self.correction, self.seed = alpha, n_resamples, correction, seed
        self.resampling, self.with_aso = resampling, with_aso
        self.weights = {s.name: seed_weights(s.n_seeds, n_resamples, np.random.default_rng(_seed(seed, "seeds",
                                                                                                  s.name)),
                                             two_level=resampling == "seeds") for s in self.systems}
        self.ranked: dict[str, str] = {}
        self.cells: dict[tuple, Cell] = {}
        self.incomplete: list[str] = []  # "system: task/lang/condition" units some seeds lack
        self._build_cells()
        for cell in self.cells.values():
            self._resample(cell)

    # ----- construction -------------------------------------------------------------------------------
    def _build_cells(self) -> None:
        grouped: dict[tuple, dict[str, list[list[dict]]]] = defaultdict(dict)
        metrics: dict[tuple, list[str]] = {}
        for system in self.systems:
            per_unit: dict[tuple, list] = defaultdict(list)
            for run in system.runs:
                for unit, (records, meta) in run.units.items():
                    if "~v" in unit.condition:
                        continue  # extra seeded variants only feed the "@worst" condition
                    self.ranked.setdefault(unit.task, meta.get("ranked_metric") or meta.get("metrics", [""])[0])
                    base = (unit.task, unit.lang, unit.split, unit.condition)
                    per_unit[base].append(records)
                    metrics[base] = meta.get("metrics", [])
            for base, runs in per_unit.items():
                if len(runs) == system.n_seeds:
                    grouped[base][system.name] = runs
                else:
                    self.incomplete.append(f"{system.name}: {'/'.join(base)} ({len(runs)} of {system.n_seeds} "
                                           "seeds)")
        for base, per_sys in sorted(grouped.items()):
            ordered = {n: per_sys[n] for n in self.names if n in per_sys}
            for name in metrics[base]:
                if name in METRICS:
                    cell = _aligned_cell((*base, name), ordered, METRICS[name])
                    if cell is not None:
                        self.cells[cell.key] = cell

    def _resample(self, cell: Cell) -> None:
        flat = [s for seeds in cell.seed_stats for s in seeds]
        points, samples, _ = bootstrap_values(flat, cell.metric, self.n_resamples, seed=_seed(self.seed, cell.key))
        cell.point, cell.samples, cell.seed_points = self._combine(cell.names, points, samples)

    def _combine(self, names: list[str], points: np.ndarray, samples: np.ndarray
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

    # ----- helpers ------------------------------------------------------------------------------------
    def seed_aware(self, *names: str) -> bool:
        """Whether comparisons among ``names`` use the seed-aware test."""
        return self.resampling == "seeds" and any(self.n_seeds.get(n, 1) > 1 for n in names)

    def single_seed_warning(self, *names: str) -> bool:
        """A one-seed system compared with a multi-seed one: its seed variance is unknown."""
        counts = [self.n_seeds.get(n, 1) for n in names]
        return min(counts) == 1 and max(counts) > 1

    def interval(self, name: str, point: float, samples: np.ndarray, seed_points: np.ndarray
                 ) -> tuple[float, float]:
        """``1 - alpha`` interval of one system's score: studentized when seed-aware, else percentile."""
        if self.seed_aware(name):
            res = seed_aware_test(point, samples, [seed_points], self.alpha)
            return float(res.ci_low), float(res.ci_high)
        low, high = percentile_ci(samples, self.alpha)
        return float(low), float(high)

    def difference(self, a: int, b: int, names: list[str], point: np.ndarray, samples: np.ndarray,
                   seed_points: list[np.ndarray]) -> dict:
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
        return {"difference": est, "ci_low": float(low), "ci_high": float(high), "p_value": _boot_p(diff),
                "test": test, "df": math.inf}

    def _seed_columns(self, name: str, seed_points: np.ndarray) -> dict:
        return {"seeds": int(self.n_seeds[name]), "seed_min": rounded(float(np.min(seed_points))),
                "seed_max": rounded(float(np.max(seed_points)))}

    # ----- tables -------------------------------------------------------------------------------------
    def conditions(self) -> list[str]:
        return sorted({k[3] for k in self.cells}, key=lambda c: (c != "clean", c))

    def tasks(self) -> list[str]:
        return sorted({k[0] for k in self.cells})

    def cell_rows(self) -> list[dict]:
        """One row per cell and system: score with its CI and seed spread (the scores export)."""
        rows = []
        for key, cell in self.cells.items():
            for i, name in enumerate(cell.names):
                low, high = self.interval(name, cell.point[i], cell.samples[:, i], cell.seed_points[i])
                rows.append({"task": key[0], "language": key[1], "split": key[2], "condition": key[3],
                             "metric": key[4], "submission": name, "value": rounded(cell.point[i]),
                             "ci_low": rounded(low), "ci_high": rounded(high), "n": len(cell.ids),
                             **self._seed_columns(name, cell.seed_points[i])})
        return rows

    def task_conditions(self, task: str) -> list[str]:
        """The conditions that have a cell of ``task``, in :meth:`conditions` order."""
        return [c for c in self.conditions() if any(k[0] == task and k[3] == c for k in self.cells)]

    def task_distribution(self, task: str, condition: str, names: list[str] | None = None,
                          metric: str | None = None) -> Distribution | None:
        """Scores of a task over the languages its systems share."""
        metric = metric or self.ranked.get(task)
        cells = [c for k, c in self.cells.items() if k[0] == task and k[3] == condition and k[4] == metric]
        if not cells:
            return None
        names = names or [n for n in self.names if all(n in c.names for c in cells)]
        cells = [c for c in cells if all(n in c.names for n in names)]
        if not names or not cells:
            return None
        idx = [[c.names.index(n) for n in names] for c in cells]
        point = np.mean([c.point[i] for c, i in zip(cells, idx, strict=True)], axis=0)
        samples = np.mean([c.samples[:, i] for c, i in zip(cells, idx, strict=True)], axis=0)
        seeds = [np.mean([c.seed_points[c.names.index(n)] for c in cells], axis=0) for n in names]
        return Distribution(names, sorted(c.key[1] for c in cells), point, samples, seeds)

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
            scopes = [("overall", self.overall_distribution(cond))]
            scopes += [(t, self.task_distribution(t, cond)) for t in self.tasks()]
            for scope, dist in scopes:
                if dist is None:
                    continue
                names, point, samples = dist.names, dist.point, dist.samples
                boot = _as_boot(point, samples, self.alpha)
                ranks = rank_intervals([], None, boot=boot, alpha=self.alpha)
                groups = rank_groups([], None, boot=boot, alpha=self.alpha)
                group_of = {names[i]: g + 1 for g, members in enumerate(groups) for i in members}
                for i, name in enumerate(names):
                    low, high = self.interval(name, point[i], samples[:, i], dist.seed_points[i])
                    out["rows"][(name, scope, cond)] = {
                        "value": rounded(point[i]), "ci_low": rounded(low), "ci_high": rounded(high),
                        "over": dist.parts, "rank": int(ranks.point_rank[i]), "rank_low": int(ranks.rank_low[i]),
                        "rank_high": int(ranks.rank_high[i]), "group": group_of[name],
                        **self._seed_columns(name, dist.seed_points[i])}
                if self.baseline in names:
                    b = names.index(self.baseline)
                    for i, name in enumerate(names):
                        if i == b:
                            continue
                        res = self.difference(b, i, names, point, samples, dist.seed_points)
                        row = {"submission": name, "baseline": self.baseline, "scope": scope, "condition": cond,
                               **{k: rounded(v) if k in ("difference", "ci_low", "ci_high") else v
                                  for k, v in res.items()},
                               "seeds": self.n_seeds[name], "baseline_seeds": self.n_seeds[self.baseline],
                               "single_seed_warning": self.single_seed_warning(name, self.baseline)}
                        if self.with_aso:
                            row.update(self._aso(dist.seed_points[i], dist.seed_points[b], (scope, cond, name)))
                        out["comparisons"].append(row)
        self._correct(out["comparisons"])
        return out

    def _aso(self, seeds_b: np.ndarray, seeds_a: np.ndarray, key: tuple) -> dict:
        """ASO of B over A and of A over B on per-seed scores (both need two seeds)."""
        if len(seeds_b) < 2 or len(seeds_a) < 2:
            return {"aso_eps_min": math.nan, "aso_eps_min_reverse": math.nan}
        ahead = aso(seeds_b, seeds_a, self.alpha, seed=_seed(self.seed, "aso", key))
        behind = aso(seeds_a, seeds_b, self.alpha, seed=_seed(self.seed, "aso-reverse", key))
        return {"aso_eps_min": rounded(ahead.eps_min), "aso_eps_min_reverse": rounded(behind.eps_min)}

    def language_comparisons(self, task: str) -> list[dict]:
        """Each system vs the baseline per language and condition (ranked metric), corrected per task."""
        rows = []
        metric = self.ranked.get(task)
        for key, cell in self.cells.items():
            if key[0] != task or key[4] != metric or self.baseline not in cell.names:
                continue
            b = cell.names.index(self.baseline)
            for i, name in enumerate(cell.names):
                if i == b:
                    continue
                if max(self.n_seeds[name], self.n_seeds[self.baseline]) > 1:
                    res = self.difference(b, i, cell.names, cell.point, cell.samples, cell.seed_points)
                    res = {**{k: rounded(v) for k, v in res.items() if k in ("difference", "ci_low", "ci_high")},
                           "p_value": res["p_value"], "test": res["test"]}
                else:
                    cmp = compare(cell.stats[b], cell.stats[i], cell.metric, n_resamples=self.n_resamples,
                                  n_permutations=self.n_resamples, seed=_seed(self.seed, key, name),
                                  alpha=self.alpha)
                    res = {"difference": rounded(cmp.difference), "ci_low": rounded(cmp.ci_low),
                           "ci_high": rounded(cmp.ci_high), "p_value": cmp.p_value, "test": cmp.test}
                rows.append({"task": task, "language": key[1], "condition": key[3], "submission": name,
                             "baseline": self.baseline, **res, "n": len(cell.ids),
                             "seeds": self.n_seeds[name], "baseline_seeds": self.n_seeds[self.baseline],
                             "single_seed_warning": self.single_seed_warning(name, self.baseline)})
        self._correct(rows)
        return rows

    def pairwise(self, scope: str, condition: str = "clean") -> dict | None:
        """Matrix of corrected p-values between all pairs, for a task or "overall"."""
        if scope == "overall":
            dist = self.overall_distribution(condition)
        else:
            dist = self.task_distribution(scope, condition)
        if dist is None or len(dist.names) < 2:
            return None
        names = dist.names
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
        raw = [self.difference(i, j, names, dist.point, dist.samples, dist.seed_points)["p_value"]
               for i, j in pairs]
        adjusted = correct_pvalues(raw, self.correction)
        matrix = [[None] * len(names) for _ in names]
        for (i, j), p in zip(pairs, adjusted, strict=True):
            matrix[i][j] = matrix[j][i] = float(p)
        return {"names": names, "point": [rounded(x) for x in dist.point], "p": matrix,
                "seeds": [self.n_seeds[n] for n in names]}

    def gain_robustness(self, task: str) -> list[dict]:
        """For each system B vs the baseline A: (B−A perturbed) − (B−A clean) per language and condition,
        with seeds and examples resampled together when a system has several seeds."""
        metric = self.ranked.get(task)
        rows = []
        for key, cell in self.cells.items():
            task_, lang, split, cond, m = key
            if task_ != task or m != metric or cond == "clean" or self.baseline not in cell.names:
                continue
            clean = self.cells.get((task, lang, split, "clean", m))
            if clean is None:
                continue
            for name in cell.names:
                if name == self.baseline or name not in clean.names:
                    continue
                shared = set(clean.ids)
                ids = [i for i in cell.ids if i in shared]
                if max(self.n_seeds[name], self.n_seeds[self.baseline]) > 1:
                    res = self._seeded_gain(clean, cell, name, ids, key)
                else:
                    out = gain_robustness(_pick(clean, self.baseline, ids), _pick(clean, name, ids),
                                          _pick(cell, self.baseline, ids), _pick(cell, name, ids), cell.metric,
                                          n_resamples=self.n_resamples, n_permutations=self.n_resamples,
                                          seed=_seed(self.seed, key, name), alpha=self.alpha)
                    res = {"contrast": out.difference, "ci_low": out.ci_low, "ci_high": out.ci_high,
                           "p_value": out.p_value, "test": out.test}
                rows.append({"task": task, "language": lang, "condition": cond, "submission": name,
                             "baseline": self.baseline, "contrast": rounded(res["contrast"]),
                             "ci_low": rounded(res["ci_low"]), "ci_high": rounded(res["ci_high"]),
                             "p_value": res["p_value"], "test": res["test"], "n": len(ids),
                             "seeds": self.n_seeds[name], "baseline_seeds": self.n_seeds[self.baseline],
                             "single_seed_warning": self.single_seed_warning(name, self.baseline)})
        self._correct(rows)
        return rows

    def _seeded_gain(self, clean: Cell, pert: Cell, name: str, ids: list[str], key: tuple) -> dict:
        """The gain contrast of ``name`` over the baseline from one example resample of the clean and perturbed
        rows of every seed of both systems, and the systems' seed draws (the report-wide ones)."""
        names = [self.baseline, name]
        stats = [cell.metric.stats([seed[i] for i in ids]) for cell in (clean, pert) for n in names
                 for seed in cell.seed_records[n]]
        points, samples, _ = bootstrap_values(stats, pert.metric, self.n_resamples,
                                              seed=_seed(self.seed, key, name, "gain"))
        half = len(stats) // 2
        change_points = points[half:] - points[:half]  # per seed: perturbed − clean
        change_samples = samples[:, half:] - samples[:, :half]
        point, boot, seeds = self._combine(names, change_points, change_samples)
        est = float(point[1] - point[0])
        diff = boot[:, 1] - boot[:, 0]
        if self.seed_aware(*names):
            res = seed_aware_test(est, diff, seeds, self.alpha)
            return {"contrast": est, "ci_low": float(res.ci_low), "ci_high": float(res.ci_high),
                    "p_value": float(res.p_value), "test": SEED_TEST}
        low, high = percentile_ci(diff, self.alpha)
        return {"contrast": est, "ci_low": float(low), "ci_high": float(high), "p_value": _boot_p(diff),
                "test": "paired bootstrap (examples)"}

    def _correct(self, rows: list[dict]) -> None:
        if not rows:
            return
        adjusted = correct_pvalues([r["p_value"] for r in rows], self.correction)
        for row, p in zip(rows, adjusted, strict=True):
            row["p_adjusted"] = float(p)
            row["significant"] = bool(p < self.alpha)
            row["correction"] = self.correction


def _pick(cell: Cell, name: str, ids: list[str]) -> np.ndarray:
    return cell.metric.stats([cell.records[name][i] for i in ids])


def _as_boot(point: np.ndarray, samples: np.ndarray, alpha: float) -> BootstrapResult:
    low, high = percentile_ci(samples, alpha)
    diffs = samples[:, :, None] - samples[:, None, :]
    d_low, d_high = percentile_ci(diffs, alpha)
    return BootstrapResult(point=point, ci_low=low, ci_high=high, diff=point[:, None] - point[None, :],
                           diff_ci_low=d_low, diff_ci_high=d_high, samples=samples, alpha=alpha,
                           n=samples.shape[0], method="averaged")


def rounded(x: float) -> float:
    """``x`` rounded to 4 decimals, as every exported score is; NaN stays NaN."""
    return float("nan") if x is None or math.isnan(float(x)) else round(float(x), 4)
