"""The run directory: submission metadata, cached per-example predictions per unit of work, results.json.

Layout::

    RUN_DIR/run.json                                   submission metadata and signature
    RUN_DIR/predictions/<task>/<lang>.<split>.<condition>.jsonl       one record per example
    RUN_DIR/predictions/<task>/<lang>.<split>.<condition>.meta.json   written last: marks the unit complete
    RUN_DIR/results.json                               flat score records, rebuilt after every unit

A unit counts as complete only when its meta file exists and the predictions file's sha256 matches it,
so a file cut short by a crash is recomputed, and a file damaged later is reported, never silently reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.store.conditions import ConditionId


@dataclass(frozen=True)
class Unit:
    """(task, language, split, condition): what is cached, resumed and scheduled."""

    task: str
    lang: str
    split: str
    condition: str = "clean"

    @property
    def condition_id(self) -> ConditionId:
        return ConditionId.parse(self.condition)

    @property
    def stem(self) -> str:
        return f"{self.lang}.{self.split}.{self.condition}"

    def __str__(self) -> str:
        return f"{self.task}/{self.lang}/{self.split}/{self.condition}"


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def read_json(path: Path, *, what: str = "file") -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise XRobustError(f"cannot read {what} ({err.strerror})", file=path) from None
    except json.JSONDecodeError as err:
        raise XRobustError(f"corrupt {what}: {err.msg} at line {err.lineno}", file=path) from None


class RunStore:
    """Reads and writes one submission's run directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def results_file(self) -> Path:
        return self.root / "results.json"

    def predictions_path(self, unit: Unit) -> Path:
        return self.root / "predictions" / unit.task / f"{unit.stem}.jsonl"

    def meta_path(self, unit: Unit) -> Path:
        return self.root / "predictions" / unit.task / f"{unit.stem}.meta.json"

    def read_run(self) -> dict | None:
        return read_json(self.run_file, what="run metadata") if self.run_file.exists() else None

    def write_run(self, data: dict) -> None:
        write_json(self.run_file, data)

    def unit_meta(self, unit: Unit) -> dict | None:
        path = self.meta_path(unit)
        return read_json(path, what="unit metadata") if path.exists() else None

    def is_complete(self, unit: Unit, fingerprint: str) -> bool:
        """True if the unit is stored for this fingerprint; raises if stored for another or damaged."""
        meta = self.unit_meta(unit)
        if meta is None:
            return False
        path = self.predictions_path(unit)
        if not path.exists() or file_sha256(path) != meta.get("sha256"):
            raise _damaged(path)
        if meta.get("fingerprint") != fingerprint:
            raise XRobustError(
                "stored predictions were made with a different model, inference settings, task config, data, condition or limit "
                f"(fingerprint {meta.get('fingerprint')} != {fingerprint}); use another --out or --overwrite",
                file=self.meta_path(unit), field="fingerprint")
        return True

    def write_unit(self, unit: Unit, records: list[dict], fingerprint: str, extra: dict | None = None) -> None:
        path = self.predictions_path(unit)
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        atomic_write_text(path, text)
        meta = {**asdict(unit), "fingerprint": fingerprint, "n": len(records),
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), **(extra or {})}
        write_json(self.meta_path(unit), meta)

    def remove_unit(self, unit: Unit) -> None:
        self.meta_path(unit).unlink(missing_ok=True)

    def read_predictions(self, unit: Unit) -> list[dict]:
        path = self.predictions_path(unit)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise XRobustError(f"cannot read predictions ({err.strerror})", file=path) from None
        return _parse_records(text, path)

    def read_verified(self, unit: Unit, meta: dict) -> list[dict]:
        """The unit's records, the file read once and checked against the sha256 in its ``meta``."""
        path = self.predictions_path(unit)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise _damaged(path) from None
        except OSError as err:
            raise XRobustError(f"cannot read predictions ({err.strerror})", file=path) from None
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            raise _damaged(path)
        return _parse_records(data.decode("utf-8"), path)

    def complete_units(self) -> list[tuple[Unit, dict]]:
        """Every unit with a meta file, sorted, with its meta."""
        out = []
        for meta_file in sorted((self.root / "predictions").glob("*/*.meta.json")):
            meta = read_json(meta_file, what="unit metadata")
            try:
                unit = Unit(meta["task"], meta["lang"], meta["split"], meta["condition"])
            except KeyError as err:
                raise XRobustError("unit metadata lacks a key", file=meta_file, field=str(err)) from None
            out.append((unit, meta))
        return out


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


def _parse_records(text: str, path: Path) -> list[dict]:
    """One JSON record per line (lines end at newline characters only)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records = []
    for lineno, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise XRobustError(f"corrupt predictions at line {lineno}: {err.msg}", file=path) from None
    return records
