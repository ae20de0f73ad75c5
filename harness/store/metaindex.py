"""Unit metas of run directories read before, kept under a report's cache and named by each meta file's stat.

Listing a run directory's complete units reads every unit's meta file and checks its checksum
(:meth:`harness.store.rundir.RunStore.complete_units`). At XTREME-R scale a report holds ~50,000 of them, and on a
cold page cache reading them one by one is minutes of disk latency. The index keeps each meta as it was read,
with its file's size, modification time in ns and inode (as the digest stamps do for predictions): a meta file
whose stat is unchanged is not read again; any other is read and checked as before.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson


class MetaIndex:
    """Metas of the run directories of ``root`` (one file per run directory, named by its absolute path)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, run_root: Path) -> Path:
        name = hashlib.sha256(os.path.abspath(run_root).encode()).hexdigest()[:32]
        return self.root / f"{name}.json"

    def read(self, run_root: Path) -> dict[str, list]:
        """``{meta file name relative to the run root: [[size, mtime_ns, inode], meta]}`` ({} when none)."""
        try:
            known = orjson.loads(self._path(run_root).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        ok = isinstance(known, dict) and all(isinstance(v, list) and len(v) == 2 and isinstance(v[1], dict)
                                             for v in known.values())
        return known if ok else {}

    def write(self, run_root: Path, entries: dict[str, list]) -> None:
        path = self._path(run_root)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps(entries))
            os.replace(tmp, path)
        except OSError:
            pass  # an index that cannot be written costs the next report time, never a result


def stat_key(path: Path) -> list[int]:
    """What says a file is the one read before: size, modification time in ns, inode."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]
