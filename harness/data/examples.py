"""Load a task's examples (hub or ``--data-dir``) as canonical dicts with stable string ids."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.spec.taskspec import CANONICAL_FIELDS, TaskSpec

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


def _tag_names(dataset: Any, column: str) -> list[str] | None:
    """Names of a ``Sequence(ClassLabel)`` column (hub token-classification data stores tag ids)."""
    feature = getattr(dataset, "features", {}).get(column)
    inner = getattr(feature, "feature", None)
    return list(inner.names) if getattr(inner, "names", None) else None


def _answers(value: Any, origin: str, row: int) -> dict[str, list]:
    """SQuAD answers in any common layout → ``{"text": [...], "answer_start": [...]}``."""
    if isinstance(value, dict) and "text" in value:
        texts, starts = value["text"], value.get("answer_start", [])
        texts = [texts] if isinstance(texts, str) else list(texts)
        starts = [starts] if isinstance(starts, int) else list(starts)
    elif isinstance(value, list) and all(isinstance(a, dict) for a in value):
        texts = [a["text"] for a in value]
        starts = [a.get("answer_start", -1) for a in value]
    elif isinstance(value, str):
        texts, starts = [value], []
    else:
        raise XRobustError(f"answers in row {row} are not SQuAD-style ({type(value).__name__})", file=origin,
                           field="fields.answers")
    starts = (starts + [-1] * len(texts))[:len(texts)]
    return {"text": [str(t) for t in texts], "answer_start": [int(s) for s in starts]}


def canonicalize(dataset: Any, spec: TaskSpec, source: str, origin: str) -> list[dict]:
    """Map source columns onto the task type's canonical fields; labels become label names, tag ids tag
    names, QA answers one layout. A field mapped to a list of columns collects them (XCOPA choices)."""
    mapping = spec.fields_for(source)
    required, optional = CANONICAL_FIELDS[spec.type]
    columns = dataset.column_names
    wanted: dict[str, list[str]] = {}
    for canonical in required + optional:
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
    labels = _label_lookup(spec) if spec.labels else None
    tag_names = _tag_names(dataset, wanted["tags"][0]) if spec.type == "token_classification" else None
    examples = []
    for row in range(len(ids)):
        example = {"id": ids[row]}
        for canonical, values in data.items():
            example[canonical] = [v[row] for v in values] if canonical in listed else values[0][row]
        if labels is not None and spec.type == "pair_classification":
            raw = example["label"]
            name = labels.get(str(raw).casefold())
            if name is None:
                raise XRobustError(
                    f"label {raw!r} in row {row} is not one of {', '.join(spec.labels)}", file=origin,
                    field=f"fields.label ({', '.join(wanted['label'])})")
            example["label"] = name
        elif spec.type == "token_classification":
            names = tag_names or spec.labels
            example["tags"] = [names[t] if isinstance(t, int) else str(t) for t in example["tags"]]
        elif spec.type == "qa":
            example["answers"] = _answers(example["answers"], origin, row)
        elif spec.type == "multiple_choice":
            example["label"] = int(example["label"])
        examples.append(example)
    return examples


def load_examples(spec: TaskSpec, lang: str, split: str | None = None, *, data_dir: str | Path | None = None,
                  limit: int | None = None) -> list[dict]:
    """Examples of one (task, language, split), in file order, each with a unique string ``id``.

    QA examples also carry ``language`` (answer normalization is language-aware)."""
    split = split or spec.eval_split
    if spec.type == "candidate_retrieval":
        from harness.data.candidates import load_queries

        return load_queries(spec, lang, split, data_dir=data_dir, limit=limit)
    if data_dir is not None:
        path = local_path(spec, lang, split, data_dir)
        dataset, source, origin = _load_local(path), "local", str(path)
    else:
        dataset, source, origin = _load_hub(spec, lang, split), "hub", f"{spec.hub.path}:{lang}:{split}"
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    examples = canonicalize(dataset, spec, source, origin)
    if spec.type == "qa":
        for example in examples:
            example["language"] = lang
    choice = spec.choice
    if spec.type == "multiple_choice" and choice.question_from and lang != choice.question_from and (
            not choice.question_from_langs or lang in choice.question_from_langs):
        _questions_from(examples, load_examples(spec, choice.question_from, split, data_dir=data_dir), spec)
    return examples


def _questions_from(examples: list[dict], source: list[dict], spec: TaskSpec) -> None:
    """Replace each example's ``question`` by the one of the same id in ``source`` (XCOPA th/tr: the
    upstream files disagree with English COPA on cause/effect for some items; labels agree)."""
    by_id = {e["id"]: e["question"] for e in source}
    for example in examples:
        if example["id"] not in by_id:
            raise XRobustError(f"example id {example['id']!r} not found in the {spec.choice.question_from!r} "
                               "file", file=spec.source_file, field="choice.question_from")
        example["question"] = by_id[example["id"]]
