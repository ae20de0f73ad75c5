"""The per-task numbers of a report page, cut from an :class:`~harness.stats.analysis.Analysis`: score tables
per condition and metric, drops under each condition, scores per language group and per example bucket, and
the overall drop of each submission. Every value is rounded as it is exported; the report only renders them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache

import numpy as np

from harness.spec.slices import Bucket
from harness.stats.analysis import Analysis, rounded
from harness.stats.bootstrap import percentile_ci
from harness.stats.engine import bootstrap_values

BUCKET_RESAMPLES = 1000


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
                if key[3] != cond or key[4] != m:
                    continue
                for i, name in enumerate(cell.names):
                    low, high = analysis.interval(name, cell.point[i], cell.samples[:, i], cell.seed_points[i])
                    table[(name, key[1])] = {"value": rounded(cell.point[i]), "ci_low": rounded(low),
                                             "ci_high": rounded(high), "n": len(cell.ids),
                                             "seeds": analysis.n_seeds[name],
                                             "seed_min": rounded(float(np.min(cell.seed_points[i]))),
                                             "seed_max": rounded(float(np.max(cell.seed_points[i])))}
            if table:
                out.append({"condition": cond, "metric": m, "table": table})
    return out


def condition_drops(analysis: Analysis, task: str) -> list[dict]:
    """Clean minus perturbed score of the ranked metric, per submission, language and perturbed condition."""
    metric = analysis.ranked.get(task)
    cells = {k: c for k, c in analysis.cells.items() if k[0] == task}
    rows = []
    for key, cell in cells.items():
        if key[3] == "clean" or key[4] != metric:
            continue
        clean = cells.get((task, key[1], key[2], "clean", metric))
        for i, name in enumerate(cell.names):
            if clean is None or name not in clean.names:
                continue
            before = clean.point[clean.names.index(name)]
            rows.append({"submission": name, "language": key[1], "condition": key[3],
                         "clean": rounded(before), "perturbed": rounded(cell.point[i]),
                         "drop": rounded(before - cell.point[i])})
    return rows


def slice_scores(analysis: Analysis, task: str, groups: dict[str, list[str]]) -> list[dict]:
    """Score over the languages of each language group (slice), with CIs."""
    rows = []
    metric = analysis.ranked.get(task)
    for group, members in groups.items():
        for cond in analysis.task_conditions(task):
            cells = [c for k, c in analysis.cells.items()
                     if k[0] == task and k[3] == cond and k[4] == metric and k[1] in members]
            if not cells:
                continue
            for name in analysis.names:
                own = [c for c in cells if name in c.names]
                if not own:
                    continue
                point = float(np.mean([c.point[c.names.index(name)] for c in own]))
                samples = np.mean([c.samples[:, c.names.index(name)] for c in own], axis=0)
                seeds = np.mean([c.seed_points[c.names.index(name)] for c in own], axis=0)
                low, high = analysis.interval(name, point, samples, seeds)
                rows.append({"slice": group, "condition": cond, "submission": name, "value": rounded(point),
                             "ci_low": rounded(low), "ci_high": rounded(high),
                             "languages": sorted(c.key[1] for c in own)})
    return rows


def bucket_scores(analysis: Analysis, task: str, buckets: list[Bucket]) -> list[dict]:
    """Score per example bucket (pooled over languages); membership from the clean text's attributes. A
    multi-seed system scores the mean over its seeds, with the example-only interval (seeds fixed)."""
    rows = []
    metric = analysis.ranked.get(task)
    for bucket in buckets:
        label_of = lru_cache(maxsize=None)(bucket.assign)  # a function of the value alone; values repeat
        for cond in analysis.task_conditions(task):
            cells = [c for k, c in analysis.cells.items() if k[0] == task and k[3] == cond and k[4] == metric]
            for name in analysis.names:
                r = analysis.n_seeds[name]
                per_label: dict[str, list[list[dict]]] = defaultdict(lambda r=r: [[] for _ in range(r)])
                for cell in cells:
                    for k, seed in enumerate(cell.seed_records.get(name, [])):
                        for record in seed.values():
                            label = label_of((record.get("attrs") or {}).get(bucket.attribute))
                            if label is not None:
                                per_label[label][k].append(record)
                for label in bucket.labels():
                    seeds = per_label.get(label)
                    if not seeds or not seeds[0]:
                        continue
                    scorer = cells[0].metric
                    point, samples, _ = bootstrap_values([scorer.stats(r) for r in seeds], scorer, BUCKET_RESAMPLES,
                                                         seed=analysis.seed)
                    low, high = percentile_ci(samples.mean(axis=1), analysis.alpha)
                    rows.append({"bucket": bucket.name, "attribute": bucket.attribute, "label": label,
                                 "condition": cond, "submission": name, "value": rounded(point.mean()),
                                 "ci_low": rounded(low), "ci_high": rounded(high), "n": len(seeds[0]),
                                 "seeds": len(seeds)})
    return rows


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
