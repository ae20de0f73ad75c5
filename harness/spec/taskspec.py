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

from harness import tasktypes
from harness.errors import XRobustError, yaml_error
from harness.spec.options import (
    MAPPING,
    MUST_BE,
    POSITIVE,
    UNKNOWN_FIELD,
    fields_map,
    optional_text,
    per_language,
    reasons,
    section_reader,
    str_list,
    str_map,
    validate_sections,
)
from harness.spec.paths import inside, is_safe_name, relative_pattern, safe_name
from perturbations.validation import Invalid, Rule, check_known, coerce, read

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"


@dataclass(frozen=True)
class HubOverride:
    """Another hub source for one language (``data.hub.overrides.<lang>``) or one of its splits
    (``<lang>.<split>``): each key given replaces the task's own (``fields``, ``split_map``, ``filter`` as a
    whole); a key left out is inherited."""

    path: str | None = None
    name: str | None = None  # "" = the repository's only (default) config
    split: str | None = None
    revision: str | None = None
    fields: dict[str, str | list[str]] | None = None
    data_files: str | None = None
    split_map: dict[str, str] | None = None
    filter: dict[str, str] | None = None
    strip: tuple[str, ...] | None = None


@dataclass(frozen=True)
class HubSource:
    """Where a task lives on the Hugging Face hub; ``{lang}``/``{lang3}``/``{split}`` are templated.

    ``revision`` pins a commit (or names a branch/tag); ``overrides`` give other sources per language or
    per language and split;
    ``unavailable`` marks languages (``<lang>``) or single splits (``<lang>.<split>``) with no known public hub
    copy, with the reason, so that loading them is refused instead of skipped; ``strip`` names canonical text
    fields whose surrounding whitespace is removed (Tatoeba lines keep their newline on the hub)."""

    path: str
    name: str | None = None
    split: str = "{split}"
    revision: str | None = None
    fields: dict[str, str | list[str]] = field(default_factory=dict)
    data_files: str | None = None
    split_map: dict[str, str] = field(default_factory=dict)  # our split name → hub split name
    filter: dict[str, str] = field(default_factory=dict)  # column → required (templated) value prefix
    strip: tuple[str, ...] = ()
    overrides: dict[str, HubOverride] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def for_language(self, lang: str, split: str | None = None) -> HubSource:
        """The source of ``lang`` (and ``split``): this one with the overrides ``<lang>`` and then
        ``<lang>.<split>`` applied (no overrides left)."""
        changes: dict[str, Any] = {"overrides": {}, "unavailable": {}}
        for key in (lang, f"{lang}.{split}" if split else None):
            over = self.overrides.get(key) if key else None
            if over is not None:
                changes.update({f.name: getattr(over, f.name) for f in dataclasses.fields(over)
                                if getattr(over, f.name) is not None})
        return dataclasses.replace(self, **changes)

    def overridden(self, lang: str, split: str) -> str | None:
        """The override key that applies to (``lang``, ``split``), the more specific one first."""
        return next((k for k in (f"{lang}.{split}", lang) if k in self.overrides), None)

    def unavailable_reason(self, lang: str, split: str) -> tuple[str, str] | None:
        """``(key, reason)`` when ``lang`` (or its ``split``) has no public hub source."""
        for key in (lang, f"{lang}.{split}"):
            if key in self.unavailable:
                return key, self.unavailable[key]
        return None


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
    training: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # per-type option sections given in the file

    def section(self, name: str) -> Any:
        """The option section ``name`` of a registered task type (its defaults when the file has none)."""
        if name in self.sections:
            return self.sections[name]
        owner = tasktypes.section_owner(name)
        if owner is None:
            raise KeyError(name)
        return owner.section.options()

    def __getattr__(self, name: str) -> Any:
        """Sections read as attributes: ``spec.qa``, ``spec.tagging`` …"""
        if name.startswith("_") or name == "sections" or tasktypes.section_owner(name) is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.section(name)

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

    def fields_for(self, source: str, lang: str | None = None) -> dict[str, str | list[str]]:
        """Canonical → column mapping for ``source`` ("hub" or "local"; for the hub, of ``lang``'s source)."""
        if source == "hub" and self.hub:
            hub = self.hub.for_language(lang) if lang else self.hub
            return {**self.fields, **hub.fields}
        return {**self.fields, **self.local.fields}

    def to_dict(self) -> dict[str, Any]:
        """Everything but the file path; option sections of other task types and empty hub extras are left
        out, so adding a section for a new type never changes the hash of an existing task."""
        data = dataclasses.asdict(self)
        data.pop("source_file")
        data.pop("sections")
        own = tasktypes.get(self.type).section
        if own is not None:
            data[own.name] = dataclasses.asdict(self.section(own.name))
        if data.get("hub"):
            for key in ("split_map", "filter", "strip", "overrides", "unavailable"):
                if not data["hub"][key]:
                    data["hub"].pop(key)
            for over in data["hub"].get("overrides", {}).values():
                for key in [k for k, v in over.items() if v is None]:
                    over.pop(key)
        return data

    def config_hash(self) -> str:
        """Hash of everything a score depends on (not the file path or description)."""
        data = self.to_dict()
        data.pop("description", None)
        if data.get("hub"):
            data["hub"].pop("unavailable", None)  # a refusal never changes the data of a language that loads
        blob = json.dumps(data, sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


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
        raise yaml_error(err, path) from None
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
        merged = _merge(merged, _read_yaml(_include_target(path, name), (*stack, path)))
    return _merge(merged, data)


def _include_target(path: Path, name: str) -> Path:
    """The task file ``include: name`` of ``path`` names: a .yaml/.yml file next to ``path`` (or below its folder),
    else in the built-in ``tasks/`` folder or its templates, links resolved; anything else on the machine is
    refused before it is read."""
    if Path(name).suffix not in (".yaml", ".yml"):
        raise XRobustError(f"included file '{name}' must be a .yaml or .yml task file", file=path, field="include")
    roots = (path.parent, TASKS_DIR, TASKS_DIR / "templates")
    allowed = [Path(root) / name for root in roots if inside(root, name, follow_links=True)]
    if not allowed:
        raise XRobustError(f"included file '{name}' is outside the task file's folder and the built-in tasks",
                           file=path, field="include")
    target = next((c for c in allowed if c.is_file()), None)
    if target is None:
        raise XRobustError(f"included file '{name}' not found", file=path, field="include")
    return target.resolve()


_TEXT_OR_NULL = Rule(read=optional_text)
_SOURCE_RULES = {"path": Rule(str), "name": _TEXT_OR_NULL, "split": Rule(str), "revision": _TEXT_OR_NULL,
                 "fields": Rule(read=fields_map), "data_files": _TEXT_OR_NULL, "split_map": Rule(read=str_map),
                 "filter": Rule(read=str_map), "strip": Rule(read=str_list)}
_HUB_RULES = {**_SOURCE_RULES, "overrides": Rule(read=lambda v: per_language(v, HubOverride, _SOURCE_RULES)),
              "unavailable": Rule(read=reasons)}
_REQUIRED = ("name", "type", "languages")


def _type(value: Any) -> str:
    if value not in tasktypes.names():
        raise Invalid(f"unknown task type {value!r} (known: {', '.join(tasktypes.names())})")
    return value


def _languages(value: Any) -> tuple[str, ...]:
    languages = _unique(value)
    if not languages:
        raise Invalid("must list at least one language")
    return languages


def _unique(value: Any) -> tuple[str, ...]:
    """A list of strings without repeats (a repeated label or language is a mistake, never meant)."""
    items = str_list(value)
    repeated = next((x for i, x in enumerate(items) if x in items[:i]), None)
    if repeated is not None:
        raise Invalid(f"{repeated!r} is listed twice")
    return items


def _name(value: Any) -> str:
    text = coerce(Rule(str), value, MUST_BE)
    if not is_safe_name(text):
        raise Invalid(f"{text!r} cannot be a task name: it names the task's folder in run directories (letters, "
                      "digits and _ . - @ ~ + =, starting with a letter or digit)")
    return text


def _label_aliases(value: Any) -> dict[str, tuple[str, ...]]:
    coerce(MAPPING, value, MUST_BE)
    out = {}
    for key, val in value.items():
        try:
            out[str(key)] = str_list(val)
        except Invalid as err:
            raise err.within(str(key)) from None
    return out


def _data(value: Any) -> dict[str, Any]:
    coerce(MAPPING, value, MUST_BE)
    check_known(value, ["hub", "local"], UNKNOWN_FIELD)
    return read(value, {"hub": section_reader(HubSource, _HUB_RULES), "local": section_reader(LocalSource)}, MUST_BE)


def _top_rules() -> dict[str, Rule]:
    """Rules of a task file's top-level keys, in the order they are checked."""
    text, unique = Rule(str), Rule(read=_unique)
    sections = {t.section.name: section_reader(t.section.options) for t in tasktypes.all_types() if t.section}
    return {"name": Rule(read=_name), "type": Rule(read=_type), "languages": Rule(read=_languages),
            "metrics": unique, "perturb_fields": unique, "labels": unique, "extra_languages": unique,
            "description": text, "source_language": text, "main_metric": text, "max_length": POSITIVE,
            "splits": Rule(read=str_map), "fields": Rule(read=fields_map), "language_codes": Rule(read=str_map),
            "training": MAPPING, "options": MAPPING, "label_aliases": Rule(read=_label_aliases),
            "retrieval": section_reader(RetrievalOptions), **sections, "data": Rule(read=_data)}


def load_task(path: str | Path) -> TaskSpec:
    """Load and validate one task file."""
    path = Path(path).resolve()
    raw = _read_yaml(path)
    rules = _top_rules()
    try:
        check_known(raw, [*rules, "include"], UNKNOWN_FIELD, shown=list(rules))
        for required in _REQUIRED:
            if required not in raw:
                raise Invalid("missing required field", required)
        values = read(raw, rules, MUST_BE, in_rule_order=True)
    except Invalid as err:
        raise XRobustError(err.message, file=path, field=err.field) from None
    data = values.pop("data", {})
    sections = {name: values.pop(name) for name in list(values) if tasktypes.section_owner(name)}
    spec = TaskSpec(**values, **data, sections=sections, source_file=str(path))
    _validate(spec, path)
    return spec


def _validate(spec: TaskSpec, path: Path) -> None:
    from harness.metrics import METRICS

    task_type = tasktypes.get(spec.type)
    known_fields = task_type.fields
    for source in ("hub", "local"):
        for canonical in spec.fields_for(source):
            if canonical not in known_fields:
                field_name = f"data.{source}.fields.{canonical}" if canonical not in spec.fields else \
                    f"fields.{canonical}"
                raise XRobustError(
                    f"'{canonical}' is not a field of {spec.type} examples (known: {', '.join(known_fields)})",
                    file=path, field=field_name)
    if spec.hub is not None:
        _validate_hub(spec, spec.hub, known_fields, path)
    for name in spec.perturb_fields:
        if name not in known_fields:
            raise XRobustError(f"'{name}' is not a field of {spec.type} examples", file=path,
                               field="perturb_fields")
    for name in spec.metrics:
        if name not in METRICS:
            raise XRobustError(f"unknown metric {name!r} (known: {', '.join(sorted(METRICS))})", file=path,
                               field="metrics")
        if name not in task_type.metrics:
            raise XRobustError(f"metric {name!r} does not apply to {spec.type} tasks", file=path,
                               field="metrics")
    if spec.main_metric and spec.main_metric not in spec.metrics:
        raise XRobustError(f"{spec.main_metric!r} is not among metrics", file=path, field="main_metric")
    if task_type.requires_labels and not spec.labels:
        raise XRobustError(task_type.requires_labels, file=path, field="labels")
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
    _validate_path_parts(spec, path)
    validate_sections(spec, path)


def _validate_path_parts(spec: TaskSpec, path: Path) -> None:
    """What becomes part of a file path: language codes, their 3-letter forms and split names are single file
    name components, and the local data pattern a relative path with known placeholders only."""
    for where, values in (("languages", spec.languages), ("extra_languages", spec.extra_languages),
                          ("source_language", (spec.source_language,))):
        for lang in values:
            safe_name(lang, field=where, file=path, what="language code")
    for lang, code in spec.language_codes.items():
        safe_name(code, field=f"language_codes.{lang}", file=path, what="language code")
    for role, split in spec.splits.items():
        safe_name(split, field=f"splits.{role}", file=path, what="split name")
    pattern = relative_pattern(spec.local.pattern, field="data.local.pattern", file=path)
    try:
        filled = pattern.format(task="t", lang="l", lang3="l3", split="s")
    except (KeyError, IndexError, ValueError) as err:
        raise XRobustError(f"bad template {pattern!r} ({type(err).__name__}: {err}; known fields: task, lang, "
                           "lang3, split)", file=path, field="data.local.pattern") from None
    relative_pattern(filled, field="data.local.pattern", file=path)


def _validate_hub(spec: TaskSpec, hub: HubSource, known_fields: tuple[str, ...], path: Path) -> None:
    """Overrides and unavailable marks name known languages (not necessarily the task's own: a variant that
    lists fewer languages keeps the included file's overrides); their fields are canonical fields."""
    langs = known_language_codes() or frozenset((*spec.all_languages, spec.source_language))

    def fields_of(over: HubSource | HubOverride, where: str) -> None:
        for key, names in (("fields", over.fields or {}), ("strip", over.strip or ())):
            for canonical in names:
                if canonical not in known_fields:
                    raise XRobustError(f"'{canonical}' is not a field of {spec.type} examples (known: "
                                       f"{', '.join(known_fields)})", file=path, field=f"{where}.{key}.{canonical}")

    fields_of(hub, "data.hub")
    for key, over in hub.overrides.items():
        lang = key.split(".", 1)[0]
        if lang not in langs:
            raise XRobustError(f"unknown language code {lang!r} (see tasks/languages.yaml; a key is <lang> or "
                               "<lang>.<split>)", file=path, field=f"data.hub.overrides.{key}")
        fields_of(over, f"data.hub.overrides.{key}")
    for key in hub.unavailable:
        lang = key.split(".", 1)[0]
        if lang not in langs:
            raise XRobustError(f"unknown language code {lang!r} (see tasks/languages.yaml; a key is <lang> or "
                               "<lang>.<split>)", file=path, field=f"data.hub.unavailable.{key}")
        if key == lang and lang in hub.overrides:
            raise XRobustError("a language cannot have an override and be unavailable", file=path,
                               field=f"data.hub.unavailable.{key}")


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
