"""Score records from stored predictions, and XTREME-R style averages.

A score record is the flat row every table, test and chart is cut from:
``{task, language, split, condition, metric, value, n}``. Task average = unweighted mean over languages;
overall = mean of task averages of each task's ranked metric. Tasks not run are missing, never zero.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from harness.metrics import METRICS
from harness.store import RunStore, Unit


def unit_scores(unit: Unit, records: list[dict], metric_names: Iterable[str]) -> list[dict]:
    rows = []
    for name in metric_names:
        metric = METRICS[name]
        value = metric.score(metric.stats(records))
        rows.append({"task": unit.task, "language": unit.lang, "split": unit.split,
                     "condition": unit.condition, "metric": name, "value": round(value, 4), "n": len(records)})
    return rows


def scores_from_store(store: RunStore) -> list[dict]:
    """Recompute every score record from the stored predictions alone (no model, no task files)."""
    rows: list[dict] = []
    for unit, meta in store.complete_units():
        records = store.read_predictions(unit)
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


def overall(averages: list[dict], ranked: dict[str, str]) -> dict[str, float]:
    """condition → mean of task averages of each task's ranked metric."""
    per_condition: dict[str, list[float]] = defaultdict(list)
    for row in averages:
        if ranked.get(row["task"]) == row["metric"]:
            per_condition[row["condition"]].append(row["value"])
    return {cond: round(sum(v) / len(v), 4) for cond, v in per_condition.items() if v}
