"""The per-task numbers of a report page, cut from an :class:`~harness.stats.analysis.Analysis`: score tables
per condition and metric, drops under each condition, scores per language group and per example bucket, and
the overall drop of each submission. Every value is rounded as it is exported; the report only renders them.
"""

from __future__ import annotations

import math

import numpy as np

from harness.spec.slices import Bucket
from harness.stats.analysis import Analysis, rounded


def score_tables(analysis: Analysis, task: str) -> list[dict]:
    """Per condition and metric (ranked metric first), a table
    ``{(submission, language): {value, ci_low, ci_high, n, seeds, seed_min, seed_max}}``."""
    metric = analysis.ranked.get(task)
    cells = {k: c for k, c in analysis.cells.items() if k[0] == task}
    out = []
    for cond in analysis.task_conditions(task):
        for m in sorted({k[4] for k in cells}, key=lambda m: (m != metric, m)):
            table: dict[tuple[str, str], dict] = {}
            for key, cell in cells.items():
                if key[3] == cond and key[4] == m:
                    for name, row in zip(cell.names, cell.rows, strict=True):
                        table[(name, key[1])] = dict(row)
            if table:
                out.append({"condition": cond, "metric": m, "table": table})
    return out


def condition_drops(analysis: Analysis, task: str) -> list[dict]:
    """Clean minus perturbed score of the ranked metric, per submission, language and perturbed condition."""
    return [dict(r) for r in analysis.drops.get(task, [])]


def slice_scores(analysis: Analysis, task: str, groups: dict[str, list[str]] | None = None) -> list[dict]:
    """Score over the languages of each language group (slice) a system has, with CIs (the slices the
    analysis was built with; the intervals of a group and condition in one batch, the same numbers)."""
    rows = []
    for group in analysis.slices if groups is None else groups:
        for cond in analysis.task_conditions(task):
            own = {name: got for name in analysis.names
                   if (got := analysis.slice_distribution(task, group, cond, name)) is not None}
            if not own:
                continue
            names = list(own)
            intervals = analysis.est.intervals(names, np.array([own[n][0] for n in names]),
                                               np.stack([own[n][1] for n in names], axis=1),
                                               [own[n][2] for n in names])
            for name, (low, high) in zip(names, intervals, strict=True):
                point, _, _, languages = own[name]
                rows.append({"slice": group, "condition": cond, "submission": name, "value": rounded(point),
                             "ci_low": rounded(low), "ci_high": rounded(high), "languages": languages})
    return rows


def bucket_scores(analysis: Analysis, task: str, buckets: list[Bucket] | None = None) -> list[dict]:
    """Score per example bucket (pooled over languages), as the analysis computed them for its buckets."""
    rows = analysis.bucket_rows.get(task, [])
    if buckets is not None:
        names = {b.name for b in buckets}
        rows = [r for r in rows if r["bucket"] in names]
    return [dict(r) for r in rows]


def overall_drops(board: dict, name: str) -> dict[str, dict[str, float]]:
    """condition → ``{"abs", "rel"}``: how far ``name``'s overall score (``board`` from
    :meth:`Analysis.leaderboard`) falls from clean, in points and in percent of the clean score."""
    clean = board["rows"].get((name, "overall", "clean"))
    drops = {}
    for cond in board["conditions"]:
        row = board["rows"].get((name, "overall", cond))
        if cond != "clean" and clean and row:
            drop = clean["value"] - row["value"]
            drops[cond] = {"abs": drop, "rel": 100 * drop / clean["value"] if clean["value"] else math.nan}
    return drops
