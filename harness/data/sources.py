"""Where one (task, language, split) comes from: the hub source after the language's override, with its
templates filled in, or the file under ``--data-dir``; and the refusal of languages marked unavailable.

``XROBUST_HUB_MIRROR=DIR`` reads a hub id ``owner/name`` from ``DIR/owner/name`` when that folder exists: a
dataset repository laid out as on the hub (README ``configs:``, parquet files), e.g. a git clone on a machine
without network. Loading goes through the same ``datasets.load_dataset(path, name, split=…, revision=…)`` call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.spec.taskspec import HubSource, TaskSpec

MIRROR_ENV = "XROBUST_HUB_MIRROR"


@dataclass(frozen=True)
class HubLoad:
    """One ``load_dataset`` call: the hub id (``path``), config, split, revision and the column mapping."""

    task: str
    lang: str
    split: str  # our split name
    path: str
    name: str | None
    hub_split: str
    revision: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    data_files: str | None = None
    filter: dict[str, str] = field(default_factory=dict)
    strip: tuple[str, ...] = ()
    override: str | None = None  # the key of data.hub.overrides that applies, if any

    @property
    def location(self) -> str:
        """What ``load_dataset`` is given: the mirror folder of ``path`` if there is one, else ``path``."""
        mirror = os.environ.get(MIRROR_ENV)
        if mirror and (Path(mirror) / self.path).is_dir():
            return str(Path(mirror) / self.path)
        return self.path

    @property
    def origin(self) -> str:
        """How errors name this source: ``path:config:split``."""
        return f"{self.path}:{self.name or 'default'}:{self.hub_split}"

    def describe(self) -> dict[str, Any]:
        """The source as stored in manifests and unit metadata (without the resolved revision)."""
        out = {"kind": "hub", "path": self.path, "name": self.name, "split": self.hub_split,
               "revision": self.revision}
        if self.data_files:
            out["data_files"] = self.data_files
        if self.filter:
            out["filter"] = dict(self.filter)
        return out


def _values(spec: TaskSpec, hub: HubSource, lang: str, split: str) -> dict[str, str]:
    return {"lang": lang, "lang3": spec.lang3(lang), "split": hub.split_map.get(split, split), "task": spec.name}


def unavailable(spec: TaskSpec, lang: str, split: str) -> XRobustError | None:
    """The refusal for a language (or split) the task file marks as having no public hub source."""
    if spec.hub is None:
        return None
    marked = spec.hub.unavailable_reason(lang, split)
    if marked is None:
        return None
    key, reason = marked
    what = f"{lang!r}" if key == lang else f"{lang!r} ({split})"
    rel = spec.local.pattern.format(task=spec.name, lang=lang, lang3=spec.lang3(lang), split=split)
    return XRobustError(f"task {spec.name}: no public hub source for {what}: {reason}; use --data-dir with "
                        f"{rel}, or leave the language out with --langs", file=spec.source_file,
                        field=f"data.hub.unavailable.{key}")


def hub_load(spec: TaskSpec, lang: str, split: str) -> HubLoad:
    """The hub call for (``lang``, ``split``); refuses tasks without a hub source and unavailable languages."""
    if spec.hub is None:
        raise XRobustError("no hub source declared; pass --data-dir", file=spec.source_file, field="data.hub")
    refused = unavailable(spec, lang, split)
    if refused is not None:
        raise refused
    hub = spec.hub.for_language(lang, split)
    values = _values(spec, hub, lang, split)
    try:
        return HubLoad(task=spec.name, lang=lang, split=split, path=hub.path.format(**values),
                       name=hub.name.format(**values) if hub.name else None, hub_split=hub.split.format(**values),
                       revision=hub.revision, fields={**spec.fields, **hub.fields},
                       data_files=hub.data_files.format(**values) if hub.data_files else None,
                       filter={col: prefix.format(**values) for col, prefix in hub.filter.items()},
                       strip=hub.strip, override=spec.hub.overridden(lang, split))
    except (KeyError, IndexError) as err:
        raise XRobustError(f"unknown template field {err} (known: lang, lang3, split, task)",
                           file=spec.source_file, field="data.hub") from None


def local_path(spec: TaskSpec, lang: str, split: str, data_dir: str | Path) -> Path:
    """``DATA_DIR/<local.pattern>`` for (``lang``, ``split``)."""
    rel = spec.local.pattern.format(task=spec.name, lang=lang, lang3=spec.lang3(lang), split=split)
    return Path(data_dir) / rel


def require_sources(spec: TaskSpec, langs: list[str], splits: list[str], data_dir: str | Path | None) -> None:
    """Refuse up front, before anything is computed, a hub run over a language marked unavailable."""
    if data_dir is not None:
        return
    for lang in langs:
        for split in splits:
            refused = unavailable(spec, lang, split)
            if refused is not None:
                raise refused
