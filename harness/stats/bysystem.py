"""A (task, language, split) job's result kept per system, for ``--draws shared``.

Under shared draws a system's numbers depend on its own predictions, the baseline's (its comparisons and
gains) and the example ids the cell aligns on, never on which other systems a report holds
(:func:`harness.stats.engine.shared_sums`). So a job's result is cached as one *part* per system, keyed by
those inputs alone, and a report with one more submission computes that submission's parts only: the others
are read back. A part is two entries:

- its *head*: the system's cells (rows, points), comparisons, gains and drops and, per condition, a view of its
  first seed's unit (prediction keys, record offsets, the row of each example id), from which the example
  browser is rebuilt for every system together;
- its *arrays*: the ranked metric's resamples and the pooled bucket statistics, read only for a system whose
  task averages or bucket scores are not cached yet (:class:`harness.stats.analysis.Analysis`).

The ids a cell aligns on are known without loading any digest: each unit's ids are named by a sha256 kept
beside the digests (:meth:`harness.stats.digest.DigestCache.ids_sha`); the ids themselves are kept once per
sha256, and the records the browser shows once per job (content-addressed by the predictions' sha256). When a
condition's units do not all hold the same ids, the job is computed whole, as with per-test draws.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import orjson

from harness.metrics import METRICS
from harness.stats.cells import (
    CellResult,
    Estimator,
    GroupJob,
    GroupResult,
    UnitRef,
    compute_group,
    example_section,
)
from harness.stats.digest import DigestCache, UnitDigest, ids_sha
from harness.stats.groupcache import (
    DAMAGED,
    VERSION,
    GroupCache,
    decode,
    decode_pooled,
    encode,
    encode_pooled,
    put,
    rows_key,
)
from harness.store.rundir import atomic_write_bytes, atomic_write_text


@dataclass
class View:
    """A first seed's unit as the example browser needs it: its predictions file and sha256, the prediction key
    and record offset of each row, and ``rows[k]``, the row of the condition's ``k``-th example id."""

    sha: str
    path: Path
    pred: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray


class _Loaded(DigestCache):
    """A digest cache that keeps what it loaded for one job (a unit's digest is loaded once)."""

    def __init__(self, base: DigestCache) -> None:
        super().__init__(base.root, verify=base.verify, indexed=base.indexed)
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


