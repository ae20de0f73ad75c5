"""A (task, language, split) job's result kept per system, for ``--draws shared``.

Under shared draws a system's numbers depend on its own predictions, the baseline's (its comparisons and
gains) and the example ids the cell aligns on, never on which other systems a report holds
(:func:`harness.stats.engine.shared_sums`). So a job's result is cached as one *part* per system, keyed by
those inputs alone, and a report with one more submission computes that submission's parts only: the others
are read back. A part holds the system's cells (rows, points, the ranked metric's resamples), its comparisons,
gains and drops, its pooled bucket statistics and, per condition, a view of its first seed's unit (ids,
prediction keys, record offsets), from which the example browser is rebuilt for every system together.

The ids a cell aligns on are known without loading any digest: each unit's ids are named by a sha256 kept
beside the digests (:meth:`harness.stats.digest.DigestCache.ids_sha`). When a condition's units do not all
hold the same ids, the job is computed whole, as with per-test draws.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.metrics import METRICS
from harness.stats.cells import (
    CellResult,
    Estimator,
    GroupJob,
    GroupResult,
    UnitRef,
    _Cell,
    _examples,
    compute_group,
)
from harness.stats.digest import DigestCache, UnitDigest
from harness.stats.groupcache import DAMAGED, VERSION, GroupCache, decode, encode, put, rows_key

View = UnitDigest  # a first seed's ids, prediction keys and record offsets (no statistics)


class _Loaded(DigestCache):
    """A digest cache that keeps what it loaded for one job (a unit's digest is loaded once)."""

    def __init__(self, base: DigestCache) -> None:
        super().__init__(base.root, verify=base.verify)
        self.loaded: dict[tuple[str, object], UnitDigest] = {}

    def load(self, store, unit, meta, metrics, attributes):  # type: ignore[no-untyped-def,override]
        key = (str(store.root), unit)
        if key not in self.loaded:
            self.loaded[key] = super().load(store, unit, meta, metrics, attributes)
        return self.loaded[key]


def system_units(job: GroupJob, name: str) -> list | None:
    """What ``name``'s numbers in ``job`` depend on in its inputs: per condition its seeds' predictions sha256
    and the metrics; None when a unit has none (records held in memory)."""
    out = []
    for cond, per_sys in sorted(job.units.items()):
        if name in per_sys:
            shas = [ref.meta.get("sha256") if ref.records is None else None for ref in per_sys[name]]
            if not all(isinstance(sha, str) for sha in shas):
                return None
            out.append([cond, shas, job.metrics.get(cond, [])])
    return out


def part_key(job: GroupJob, name: str, idents: dict[str, str], est: Estimator, ranked: str,
             attributes: Sequence[str], per_page: int) -> str:
    """What ``name``'s part of ``job`` depends on: its units, the baseline's (when it is another system of the
    job), the ids of each condition, and its and the baseline's settings."""
    baseline = est.baseline if est.baseline in job.systems and est.baseline != name else None
    body = [VERSION, "part", list(job.key), name, system_units(job, name),
            None if baseline is None else system_units(job, baseline), sorted(idents.items()),
            est.key([name] if baseline is None else [name, baseline]), ranked, list(attributes), per_page]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()[:32]


def split(out: GroupResult, name: str) -> GroupResult:
    """``name``'s part of a job's result (no examples: those are rebuilt for all systems together)."""
    cells = []
    for c in out.cells:
        if name in c.names:
            i = c.names.index(name)
            cells.append(CellResult(c.key, [name], c.n, c.point[i:i + 1], [c.seed_points[i]], [c.rows[i]],
                                    None if c.samples is None else np.ascontiguousarray(c.samples[:, i:i + 1])))
    own = [r for r in out.comparisons if r["submission"] == name]
    return GroupResult(out.key, cells, own, [r for r in out.gains if r["submission"] == name],
                       [r for r in out.drops if r["submission"] == name], [],
                       {cond: {name: s[name]} for cond, s in out.pooled.items() if name in s})


def merge(job: GroupJob, names: Sequence[str], parts: dict[str, GroupResult]) -> GroupResult:
    """The job's result from its systems' parts, in the order :func:`compute_group` gives it."""
    conds = {cond: i for i, cond in enumerate(sorted(job.units))}
    rank = {n: i for i, n in enumerate(names)}
    by_key: dict[tuple, list[CellResult]] = {}
    for name in names:
        for cell in parts[name].cells:
            by_key.setdefault(cell.key, []).append(cell)
    order = sorted(by_key, key=lambda k: (conds[k[3]], job.metrics.get(k[3], []).index(k[4])))
    out = GroupResult(job.key)
    for key in order:
        members = by_key[key]
        samples = None if members[0].samples is None else np.concatenate([m.samples for m in members], axis=1)
        out.cells.append(CellResult(key, [m.names[0] for m in members], members[0].n,
                                    np.concatenate([m.point for m in members]),
                                    [m.seed_points[0] for m in members], [m.rows[0] for m in members], samples))

    def rows(field: str) -> list[dict]:
        flat = [r for name in names for r in getattr(parts[name], field)]
        return sorted(flat, key=lambda r: (conds[r["condition"]], rank[r["submission"]]))

    out.comparisons, out.gains, out.drops = rows("comparisons"), rows("gains"), rows("drops")
    for cond in sorted(job.units):
        for name in names:
            if cond in parts[name].pooled:
                out.pooled.setdefault(cond, {})[name] = parts[name].pooled[cond][name]
    return out


class PartCache(GroupCache):
    """Parts (:func:`split`) and their first-seed views, beside the job results."""

    def load_part(self, key: str) -> tuple[GroupResult, dict[str, View]] | None:
        try:
            body, packed = self.read_entry(f"part-{key}")
            arrays = _unpack(packed, body["index"])
            views = {cond: View(arrays[v["ids"]].tolist(), {}, arrays[v["pred"]], {}, Path(v["path"]),
                                arrays[v["offsets"]]) for cond, v in body["views"].items()}
            return decode(body["result"], arrays), views
        except DAMAGED:
            return None

    def save_part(self, key: str, part: GroupResult, views: dict[str, View]) -> None:
        arrays: dict[str, np.ndarray] = {}
        body = {"result": encode(part, arrays), "views": {}}
        for cond, v in views.items():
            body["views"][cond] = {"ids": put(arrays, np.asarray(v.ids, dtype=str)), "pred": put(arrays, v.pred),
                                   "offsets": put(arrays, v.offsets), "path": str(v.path)}
        packed, body["index"] = _pack(arrays)
        self.write_entry(f"part-{key}", body, packed)


def _pack(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """Many small arrays as one flat array per dtype (a part holds hundreds; reading each is what costs) and
    the index to cut them back: name → [dtype, offset, shape]."""
    flat: dict[str, list[np.ndarray]] = {}
    index: dict[str, list] = {}
    sizes: dict[str, int] = {}
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        kind = value.dtype.str
        index[name] = [kind, sizes.get(kind, 0), list(value.shape)]
        flat.setdefault(kind, []).append(value.reshape(-1))
        sizes[kind] = sizes.get(kind, 0) + value.size
    return {f"d{i}": np.concatenate(parts) for i, parts in enumerate(flat.values())}, \
        {"arrays": index, "dtypes": list(flat)}


def _unpack(packed: dict[str, np.ndarray], index: dict) -> dict[str, np.ndarray]:
    by_kind = {kind: packed[f"d{i}"] for i, kind in enumerate(index["dtypes"])}
    out = {}
    for name, (kind, start, shape) in index["arrays"].items():
        size = int(np.prod(shape)) if shape else 1
        out[name] = by_kind[kind][start:start + size].reshape(shape)
    return out


def compute_by_system(job: GroupJob, est: Estimator, ranked: str, attributes: Sequence[str], per_page: int,
                      digests: DigestCache, cache: PartCache) -> GroupResult | None:
    """The job's result from its systems' cached parts, computing (and caching) the missing ones; None when
    the job cannot be cut by system (records in memory, or a condition whose units hold different ids)."""
    loaded = _Loaded(digests)
    idents: dict[str, str] = {}
    for cond, per_sys in job.units.items():
        shas = set()
        for refs in per_sys.values():
            for ref in refs:
                if ref.store is None or ref.records is not None:
                    return None
                shas.add(loaded.ids_sha(ref.store, ref.unit, ref.meta, job.metrics.get(cond, []), attributes))
        if len(shas) != 1:
            return None
        idents[cond] = shas.pop()
    names = [n for n in est.names if n in job.systems]
    keys = {n: part_key(job, n, idents, est, ranked, attributes, per_page) for n in names}
    parts: dict[str, tuple[GroupResult, dict[str, View]]] = {}
    for name in names:
        got = cache.load_part(keys[name])
        if got is not None:
            parts[name] = got
    missing = [n for n in names if n not in parts]
    if missing:
        chosen = set(missing) | ({est.baseline} if est.baseline in job.systems else set())
        sub = GroupJob(*job.key, {c: {n: r for n, r in s.items() if n in chosen} for c, s in job.units.items()
                                  if chosen & set(s)}, job.metrics)
        out = compute_group(sub, est, ranked, attributes, per_page, loaded, examples=False)
        for name in missing:
            views = {cond: _view(loaded, refs[name][0], job.metrics.get(cond, []), attributes)
                     for cond, refs in job.units.items() if name in refs}
            parts[name] = (split(out, name), views)
            cache.save_part(keys[name], *parts[name])
    merged = merge(job, names, {n: p[0] for n, p in parts.items()})
    merged.examples = _examples_of(job, names, {n: p[1] for n, p in parts.items()}, ranked, per_page, cache,
                                   est)
    return merged


def _view(loaded: _Loaded, ref: UnitRef, metrics: Sequence[str], attributes: Sequence[str]) -> View:
    assert ref.store is not None
    d = loaded.load(ref.store, ref.unit, ref.meta, metrics, attributes)
    return View(d.ids, {}, d.pred, {}, d.path, d.offsets)


def _examples_of(job: GroupJob, names: Sequence[str], views: dict[str, dict[str, View]], ranked: str,
                 per_page: int, cache: PartCache, est: Estimator) -> list[dict]:
    """The example browser's sections of the job, for every system together (cached under all their units)."""
    key = rows_key("examples", job.fingerprint(), est.key(job.systems), ranked, per_page)
    cached = cache.rows(key)
    if cached is not None:
        return cached
    cells: dict[tuple, _Cell] = {}
    metric = METRICS.get(ranked)
    if metric is None:
        return []
    for cond in sorted(job.units):
        present = [n for n in names if cond in views[n] and ranked in job.metrics.get(cond, [])]
        if not present:
            continue
        first = views[present[0]][cond]
        cells[(*job.key, cond, ranked)] = _Cell((*job.key, cond, ranked), present, list(first.positions), metric,
                                                {n: [views[n][cond]] for n in present}, {})
    rows: list[dict] = []
    for cell in cells.values():
        rows += _examples(cell, cells.get((*job.key, "clean", ranked)), cells, per_page)
    cache.save_rows(key, rows)
    return rows
