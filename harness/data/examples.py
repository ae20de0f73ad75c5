"""Load a task's examples (hub or ``--data-dir``) as canonical dicts with stable string ids."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from harness import tasktypes
from harness.data import provenance
from harness.data.sources import HubLoad, hub_load, local_path
from harness.errors import XRobustError
from harness.spec.paths import confined, safe_name
from harness.spec.taskspec import TaskSpec
from harness.tasktypes.base import label_lookup

log = logging.getLogger(__name__)

ID_COLUMNS = ("id", "idx", "guid")

__all__ = ["ID_COLUMNS", "canonicalize", "check_examples", "check_rows", "filter_rows", "hub_identity",
           "load_examples", "load_hub_rows", "local_path", "stripped"]


def _load_local(path: Path, spec: TaskSpec, mapping: dict[str, str | list[str]]) -> tuple[Any, list[int] | None]:
    """The rows of a local JSON lines file, checked line by line first (:func:`check_rows`), and the line number
    of each row (None when the file is one JSON array)."""
    import datasets

    if not path.is_file():
        raise XRobustError("data file not found", file=path, field="--data-dir")
    lines = check_rows(path, spec, mapping)
    datasets.disable_progress_bars()
    try:
        dataset = datasets.load_dataset("json", data_files=str(path), split="train")
    except Exception as err:  # datasets wraps JSON errors in several types
        cause = err.__cause__ or err
        raise XRobustError(f"cannot parse as JSON lines: {type(cause).__name__}: {_first_line(cause)}",
                           file=path) from None
    provenance.note(provenance.local_file(path))
    return dataset, lines if lines is not None and len(lines) == len(dataset) else None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""


# -- input validation: every bad row is a one-line error naming FILE:LINE and the field ---------------------


def _kind(task_type: Any, canonical: str) -> str:
    """What a canonical field's source value must be: text, a list of texts (tokens, a one-column choices
    list), tags, a label, an id, SQuAD answers, or anything but null."""
    if canonical in ("id", "label", "tags", "answers"):
        return canonical
    if canonical == "positives":
        return "value"
    if canonical == "tokens" or canonical in task_type.list_fields:
        return "texts"
    return "text"


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _value_problem(kind: str, value: Any, spec: TaskSpec, choices: bool) -> str | None:
    """Why ``value`` cannot be a source value of ``kind`` (None if it can)."""
    if kind == "text":
        return None if isinstance(value, str) else f"must be a string, got {_type_name(value)}"
    if kind == "texts":
        if not isinstance(value, list):
            return f"must be a list of strings, got {_type_name(value)}"
        bad = next((i for i, v in enumerate(value) if not isinstance(v, str)), None)
        return None if bad is None else f"item {bad} must be a string, got {_type_name(value[bad])}"
    if kind == "tags":
        if not isinstance(value, list):
            return f"must be a list of tags, got {_type_name(value)}"
        for i, tag in enumerate(value):
            if isinstance(tag, bool) or not isinstance(tag, (str, int)):
                return f"tag {i} must be a tag name or index, got {_type_name(tag)}"
            if isinstance(tag, int) and not 0 <= tag < len(spec.labels):
                return f"tag {i} is index {tag}, but the task has {len(spec.labels)} labels"
            if isinstance(tag, str) and spec.labels and tag not in spec.labels:
                return f"tag {i} {tag!r} is not one of the task's labels ({', '.join(spec.labels)})"
        return None
    if kind == "label":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return f"must be a label name or index, got {_type_name(value)}"
        if choices and not (isinstance(value, int) or value.strip().isdigit()):
            return f"must be a choice index, got {value!r}"
        if not choices and spec.labels and str(value).casefold() not in label_lookup(spec):
            return f"label {value!r} is not one of {', '.join(spec.labels)} (or an alias or index)"
        return None
    if kind == "id":
        return None if isinstance(value, (str, int)) and not isinstance(value, bool) else \
            f"must be a string or an integer, got {_type_name(value)}"
    if kind == "answers":
        return _answers_problem(value)
    return "must not be null" if value is None else None


def _answers_problem(value: Any) -> str | None:
    """SQuAD answers: ``{"text": [...], "answer_start": [...]}`` (or one of each), a list of ``{"text", …}``, or
    one answer text."""
    if isinstance(value, str):
        return None
    if isinstance(value, dict):
        texts, starts = value.get("text"), value.get("answer_start", [])
        texts = [texts] if isinstance(texts, str) else texts
        starts = [starts] if isinstance(starts, int) and not isinstance(starts, bool) else starts
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return "answers.text must be a list of strings"
        if not isinstance(starts, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in starts):
            return "answers.answer_start must be a list of integers"
        return None
    if isinstance(value, list):
        for answer in value:
            if not isinstance(answer, dict) or not isinstance(answer.get("text"), str) or \
                    isinstance(answer.get("answer_start", -1), bool) or \
                    not isinstance(answer.get("answer_start", -1), int):
                return "each answer must be an object with a string 'text' and an integer 'answer_start'"
        return None
    return f"must be SQuAD-style answers, got {_type_name(value)}"


def _columns(spec: TaskSpec, mapping: dict[str, str | list[str]]) -> list[tuple[str, str, str, bool]]:
    """(canonical field, column, kind, required) for every column a task's rows are read from."""
    task_type = tasktypes.get(spec.type)
    out = []
    for canonical in task_type.fields:
        target = mapping.get(canonical, canonical)
        names = [target] if isinstance(target, str) else list(target)
        kind = _kind(task_type, canonical) if isinstance(target, str) else "text"  # one text per listed column
        out += [(canonical, column, kind, canonical not in task_type.optional) for column in names]
    return out


