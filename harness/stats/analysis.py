"""From stored predictions of several submissions to significance-tested tables (no model involved).

Per cell (task, language, split, condition, metric) the submissions' per-example statistics are aligned by
example id (the examples every compared submission has), then one paired bootstrap gives every score's CI.
A task score is the mean over the languages all its submissions share; its bootstrap distribution is the
mean of the per-language distributions (languages resampled independently, submissions paired), and the
overall score likewise averages task scores. Differences against a baseline use exact McNemar (binary
accuracy) or a paired permutation test per cell, and a bootstrap test for averages; p-values are corrected
per page (Holm or Benjamini–Hochberg).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from harness.metrics import METRICS, Metric
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

Distribution = tuple[list[str], list[str], np.ndarray, np.ndarray]
"""(submission names, languages or tasks averaged over, point scores (m,), bootstrap samples (R, m))."""


def _seed(*parts: object) -> int:
    return int(hashlib.sha256(repr(parts).encode()).hexdigest()[:8], 16)


def _boot_p(diff_samples: np.ndarray) -> float:
    """Two-sided bootstrap p-value of a difference: inverts the percentile interval."""
    r = diff_samples.shape[0]
    low = (np.count_nonzero(diff_samples <= 0) + 1) / (r + 1)
    high = (np.count_nonzero(diff_samples >= 0) + 1) / (r + 1)
    return float(min(1.0, 2 * min(low, high)))


@dataclass
class Cell:
    """One (task, lang, split, condition, metric) across the submissions that have it."""

    key: tuple[str, str, str, str, str]
    names: list[str]
    ids: list[str]
    stats: list[np.ndarray]
    metric: Metric
    point: np.ndarray = field(default_factory=lambda: np.zeros(0))
    samples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    records: dict[str, dict[str, dict]] = field(default_factory=dict)  # name → id → record


def _aligned_cell(key: tuple, per_sub: dict[str, list[dict]], metric: Metric) -> Cell | None:
    names = list(per_sub)
    common = set.intersection(*(set(r["id"] for r in recs) for recs in per_sub.values()))
    ids = [r["id"] for r in per_sub[names[0]] if r["id"] in common]
    if not ids:
        return None
    by_id = {name: {r["id"]: r for r in recs} for name, recs in per_sub.items()}
    stats = [metric.stats([by_id[name][i] for i in ids]) for name in names]
    return Cell(key, names, ids, stats, metric, records=by_id)


class Analysis:
    """All statistics a report page needs, computed once."""

    def __init__(self, subs: list[Submission], *, baseline: str | None = None, alpha: float = 0.05,
                 n_resamples: int = 2000, correction: str = "holm", seed: int = 0) -> None:
        self.subs = subs
        self.names = [s.name for s in subs]
        self.baseline = baseline if baseline in self.names else (self.names[0] if self.names else None)
        self.alpha, self.n_resamples, self.correction, self.seed = alpha, n_resamples, correction, seed
        self.ranked: dict[str, str] = {}
        self.cells: dict[tuple, Cell] = {}
        self._build_cells()
        for cell in self.cells.values():
            cell.point, cell.samples, _ = bootstrap_values(cell.stats, cell.metric, n_resamples,
                                                           seed=_seed(seed, cell.key))

    def _build_cells(self) -> None:
        grouped: dict[tuple, dict[str, list[dict]]] = defaultdict(dict)
        metrics: dict[tuple, list[str]] = {}
        for sub in self.subs:
            for unit, (records, meta) in sub.units.items():
                if "~v" in unit.condition:
                    continue  # extra seeded variants only feed the "@worst" condition
                self.ranked.setdefault(unit.task, meta.get("ranked_metric") or meta.get("metrics", [""])[0])
                base = (unit.task, unit.lang, unit.split, unit.condition)
                grouped[base][sub.name] = records
                metrics[base] = meta.get("metrics", [])
        for base, per_sub in sorted(grouped.items()):
            for name in metrics[base]:
                if name in METRICS:
                    cell = _aligned_cell((*base, name), per_sub, METRICS[name])
                    if cell is not None:
                        self.cells[cell.key] = cell

    # ----- tables -------------------------------------------------------------------------------------
    def conditions(self) -> list[str]:
        return sorted({k[3] for k in self.cells}, key=lambda c: (c != "clean", c))

    def tasks(self) -> list[str]:
        return sorted({k[0] for k in self.cells})

    def cell_rows(self) -> list[dict]:
        """One row per cell and submission: score with its percentile CI (the scores export)."""
        rows = []
        for key, cell in self.cells.items():
            low, high = percentile_ci(cell.samples, self.alpha)
            for i, name in enumerate(cell.names):
                rows.append({"task": key[0], "language": key[1], "split": key[2], "condition": key[3],
                             "metric": key[4], "submission": name, "value": rounded(cell.point[i]),
                             "ci_low": rounded(low[i]), "ci_high": rounded(high[i]), "n": len(cell.ids)})
        return rows

    def task_conditions(self, task: str) -> list[str]:
        """The conditions that have a cell of ``task``, in :meth:`conditions` order."""
        return [c for c in self.conditions() if any(k[0] == task and k[3] == c for k in self.cells)]

    def task_distribution(self, task: str, condition: str, names: list[str] | None = None,
                          metric: str | None = None) -> Distribution | None:
        """(names, languages, point (m,), samples (R, m)) of a task score over shared languages."""
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
        return names, sorted(c.key[1] for c in cells), point, samples

    def overall_distribution(self, condition: str) -> Distribution | None:
        parts = [self.task_distribution(t, condition) for t in self.tasks()]
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        names = [n for n in self.names if all(n in p[0] for p in parts)]
        if not names:
            return None
        point = np.mean([p[2][[p[0].index(n) for n in names]] for p in parts], axis=0)
        samples = np.mean([p[3][:, [p[0].index(n) for n in names]] for p in parts], axis=0)
        return names, [t for t, p in zip(self.tasks(), parts, strict=False)], point, samples

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
                names, parts, point, samples = dist
                low, high = percentile_ci(samples, self.alpha)
                boot = _as_boot(point, samples, self.alpha)
                ranks = rank_intervals([], None, boot=boot, alpha=self.alpha)
                groups = rank_groups([], None, boot=boot, alpha=self.alpha)
                group_of = {names[i]: g + 1 for g, members in enumerate(groups) for i in members}
                for i, name in enumerate(names):
                    out["rows"][(name, scope, cond)] = {
                        "value": rounded(point[i]), "ci_low": rounded(low[i]), "ci_high": rounded(high[i]),
                        "over": parts, "rank": int(ranks.point_rank[i]), "rank_low": int(ranks.rank_low[i]),
                        "rank_high": int(ranks.rank_high[i]), "group": group_of[name]}
                if self.baseline in names:
                    b = names.index(self.baseline)
                    for i, name in enumerate(names):
                        if i == b:
                            continue
                        diff = samples[:, i] - samples[:, b]
                        dl, dh = percentile_ci(diff[:, None], self.alpha)
                        out["comparisons"].append({
                            "submission": name, "baseline": self.baseline, "scope": scope, "condition": cond,
                            "difference": rounded(point[i] - point[b]), "ci_low": rounded(dl[0]),
                            "ci_high": rounded(dh[0]), "p_value": _boot_p(diff), "test": "paired bootstrap"})
        self._correct(out["comparisons"])
        return out

    def language_comparisons(self, task: str) -> list[dict]:
        """Each submission vs the baseline per language and condition (ranked metric), corrected per task."""
        rows = []
        metric = self.ranked.get(task)
        for key, cell in self.cells.items():
            if key[0] != task or key[4] != metric or self.baseline not in cell.names:
                continue
            b = cell.names.index(self.baseline)
            for i, name in enumerate(cell.names):
                if i == b:
                    continue
                res = compare(cell.stats[b], cell.stats[i], cell.metric, n_resamples=self.n_resamples,
                              n_permutations=self.n_resamples, seed=_seed(self.seed, key, name),
                              alpha=self.alpha)
                rows.append({"task": task, "language": key[1], "condition": key[3], "submission": name,
                             "baseline": self.baseline, "difference": rounded(res.difference),
                             "ci_low": rounded(res.ci_low), "ci_high": rounded(res.ci_high),
                             "p_value": res.p_value, "test": res.test, "n": res.n})
        self._correct(rows)
        return rows

    def pairwise(self, scope: str, condition: str = "clean") -> dict | None:
        """Matrix of corrected p-values (bootstrap test) between all pairs, for a task or "overall"."""
        if scope == "overall":
            dist = self.overall_distribution(condition)
        else:
            dist = self.task_distribution(scope, condition)
        if dist is None or len(dist[0]) < 2:
            return None
        names, _, point, samples = dist
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
        raw = [_boot_p(samples[:, i] - samples[:, j]) for i, j in pairs]
        adjusted = correct_pvalues(raw, self.correction)
        matrix = [[None] * len(names) for _ in names]
        for (i, j), p in zip(pairs, adjusted, strict=True):
            matrix[i][j] = matrix[j][i] = float(p)
        return {"names": names, "point": [rounded(x) for x in point], "p": matrix}

    def gain_robustness(self, task: str) -> list[dict]:
        """For each submission B vs the baseline A: (B−A perturbed) − (B−A clean) per condition, task level
        (bootstrap over examples within languages, languages averaged) and per language."""
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
                res = gain_robustness(_pick(clean, self.baseline, ids), _pick(clean, name, ids),
                                      _pick(cell, self.baseline, ids), _pick(cell, name, ids), cell.metric,
                                      n_resamples=self.n_resamples, n_permutations=self.n_resamples,
                                      seed=_seed(self.seed, key, name), alpha=self.alpha)
                rows.append({"task": task, "language": lang, "condition": cond, "submission": name,
                             "baseline": self.baseline, "contrast": rounded(res.difference),
                             "ci_low": rounded(res.ci_low), "ci_high": rounded(res.ci_high),
                             "p_value": res.p_value, "test": res.test, "n": res.n})
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
