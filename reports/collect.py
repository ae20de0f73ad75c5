"""Gather submissions from run directories into flat tables (pandas) for rendering and export."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.errors import XRobustError
from harness.scoring import overall, scores_from_store, task_averages
from harness.store import RunStore, read_json


@dataclass
class Submission:
    name: str
    run_dir: Path
    meta: dict
    signature: str
    scores: list[dict]
    ranked: dict[str, str]
    change: dict[str, dict] = field(default_factory=dict)  # "task/lang/condition" → change stats


def load_submission(run_dir: Path) -> Submission:
    """Scores are recomputed from the stored predictions; results.json is only a fallback."""
    store = RunStore(run_dir)
    if not run_dir.is_dir():
        raise XRobustError("run directory not found", file=run_dir)
    run = store.read_run() or {}
    units = store.complete_units()
    if units:
        scores = scores_from_store(store)
        ranked = {u.task: m.get("ranked_metric") for u, m in units}
        change = {f"{u.task}/{u.lang}/{u.condition}": m["change"] for u, m in units if "change" in m}
    elif store.results_file.exists():
        results = read_json(store.results_file, what="results")
        scores, ranked, change = results.get("scores", []), results.get("ranked_metrics", {}), {}
        run = run or results
    else:
        raise XRobustError("no predictions and no results.json: not a run directory", file=run_dir)
    meta = run.get("submission", {})
    return Submission(meta.get("name") or run_dir.name, run_dir, meta, run.get("signature", ""), scores, ranked,
                      change)


def unique_names(subs: list[Submission]) -> None:
    seen: dict[str, int] = {}
    for sub in subs:
        if sub.name in seen:
            seen[sub.name] += 1
            sub.name = f"{sub.name} ({seen[sub.name]})"
        else:
            seen[sub.name] = 1


def score_frame(subs: list[Submission]) -> pd.DataFrame:
    rows = [{"submission": s.name, **r} for s in subs for r in s.scores]
    columns = ["submission", "task", "language", "split", "condition", "metric", "value", "n"]
    return pd.DataFrame(rows, columns=columns)


def leaderboard_rows(subs: list[Submission]) -> tuple[list[str], list[str], list[dict]]:
    """(tasks, conditions, rows): per submission, each task's average of its ranked metric per condition
    and the overall score (mean of task averages over the tasks it ran)."""
    tasks = sorted({r["task"] for s in subs for r in s.scores})
    conditions = sorted({r["condition"] for s in subs for r in s.scores}, key=lambda c: (c != "clean", c))
    rows = []
    for sub in subs:
        averages = task_averages(sub.scores)
        cell = {}
        for avg in averages:
            if sub.ranked.get(avg["task"]) == avg["metric"]:
                cell[(avg["task"], avg["condition"])] = avg
        row = {"submission": sub.name, "model": sub.meta.get("model", ""), "signature": sub.signature,
               "overall": overall(averages, sub.ranked), "tasks": {}}
        for task in tasks:
            row["tasks"][task] = {c: cell.get((task, c)) for c in conditions}
        rows.append(row)
    rows.sort(key=lambda r: -_num(r["overall"].get("clean")))
    return tasks, conditions, rows


def _num(value: float | None) -> float:
    return -math.inf if value is None or (isinstance(value, float) and math.isnan(value)) else value
