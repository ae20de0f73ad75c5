"""Worst case over K seeded variants of a condition (HELM's robustness worst case, per example).

A condition with ``variants: K`` is predicted K times with differently seeded perturbations. The derived unit
``<suite>.<cond>@worst`` holds, per example, the record of the variant that scored lowest on the task's ranked
metric (for accuracy: wrong if any variant is wrong; for span/tag tasks: the lowest-scoring variant), so
every statistic and report treats it like any other condition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from harness.metrics import METRICS
from harness.store.rundir import RunStore, Unit


def worst_case_units(units: Iterable[Unit]) -> dict[Unit, list[Unit]]:
    """Derived worst-case unit → its variant units (in order), for conditions with seeded variants."""
    groups: dict[Unit, list[Unit]] = defaultdict(list)
    for unit in units:
        cond = unit.condition_id
        if not cond.is_clean and not cond.source:
            groups[Unit(unit.task, unit.lang, unit.split, str(cond.worst_case()))].append(unit)
    return {worst: parts for worst, parts in groups.items() if any(u.condition_id.variant for u in parts)}


def per_example_scores(records: list[dict], metric_name: str) -> np.ndarray:
    """The ranked metric of each example on its own (lower = worse)."""
    metric = METRICS[metric_name]
    stats = metric.stats(records)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(metric.aggregate(stats, 1), dtype=np.float64).reshape(len(stats))


def write_worst_case(store: RunStore, worst: Unit, parts: list[Unit], fp: str) -> None:
    metas = [store.unit_meta(u) for u in parts]
    ranked = metas[0].get("ranked_metric") or metas[0]["metrics"][0]
    per_variant = [store.read_predictions(u) for u in parts]
    ids = [r["id"] for r in per_variant[0]]
    by_id = [{r["id"]: r for r in recs} for recs in per_variant]
    aligned = [[variant[i] for i in ids] for variant in by_id]
    scores = np.stack([np.nan_to_num(per_example_scores(recs, ranked), nan=-np.inf) for recs in aligned])
    choice = scores.argmin(axis=0)  # ties → the lowest variant index
    records = []
    for row in range(len(ids)):
        record = dict(aligned[int(choice[row])][row])
        record["variant"] = int(choice[row])
        records.append(record)
    extra = {k: v for k, v in metas[0].items() if k not in ("task", "lang", "split", "condition", "fingerprint", "n",
                                                             "sha256", "variant", "change")}
    extra["worst_of"] = [u.condition for u in parts]
    extra["change"] = metas[0].get("change", {})
    store.write_unit(worst, records, fp, extra)
