"""The run directory: submission metadata, cached per-example predictions per unit of work, results.json.

Layout::

    RUN_DIR/run.json                                   submission metadata and signature
    RUN_DIR/predictions/<task>/<lang>.<split>.<condition>.jsonl       one record per example
    RUN_DIR/predictions/<task>/<lang>.<split>.<condition>.meta.json   written last: marks the unit complete
    RUN_DIR/results.json                               flat score records, rebuilt after every unit

A unit counts as complete only when its meta file exists and the predictions file's sha256 matches it,
so a file cut short by a crash is recomputed, and a file damaged later is reported, never silently reused.
Every reader of stored predictions (run, report, compare, import, attack transfer) goes through
:meth:`RunStore.read_verified`: the meta's own checksum, its place in the tree, the predictions' sha256 and
their count ``n``. Writers hold the directory's lock (:mod:`harness.store.lock`) and check before every unit
they commit that they still own it; leftover ``.tmp`` files of a killed writer are removed when the lock is
taken. Every name in a unit becomes a path component and is checked as one (:mod:`harness.spec.paths`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from harness.errors import XRobustError, line_of
from harness.spec.paths import safe_name
from harness.store import columns
from harness.store.conditions import ConditionId
from harness.store.lock import RunLock

log = logging.getLogger(__name__)

META_CHECKSUM = "meta_sha256"
#: submission keys a writer re-checks in run.json before each unit it commits (another writer changed them)
OWNER_KEYS = ("name", "model", "model_path", "revision", "weights_sha256", "dtype", "seed", "imported_from")


@dataclass(frozen=True)
class Unit:
    """(task, language, split, condition): what is cached, resumed and scheduled."""

    task: str
    lang: str
    split: str
    condition: str = "clean"

    def __post_init__(self) -> None:
        for name in ("task", "lang", "split", "condition"):
            safe_name(getattr(self, name), field=name, what=f"unit {name}")

    @property
    def condition_id(self) -> ConditionId:
        return ConditionId.parse(self.condition)

    @property
    def stem(self) -> str:
        return f"{self.lang}.{self.split}.{self.condition}"

    def __str__(self) -> str:
        return f"{self.task}/{self.lang}/{self.split}/{self.condition}"


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``; ``durable``: fsync
    first (a crash then leaves the old or the new file, never a torn one)."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """:func:`atomic_write_text` for bytes."""
    try:  # the folder is there but for the first file written into it: no mkdir call for every file
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_ahead(paths: Iterable[Path]) -> None:
    """Ask the kernel to start reading ``paths`` now, all at once (``posix_fadvise(WILLNEED)``): on a cold page
    cache the files then arrive in parallel instead of one disk round trip after another. A hint only: a file
    that cannot be opened is skipped (reading it later says what is wrong)."""
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except (OSError, AttributeError):
            pass
        finally:
            os.close(fd)


def stat_key(path: str | Path) -> list[int]:
    """What says a file is the one read before: size, modification time in ns, inode."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class MetaIndex:
    """Unit metas of run directories read before, kept under a report's cache (one file per run directory,
    named by its absolute path) with each meta file's size, modification time in ns and inode, as the digest
    stamps do for predictions. Listing a run directory reads every unit's meta and checks its checksum; at
    XTREME-R scale that is ~50,000 files, minutes of disk latency on a cold page cache. A meta file whose stat is
    unchanged is not read again (:meth:`RunStore.complete_units`); any other is read and checked as before."""

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
        try:
            atomic_write_bytes(self._path(run_root), orjson.dumps(entries), durable=False)
        except OSError:
            pass  # an index that cannot be written costs the next report time, never a result


def write_json(path: Path, data: Any, *, durable: bool = True) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n", durable=durable)


def read_json(path: Path, *, what: str = "file") -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise XRobustError(f"cannot read {what} ({err.strerror})", file=path) from None
    except json.JSONDecodeError as err:
        raise XRobustError(f"corrupt {what}: not valid JSON ({err.msg}, column {err.colno})", file=path,
                           line=err.lineno) from None
    except UnicodeDecodeError as err:
        raise XRobustError(f"corrupt {what}: not UTF-8 text (byte 0x{err.object[err.start]:02x})", file=path,
                           line=line_of(err.object, err.start)) from None


