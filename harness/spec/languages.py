"""Language metadata (``tasks/languages.yaml``) and language slices for sliced leaderboards.

A slice is a structured filter, never an evaluated string::

    {field: resource_class, op: "<=", value: 2}
    {all: [expr, ...]} | {any: [expr, ...]} | {not: expr}

Every problem raises :class:`harness.errors.XRobustError` naming the file and the offending field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import XRobustError, yaml_error

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "tasks" / "languages.yaml"

REQUIRED = ("iso639_3", "name", "family", "script", "morph_type", "resource_class")
OPTIONAL = ("genus", "uncertain", "notes")
MORPH_TYPES = ("isolating", "fusional", "agglutinative", "introflexive", "polysynthetic")
FIELDS = ("iso", *REQUIRED, "genus")  # what slices may filter on
_NUMERIC = ("resource_class",)
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
OPS = ("==", "!=", *_ORDER_OPS, "in", "not in")


@dataclass(frozen=True)
class Language:
    """One row of ``languages.yaml``."""

    iso: str
    iso639_3: str
    name: str
    family: str
    script: str
    morph_type: str
    resource_class: int
    genus: str = ""
    uncertain: tuple[str, ...] = ()
    notes: str = ""

    def get(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True)
class LanguageTable:
    """All languages (in file order) and the validated slice expressions."""

    path: Path
    languages: dict[str, Language]
    slices: dict[str, Any] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)

    def __contains__(self, iso: object) -> bool:
        return iso in self.languages

    def __getitem__(self, iso: str) -> Language:
        if iso not in self.languages:
            raise XRobustError(f"unknown language code {iso!r}", file=self.path, field="languages")
        return self.languages[iso]

    def codes(self) -> list[str]:
        return list(self.languages)

    def select(self, slice_name: str) -> list[str]:
        """ISO 639-1 codes in slice ``slice_name``, in file order."""
        if slice_name not in self.slices:
            known = ", ".join(self.slices) or "none"
            raise XRobustError(
                f"unknown slice {slice_name!r} (known: {known})", file=self.path, field="slices"
            )
        expr = self.slices[slice_name]
        return [iso for iso, lang in self.languages.items() if _matches(expr, lang)]


def _matches(expr: dict, lang: Language) -> bool:
    if "all" in expr:
        return all(_matches(e, lang) for e in expr["all"])
    if "any" in expr:
        return any(_matches(e, lang) for e in expr["any"])
    if "not" in expr:
        return not _matches(expr["not"], lang)
    actual, op, value = lang.get(expr["field"]), expr["op"], expr["value"]
    if op == "==":
        return actual == value
    if op == "!=":
        return actual != value
    if op == "in":
        return actual in value
    if op == "not in":
        return actual not in value
    return _ORDER_OPS[op](actual, value)


def _check_expr(expr: Any, path: Path, where: str) -> None:
    """Validate one slice expression; ``where`` is its dotted location for error messages."""
    if not isinstance(expr, dict) or not expr:
        raise XRobustError("must be a mapping: {field, op, value} or all/any/not", file=path, field=where)
    combinators = [k for k in ("all", "any", "not") if k in expr]
    if combinators:
        key = combinators[0]
        if len(expr) != 1:
            raise XRobustError(f"'{key}' must be the only key", file=path, field=where)
        if key == "not":
            _check_expr(expr["not"], path, f"{where}.not")
            return
        items = expr[key]
        if not isinstance(items, list) or not items:
            raise XRobustError(f"'{key}' needs a non-empty list", file=path, field=f"{where}.{key}")
        for i, sub in enumerate(items):
            _check_expr(sub, path, f"{where}.{key}[{i}]")
        return
    extra = set(expr) - {"field", "op", "value"}
    if extra:
        raise XRobustError(f"unknown key(s) {', '.join(sorted(map(str, extra)))}", file=path, field=where)
    for key in ("field", "op", "value"):
        if key not in expr:
            raise XRobustError(f"missing '{key}'", file=path, field=where)
    name, op, value = expr["field"], expr["op"], expr["value"]
    if name not in FIELDS:
        raise XRobustError(
            f"unknown field {name!r} (known: {', '.join(FIELDS)})", file=path, field=f"{where}.field"
        )
    if op not in OPS:
        raise XRobustError(f"unknown op {op!r} (known: {', '.join(OPS)})", file=path, field=f"{where}.op")
    if op in ("in", "not in"):
        if not isinstance(value, list):
            raise XRobustError(f"op {op!r} needs a list value", file=path, field=f"{where}.value")
    elif op in _ORDER_OPS and name not in _NUMERIC:
        raise XRobustError(f"op {op!r} only applies to {', '.join(_NUMERIC)}", file=path, field=f"{where}.op")
    elif name in _NUMERIC and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise XRobustError(f"{name} compares with a number, got {value!r}", file=path, field=f"{where}.value")


def _check_language(iso: Any, row: Any, path: Path) -> Language:
    where = f"languages.{iso}"
    if not isinstance(iso, str) or not re.fullmatch(r"[a-z]{2}", iso):
        raise XRobustError(f"key {iso!r} is not an ISO 639-1 code", file=path, field=where)
    if not isinstance(row, dict):
        raise XRobustError("must be a mapping of fields", file=path, field=where)
    for key in REQUIRED:
        if row.get(key) in (None, ""):
            raise XRobustError("missing required field", file=path, field=f"{where}.{key}")
    unknown = set(row) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise XRobustError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}", file=path, field=where)
    checks = {
        "iso639_3": (re.fullmatch(r"[a-z]{3}", str(row["iso639_3"])), "must be 3 lowercase letters"),
        "script": (re.fullmatch(r"[A-Z][a-z]{3}", str(row["script"])), "must be an ISO 15924 code like Latn"),
        "morph_type": (row["morph_type"] in MORPH_TYPES, f"must be one of {', '.join(MORPH_TYPES)}"),
        "resource_class": (
            isinstance(row["resource_class"], int)
            and not isinstance(row["resource_class"], bool)
            and 0 <= row["resource_class"] <= 5,
            "must be an integer 0-5 (Joshi et al. 2020)",
        ),
    }
    for key, (ok, message) in checks.items():
        if not ok:
            raise XRobustError(f"{message}, got {row[key]!r}", file=path, field=f"{where}.{key}")
    uncertain = row.get("uncertain", [])
    if uncertain is True:
        uncertain = list(REQUIRED)
    elif uncertain is False:
        uncertain = []
    if not isinstance(uncertain, list) or any(u not in REQUIRED + ("genus",) for u in uncertain):
        raise XRobustError("must be a list of field names (or true)", file=path, field=f"{where}.uncertain")
    return Language(
        iso=iso,
        iso639_3=str(row["iso639_3"]),
        name=str(row["name"]),
        family=str(row["family"]),
        script=str(row["script"]),
        morph_type=str(row["morph_type"]),
        resource_class=int(row["resource_class"]),
        genus=str(row.get("genus", "")),
        uncertain=tuple(uncertain),
        notes=str(row.get("notes", "")),
    )


def parse_languages(data: Any, path: str | Path = "<languages>") -> LanguageTable:
    """Validate parsed YAML (``{sources?, languages, slices?}``) into a :class:`LanguageTable`."""
    path = Path(path)
    if not isinstance(data, dict) or not isinstance(data.get("languages"), dict) or not data["languages"]:
        raise XRobustError("needs a non-empty 'languages' mapping", file=path, field="languages")
    unknown = set(data) - {"sources", "languages", "slices"}
    if unknown:
        raise XRobustError(f"unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}", file=path)
    languages = {iso: _check_language(iso, row, path) for iso, row in data["languages"].items()}
    raw_slices = data.get("slices") or {}
    if not isinstance(raw_slices, dict):
        raise XRobustError("must be a mapping of slice name to {where: ...}", file=path, field="slices")
    slices, descriptions = {}, {}
    for name, spec in raw_slices.items():
        where = f"slices.{name}"
        if not isinstance(spec, dict) or "where" not in spec or set(spec) - {"where", "description"}:
            raise XRobustError("must be {where: expr, description?: text}", file=path, field=where)
        _check_expr(spec["where"], path, f"{where}.where")
        slices[str(name)] = spec["where"]
        descriptions[str(name)] = str(spec.get("description", ""))
    return LanguageTable(path=path, languages=languages, slices=slices, descriptions=descriptions)


_CACHE: dict[tuple[str, float], LanguageTable] = {}


def load_languages(path: str | Path | None = None) -> LanguageTable:
    """Load and validate ``languages.yaml`` (default: the one shipped in ``tasks/``); cached per mtime."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        key = (str(path.resolve()), path.stat().st_mtime)
    except OSError as err:
        raise XRobustError(f"cannot read language table: {err.strerror}", file=path) from None
    if key not in _CACHE:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise yaml_error(err, path) from None
        _CACHE[key] = parse_languages(data, path)
    return _CACHE[key]


def select(slice_name: str, path: str | Path | None = None) -> list[str]:
    """ISO 639-1 codes of the languages in ``slice_name``."""
    return load_languages(path).select(slice_name)
