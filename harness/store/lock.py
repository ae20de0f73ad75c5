"""One writer per run directory: an exclusive ``fcntl.flock`` on ``RUN_DIR/.lock``, which names its owner.

The lock file holds the owner's pid, host and start time (for the message another writer gets) and is emptied
when the lock is given back; the kernel lock itself is what excludes, so a lock left by a process that died
(``kill -9``, a crash) is stale by construction: the next writer takes it and logs whose it was. Within one process the lock is re-entrant (one
open file per directory, counted), so tests and library callers may open several stores on one directory.
:meth:`RunLock.check` tells a writer whether it still owns the directory (the lock file was not removed and
taken by someone else), which :class:`~harness.store.rundir.RunStore` asks before every unit it commits.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import logging
import os
import socket
from pathlib import Path

from harness.errors import XRobustError

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"


class _Held:
    """The open, locked file of one directory in this process, shared by every :class:`RunLock` on it."""

    def __init__(self, path: Path, fd: int, token: str) -> None:
        self.path, self.fd, self.token, self.count = path, fd, token, 0


_HELD: dict[str, _Held] = {}


def _owner_text(token: str) -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "token": token,
                       "since": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}) + "\n"


def _describe(text: str) -> str:
    try:
        owner = json.loads(text)
        return f"pid {owner['pid']} on {owner['host']} since {owner['since']}"
    except (ValueError, KeyError, TypeError):
        return "another process"


class RunLock:
    """The exclusive lock of one run directory, taken by :meth:`acquire` and given back by :meth:`release`
    (or when the process ends)."""

    def __init__(self, root: str | Path) -> None:
        self.path = Path(root) / LOCK_NAME
        self._held: _Held | None = None

    @property
    def held(self) -> bool:
        return self._held is not None

    def acquire(self) -> None:
        """Take the lock, or fail at once with a one-line error naming the process that holds it."""
        if self._held is not None:
            return
        key = str(self.path.resolve())
        held = _HELD.get(key)
        if held is None or not self._still_ours(held):
            held = _HELD[key] = self._lock_file()
        held.count += 1
        self._held = held

    def _lock_file(self) -> _Held:
        root = self.path.parent
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:  # --out is a file, under a file, unwritable, ...
            what = "is a file, not a folder" if root.exists() and not root.is_dir() else f"cannot be used ({err.strerror})"
            raise XRobustError(f"run directory {what}", file=root, field="--out") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            previous = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise XRobustError(f"run directory is being written by {_describe(previous)} (another xrobust run or "
                                   "import); wait for it to finish or use another --out", file=self.path.parent,
                                   field="lock") from None
            raise XRobustError(f"cannot lock the run directory ({err.strerror})", file=self.path,
                               field="lock") from None
        previous = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        if previous:
            log.info("stale lock of %s taken over (its process is gone)", _describe(previous))
        token = os.urandom(8).hex()
        os.ftruncate(fd, 0)
        os.pwrite(fd, _owner_text(token).encode(), 0)
        os.fsync(fd)
        return _Held(self.path, fd, token)

    def _still_ours(self, held: _Held) -> bool:
        """The lock file on disk is the one this process locked (not removed, not replaced)."""
        try:
            return os.fstat(held.fd).st_ino == os.stat(held.path).st_ino and \
                json.loads(held.path.read_text(encoding="utf-8")).get("token") == held.token
        except (OSError, ValueError, AttributeError):
            return False

    def check(self) -> None:
        """Raise unless this process still owns the directory (its lock file was not removed or taken over)."""
        if self._held is None or not self._still_ours(self._held):
            raise XRobustError("this process no longer holds the run directory's lock (the lock file was removed "
                               "or taken over by another writer); nothing more is written", file=self.path,
                               field="lock")

    def release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        held.count -= 1
        if held.count <= 0:
            key = next((k for k, v in _HELD.items() if v is held), None)
            if key is not None:
                del _HELD[key]
            try:
                if self._still_ours(held):
                    os.ftruncate(held.fd, 0)  # an empty lock file: given back, not left by a dead process
                os.close(held.fd)
            except OSError:
                pass

    def __del__(self) -> None:
        self.release()
