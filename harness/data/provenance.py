"""What a load read: every hub call (with the commit it resolved to) and every local file (with its sha256),
collected while :func:`recording` is active, and a digest of loaded rows.

The unit fingerprint hashes both, so a stored unit is reused only for the same bytes: editing a data file or a
new hub commit makes the next run recompute the unit instead of keeping stale scores.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

_RECORDS: ContextVar[list[dict] | None] = ContextVar("xrobust_data_sources", default=None)
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


@contextlib.contextmanager
def recording() -> Iterator[list[dict]]:
    """Collect the sources of every load inside the block (nested blocks see their own loads only)."""
    records: list[dict] = []
    token = _RECORDS.set(records)
    try:
        yield records
    finally:
        _RECORDS.reset(token)
        outer = _RECORDS.get()
        if outer is not None:
            outer.extend(r for r in records if r not in outer)


def note(source: dict) -> None:
    """Record one source read (a no-op outside :func:`recording`); each distinct source is kept once."""
    records = _RECORDS.get()
    if records is not None and source not in records:
        records.append(source)


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (remembered per path, size and mtime within the process)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def rows_sha256(rows: list[dict]) -> str:
    """sha256 of rows as canonical JSON (sorted keys), one per line."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def local_file(path: str | Path) -> dict:
    """The record of a local data file that was read."""
    return {"kind": "local", "file": str(path), "sha256": file_sha256(path)}


_COMMITS: dict[tuple[str, str | None], str | None] = {}


def resolve_commit(path: str, revision: str | None) -> str | None:
    """The commit a hub dataset ``revision`` (None: the default branch) points to now: a commit hash as given,
    else asked of the hub, else (offline) the commit the local hub cache last saw for it; None when unknown.
    Remembered per process, so one run resolves each source once."""
    if revision and _COMMIT.match(revision):
        return revision
    key = (path, revision)
    if key not in _COMMITS:
        _COMMITS[key] = _ask_hub(path, revision) or _cached_ref(path, revision)
    return _COMMITS[key]


def _ask_hub(path: str, revision: str | None) -> str | None:
    from huggingface_hub import HfApi, constants

    if constants.HF_HUB_OFFLINE:
        return None
    try:
        return HfApi().dataset_info(path, revision=revision, timeout=20).sha
    except Exception:  # offline, unknown repository or revision: the load itself reports it
        return None


def _cached_ref(path: str, revision: str | None) -> str | None:
    from huggingface_hub import constants

    ref = Path(constants.HF_HUB_CACHE) / f"datasets--{path.replace('/', '--')}" / "refs" / (revision or "main")
    try:
        text = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text if _COMMIT.match(text) else None


def resolved_revision(dataset: Any, requested: str | None) -> str | None:
    """The hub commit a loaded dataset came from: the requested one when it is a commit hash, else the commit
    ``datasets`` stored it under (its cache folder ``…/<config>/<version>/<commit>/``); None when unknown."""
    if requested and _COMMIT.match(requested):
        return requested
    for info in getattr(dataset, "cache_files", None) or ():
        for part in reversed(Path(info.get("filename", "")).parts):
            if _COMMIT.match(part):
                return part
    return None


def repository_files(location: str, name: str | None, split: str, data_files: str | None) -> dict[str, str]:
    """sha256 of each data file a local dataset repository resolves (config, split) to, by relative path."""
    import datasets

    kwargs: dict[str, Any] = {"data_files": data_files} if data_files else {}
    builder = datasets.load_dataset_builder(location, name, **kwargs)
    files = (builder.config.data_files or {}).get(split, [])
    root = Path(location).resolve()
    out = {}
    for file in files:
        path = Path(str(file))
        rel = str(path.resolve().relative_to(root)) if path.resolve().is_relative_to(root) else str(path)
        out[rel] = file_sha256(path)
    return out
