"""Gather submissions from run directories into flat tables (pandas) for rendering and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import XRobustError
from harness.scoring import scores_from_store
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
