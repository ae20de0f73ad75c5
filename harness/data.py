"""Load a task's examples (hub or ``--data-dir``) as canonical dicts with stable string ids."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.taskspec import CANONICAL_FIELDS, TaskSpec

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
    values = {"lang": lang, "lang3": spec.lang3(lang), "split": split, "task": spec.name}
    name = hub.name.format(**values) if hub.name else None
    hub_split = hub.split.format(**values)
    kwargs: dict[str, Any] = {"split": hub_split, "revision": hub.revision}
    if hub.data_files:
        kwargs["data_files"] = hub.data_files.format(**values)
    try:
        return datasets.load_dataset(hub.path, name, **kwargs)
    except Exception as err:
        raise XRobustError(
            f"cannot load hub dataset {hub.path} ({name}, split {hub_split}): {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}; offline? use --data-dir",
            file=spec.source_file, field="data.hub") from None


def _label_lookup(spec: TaskSpec) -> dict[str, str]:
    table = {}
    for index, name in enumerate(spec.labels):
        table[name.casefold()] = name
        table[str(index)] = name
        for alias in spec.label_aliases.get(name, ()):
            table[alias.casefold()] = name
    return table


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
    """Map source columns onto the task type's canonical fields; labels become label names."""
    mapping = spec.fields_for(source)
    required, optional = CANONICAL_FIELDS[spec.type]
    columns = dataset.column_names
    wanted = {}
    for canonical in required + optional:
        if canonical == "id":
            continue
        column = mapping.get(canonical, canonical)
        if column not in columns:
            if canonical in optional:
                continue
            raise XRobustError(f"column '{column}' missing (columns: {', '.join(columns)})", file=origin,
                               field=f"fields.{canonical}")
        wanted[canonical] = column
    ids = _pick_ids(dataset, mapping)
    data = {canonical: dataset[column] for canonical, column in wanted.items()}
    labels = _label_lookup(spec) if spec.labels else None
    examples = []
    for row in range(len(ids)):
        example = {"id": ids[row]}
        for canonical, values in data.items():
            example[canonical] = values[row]
        if labels is not None and spec.type == "pair_classification":
            raw = example["label"]
            name = labels.get(str(raw).casefold())
            if name is None:
                raise XRobustError(
                    f"label {raw!r} in row {row} is not one of {', '.join(spec.labels)}", file=origin,
                    field=f"fields.label ({wanted['label']})")
            example["label"] = name
        elif labels is not None and spec.type == "token_classification":
            example["tags"] = [spec.labels[t] if isinstance(t, int) else t for t in example["tags"]]
        examples.append(example)
    return examples


def load_examples(spec: TaskSpec, lang: str, split: str | None = None, *, data_dir: str | Path | None = None,
                  limit: int | None = None) -> list[dict]:
    """Examples of one (task, language, split), in file order, each with a unique string ``id``."""
    split = split or spec.eval_split
    if data_dir is not None:
        path = local_path(spec, lang, split, data_dir)
        dataset, source, origin = _load_local(path), "local", str(path)
    else:
        dataset, source, origin = _load_hub(spec, lang, split), "hub", f"{spec.hub.path}:{lang}:{split}"
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    return canonicalize(dataset, spec, source, origin)
