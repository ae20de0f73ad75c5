"""The cache of per-(task, language, split) results of a report (:mod:`harness.stats.cells`).

A result is stored under a key made of its units' sha256 (the inputs) and every setting of the estimator
(systems and their seed counts, baseline, alpha, resamples, seed, resampling, examples per section, bucket
attributes, :data:`VERSION`), so a report rebuilt after one submission was added recomputes only the jobs
that submission is part of, and nothing else can change a cached number. Each entry is a JSON file for the
rows and where each array lies, plus one ``.bin`` of the arrays' bytes (no pickle, no object arrays: a cache
entry cannot run code). The ``.bin`` is read in one call; an ``.npz`` of a part's head took 0.9 ms to open.
A damaged entry is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.stats.cells import CellResult, Estimator, GroupJob, GroupResult
from harness.store.rundir import loads, read_ahead

VERSION = 3
DAMAGED = (OSError, ValueError, KeyError, TypeError, IndexError)
"""What reading a missing or damaged entry raises (it is then recomputed)."""


class GroupCache:
    """Results of :func:`harness.stats.cells.compute_group` under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _key(self, job: GroupJob, est: Estimator, ranked: str, attributes: Sequence[str], per_page: int
             ) -> str | None:
        inputs = job.fingerprint()
        if inputs is None:
            return None
        body = json.dumps([VERSION, inputs, est.key(job.systems), ranked, list(attributes), per_page])
        return hashlib.sha256(body.encode()).hexdigest()[:32]

    def load(self, job: GroupJob, est: Estimator, ranked: str, attributes: Sequence[str], per_page: int
             ) -> GroupResult | None:
        key = self._key(job, est, ranked, attributes, per_page)
        if key is None:
            return None
        try:
            return decode(*self.read_entry(key))
        except DAMAGED:
            return None

    def save(self, job: GroupJob, est: Estimator, ranked: str, attributes: Sequence[str], per_page: int,
             result: GroupResult) -> None:
        key = self._key(job, est, ranked, attributes, per_page)
        if key is None:
            return
        arrays: dict[str, np.ndarray] = {}
        body = encode(result, arrays)
        self.write_entry(key, body, arrays)

    def read_entry(self, stem: str) -> tuple[dict, dict[str, np.ndarray]]:
        """The JSON body and arrays of entry ``stem`` (raises one of :data:`DAMAGED` when missing or damaged)."""
        entry = loads((self.root / f"{stem}.json").read_bytes())  # a row may hold NaN
        data = np.fromfile(self.root / f"{stem}.bin", dtype=np.uint8)
        arrays = {}
        for name, (kind, start, shape) in entry["arrays"].items():
            dtype = np.dtype(kind)
            if dtype.hasobject:
                raise ValueError(f"entry {stem}: array {name} holds objects")
            size = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
            if start < 0 or start + size > data.size:
                raise ValueError(f"entry {stem}: array {name} lies past the end of its file")
            # a copy: an array kept (a view's rows) does not keep the whole file's bytes alive
            arrays[name] = data[start:start + size].view(dtype).reshape(shape).copy()
        return entry["body"], arrays

    def write_entry(self, stem: str, body: dict, arrays: dict[str, np.ndarray]) -> None:
        """Entry ``stem``: its arrays' bytes (each at a multiple of 64), then its JSON body and their places
        (which marks it done), each renamed into place."""
        self.root.mkdir(parents=True, exist_ok=True)
        tag = f"{os.getpid()}.tmp"
        places, chunks, size = {}, [], 0
        for name, value in arrays.items():
            value = np.asarray(value)  # its bytes in C order (tobytes), 0-d arrays kept 0-d
            if value.dtype.hasobject:
                raise TypeError(f"array {name} holds objects")
            places[name] = [value.dtype.str, size, list(value.shape)]
            chunks.append(value.tobytes())
            pad = -len(chunks[-1]) % 64
            chunks.append(b"\0" * pad)
            size += len(chunks[-2]) + pad
        (self.root / f".{stem}.{tag}.bin").write_bytes(b"".join(chunks))
        (self.root / f".{stem}.{tag}.json").write_text(json.dumps({"body": body, "arrays": places},
                                                                  ensure_ascii=False), encoding="utf-8")
        os.replace(self.root / f".{stem}.{tag}.bin", self.root / f"{stem}.bin")
        os.replace(self.root / f".{stem}.{tag}.json", self.root / f"{stem}.json")

    def prefetch(self, stems: Sequence[str]) -> None:
        """Start reading entries ``stems`` (both files of each) at once (:func:`harness.store.rundir.read_ahead`)."""
        read_ahead(self.root / f"{stem}{suffix}" for stem in stems for suffix in (".json", ".bin"))

    def has_entry(self, stem: str) -> bool:
        """Whether entry ``stem`` is there (written in full: its JSON body is renamed into place last)."""
        return (self.root / f"{stem}.json").is_file()

    def has_rows(self, key: str) -> bool:
        """Whether rows are cached under ``key`` (they may still be damaged: :meth:`rows` says)."""
        return (self.root / f"rows-{key}.json").is_file()

    def rows(self, key: str) -> list[dict] | None:
        """Rows cached under ``key`` (e.g. a task's bucket scores), or None."""
        try:
            rows = json.loads((self.root / f"rows-{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return rows if isinstance(rows, list) else None

    def save_rows(self, key: str, rows: list[dict]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".rows-{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.root / f"rows-{key}.json")


def rows_key(*parts: object) -> str:
    """A cache key for rows computed from ``parts`` (JSON-able)."""
    return hashlib.sha256(json.dumps([VERSION, *parts], default=repr).encode()).hexdigest()[:32]


def put(arrays: dict[str, np.ndarray], value: np.ndarray) -> str:
    name = f"a{len(arrays)}"
    arrays[name] = np.asarray(value)
    return name


def encode(result: GroupResult, arrays: dict[str, np.ndarray]) -> dict:
    cells = [{"key": list(c.key), "names": c.names, "n": c.n, "point": put(arrays, c.point),
              "seed_points": [put(arrays, s) for s in c.seed_points], "rows": c.rows,
              "samples": None if c.samples is None else put(arrays, c.samples), "sampled": c.sampled}
             for c in result.cells]
    return {"key": list(result.key), "cells": cells, "comparisons": result.comparisons, "gains": result.gains,
            "drops": result.drops, "examples": result.examples, "pooled": encode_pooled(result.pooled, arrays)}


def decode(body: dict, arrays: dict[str, np.ndarray]) -> GroupResult:
    cells = [CellResult(tuple(c["key"]), list(c["names"]), int(c["n"]), arrays[c["point"]],
                        [arrays[s] for s in c["seed_points"]], c["rows"],
                        None if c["samples"] is None else arrays[c["samples"]], c.get("sampled"))
             for c in body["cells"]]
    return GroupResult(tuple(body["key"]), cells, body["comparisons"], body["gains"], body["drops"],
                       body["examples"], decode_pooled(body["pooled"], arrays))


def encode_pooled(pooled: dict, arrays: dict[str, np.ndarray]) -> dict:
    """A result's pooled bucket statistics as JSON naming arrays put in ``arrays``."""
    return {cond: {name: [[put(arrays, stats), {a: put(arrays, v) for a, v in attrs.items()}]
                          for stats, attrs in seeds] for name, seeds in systems.items()}
            for cond, systems in pooled.items()}


def decode_pooled(body: dict, arrays: dict[str, np.ndarray]) -> dict:
    return {cond: {name: [(arrays[stats], {a: arrays[v] for a, v in attrs.items()}) for stats, attrs in seeds]
                   for name, seeds in systems.items()} for cond, systems in body.items()}
