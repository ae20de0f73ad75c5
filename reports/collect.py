"""Gather submissions from run directories into flat tables (pandas) for rendering and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import XRobustError
from harness.store import RunStore, read_json


@dataclass
class Submission:
    name: str
    run_dir: Path
    meta: dict
    signature: str
    change: dict[str, dict] = field(default_factory=dict)  # "task/lang/condition" → change stats


def load_submission(run_dir: Path) -> Submission:
    """Metadata and per-unit change statistics; the scores come from the predictions (harness.analysis)."""
    store = RunStore(run_dir)
    if not run_dir.is_dir():
        raise XRobustError("run directory not found", file=run_dir)
    units = store.complete_units()
    if not units and not store.results_file.exists():
        raise XRobustError("no predictions and no results.json: not a run directory", file=run_dir)
    run = store.read_run() or (read_json(store.results_file, what="results") if not units else {})
    meta = run.get("submission", {})
    change = {f"{u.task}/{u.lang}/{u.condition}": m["change"] for u, m in units if "change" in m}
    return Submission(meta.get("name") or run_dir.name, run_dir, meta, run.get("signature", ""), change)


def unique_names(subs: list[Submission]) -> None:
    seen: dict[str, int] = {}
    for sub in subs:
        if sub.name in seen:
            seen[sub.name] += 1
            sub.name = f"{sub.name} ({seen[sub.name]})"
        else:
            seen[sub.name] = 1
