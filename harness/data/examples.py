"""Load a task's examples (hub or ``--data-dir``) as canonical dicts with stable string ids."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness import tasktypes
from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec

log = logging.getLogger(__name__)

ID_COLUMNS = ("id", "idx", "guid")


def local_path(spec: TaskSpec, lang: str, split: str, data_dir: str | Path) -> Path:
    rel = spec.local.pattern.format(task=spec.name, lang=lang, lang3=spec.lang3(lang), split=split)
    return Path(data_dir) / rel


def _load_local(path: Path) -> Any:
    import datasets

    if not path.is_file():
        raise XRobustError("data file not found", file=path, field="--data-dir")
    datasets.disable_progress_bars()
    try:
        return datasets.load_dataset("json", data_files=str(path), split="train")
    except Exception as err:  # datasets wraps JSON errors in several types
        cause = err.__cause__ or err
        raise XRobustError(f"cannot parse as JSON lines: {type(cause).__name__}: {cause}", file=path) from None


def _load_hub(spec: TaskSpec, lang: str, split: str) -> Any:
    import datasets

    hub = spec.hub
    if hub is None:
        raise XRobustError("no hub source declared; pass --data-dir", file=spec.source_file, field="data.hub")
    values = {"lang": lang, "lang3": spec.lang3(lang), "split": hub.split_map.get(split, split), "task": spec.name}
    name = hub.name.format(**values) if hub.name else None
    hub_split = hub.split.format(**values)
    kwargs: dict[str, Any] = {"split": hub_split, "revision": hub.revision}
    if hub.data_files:
        kwargs["data_files"] = hub.data_files.format(**values)
    try:
        dataset = datasets.load_dataset(hub.path, name, **kwargs)
    except Exception as err:
        raise XRobustError(
            f"cannot load hub dataset {hub.path} ({name}, split {hub_split}): {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}; offline? use --data-dir",
            file=spec.source_file, field="data.hub") from None
    return filter_rows(dataset, {col: prefix.format(**values) for col, prefix in hub.filter.items()})


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


def canonicalize(dataset: Any, spec: TaskSpec, source: str, origin: str) -> list[dict]:
    """Map source columns onto the task type's canonical fields, then let the task type finish them (label
    names, tag names, one answer layout). A field mapped to a list of columns collects them (XCOPA choices)."""
    mapping = spec.fields_for(source)
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
    task_type.canonicalize(examples, spec, dataset=dataset, columns=wanted, origin=origin)
    return examples


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
        dataset, source, origin = _load_local(path), "local", str(path)
    else:
        dataset, source, origin = _load_hub(spec, lang, split), "hub", f"{spec.hub.path}:{lang}:{split}"
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    examples = canonicalize(dataset, spec, source, origin)
    task_type.after_load(examples, spec, lang, lambda other: load_examples(spec, other, split, data_dir=data_dir))
    return examples
