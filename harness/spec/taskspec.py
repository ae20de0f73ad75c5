"""Task YAML → validated :class:`TaskSpec`.

A task file is a small mapping; ``include:`` pulls in a template (resolved next to the including file,
then in the built-in ``tasks/`` folder) and the including file's keys override it, nested mappings merged.
Every error names the file and the field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import XRobustError
from harness.spec.options import (
    SECTION_TYPES,
    CandidateOptions,
    ChoiceOptions,
    QAOptions,
    TaggingOptions,
    check_fields_map,
    coerce_option,
    validate_sections,
)

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"

TASK_TYPES = ("pair_classification", "retrieval", "token_classification", "qa", "multiple_choice",
              "candidate_retrieval")

# canonical example fields per task type: (required, optional)
CANONICAL_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pair_classification": (("text_a", "text_b", "label"), ("id",)),
    "retrieval": (("source", "target"), ("id",)),
    "token_classification": (("tokens", "tags"), ("id",)),
    "qa": (("context", "question", "answers"), ("id", "title")),
    "multiple_choice": (("premise", "question", "choices", "label"), ("id",)),
    # query → ranked ids from a candidate pool (LAReQA, Mewsli-X); the pool is read by harness.data.candidates
    "candidate_retrieval": (("query", "positives"), ("id", "context")),
}


@dataclass(frozen=True)
class HubSource:
    """Where a task lives on the Hugging Face hub; ``{lang}``/``{lang3}``/``{split}`` are templated."""

    path: str
    name: str | None = None
    split: str = "{split}"
    revision: str | None = None
    fields: dict[str, str | list[str]] = field(default_factory=dict)
    data_files: str | None = None
    split_map: dict[str, str] = field(default_factory=dict)  # our split name → hub split name
    filter: dict[str, str] = field(default_factory=dict)  # column → required (templated) value prefix


@dataclass(frozen=True)
class LocalSource:
    """Layout under ``--data-dir``: ``DIR/<pattern>`` with ``{task}``, ``{lang}``, ``{split}``."""

    pattern: str = "{task}/{lang}.{split}.jsonl"
    fields: dict[str, str | list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RetrievalOptions:
    """How sentence embeddings are made for retrieval tasks."""

    pooling: str = "mean"  # mean | cls | max
    layer: int = -1  # hidden-state index; -1 = last layer
    prefix: str = ""  # prepended to source sentences (e.g. "query: " for e5)
    target_prefix: str | None = None  # defaults to prefix
    normalize: bool = True
    max_length: int = 128
    top_k: int = 20


@dataclass(frozen=True)
class TaskSpec:
    """A validated task definition."""

    name: str
    type: str
    languages: tuple[str, ...]
    source_file: str
    extra_languages: tuple[str, ...] = ()  # runnable with --langs, not part of the benchmark average
    description: str = ""
    source_language: str = "en"
    splits: dict[str, str] = field(default_factory=lambda: {"eval": "test", "train": "train"})
    hub: HubSource | None = None
    local: LocalSource = field(default_factory=LocalSource)
    fields: dict[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    label_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    metrics: tuple[str, ...] = ("accuracy",)
    main_metric: str = ""
    perturb_fields: tuple[str, ...] = ()
    language_codes: dict[str, str] = field(default_factory=dict)
    max_length: int = 256
    retrieval: RetrievalOptions = field(default_factory=RetrievalOptions)
    tagging: TaggingOptions = field(default_factory=TaggingOptions)
    qa: QAOptions = field(default_factory=QAOptions)
    choice: ChoiceOptions = field(default_factory=ChoiceOptions)
    candidates: CandidateOptions = field(default_factory=CandidateOptions)
    training: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def ranked_metric(self) -> str:
        return self.main_metric or self.metrics[0]

    @property
    def all_languages(self) -> tuple[str, ...]:
        return self.languages + tuple(x for x in self.extra_languages if x not in self.languages)

    @property
    def eval_split(self) -> str:
        return self.splits.get("eval", "test")

    def lang3(self, lang: str) -> str:
        return self.language_codes.get(lang, lang)

    def fields_for(self, source: str) -> dict[str, str | list[str]]:
        """Canonical → column mapping for ``source`` ("hub" or "local")."""
        override = self.hub.fields if (source == "hub" and self.hub) else self.local.fields
        return {**self.fields, **override}

    def to_dict(self) -> dict[str, Any]:
        """Everything but the file path; option sections of other task types and empty hub extras are left
        out, so adding a section for a new type never changes the hash of an existing task."""
        data = dataclasses.asdict(self)
        data.pop("source_file")
        for key, owner in SECTION_TYPES.items():
            if self.type != owner:
                data.pop(key)
        if data.get("hub"):
            for key in ("split_map", "filter"):
                if not data["hub"][key]:
                    data["hub"].pop(key)
        return data

    def config_hash(self) -> str:
        """Hash of everything a score depends on (not the file path or description)."""
        data = self.to_dict()
        data.pop("description", None)
        blob = json.dumps(data, sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


_NESTED = {"hub": HubSource, "local": LocalSource, "retrieval": RetrievalOptions, "tagging": TaggingOptions,
           "qa": QAOptions, "choice": ChoiceOptions, "candidates": CandidateOptions}
_TOP_KEYS = {f.name for f in dataclasses.fields(TaskSpec)} - {"source_file", "hub", "local"} | {"data", "include"}


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path, stack: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in stack:
        raise XRobustError("include cycle: " + " -> ".join(p.name for p in (*stack, path)), file=path,
                           field="include")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise XRobustError(f"cannot read task file ({err.strerror})", file=path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise XRobustError(f"malformed YAML{where}: {problem}", file=path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise XRobustError("a task file must be a mapping of fields", file=path)
    include = data.pop("include", None)
    if include is None:
        return data
    includes = [include] if isinstance(include, str) else include
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise XRobustError("must be a file name or a list of file names", file=path, field="include")
    merged: dict[str, Any] = {}
    for name in includes:
        candidates = [path.parent / name, TASKS_DIR / name, TASKS_DIR / "templates" / name]
        target = next((c for c in candidates if c.is_file()), None)
        if target is None:
            raise XRobustError(f"included file '{name}' not found", file=path, field="include")
        merged = _merge(merged, _read_yaml(target.resolve(), (*stack, path)))
    return _merge(merged, data)


def _check_type(value: Any, expected: type | tuple[type, ...], path: Path, name: str, what: str) -> None:
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise XRobustError(f"must be {what}, got {type(value).__name__}", file=path, field=name)


def _build_nested(cls: type, value: Any, path: Path, prefix: str) -> Any:
    _check_type(value, dict, path, prefix, "a mapping")
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in value:
        if key not in known:
            raise XRobustError(f"unknown field (known: {', '.join(sorted(known))})", file=path,
                               field=f"{prefix}.{key}")
    kwargs = {}
    defaults = None if cls is HubSource else cls()
    for key, val in value.items():
        name = f"{prefix}.{key}"
        if key == "fields":
            check_fields_map(val, path, name)
        elif defaults is not None:
            val = coerce_option(getattr(defaults, key), val, path, name)
        elif key in ("split_map", "filter"):
            _check_str_map(val, path, name)
        kwargs[key] = val
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise XRobustError(str(err), file=path, field=prefix) from None


def _check_str_map(value: Any, path: Path, name: str) -> None:
    _check_type(value, dict, path, name, "a mapping")
    for key, val in value.items():
        if not isinstance(val, str):
            raise XRobustError("values must be column names (strings)", file=path, field=f"{name}.{key}")


def _str_list(value: Any, path: Path, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    _check_type(value, list, path, name, "a list")
    for item in value:
        if not isinstance(item, str):
            raise XRobustError(f"items must be strings, got {item!r}", file=path, field=name)
    return tuple(value)


def load_task(path: str | Path) -> TaskSpec:
    """Load and validate one task file."""
    path = Path(path).resolve()
    raw = _read_yaml(path)
    for key in raw:
        if key not in _TOP_KEYS:
            raise XRobustError(f"unknown field (known: {', '.join(sorted(_TOP_KEYS - {'include'}))})",
                               file=path, field=key)
    for required in ("name", "type", "languages"):
        if required not in raw:
            raise XRobustError("missing required field", file=path, field=required)
    _check_type(raw["name"], str, path, "name", "a string")
    if raw["type"] not in TASK_TYPES:
        raise XRobustError(f"unknown task type {raw['type']!r} (known: {', '.join(TASK_TYPES)})", file=path,
                           field="type")
    kwargs: dict[str, Any] = {"name": raw["name"], "type": raw["type"], "source_file": str(path)}
    kwargs["languages"] = _str_list(raw["languages"], path, "languages")
    if not kwargs["languages"]:
        raise XRobustError("must list at least one language", file=path, field="languages")
    for key in ("metrics", "perturb_fields", "labels", "extra_languages"):
        if key in raw:
            kwargs[key] = _str_list(raw[key], path, key)
    for key in ("description", "source_language", "main_metric"):
        if key in raw:
            _check_type(raw[key], str, path, key, "a string")
            kwargs[key] = raw[key]
    if "max_length" in raw:
        _check_type(raw["max_length"], int, path, "max_length", "an integer")
        kwargs["max_length"] = raw["max_length"]
    for key in ("splits", "fields", "language_codes"):
        if key in raw:
            (check_fields_map if key == "fields" else _check_str_map)(raw[key], path, key)
            kwargs[key] = dict(raw[key])
    for key in ("training", "options"):
        if key in raw:
            _check_type(raw[key], dict, path, key, "a mapping")
            kwargs[key] = dict(raw[key])
    if "label_aliases" in raw:
        _check_type(raw["label_aliases"], dict, path, "label_aliases", "a mapping")
        kwargs["label_aliases"] = {
            str(k): _str_list(v, path, f"label_aliases.{k}") for k, v in raw["label_aliases"].items()
        }
    for key in ("retrieval", *SECTION_TYPES):
        if key in raw:
            kwargs[key] = _build_nested(_NESTED[key], raw[key], path, key)
    data = raw.get("data", {})
    _check_type(data, dict, path, "data", "a mapping")
    for key in data:
        if key not in ("hub", "local"):
            raise XRobustError("unknown field (known: hub, local)", file=path, field=f"data.{key}")
    if "hub" in data:
        kwargs["hub"] = _build_nested(HubSource, data["hub"], path, "data.hub")
    if "local" in data:
        kwargs["local"] = _build_nested(LocalSource, data["local"], path, "data.local")
    spec = TaskSpec(**kwargs)
    _validate(spec, path)
    return spec


def _validate(spec: TaskSpec, path: Path) -> None:
    from harness.metrics import METRICS

    required, optional = CANONICAL_FIELDS[spec.type]
    for source in ("hub", "local"):
        for canonical in spec.fields_for(source):
            if canonical not in required + optional:
                field_name = f"data.{source}.fields.{canonical}" if canonical not in spec.fields else \
                    f"fields.{canonical}"
                raise XRobustError(
                    f"'{canonical}' is not a field of {spec.type} examples (known: {', '.join(required + optional)})",
                    file=path, field=field_name)
    for name in spec.perturb_fields:
        if name not in required + optional:
            raise XRobustError(f"'{name}' is not a field of {spec.type} examples", file=path,
                               field="perturb_fields")
    for name in spec.metrics:
        if name not in METRICS:
            raise XRobustError(f"unknown metric {name!r} (known: {', '.join(sorted(METRICS))})", file=path,
                               field="metrics")
        if spec.type not in METRICS[name].task_types:
            raise XRobustError(f"metric {name!r} does not apply to {spec.type} tasks", file=path,
                               field="metrics")
    if spec.main_metric and spec.main_metric not in spec.metrics:
        raise XRobustError(f"{spec.main_metric!r} is not among metrics", file=path, field="main_metric")
    if spec.type == "pair_classification" and not spec.labels:
        raise XRobustError("pair classification needs label names", file=path, field="labels")
    for name in spec.label_aliases:
        if name not in spec.labels:
            raise XRobustError(f"{name!r} is not one of labels", file=path, field=f"label_aliases.{name}")
    known = known_language_codes()
    for lang in (*spec.languages, *spec.extra_languages, spec.source_language):
        if known and lang not in known:
            raise XRobustError(f"unknown language code {lang!r} (see tasks/languages.yaml)", file=path,
                               field="languages")
    if spec.retrieval.pooling not in ("mean", "cls", "max"):
        raise XRobustError("must be mean, cls or max", file=path, field="retrieval.pooling")
    validate_sections(spec, path)


_LANG_CACHE: dict[str, frozenset[str]] = {}


def known_language_codes() -> frozenset[str]:
    """ISO 639-1 codes listed in ``tasks/languages.yaml`` (empty if the file is absent)."""
    if "codes" not in _LANG_CACHE:
        path = TASKS_DIR / "languages.yaml"
        codes: set[str] = set()
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            table = data.get("languages", data) if isinstance(data, dict) else {}
            if isinstance(table, dict):
                codes = {str(k) for k, v in table.items() if isinstance(v, dict)}
            elif isinstance(table, list):
                codes = {str(row.get("iso", row.get("code"))) for row in table if isinstance(row, dict)}
        _LANG_CACHE["codes"] = frozenset(codes)
    return _LANG_CACHE["codes"]


def builtin_task_files() -> dict[str, Path]:
    """Task name → file for every task YAML shipped in ``tasks/`` (templates and files without a top-level
    ``name``, such as languages.yaml or buckets.yaml, excluded)."""
    out: dict[str, Path] = {}
    for path in sorted(TASKS_DIR.glob("*.yaml")):
        if path.name.startswith("_") or path.stem == "languages":
            continue
        try:
            head = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            head = {"name": path.stem}  # let load_task report the problem
        if isinstance(head, dict) and "name" not in head:
            continue
        out[path.stem] = path
    return out


def resolve_task(ref: str) -> TaskSpec:
    """A task name (built-in) or a path to a task YAML file."""
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise XRobustError("task file not found", file=candidate)
        return load_task(candidate)
    files = builtin_task_files()
    if ref not in files:
        raise XRobustError(f"unknown task {ref!r} (built-in: {', '.join(files)}; or give a path to a YAML file)",
                           field="--tasks")
    return load_task(files[ref])