class RunStore:
    """Reads and writes one submission's run directory."""

    def __init__(self, root: str | Path, *, durable: bool = True) -> None:
        """``durable=False`` skips the fsync of unit files (fabricated run dirs only: a crash may tear them)."""
        self.root = Path(root)
        self.durable = durable
        self.lock = RunLock(self.root)
        self._owner: dict | None = None  # the submission claimed by this writer (re-checked in run.json)
        self._folders: dict[str, Path] = {}  # task → predictions/<task> (a report builds ~10⁵ unit paths)

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def results_file(self) -> Path:
        return self.root / "results.json"

    def _folder(self, task: str) -> Path:
        folder = self._folders.get(task)
        if folder is None:
            folder = self._folders[task] = self.root / "predictions" / task
        return folder

    def predictions_path(self, unit: Unit) -> Path:
        return self._folder(unit.task) / f"{unit.stem}.jsonl"

    def meta_path(self, unit: Unit) -> Path:
        return self._folder(unit.task) / f"{unit.stem}.meta.json"

    def columns_path(self, unit: Unit) -> Path:
        return self._folder(unit.task) / f"{unit.stem}{columns.SUFFIX}"

    # -- writing (under the directory's lock) ---------------------------------------------------------------

    def acquire(self) -> None:
        """Take the directory's lock (once; re-entrant) and remove what killed writers left: ``.*.tmp`` files."""
        if self.lock.held:
            return
        self.lock.acquire()
        leftovers = [*self.root.glob(".*.tmp"), *self.root.glob("predictions/*/.*.tmp")]
        for path in leftovers:
            path.unlink(missing_ok=True)
        if leftovers:
            log.info("removed %d unfinished temporary file(s) of an interrupted writer in %s", len(leftovers),
                     self.root)

    def release(self) -> None:
        self.lock.release()

    def claim(self, submission: dict) -> None:
        """Remember the submission this writer owns the directory for; every unit commit re-checks run.json."""
        self.acquire()
        self._owner = {k: submission.get(k) for k in OWNER_KEYS}

    def _check_owner(self) -> None:
        """Before a commit: the lock is still ours and run.json still names the claimed submission."""
        self.acquire()
        self.lock.check()
        if self._owner is None:
            return
        run = self.read_run() or {}
        now = {k: (run.get("submission") or {}).get(k) for k in OWNER_KEYS}
        if now != self._owner:
            changed = next(k for k in OWNER_KEYS if now[k] != self._owner[k])
            raise XRobustError(f"run.json was changed by another writer ({changed}: {self._owner[changed]!r} -> "
                               f"{now[changed]!r}); nothing more is written", file=self.run_file,
                               field=f"submission.{changed}")

    def write_run(self, data: dict) -> None:
        self.acquire()
        write_json(self.run_file, data)

    def write_unit(self, unit: Unit, records: list[dict], fingerprint: str, extra: dict | None = None) -> None:
        self._check_owner()
        path = self.predictions_path(unit)
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        atomic_write_bytes(path, data, durable=self.durable)
        meta = {**asdict(unit), "fingerprint": fingerprint, "n": len(records),
                "sha256": hashlib.sha256(data).hexdigest(), **(extra or {})}
        meta.pop(META_CHECKSUM, None)
        meta.pop("columns", None)
        metrics, table = meta.get("metrics"), None
        if isinstance(metrics, list) and all(isinstance(m, str) for m in metrics):
            # the report's columns, from the bytes just written (as a reader parses them)
            parsed, offsets = parse_records(data, path, {"n": len(records)})
            try:
                table = columns.columns_bytes(parsed, offsets, metrics)
            except Exception as err:  # records a metric cannot score: readers parse them and say why
                log.debug("no columns for %s: %s", unit, err)
                table = None
        if table is not None:
            atomic_write_bytes(self.columns_path(unit), table, durable=self.durable)
            meta["columns"] = {"version": columns.VERSION, "sha256": hashlib.sha256(table).hexdigest(),
                               "predictions": meta["sha256"]}  # the predictions they were computed from
        else:
            self.columns_path(unit).unlink(missing_ok=True)
        write_json(self.meta_path(unit), {**meta, META_CHECKSUM: meta_checksum(meta)}, durable=self.durable)

    def remove_unit(self, unit: Unit) -> None:
        self._check_owner()
        self.meta_path(unit).unlink(missing_ok=True)

    # -- reading ----------------------------------------------------------------------------------------------

    def read_run(self) -> dict | None:
        if not self.run_file.exists():
            return None
        run = read_json(self.run_file, what="run metadata")
        if not isinstance(run, dict) or not isinstance(run.get("submission", {}), dict):
            raise XRobustError("run metadata must be a JSON object with a 'submission' object", file=self.run_file)
        return run

    def unit_meta(self, unit: Unit) -> dict | None:
        """The unit's meta, its checksum and place verified; None if the unit has none (not complete)."""
        path = self.meta_path(unit)
        if not path.exists():
            return None
        meta = read_meta(path)
        _check_place(meta, unit, path)
        return meta

    def is_complete(self, unit: Unit, fingerprint: str) -> bool:
        """True if the unit is stored for this fingerprint; raises if stored for another or damaged."""
        meta = self.unit_meta(unit)
        if meta is None:
            return False
        self.read_verified(unit, meta)
        if meta.get("fingerprint") != fingerprint:
            raise XRobustError(
                "stored predictions were made with a different model, inference settings, task config, data, condition or limit "
                f"(fingerprint {meta.get('fingerprint')} != {fingerprint}); use another --out or --overwrite",
                file=self.meta_path(unit), field="fingerprint")
        return True

    def read_predictions(self, unit: Unit) -> list[dict]:
        """The unit's records, verified against its meta (a unit without meta is not complete: an error)."""
        meta = self.unit_meta(unit)
        if meta is None:
            raise XRobustError("unit has no metadata (not complete)", file=self.meta_path(unit))
        return self.read_verified(unit, meta)

    def read_verified(self, unit: Unit, meta: dict) -> list[dict]:
        """The unit's records, the file read once and checked against its ``meta`` (read by :meth:`unit_meta` or
        :meth:`complete_units`): the sha256 of its bytes and the number of records ``n``. The one reader of
        stored predictions: run (resuming), report, compare, import and attack transfer all use it (the report's
        digests through :meth:`verified_bytes` and :func:`parse_records`)."""
        path = self.predictions_path(unit)
        records, _ = parse_records(self.verified_bytes(unit, meta), path, meta)
        return records

    def verified_bytes(self, unit: Unit, meta: dict) -> bytes:
        """The bytes of the unit's predictions file, checked against the sha256 and record count ``n`` in its
        ``meta``."""
        path = self.predictions_path(unit)
        _check_place(meta, unit, self.meta_path(unit))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise _damaged(path) from None
        except OSError as err:
            raise XRobustError(f"cannot read predictions ({err.strerror})", file=path) from None
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            raise _damaged(path)
        lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)  # as parse_records counts
        if meta.get("n") != lines or isinstance(meta.get("n"), bool):
            raise XRobustError(f"{lines} records but the unit metadata says n={meta.get('n')!r} (corrupt "
                               "cache); move it away to recompute", file=path, field="n")
        return data

    def verified_columns(self, unit: Unit, meta: dict) -> bytes | None:
        """The unit's columns file (:mod:`harness.store.columns`) checked against the sha256 in its ``meta``;
        None when the unit has none of this version (it is then parsed). A damaged file is an error."""
        info = meta.get("columns")
        if not isinstance(info, dict) or info.get("version") != columns.VERSION or \
                info.get("predictions") != meta.get("sha256"):
            return None  # none, another version's, or of other predictions than the meta's: parse them
        path = self.columns_path(unit)
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() != info.get("sha256"):
            raise XRobustError("columns file is missing or does not match its checksum (corrupt cache); move "
                               "the unit away to recompute", file=path, field="columns.sha256")
        return data

    def _meta_names(self) -> list[tuple[str, str]]:
        """``(task folder, file name)`` of every ``predictions/*/*.meta.json``, in the order sorted paths
        have (by folder, then name)."""
        found = []
        try:
            folders = [e.name for e in os.scandir(self.root / "predictions") if e.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        for folder in folders:
            with os.scandir(self._folder(folder)) as entries:
                found += [(folder, e.name) for e in entries if e.name.endswith(".meta.json")]
        return sorted(found)

    def complete_units(self, index: MetaIndex | None = None) -> list[tuple[Unit, dict]]:
        """Every unit with a meta file, sorted, with its meta (checksum and place verified); ``index``: metas
        read before, reused while their file's stat is unchanged (:class:`MetaIndex`)."""
        out = []
        known = index.read(self.root) if index is not None else {}
        seen: dict[str, list] = {}
        for task, file_name in self._meta_names():
            # the meta file's path as a string (a Path per unit is what listing 50,000 units cost)
            where = os.path.join(self._folder(task), file_name)
            name = f"{task}/{file_name}"
            entry = known.get(name)
            stat = stat_key(where) if index is not None else []
            meta = entry[1] if entry is not None and entry[0] == stat else read_meta(Path(where))
            seen[name] = [stat, meta]
            try:
                unit = Unit(meta["task"], meta["lang"], meta["split"], meta["condition"])
            except KeyError as err:
                raise XRobustError("unit metadata lacks a key", file=where, field=str(err)) from None
            except XRobustError as err:
                raise XRobustError(err.message, file=where, field=err.field) from None
            if name != f"{unit.task}/{unit.stem}.meta.json":  # the unit is the meta's own: is it in its place?
                _check_place(meta, unit, Path(where), self.meta_path(unit))  # raises, saying where it belongs
            out.append((unit, meta))
        if index is not None and seen != known:
            index.write(self.root, seen)
        return out


def meta_checksum(meta: dict) -> str:
    """sha256 of a unit meta's canonical JSON (sorted keys), its own checksum left out."""
    body = {k: v for k, v in meta.items() if k != META_CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def read_meta(path: Path) -> dict:
    """A unit meta file, refused unless it is a JSON object whose checksum matches its content."""
    meta = read_json(path, what="unit metadata")
    if not isinstance(meta, dict):
        raise XRobustError("unit metadata must be a JSON object", file=path)
    if meta.get(META_CHECKSUM) != meta_checksum(meta):
        raise XRobustError("unit metadata does not match its checksum (damaged, edited, or written by an older "
                           "xrobust); move the unit away or rerun with --overwrite", file=path, field=META_CHECKSUM)
    return meta


def _check_place(meta: dict, unit: Unit, meta_file: Path, expected: Path | None = None) -> None:
    """A meta describes the unit it is stored for, at the path of that unit (no copied or renamed meta)."""
    names = {k: meta.get(k) for k in ("task", "lang", "split", "condition")}
    if names != asdict(unit) or (expected is not None and Path(meta_file) != expected):
        raise XRobustError(f"unit metadata describes {names} but is stored as {Path(meta_file).name} (copied or "
                           "renamed); move it away", file=meta_file, field="task")


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _damaged(path: Path) -> XRobustError:
    return XRobustError("predictions file is missing or does not match its checksum (corrupt cache); "
                        "move it away to recompute", file=path, field="sha256")


def loads(data: bytes | str) -> Any:
    """JSON ``data`` parsed by orjson, or by the json module where orjson refuses it and json reads it (NaN,
    integers beyond 64 bits); json's error otherwise."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


def _record(line: bytes, path: Path, lineno: int) -> object:
    try:
        return loads(line)
    except json.JSONDecodeError as err:
        raise XRobustError(f"corrupt predictions: not valid JSON ({err.msg})", file=path, line=lineno,
                           field="record") from None


def parse_records(data: bytes, path: Path, meta: dict) -> tuple[list[dict], list[int]]:
    """The records of a verified predictions file, one JSON object per line (lines end at newline characters
    only), and the byte offset where each starts; their number must be the ``n`` of ``meta``."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise _damaged(path) from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    offsets = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0)) if lines else []
    try:
        records = [orjson.loads(line) for line in lines]
    except orjson.JSONDecodeError:
        records = [_record(line, path, lineno) for lineno, line in enumerate(lines, 1)]
    for lineno, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise XRobustError("corrupt predictions: not a JSON object", file=path, line=lineno, field="record")
    if meta.get("n") != len(records) or isinstance(meta.get("n"), bool):
        raise XRobustError(f"{len(records)} records but the unit metadata says n={meta.get('n')!r} (corrupt "
                           "cache); move it away to recompute", file=path, field="n")
    return records, offsets