def _read_lines(path: Path) -> tuple[list[tuple[int, Any]], bool]:
    """``(line number, value)`` of every non-blank line (or of every item of a file holding one JSON array, all
    numbered by the array's first line), and whether the file is such an array."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise XRobustError(f"cannot read data file ({err.strerror})", file=path) from None
    if data.lstrip()[:1] == b"[":
        text = _decode(data, path, 1)
        try:
            items = json.loads(text)
        except json.JSONDecodeError as err:
            raise XRobustError(f"not valid JSON: {err.msg} (column {err.colno})", file=path, line=err.lineno,
                                field="row") from None
        line = text[:len(text) - len(text.lstrip())].count("\n") + 1
        return [(line, item) for item in items], True
    out = []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        text = _decode(raw, path, lineno)
        try:
            out.append((lineno, json.loads(text)))
        except json.JSONDecodeError as err:
            raise XRobustError(f"not valid JSON: {err.msg} (column {err.colno})", file=path, line=lineno,
                                field="row") from None
    return out, False


def _decode(raw: bytes, path: Path, lineno: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = lineno + raw[:err.start].count(b"\n")
        raise XRobustError(f"not UTF-8 text (byte 0x{raw[err.start]:02x})", file=path, line=line,
                           field="row") from None


def check_rows(path: Path, spec: TaskSpec, mapping: dict[str, str | list[str]]) -> list[int] | None:
    """Check every row of a local data file before it is loaded: UTF-8, valid JSON, one object per line, every
    column the task reads present in every row (an optional one in all rows or none) with a value of the right
    type, known tags, as many tags as tokens. Returns the line number of each row (None for a JSON array file);
    raises ``FILE:LINE: field 'fields.<canonical> (<column>)': message``."""
    rows, array = _read_lines(path)
    if not rows:
        raise XRobustError("the data file holds no rows", file=path, field="rows")
    task_type = tasktypes.get(spec.type)
    columns = _columns(spec, mapping)
    choices = "choices" in task_type.fields
    present = {column for _, row in rows if isinstance(row, dict) for column in row}
    for lineno, row in rows:
        where = f"{path}:{lineno}"
        if not isinstance(row, dict):
            raise XRobustError(f"each row must be a JSON object, got {_type_name(row)}", file=where, field="row")
        for canonical, column, kind, required in columns:
            field = f"fields.{canonical} ({column})"
            if column not in row:
                if required or column in present:
                    raise XRobustError(f"column '{column}' missing in this row (it has: {', '.join(row) or 'none'})",
                                       file=where, field=field)
                continue
            problem = _value_problem(kind, row[column], spec, choices)
            if problem:
                raise XRobustError(problem, file=where, field=field)
        _check_alignment(row, mapping, where)
    return None if array else [lineno for lineno, _ in rows]


def _check_alignment(row: dict, mapping: dict[str, str | list[str]], where: str) -> None:
    """Token classification rows: one tag per token."""
    tokens, tags = mapping.get("tokens", "tokens"), mapping.get("tags", "tags")
    if isinstance(tokens, str) and isinstance(tags, str) and isinstance(row.get(tokens), list) and \
            isinstance(row.get(tags), list) and len(row[tokens]) != len(row[tags]):
        raise XRobustError(f"{len(row[tokens])} tokens but {len(row[tags])} tags", file=where,
                           field=f"fields.tags ({tags})")


def check_examples(examples: list[dict], spec: TaskSpec, origin: str, lines: list[int] | None) -> None:
    """Canonical examples from any source are usable: texts are strings, tokens a list of strings with one known
    tag each, a choice label indexes a choice. ``lines`` locates a row in a local file (else ``origin`` row N)."""
    if not examples:
        raise XRobustError("no examples to evaluate (an empty file, or a filter that keeps no row)", file=origin)
    task_type = tasktypes.get(spec.type)
    kinds = {c: _kind(task_type, c) for c in task_type.fields if _kind(task_type, c) in ("text", "texts")}
    known = set(spec.labels)
    for row, example in enumerate(examples):
        where = f"{origin}:{lines[row]}" if lines is not None else f"{origin} row {row}"
        for canonical, kind in kinds.items():
            if canonical in example and (problem := _value_problem(kind, example[canonical], spec, False)):
                raise XRobustError(problem, file=where, field=f"fields.{canonical}")
        if "tags" in example:
            unknown = next((t for t in example["tags"] if known and t not in known), None)
            if unknown is not None:
                raise XRobustError(f"tag {unknown!r} is not one of the task's labels ({', '.join(spec.labels)})",
                                   file=where, field="fields.tags")
            if len(example["tags"]) != len(example.get("tokens", example["tags"])):
                raise XRobustError(f"{len(example['tokens'])} tokens but {len(example['tags'])} tags", file=where,
                                   field="fields.tags")
        if "choices" in example and "label" in example and \
                not (isinstance(example["label"], int) and 0 <= example["label"] < len(example["choices"])):
            raise XRobustError(f"label {example['label']!r} is not the index of one of the "
                               f"{len(example['choices'])} choices", file=where, field="fields.label")


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
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise XRobustError(f"must be at least 1 (a number of examples), got {limit!r}", field="--limit")
    safe_name(lang, field="--langs", what="language code")
    safe_name(split, field="--split", what="split name")
    task_type = tasktypes.get(spec.type)
    if task_type.examples is not None:
        return tasktypes.resolve(task_type.examples)(spec, lang, split, data_dir=data_dir, limit=limit)
    lines: list[int] | None = None
    if data_dir is not None:
        path = local_path(spec, lang, split, data_dir)
        confined(data_dir, os.path.abspath(path), field="data.local.pattern", file=spec.source_file)
        mapping, strip = spec.fields_for("local"), ()
        (dataset, lines), origin = _load_local(path, spec, mapping), str(path)
    else:
        dataset, load, _ = load_hub_rows(spec, lang, split)
        origin, mapping, strip = load.origin, load.fields, load.strip
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    examples = canonicalize(dataset, spec, "local" if data_dir is not None else "hub", origin, mapping=mapping,
                            strip=strip)
    check_examples(examples, spec, origin, lines)
    task_type.after_load(examples, spec, lang, lambda other: load_examples(spec, other, split, data_dir=data_dir))
    return examples
