"""Submissions from run directories: every complete unit's predictions, verified against their checksum.

:func:`load_runs` is the one loader behind ``xrobust report`` and ``xrobust compare``. A run directory holds
one submission; :func:`merge_per_task` joins same-name run dirs with disjoint tasks (one checkpoint per task)
and :func:`unique_names` tells apart submissions that share a name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import XRobustError
from harness.store.rundir import MetaIndex, RunStore, Unit, read_json


@dataclass
class Submission:
    """One submission: metadata, per-unit change statistics and the stored predictions of its units."""

    name: str
    run_dir: Path
    meta: dict
    signature: str
    change: dict[str, dict] = field(default_factory=dict)  # "task/lang/condition" → change stats
    tasks: set[str] = field(default_factory=set)
    run_dirs: list[Path] = field(default_factory=list)  # several when per-task runs were merged
    # unit → (its records, or the store to read them from, verified, when a report needs them; its meta)
    units: dict[Unit, tuple[list[dict] | RunStore, dict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.run_dirs = self.run_dirs or [self.run_dir]


def load_run(run_dir: Path, index: MetaIndex | None = None) -> Submission:
    """The submission stored in ``run_dir``: run metadata and every complete unit (meta checksum and place
    verified here; its predictions' sha256 and ``n`` when they are read, by :meth:`RunStore.verified_bytes`);
    a unit results.json lists must still be there.
    A directory without predictions may still carry a results.json (its metadata is used). ``index``: metas
    read before (:class:`harness.store.rundir.MetaIndex`)."""
    store = RunStore(run_dir)
    if not run_dir.is_dir():
        raise XRobustError("run directory not found", file=run_dir, field="RUN_DIR")
    units = store.complete_units(index)
    if not units and not store.results_file.exists():
        raise XRobustError("no predictions and no results.json: not a run directory", file=run_dir, field="RUN_DIR")
    run = store.read_run() or (read_json(store.results_file, what="results") if not units else {})
    meta = run.get("submission", {})
    change = {f"{u.task}/{u.lang}/{u.condition}": m["change"] for u, m in units if "change" in m}
    tasks = {u.task for u, _ in units} or {r.get("task") for r in run.get("scores", [])}
    if units and store.results_file.exists():
        _check_listed(store, {u for u, _ in units})
    stored: dict[Unit, tuple[list[dict] | RunStore, dict]] = {unit: (store, unit_meta) for unit, unit_meta in units}
    return Submission(meta.get("name") or run_dir.name, run_dir, meta, run.get("signature", ""), change,
                      tasks={t for t in tasks if t}, units=stored)


def _check_listed(store: RunStore, present: set[Unit]) -> None:
    """Every unit results.json lists still has its metadata (a deleted unit is damage, not a smaller run)."""
    results = read_json(store.results_file, what="results")
    listed = results.get("units", []) if isinstance(results, dict) else None
    if not isinstance(listed, list):
        raise XRobustError("results must be a JSON object with a 'units' list", file=store.results_file,
                           field="units")
    for row in listed:
        try:
            unit = Unit(row["task"], row["lang"], row["split"], row["condition"])
        except (KeyError, TypeError):
            raise XRobustError("a unit entry lacks task, lang, split or condition", file=store.results_file,
                               field="units") from None
        except XRobustError as err:
            raise XRobustError(err.message, file=store.results_file, field=f"units.{err.field}") from None
        if unit not in present:
            raise XRobustError(f"results.json lists unit {unit} but its metadata is missing (deleted, or an "
                               "interrupted --overwrite); rerun the run to restore it", file=store.meta_path(unit),
                               field="units")


def load_runs(run_dirs: list[Path], index: MetaIndex | None = None) -> list[Submission]:
    """One :class:`Submission` per run directory, in order (``index``: see :func:`load_run`)."""
    return [load_run(Path(d), index) for d in run_dirs]


def merge_per_task(subs: list[Submission]) -> list[Submission]:
    """Run dirs that carry the same submission name and cover disjoint tasks are one submission — one system
    with a checkpoint per task, as XTREME submissions are. Same-name runs that share a task stay separate."""
    groups: dict[str, list[Submission]] = {}
    for sub in subs:
        groups.setdefault(sub.name, []).append(sub)
    merged: list[Submission] = []
    for name, group in groups.items():
        total = sum(len(s.tasks) for s in group)
        if len(group) == 1 or len(set().union(*(s.tasks for s in group))) != total:
            merged += group
            continue
        models = "; ".join(f"{'+'.join(sorted(s.tasks))}: {s.meta.get('model', '')}" for s in group)
        merged.append(Submission(
            name, group[0].run_dir, {**group[0].meta, "model": models},
            " ; ".join(s.signature for s in group),
            {k: v for s in group for k, v in s.change.items()}, set().union(*(s.tasks for s in group)),
            [s.run_dir for s in group], {u: data for s in group for u, data in s.units.items()}))
    return merged


def unique_names(subs: list[Submission]) -> None:
    """Rename in place: the second submission called ``x`` becomes ``x (2)``, and so on."""
    seen: dict[str, int] = {}
    for sub in subs:
        if sub.name in seen:
            seen[sub.name] += 1
            sub.name = f"{sub.name} ({seen[sub.name]})"
        else:
            seen[sub.name] = 1