def job_idents(job: GroupJob, attributes: Sequence[str], digests: DigestCache) -> dict[str, str] | None:
    """Per condition the sha256 of the ids every unit of it holds; None when the job cannot be cut by system
    (records in memory, or a condition whose units hold different ids)."""
    idents: dict[str, str] = {}
    digests.prefetch([(ref.store, ref.unit, ref.meta) for per_sys in job.units.values() for refs in per_sys.values()
                      for ref in refs if ref.store is not None and ref.records is None], unnamed=True)
    for cond, per_sys in job.units.items():
        shas = set()
        for refs in per_sys.values():
            for ref in refs:
                if ref.store is None or ref.records is not None:
                    return None
                shas.add(digests.ids_sha(ref.store, ref.unit, ref.meta, job.metrics.get(cond, []), attributes))
        if len(shas) != 1:
            return None
        idents[cond] = shas.pop()
    return idents


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
    """The job's result from its systems' parts, in the order :func:`compute_group` gives it. A part read
    without its arrays adds no resamples column (the cell's ``sampled`` names the systems it has them of)."""
    conds = {cond: i for i, cond in enumerate(sorted(job.units))}
    rank = {n: i for i, n in enumerate(names)}
    by_key: dict[tuple, list[CellResult]] = {}
    for name in names:
        for cell in parts[name].cells:
            by_key.setdefault(cell.key, []).append(cell)
    order = sorted(by_key, key=lambda k: (conds[k[3]], job.metrics.get(k[3], []).index(k[4])))
    out = GroupResult(job.key, by_system=True)
    for key in order:
        members = by_key[key]
        samples, sampled = None, None
        if members[0].samples is not None:
            samples = np.concatenate([m.samples for m in members], axis=1)
            if samples.shape[1] < len(members):
                sampled = [m.names[0] for m in members if m.samples.shape[1]]
        out.cells.append(CellResult(key, [m.names[0] for m in members], members[0].n,
                                    np.concatenate([m.point for m in members]),
                                    [m.seed_points[0] for m in members], [m.rows[0] for m in members], samples,
                                    sampled))

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
    """Parts (:func:`split`: a head and its arrays), the ids of each condition, and the records the example
    browser showed, beside the job results."""

    def load_part(self, key: str, *, arrays: bool = True) -> tuple[GroupResult, dict[str, View]] | None:
        """Part ``key``; without ``arrays``, its cells' resamples are empty (no column) and it has no pooled
        statistics."""
        try:
            body, packed = self.read_entry(f"part-{key}")
            small = _unpack(packed, body["index"])
            part = decode(body["result"], small)
            if arrays:
                heavy_body, heavy = self.read_entry(f"part-{key}-arrays")
                big = _unpack(heavy, heavy_body["index"])
                for cell, name in zip(part.cells, heavy_body["samples"], strict=True):
                    cell.samples = None if name is None else big[name]
                part.pooled = decode_pooled(heavy_body["pooled"], big)
            else:
                for cell, size in zip(part.cells, body["resampled"], strict=True):
                    if size is not None:
                        cell.samples, cell.sampled = np.empty((size, 0)), []
            views = {cond: View(v["sha"], Path(v["path"]), small[v["pred"]], small[v["offsets"]], small[v["rows"]])
                     for cond, v in body["views"].items()}
            return part, views
        except DAMAGED:
            return None

    def save_part(self, key: str, part: GroupResult, views: dict[str, View]) -> None:
        """The arrays first, then the head (which marks the part done)."""
        heavy: dict[str, np.ndarray] = {}
        heavy_body = {"samples": [None if c.samples is None else put(heavy, c.samples) for c in part.cells],
                      "pooled": encode_pooled(part.pooled, heavy)}
        packed, heavy_body["index"] = _pack(heavy)
        self.write_entry(f"part-{key}-arrays", heavy_body, packed)
        head = GroupResult(part.key, [replace(c, samples=None) for c in part.cells], part.comparisons, part.gains,
                           part.drops)
        small: dict[str, np.ndarray] = {}
        body = {"result": encode(head, small),
                "resampled": [None if c.samples is None else int(c.samples.shape[0]) for c in part.cells],
                "views": {cond: {"sha": v.sha, "path": str(v.path), "pred": put(small, v.pred),
                                 "offsets": put(small, v.offsets), "rows": put(small, v.rows)}
                          for cond, v in views.items()}}
        packed, body["index"] = _pack(small)
        self.write_entry(f"part-{key}", body, packed)

    def load_summary(self, key: str) -> dict | None:
        """A system's resample sums over a task's languages: ``{"task": {condition: sums}, "slice": {(group,
        condition): sums}}`` (:meth:`harness.stats.analysis.Analysis._finish`), or None."""
        try:
            body, arrays = self.read_entry(f"avg-{key}")
            return {"task": {cond: arrays[a] for cond, a in body["task"]},
                    "slice": {(group, cond): arrays[a] for group, cond, a in body["slice"]}}
        except DAMAGED:
            return None

    def save_summary(self, key: str, summary: dict) -> None:
        arrays: dict[str, np.ndarray] = {}
        body = {"task": [[cond, put(arrays, v)] for cond, v in summary["task"].items()],
                "slice": [[group, cond, put(arrays, v)] for (group, cond), v in summary["slice"].items()]}
        self.write_entry(f"avg-{key}", body, arrays)

    def _ids_path(self, ident: str) -> Path:
        return self.root / "ids" / ident[:2] / f"{ident}.json"

    def ids(self, ident: str) -> list[str] | None:
        """The example ids named ``ident`` (:func:`harness.stats.digest.ids_sha`), or None (missing, damaged)."""
        try:
            ids = json.loads(self._ids_path(ident).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        ok = isinstance(ids, list) and all(isinstance(i, str) for i in ids) and ids_sha(ids) == ident
        return ids if ok else None

    def save_ids(self, ident: str, ids: list[str]) -> None:
        path = self._ids_path(ident)
        if not path.is_file():
            atomic_write_text(path, json.dumps(ids, ensure_ascii=False), durable=False)

    def _records_path(self, job_key: Sequence[str]) -> Path:
        name = hashlib.sha256(json.dumps(list(job_key)).encode()).hexdigest()[:32]
        return self.root / "records" / name[:2] / f"{name}.json"

    def records(self, job_key: Sequence[str]) -> dict[str, dict]:
        """The records the browser showed for a job, by ``"<predictions sha256>:<row>"`` (in full) or
        ``"<predictions sha256>:<row>/p"`` (the fields it shows of a system past the first); {} when none."""
        try:
            memo = orjson.loads(self._records_path(job_key).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        return memo if isinstance(memo, dict) else {}

    def save_records(self, job_key: Sequence[str], memo: dict[str, dict]) -> None:
        atomic_write_bytes(self._records_path(job_key), orjson.dumps(memo), durable=False)


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
                      digests: DigestCache, cache: PartCache, idents: dict[str, str] | None = None,
                      skip: frozenset[str] = frozenset()) -> GroupResult | None:
    """The job's result from its systems' cached parts, computing (and caching) the missing ones; None when
    the job cannot be cut by system (:func:`job_idents`). ``idents``: the job's, when known; ``skip``: systems
    whose parts are read without their arrays (their averages and bucket scores are cached)."""
    loaded = _Loaded(digests)
    if idents is None:
        idents = job_idents(job, attributes, loaded)
        if idents is None:
            return None
    names = [n for n in est.names if n in job.systems]
    keys = {n: part_key(job, n, idents, est, ranked, attributes, per_page) for n in names}
    parts: dict[str, tuple[GroupResult, dict[str, View]]] = {}
    cache.prefetch([f"part-{keys[n]}" for n in names] + [f"part-{keys[n]}-arrays" for n in names if n not in skip])
    for name in names:
        got = cache.load_part(keys[name], arrays=name not in skip)
        if got is not None:
            parts[name] = got
    missing = [n for n in names if n not in parts]
    if missing:
        chosen = set(missing) | ({est.baseline} if est.baseline in job.systems else set())
        sub = GroupJob(*job.key, {c: {n: r for n, r in s.items() if n in chosen} for c, s in job.units.items()
                                  if chosen & set(s)}, job.metrics)
        out = compute_group(sub, est, ranked, attributes, per_page, loaded, examples=False)
        for name in missing:
            views = {cond: _view(loaded, refs[name][0], job.metrics.get(cond, []), attributes, idents[cond], cache)
                     for cond, refs in job.units.items() if name in refs}
            parts[name] = (split(out, name), views)
            cache.save_part(keys[name], *parts[name])
    merged = merge(job, names, {n: p[0] for n, p in parts.items()})
    merged.examples = _examples_of(job, names, {n: p[1] for n, p in parts.items()}, ranked, per_page, cache,
                                   est, idents, loaded, attributes)
    return merged


def _view(loaded: _Loaded, ref: UnitRef, metrics: Sequence[str], attributes: Sequence[str], ident: str,
          cache: PartCache) -> View:
    assert ref.store is not None
    d = loaded.load(ref.store, ref.unit, ref.meta, metrics, attributes)
    cache.save_ids(ident, list(d.positions))
    return View(str(ref.meta.get("sha256")), d.path or Path(), d.pred, d.offsets,
                np.fromiter(d.positions.values(), dtype=np.int64, count=len(d.positions)))


_SHOWN = ("id", "pred", "gold")  # what the browser shows of a system's records past the first


class _Recorded(UnitDigest):
    """A view as the example browser reads it: records looked up in the job's memo before the file. A ``slim``
    view (a system past a section's first) keeps only the fields the browser shows of it (:data:`_SHOWN`),
    under ``"<sha256>:<row>/p"``: a job's memo then holds the full records of its first system alone."""

    sha: str = ""
    memo: dict[str, dict]
    used: set[str]
    slim: bool = False

    def fetch(self, rows: Sequence[int]) -> list[dict]:
        memo, suffix = self.memo, "/p" if self.slim else ""
        keys = [f"{self.sha}:{int(r)}{suffix}" for r in rows]
        need = []
        for r, k in zip(rows, keys, strict=True):
            if k not in memo:
                full = memo.get(k[:-2]) if self.slim else None  # a full record kept serves a slim one
                if full is None:
                    need.append(int(r))
                else:
                    memo[k] = _projected(full)
        if need:
            for row, record in zip(need, super().fetch(need), strict=True):
                memo[f"{self.sha}:{row}{suffix}"] = _projected(record) if self.slim else record
        self.used.update(keys)
        return [memo[k] for k in keys]


def _projected(record: dict) -> dict:
    return {k: record[k] for k in _SHOWN if k in record}


def _examples_of(job: GroupJob, names: Sequence[str], views: dict[str, dict[str, View]], ranked: str,
                 per_page: int, cache: PartCache, est: Estimator, idents: dict[str, str], loaded: _Loaded,
                 attributes: Sequence[str]) -> list[dict]:
    """The example browser's sections of the job, for every system together (cached under all their units);
    the records shown are kept per job and read from the predictions only when not kept yet. The examples are
    those :func:`harness.stats.cells._examples` chooses, found from the views' prediction keys in one array
    comparison per system."""
    key = rows_key("examples", job.fingerprint(), est.key(job.systems), ranked, per_page)
    cached = cache.rows(key)
    if cached is not None:
        return cached
    if METRICS.get(ranked) is None:
        return []
    present = {cond: shown for cond in sorted(job.units)
               if (shown := [n for n in names if cond in views[n] and ranked in job.metrics.get(cond, [])])}
    memo, used = cache.records(job.key), set()
    before = len(memo)
    by_ident: dict[str, list[str]] = {}

    def ids_of(cond: str) -> list[str]:
        ident = idents[cond]
        if ident not in by_ident:
            ids = cache.ids(ident)
            if ids is None:  # ids file lost: from the first system's digest
                ref = job.units[cond][present[cond][0]][0]
                assert ref.store is not None
                ids = list(loaded.load(ref.store, ref.unit, ref.meta, job.metrics.get(cond, []), attributes).positions)
            by_ident[ident] = ids
        return by_ident[ident]

    def recorded(view: View, slim: bool) -> _Recorded:
        d = _Recorded([], {}, view.pred, {}, view.path, view.offsets)
        d.sha, d.memo, d.used, d.slim = view.sha, memo, used, slim
        return d

    clean = present.get("clean", [])
    perturbed = any(cond != "clean" for cond in present)
    rows: list[dict] = []
    for cond, shown in present.items():
        if cond == "clean" and perturbed:
            continue  # the clean section only where the job has no perturbed condition (as _examples)
        ids = ids_of(cond)
        now = {n: views[n][cond].pred[views[n][cond].rows] for n in shown}  # k-th id's prediction key
        # per system with a clean view: the clean row of each id (-1: not among the clean ids)
        clean_rows: dict[str, np.ndarray] = {}
        if cond == "clean":  # where the systems disagree
            clean_rows = {n: views[n]["clean"].rows for n in shown}
            stacked = np.stack([now[n] for n in shown])
            changed = (stacked != stacked[0]).any(axis=0)
        else:  # where a system's prediction is not its clean one
            at = None if not clean or idents["clean"] == idents[cond] else \
                {i: k for k, i in enumerate(ids_of("clean"))}
            changed = np.zeros(len(ids), dtype=bool)
            for n in (n for n in shown if n in clean):
                cv = views[n]["clean"]
                crow = clean_rows[n] = cv.rows if at is None else \
                    np.array([cv.rows[at[i]] if i in at else -1 for i in ids], dtype=np.int64)
                changed |= (crow >= 0) & (cv.pred[crow] != now[n])
        picked = np.flatnonzero(changed)[:per_page]
        if not picked.size:
            continue
        # the first system's records in full (the browser shows its inputs), the others' slim
        fetched = {n: recorded(views[n][cond], n != shown[0]).fetch(views[n][cond].rows[picked].tolist())
                   for n in shown}
        fetched_clean = {n: recorded(views[n]["clean"], n != shown[0]).fetch([int(r) for r in crow[picked] if r >= 0])
                         for n, crow in clean_rows.items()}
        rows += example_section((*job.key, cond, ranked), shown, [ids[k] for k in picked], fetched, fetched_clean)
    if len(memo) != before or len(used) != len(memo):
        cache.save_records(job.key, {k: memo[k] for k in sorted(used)})
    cache.save_rows(key, rows)
    return rows
