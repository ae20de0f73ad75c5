"""Load a task's examples (hub or ``--data-dir``) as canonical dicts with stable string ids."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness import tasktypes
from harness.data import provenance
from harness.data.sources import HubLoad, hub_load, local_path
from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec

log = logging.getLogger(__name__)

ID_COLUMNS = ("id", "idx", "guid")

__all__ = ["ID_COLUMNS", "canonicalize", "filter_rows", "hub_identity", "load_examples", "load_hub_rows",
           "local_path", "stripped"]


def _load_local(path: Path) -> Any:
    import datasets

    if not path.is_file():
        raise XRobustError("data file not found", file=path, field="--data-dir")
    datasets.disable_progress_bars()
    try:
        dataset = datasets.load_dataset("json", data_files=str(path), split="train")
    except Exception as err:  # datasets wraps JSON errors in several types
        cause = err.__cause__ or err
        raise XRobustError(f"cannot parse as JSON lines: {type(cause).__name__}: {cause}", file=path) from None
    provenance.note(provenance.local_file(path))
    return dataset


def hub_identity(spec: TaskSpec, lang: str, split: str) -> tuple[HubLoad, dict]:
    """The hub call for (``lang``, ``split``) and what pins its bytes, without loading it: the commit the
    revision resolves to now (see :func:`~harness.data.provenance.resolve_commit`), or for a local repository
    (a mirror) the sha256 of the data files the config and split resolve to."""
    load = hub_load(spec, lang, split)
    record = load.describe()
    location = load.location
    if location != load.path:
        split_name = "train" if load.data_files else load.hub_split
        record["local_repository"] = location
        try:
            record["files"] = provenance.repository_files(location, load.name, split_name, load.data_files)
        except Exception as err:
            raise _load_error(spec, load, err) from None
    else:
        record["resolved_revision"] = provenance.resolve_commit(load.path, load.revision)
    return load, record


def _load_error(spec: TaskSpec, load: HubLoad, err: Exception) -> XRobustError:
    return XRobustError(
        f"cannot load hub dataset {load.path} ({load.name}, split {load.hub_split}): {type(err).__name__}: "
        f"{str(err).splitlines()[0] if str(err) else ''}; offline? use --data-dir",
        file=spec.source_file, field=f"data.hub.overrides.{load.override}" if load.override else "data.hub")


def load_hub_rows(spec: TaskSpec, lang: str, split: str) -> tuple[Any, HubLoad, dict]:
    """The raw rows of (``lang``, ``split``) from the hub (or its mirror), row filters applied, with the call
    made and its record: the source, the commit it was loaded at (the revision resolved first, so that the
    load and its record agree), or for a local repository its files' sha256."""
    import datasets

    load, record = hub_identity(spec, lang, split)
    revision = record.get("resolved_revision") or load.revision
    kwargs: dict[str, Any] = {"split": load.hub_split, "revision": revision}
    if load.data_files:
        kwargs["data_files"] = load.data_files
    try:
        dataset = datasets.load_dataset(load.location, load.name, **kwargs)
    except Exception as err:
        raise _load_error(spec, load, err) from None
    if "files" not in record:
        record["resolved_revision"] = provenance.resolved_revision(dataset, revision)
    provenance.note(record)
    return filter_rows(dataset, load.filter), load, record


def filter_rows(dataset: Any, prefixes: dict[str, str]) -> Any:
    """Rows whose ``column`` value starts with the given prefix, for every (column, prefix) pair; e.g. one
    language out of a multilingual config (TyDiQA ids start with the language name)."""
    if not prefixes:
        return dataset
    columns = {col: dataset[col] for col in prefixes}
    keep = [i for i in range(len(dataset))
            if all(str(columns[col][i]).startswith(prefix) for col, prefix in prefixes.items())]
    return dataset.select(keep)


def _pick_ids(dataset: Any, mapping: dict[str, str]) -> list[str]:
    columns = dataset.column_names
    column = mapping.get("id") or next((c for c in ID_COLUMNS if c in columns), None)
    n = len(dataset)
    if column and column in columns:
        ids = [str(v) for v in dataset[column]]
        if len(set(ids)) == n:
            return ids
        log.warning("column %r has duplicate values; using row numbers as example ids", column)
    return [str(i) for i in range(n)]


def canonicalize(dataset: Any, spec: TaskSpec, source: str, origin: str, *,
                 mapping: dict[str, str | list[str]] | None = None, strip: tuple[str, ...] = ()) -> list[dict]:
    """Map source columns onto the task type's canonical fields, then let the task type finish them (label
    names, tag names, one answer layout). A field mapped to a list of columns collects them (XCOPA choices).
    ``mapping`` defaults to the task's own for ``source``; ``strip`` names text fields to strip."""
    mapping = spec.fields_for(source) if mapping is None else mapping
    task_type = tasktypes.get(spec.type)
    optional = task_type.optional
    columns = dataset.column_names
    wanted: dict[str, list[str]] = {}
    for canonical in task_type.fields:
        if canonical == "id":
            continue
        target = mapping.get(canonical, canonical)
        names = [target] if isinstance(target, str) else list(target)
        missing = [c for c in names if c not in columns]
        if missing:
            if canonical in optional:
                continue
            raise XRobustError(f"column '{missing[0]}' missing (columns: {', '.join(columns)})", file=origin,
                               field=f"fields.{canonical}")
        wanted[canonical] = names
    ids = _pick_ids(dataset, mapping)
    data = {canonical: [dataset[c] for c in names] for canonical, names in wanted.items()}
    listed = {canonical for canonical in wanted if not isinstance(mapping.get(canonical, canonical), str)}
    examples = []
    for row in range(len(ids)):
        example = {"id": ids[row]}
        for canonical, values in data.items():
            example[canonical] = [v[row] for v in values] if canonical in listed else values[0][row]
        examples.append(example)
    for canonical in strip:
        if canonical in wanted:
            for example in examples:
                example[canonical] = stripped(example[canonical])
    task_type.canonicalize(examples, spec, dataset=dataset, columns=wanted, origin=origin)
    return examples


def stripped(value: Any) -> Any:
    """A string (or the strings of a list) without surrounding whitespace."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [stripped(v) for v in value]
    return value


def load_examples(spec: TaskSpec, lang: str, split: str | None = None, *, data_dir: str | Path | None = None,
                  limit: int | None = None) -> list[dict]:
    """Examples of one (task, language, split), in file order, each with a unique string ``id``; the task type
    may read them itself (candidate pools) and complete them (QA examples also carry ``language``)."""
    split = split or spec.eval_split
    task_type = tasktypes.get(spec.type)
    if task_type.examples is not None:
        return tasktypes.resolve(task_type.examples)(spec, lang, split, data_dir=data_dir, limit=limit)
    if data_dir is not None:
        path = local_path(spec, lang, split, data_dir)
        dataset, origin = _load_local(path), str(path)
        mapping, strip = spec.fields_for("local"), ()
    else:
        dataset, load, _ = load_hub_rows(spec, lang, split)
        origin, mapping, strip = load.origin, load.fields, load.strip
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    examples = canonicalize(dataset, spec, "local" if data_dir is not None else "hub", origin, mapping=mapping,
                            strip=strip)
    task_type.after_load(examples, spec, lang, lambda other: load_examples(spec, other, split, data_dir=data_dir))
    return examples
