"""The data sources table (``xrobust data sources``): per task, language and split, where examples come from
— hub id, config, split, revision, column mapping — or why there is no hub source, and the local file name
``--data-dir`` reads instead. Built from the task files alone; nothing is loaded."""

from __future__ import annotations

import re
from typing import Any

from harness import tasktypes
from harness.data.sources import hub_load, unavailable
from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def splits_of(spec: TaskSpec, lang: str) -> list[str]:
    """The eval split of every evaluation language; the training split of the source language of a trainable
    task."""
    out = [spec.eval_split] if lang in spec.all_languages else []
    train = spec.splits["train"] if _trainable(spec) else None
    if lang == spec.source_language and train and train not in out:
        out.append(train)
    return out


def _trainable(spec: TaskSpec) -> bool:
    return bool(spec.splits.get("train")) and tasktypes.get(spec.type).training is not None


def languages_of(spec: TaskSpec) -> list[str]:
    """Evaluation languages, extra languages, then the source language of a trainable task if it is none of
    them (XCOPA's English training data)."""
    langs = list(spec.all_languages)
    return langs if spec.source_language in langs or not _trainable(spec) else [*langs, spec.source_language]


def describe(spec: TaskSpec, lang: str, split: str) -> dict[str, Any]:
    """One row of the table."""
    rel = spec.local.pattern.format(task=spec.name, lang=lang, lang3=spec.lang3(lang), split=split)
    row: dict[str, Any] = {"task": spec.name, "lang": lang, "split": split, "local": rel,
                           "extra": lang not in spec.languages and split == spec.eval_split}
    if spec.hub is None:
        return {**row, "source": "files", "detail": tasktypes.get(spec.type).data_source(spec)}
    refused = unavailable(spec, lang, split)
    if refused is not None:
        _, reason = spec.hub.unavailable_reason(lang, split)
        return {**row, "source": "unavailable", "detail": reason}
    try:
        load = hub_load(spec, lang, split)
    except XRobustError as err:
        return {**row, "source": "error", "detail": str(err)}
    return {**row, "source": "hub", "path": load.path, "name": load.name, "hub_split": load.hub_split,
            "revision": load.revision, "pinned": bool(load.revision and _COMMIT.match(load.revision)),
            "fields": dict(load.fields), "filter": dict(load.filter), "strip": list(load.strip),
            "override": load.override, "name_template": spec.hub.for_language(lang, split).name}


def table(specs: list[TaskSpec]) -> list[dict[str, Any]]:
    """Every row for ``specs``: each language's eval split (and the source language's training split)."""
    return [describe(spec, lang, split) for spec in specs for lang in languages_of(spec)
            for split in splits_of(spec, lang)]


def _fields(fields: dict[str, Any]) -> str:
    return ",".join(f"{k}={'+'.join(v) if isinstance(v, list) else v}" for k, v in fields.items() if k != v)


def _where(row: dict[str, Any]) -> tuple[str, str, str, str]:
    """(source, config, split, revision) as printed; for a row without a hub source, (kind, "", "", "")."""
    if row["source"] != "hub":
        return row["source"], "", "", ""
    revision = row["revision"] if row["pinned"] else (f"{row['revision']} (branch)" if row["revision"] else
                                                      "unpinned")
    return row["path"], row["name"] or "", row["hub_split"], revision


def text(rows: list[dict[str, Any]]) -> str:
    """Fixed-width lines, one per row; the last column has the fields mapped to other column names, or why
    there is no hub source."""
    head = ("task", "lang", "split", "source", "config", "hub split", "revision", "fields / note")
    lines = [head]
    for row in rows:
        source, config, split, revision = _where(row)
        if row["source"] == "hub":
            note = _fields(row["fields"])
            if row["strip"]:
                note += f"{'; ' if note else ''}strip {','.join(row['strip'])}"
        else:
            note = row["detail"]
        lines.append((row["task"], row["lang"] + ("*" if row["extra"] else ""), row["split"], source, config,
                      split, revision, note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
           for line in lines]
    return "\n".join(x.rstrip() for x in out) + "\n"


def markdown(rows: list[dict[str, Any]]) -> str:
    """A Markdown table with the languages that share a source (config written per language) in one row."""
    groups: dict[tuple, list[str]] = {}
    for row in rows:
        source, config, split, revision = _where(row)
        if row["source"] == "hub":
            config = row["name_template"] or ""
        key = (row["task"], row["split"], source, config, split, revision, row["source"])
        groups.setdefault(key, []).append(row["lang"] + ("*" if row["extra"] else ""))
    lines = ["| task | split | languages | source | config | hub split | revision / note |",
             "|---|---|---|---|---|---|---|"]
    notes: dict[tuple, str] = {}
    for row in rows:
        if row["source"] != "hub":
            notes[(row["task"], row["split"], row["lang"])] = row["detail"]
    for (task, split, source, config, hub_split, revision, kind), langs in groups.items():
        shown = f"`{source}`" if kind == "hub" else f"**{source}**"
        if kind != "hub":
            revision = "; ".join(sorted({notes[(task, split, lang.rstrip('*'))] for lang in langs}))
        lines.append(f"| {task} | {split} | {', '.join(langs)} | {shown} | {config and f'`{config}`'} | "
                     f"{hub_split} | {revision} |")
    return "\n".join(lines) + "\n"
