"""Score records from stored predictions, and XTREME-R style averages.

A score record is the flat row every table, test and chart is cut from:
``{task, language, split, condition, metric, value, n}``. Task average = unweighted mean over languages;
overall = mean of task averages of each task's ranked metric. Tasks not run are missing, never zero.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from harness.errors import XRobustError
from harness.metrics import METRICS
from harness.store.rundir import RunStore, Unit


def unit_scores(unit: Unit, records: list[dict], metric_names: Iterable[str]) -> list[dict]:
    rows = []
    for name in metric_names:
        metric = METRICS.get(name)
        if metric is None:
            raise XRobustError(f"unknown metric {name!r} in the metadata of unit {unit}", field="metrics")
        value = metric.score(metric.stats(records))
        rows.append({"task": unit.task, "language": unit.lang, "split": unit.split,
                     "condition": unit.condition, "metric": name, "value": round(value, 4), "n": len(records)})
    return rows


def scores_from_store(store: RunStore) -> list[dict]:
    """Recompute every score record from the stored predictions alone (no model, no task files)."""
    rows: list[dict] = []
    for unit, meta in store.complete_units():
        records = store.read_verified(unit, meta)
        rows.extend(unit_scores(unit, records, meta.get("metrics", [])))
    return rows


def task_averages(scores: list[dict]) -> list[dict]:
    """Mean over languages per (task, split, condition, metric), with the languages it covers."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in scores:
        groups[(row["task"], row["split"], row["condition"], row["metric"])].append(row)
    out = []
    for (task, split, condition, metric), rows in sorted(groups.items()):
        values = [r["value"] for r in rows if not math.isnan(r["value"])]
        out.append({"task": task, "split": split, "condition": condition, "metric": metric,
                    "value": round(sum(values) / len(values), 4) if values else float("nan"),
                    "languages": sorted(r["language"] for r in rows)})
    return out


# XTREME-R's ten tasks (Ruder et al., 2021); the overall score is the plain mean of their task averages
XTREME_R_TASKS = ("xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa", "mewslix", "lareqa", "tatoeba")
_SPLIT_PREFERENCE = ("test", "validation")


def _ranked_rows(averages: list[dict], ranked: dict[str, str]) -> dict[str, dict[str, dict]]:
    """condition → task → the task-average row of its ranked metric with a number (NaN rows are missing).

    A task run on several splits counts once: test, else validation, else the first split by name."""
    chosen: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in sorted(averages, key=lambda r: r["split"]):
        if ranked.get(row["task"]) != row["metric"] or math.isnan(row["value"]):
            continue
        current = chosen[row["condition"]].get(row["task"])
        if current is None or _split_rank(row["split"]) < _split_rank(current["split"]):
            chosen[row["condition"]][row["task"]] = row
    return chosen


def _split_rank(split: str) -> int:
    return _SPLIT_PREFERENCE.index(split) if split in _SPLIT_PREFERENCE else len(_SPLIT_PREFERENCE)


def overall(averages: list[dict], ranked: dict[str, str]) -> dict[str, float]:
    """condition → mean of the task averages (each task's ranked metric) of the tasks that were run.

    Languages weigh equally within a task and tasks equally in the mean; a task that was not run (or has
    no scorable language) is left out, never counted as zero."""
    return {cond: round(sum(r["value"] for r in rows.values()) / len(rows), 4)
            for cond, rows in _ranked_rows(averages, ranked).items() if rows}


def overall_table(averages: list[dict], ranked: dict[str, str],
                  tasks: Iterable[str] = XTREME_R_TASKS) -> dict[str, dict]:
    """condition → ``{"score", "tasks": {task: average or None}, "missing": [...], "complete"}``.

    ``score`` is the mean over the listed tasks that were run (None if none was); ``missing`` names the
    listed tasks without a score, so a partial overall is visible as partial rather than deflated."""
    tasks = tuple(tasks)
    out = {}
    for cond, rows in _ranked_rows(averages, ranked).items():
        values = {t: (rows[t]["value"] if t in rows else None) for t in tasks}
        present = [v for v in values.values() if v is not None]
        out[cond] = {"score": round(sum(present) / len(present), 4) if present else None, "tasks": values,
                     "missing": [t for t, v in values.items() if v is None], "complete": len(present) == len(tasks)}
    return out
