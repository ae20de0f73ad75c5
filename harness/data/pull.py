"""``xrobust data pull``: hub rows written in the local layout that ``--data-dir`` reads, with a manifest.

Each (task, language, split) becomes ``OUT/<local pattern>`` (``<task>/<lang>.<split>.jsonl`` by default): the hub
row with its mapped columns renamed to the task's local column names, ClassLabel values written as label names
(tasks that list labels) or indexes (others), the source's ``strip`` fields stripped, other columns kept, one JSON
object per line (``ensure_ascii=False``). ``OUT/manifest.json`` lists every file with its source, the commit it was
loaded at, its row count and sha256.

A file is written to a temporary name and renamed when complete, and the manifest is rewritten (atomically)
after each file, so an interrupted pull leaves no half-written file that counts; the next pull skips files whose
bytes still match the manifest for the same source and redoes the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import tasktypes
from harness.data import provenance
from harness.data.examples import load_hub_rows, stripped
from harness.data.sources import HubLoad, hub_load, local_path, require_sources
from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec
from harness.store.rundir import read_json, write_json

MANIFEST = "manifest.json"
FORMAT = "xrobust-data/1"


@dataclass(frozen=True)
class PullItem:
    """One file to write."""

    spec: TaskSpec
    lang: str
    split: str
    path: Path  # absolute
    rel: str  # relative to the output folder, as the manifest keys it


def plan(specs: list[TaskSpec], langs: list[str] | None, splits: list[str] | None, out: Path) -> list[PullItem]:
    """The files to write, every source checked first (unknown languages, unavailable ones) so a pull that
    cannot finish is refused before it starts."""
    if langs:
        for lang in langs:
            if not any(lang in s.all_languages or lang == s.source_language for s in specs):
                raise XRobustError(f"language {lang!r} is not covered by any requested task", field="--langs")
    items = []
    for spec in specs:
        if spec.hub is None:
            raise XRobustError(f"task {spec.name} has no hub source ({tasktypes.get(spec.type).data_source(spec)})",
                               file=spec.source_file, field="data.hub")
        task_langs = [x for x in langs if x in spec.all_languages or x == spec.source_language] if langs else \
            list(spec.languages)
        task_splits = list(splits) if splits else [spec.eval_split]
        require_sources(spec, task_langs, task_splits, None)
        for lang in task_langs:
            for split in task_splits:
                hub_load(spec, lang, split)  # template errors now, not halfway
                path = local_path(spec, lang, split, out)
                items.append(PullItem(spec, lang, split, path, path.relative_to(out).as_posix()))
    return items


def _request(item: PullItem, load: HubLoad, limit: int | None) -> dict[str, Any]:
    """What a manifest entry must match to be reused: the source as declared and the task config."""
    return {**load.describe(), "task_config": item.spec.config_hash(), "limit": limit}


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.is_file():
        return {"format": FORMAT, "files": {}}
    data = read_json(path, what="data manifest")
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise XRobustError("not a data manifest (no 'files' mapping)", file=path, field="files")
    return data


def pull(items: list[PullItem], out: Path, *, limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Write every item not already up to date; returns the manifest written."""
    from tqdm.auto import tqdm

    manifest = read_manifest(out)
    files = manifest["files"]
    bar = tqdm(items, desc="data pull", unit="file", disable=not progress)
    for item in bar:
        bar.set_postfix_str(item.rel)
        load = hub_load(item.spec, item.lang, item.split)
        request = _request(item, load, limit)
        entry = files.get(item.rel)
        if entry and entry.get("request") == request and item.path.is_file() and \
                provenance.file_sha256(item.path) == entry.get("sha256"):
            continue
        dataset, load, record = load_hub_rows(item.spec, item.lang, item.split)
        if limit is not None:
            dataset = dataset.select(range(min(limit, len(dataset))))
        n, digest, size = _write_atomic(item.path, local_rows(dataset, item.spec, load))
        files[item.rel] = {"task": item.spec.name, "lang": item.lang, "split": item.split, "rows": n,
                           "bytes": size, "sha256": digest, "source": record, "request": request}
        write_json(out / MANIFEST, {**manifest, "files": dict(sorted(files.items()))})
    manifest = {**manifest, "files": dict(sorted(files.items()))}
    write_json(out / MANIFEST, manifest)
    return manifest


def _write_atomic(path: Path, rows: Iterator[dict]) -> tuple[int, str, int]:
    """Rows as JSON lines under a temporary name, renamed into place once complete: (rows, sha256, bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    digest, n, size = hashlib.sha256(), 0, 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for row in rows:
                line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
                handle.write(line)
                digest.update(line)
                n, size = n + 1, size + len(line)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n, digest.hexdigest(), size


def column_renames(spec: TaskSpec, load: HubLoad, columns: list[str]) -> dict[str, str]:
    """Hub column → local column, for every canonical field both sides map (lists pair up in order)."""
    local = spec.fields_for("local")
    renames: dict[str, str] = {}
    for canonical in tasktypes.get(spec.type).fields:
        hub_cols, local_cols = load.fields.get(canonical, canonical), local.get(canonical, canonical)
        hub_cols = [hub_cols] if isinstance(hub_cols, str) else list(hub_cols)
        local_cols = [local_cols] if isinstance(local_cols, str) else list(local_cols)
        if len(hub_cols) != len(local_cols):
            raise XRobustError(f"fields.{canonical} maps {len(hub_cols)} hub columns to {len(local_cols)} local "
                               "columns", file=spec.source_file, field=f"data.local.fields.{canonical}")
        for hub_col, local_col in zip(hub_cols, local_cols, strict=True):
            if hub_col in columns:
                renames[hub_col] = local_col
    targets = set(renames.values())
    clash = next((c for c in columns if c not in renames and c in targets), None)
    if clash is not None:
        raise XRobustError(f"hub column {clash!r} would be overwritten by a renamed column", file=spec.source_file,
                           field="data.local.fields")
    return renames


def _label_names(feature: Any) -> list[str] | None:
    """The names of a ClassLabel feature, or of the ClassLabel inside a sequence/list feature."""
    names = getattr(feature, "names", None)
    if names:
        return list(names)
    inner = getattr(feature, "feature", None)
    return _label_names(inner) if inner is not None else None


def local_rows(dataset: Any, spec: TaskSpec, load: HubLoad) -> Iterator[dict]:
    """The hub rows in the local layout (see the module docstring), in order."""
    columns = list(dataset.column_names)
    renames = column_renames(spec, load, columns)
    features = dataset.features
    named = {c: _label_names(features[c]) for c in columns} if spec.labels else {}
    named = {c: n for c, n in named.items() if n}
    local = spec.fields_for("local")
    strip = set()
    for canonical in load.strip:
        target = local.get(canonical, canonical)
        strip.update([target] if isinstance(target, str) else target)
    for row in dataset:
        out = {}
        for column in columns:
            value = row[column]
            if column in named:
                value = _names(value, named[column])
            key = renames.get(column, column)
            out[key] = stripped(value) if key in strip else value
        yield out


def _names(value: Any, names: list[str]) -> Any:
    if isinstance(value, list):
        return [_names(v, names) for v in value]
    return names[value] if isinstance(value, int) and 0 <= value < len(names) else value

