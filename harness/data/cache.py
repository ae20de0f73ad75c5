"""A run's examples, loaded once per (task, language, split) and kept with what they were read from.

The runner asks :meth:`RunData.fingerprint` for the data part of a unit's fingerprint before deciding whether a
stored unit can be reused, and :meth:`RunData.load` for the examples when it predicts one; the sources of every
load a unit made go to the unit's metadata (:meth:`RunData.sources`).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.data import provenance
from harness.data.examples import hub_identity, load_examples
from harness.data.sources import require_sources
from harness.spec.taskspec import TaskSpec

_KEEP = 4  # (task, language, split) entries held at once; a task's units come language by language


class RunData:
    """Examples of one run (``data_dir`` or the hub, first ``limit`` rows), with sources and row digests."""

    def __init__(self, data_dir: str | Path | None = None, limit: int | None = None,
                 langs: list[str] | None = None, *, tasks: Sequence[TaskSpec] = (), split: str | None = None) -> None:
        self.data_dir, self.limit, self.langs = data_dir, limit, langs
        self._entries: OrderedDict[tuple[str, str, str, str], tuple[list[dict], list[dict], str]] = OrderedDict()
        self._checked: set[tuple[str, str]] = set()
        self._hub: dict[tuple[str, str, str, str], dict] = {}
        self._pending = [(spec, split or spec.eval_split) for spec in tasks]  # checked on first use

    def _entry(self, spec: TaskSpec, lang: str, split: str) -> tuple[list[dict], list[dict], str]:
        self._check(spec, split)
        key = (spec.source_file, spec.config_hash(), lang, split)
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        with provenance.recording() as sources:
            examples = load_examples(spec, lang, split, data_dir=self.data_dir, limit=self.limit)
        entry = (examples, sources, provenance.rows_sha256(examples))
        self._entries[key] = entry
        while len(self._entries) > _KEEP:
            self._entries.popitem(last=False)
        return entry

    def _check(self, spec: TaskSpec, split: str) -> None:
        """Once per task and split: every language this run asks of the task has a source (the run's own tasks
        all at the first call, so a refusal comes before any unit is computed)."""
        pending, self._pending = self._pending, []
        for other, other_split in pending:
            self._check(other, other_split)
        if (spec.source_file, split) in self._checked:
            return
        langs = [x for x in self.langs if x in spec.all_languages] if self.langs else list(spec.languages)
        require_sources(spec, langs, [split], self.data_dir)
        self._checked.add((spec.source_file, split))

    def load(self, spec: TaskSpec, lang: str, split: str) -> list[dict]:
        """A fresh copy of the examples (conditions may edit them)."""
        return copy.deepcopy(self._entry(spec, lang, split)[0])

    def sources(self, spec: TaskSpec, langs: list[str], split: str) -> list[dict]:
        """What the examples of ``langs`` were read from (hub calls with resolved commits, files with sha256)."""
        out: list[dict] = []
        for lang in langs:
            out += [s for s in self._entry(spec, lang, split)[1] if s not in out]
        return out

    def fingerprint(self, spec: TaskSpec, langs: list[str], split: str) -> dict[str, Any]:
        """The data part of a unit's fingerprint, per language. Local files: the sha256 of the examples and of
        every file read (loaded once and kept for the unit). Hub: the source and the commit its revision
        resolves to (a commit's bytes never change), or a local repository's files' sha256; nothing is loaded.
        No local paths: moving a data folder keeps the cache, editing its content does not."""
        self._check(spec, split)
        parts: dict[str, Any] = {}
        for lang in dict.fromkeys(langs):
            if self.data_dir is None:
                key = (spec.source_file, spec.config_hash(), lang, split)
                if key not in self._hub:
                    self._hub[key] = _stable(hub_identity(spec, lang, split)[1])
                parts[lang] = self._hub[key]
            else:
                _, sources, digest = self._entry(spec, lang, split)
                parts[lang] = {"rows": digest, "sources": [_stable(s) for s in sources]}
        return parts


def _stable(source: dict) -> dict:
    """A source record without the paths it was read from on this machine."""
    return {k: v for k, v in source.items() if k not in ("file", "local_repository")}
