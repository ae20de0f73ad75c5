"""A unit's columns: per example its id, the per-example statistics of every metric of the unit, a 64-bit key
of its prediction, its numeric attributes and the byte offset of its record in the predictions file.

Written beside the predictions (``<stem>.columns.arrow``, Arrow IPC) when a unit is committed, computed from
the very bytes written, and named with its sha256 and :data:`VERSION` in the unit's meta. Reports read these
columns instead of parsing every record (:mod:`harness.stats.digest`); a unit without them (written before,
or by an older version) is parsed as before. The JSONL stays the unit's record of truth.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.ipc as ipc

from harness.metrics import METRICS

VERSION = 1
SUFFIX = ".columns.arrow"


def pred_key(value: object) -> int:
    """A signed 64-bit key of a prediction: its canonical JSON, hashed."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = json.dumps(value, sort_keys=True, default=repr).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little", signed=True)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan


def numeric_attributes(records: list[dict]) -> list[str]:
    """Names of the attributes (``record["attrs"]``) that are a number in at least one record, sorted."""
    names: set[str] = set()
    for r in records:
        own = r.get("attrs")
        if isinstance(own, dict):
            names.update(k for k, v in own.items() if isinstance(k, str) and not isinstance(v, bool)
                         and isinstance(v, int | float))
    return sorted(names)


def unit_columns(records: list[dict], metrics: Sequence[str], attributes: Sequence[str]
                 ) -> tuple[list[str], dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """``(ids, stats, pred, attrs)`` of ``records``: metric → ``(n, k)`` statistics (registered metrics only),
    prediction keys, attribute → ``(n,)`` float64 (NaN where missing or not a number)."""
    stats: dict[str, np.ndarray] = {}
    computed: dict[object, np.ndarray] = {}  # metrics sharing their per-example function compute it once
    for name in metrics:
        if name not in METRICS:
            continue
        metric = METRICS[name]
        if metric.per_example not in computed:
            computed[metric.per_example] = metric.stats(records)
        stats[name] = computed[metric.per_example]
    columns: dict[str, list[float]] = {a: [] for a in attributes}
    for r in records:  # one pass over the records for every attribute
        own = r.get("attrs") or {}
        for a, values in columns.items():
            values.append(_number(own.get(a)) if isinstance(own, dict) else np.nan)
    attrs = {a: np.asarray(values, dtype=np.float64) for a, values in columns.items()}
    pred = np.fromiter((pred_key(r.get("pred")) for r in records), dtype=np.int64, count=len(records))
    return [str(r["id"]) for r in records], stats, pred, attrs


def to_table(ids: list[str], offsets: np.ndarray, pred: np.ndarray, stats: dict[str, np.ndarray],
             attrs: dict[str, np.ndarray]) -> pa.Table:
    """The columns as one table: ``id``, ``offset``, ``pred``, ``s:<metric>:<j>``, ``a:<attribute>``."""
    cols: dict[str, pa.Array] = {"id": pa.array(ids, pa.string()), "offset": pa.array(np.asarray(offsets,
                                                                                                 dtype=np.int64)),
                                 "pred": pa.array(pred)}
    for name, values in stats.items():
        for j in range(values.shape[1]):
            cols[f"s:{name}:{j}"] = pa.array(values[:, j])
    for name, values in attrs.items():
        cols[f"a:{name}"] = pa.array(values)
    return pa.table(cols)


def table_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_table(data: bytes) -> pa.Table:
    """The table of Arrow IPC ``data`` (raises ``pa.ArrowException`` when it is not one)."""
    return ipc.open_file(pa.py_buffer(data)).read_all()


def columns_bytes(records: list[dict], offsets: Sequence[int], metrics: Sequence[str]) -> bytes:
    """The columns file of a unit's records (every numeric attribute they have)."""
    ids, stats, pred, attrs = unit_columns(records, metrics, numeric_attributes(records))
    return table_bytes(to_table(ids, np.asarray(offsets, dtype=np.int64), pred, stats, attrs))
