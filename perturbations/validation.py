"""Typed reading of configuration mappings (YAML or flags) with one-line errors.

The one checker behind every typed config of the project: task files and their option sections, perturbation
parameters and fine-tuning settings. A :class:`Rule` says what a value must be (a Python type, a range or a
custom reader) and how a valid value is described; :func:`coerce` checks and converts one value and
:func:`read` a whole mapping. Failures raise :class:`Invalid` carrying the message and the (dotted) field; each
file type keeps its own wording through the ``template`` it passes (``{what}``, ``{type}``, ``{value!r}``),
and its caller adds the file name and raises its own error type.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# how a valid value of each kind is described
WHAT = {bool: "true or false", int: "an integer", float: "a number", str: "a string", tuple: "a list of strings",
        dict: "a mapping"}


class Invalid(ValueError):
    """A value a field cannot take: ``message`` (no file, no field) and the dotted ``field`` it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def within(self, prefix: str) -> Invalid:
        """The same failure, its field nested under ``prefix``."""
        return Invalid(self.message, f"{prefix}.{self.field}" if self.field else prefix)


@dataclass(frozen=True)
class Rule:
    """What one field accepts.

    kind: bool, int, float (ints accepted), str, tuple (a list of strings), dict (a mapping), or None (anything).
    what: the description of a valid value in messages (default: by kind).
    ok: checked on the converted value; a failure reports the converted value.
    read: a custom reader (raises :class:`Invalid`) used instead of ``kind``.
    lone_string: how a single string reads as a tuple: ``split`` (comma-separated items) or ``item``.
    whole_floats: an int rule also accepts floats without a fractional part (``2.0`` → 2).
    string_values: a dict rule requires string values.
    """

    kind: type | None = None
    what: str = ""
    ok: Callable[[Any], bool] | None = None
    read: Callable[[Any], Any] | None = None
    lone_string: str = "split"
    whole_floats: bool = False
    string_values: bool = False

    def describe(self) -> str:
        return self.what or WHAT.get(self.kind, "valid")


def _fail(rule: Rule, value: Any, template: str) -> Invalid:
    return Invalid(template.format(what=rule.describe(), type=type(value).__name__, value=value))


def _convert(rule: Rule, value: Any) -> tuple[bool, Any]:
    kind = rule.kind
    if kind is None:
        return True, value
    if kind is bool:
        return isinstance(value, bool), value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        if isinstance(value, float) and rule.whole_floats:
            return number and value.is_integer(), int(value) if number and value.is_integer() else value
        return number and isinstance(value, int), value
    if kind is float:
        return number, float(value) if number else value
    if kind is str:
        return isinstance(value, str), value
    if kind is tuple:
        if isinstance(value, str):
            items = [value] if rule.lone_string == "item" else [v.strip() for v in value.split(",") if v.strip()]
        else:
            items = value
        good = isinstance(items, (list, tuple)) and all(isinstance(v, str) for v in items)
        return good, tuple(items) if good else value
    if kind is dict:
        good = isinstance(value, dict) and (not rule.string_values or all(isinstance(v, str) for v in value.values()))
        return good, dict(value) if good else value
    raise TypeError(f"unsupported rule kind {kind!r}")  # a programming error


def coerce(rule: Rule, value: Any, template: str = "must be {what}, got {type}") -> Any:
    """``value`` checked and converted by ``rule``; :class:`Invalid` (no field) if it does not fit."""
    if rule.read is not None:
        return rule.read(value)
    good, converted = _convert(rule, value)
    if not good:
        raise _fail(rule, value, template)
    if rule.ok is not None and not rule.ok(converted):
        raise _fail(rule, converted, template)
    return converted


def check_known(raw: Mapping[str, Any], known: list[str] | tuple[str, ...], unknown: str, *,
                sort: bool = True, shown: list[str] | tuple[str, ...] | None = None) -> None:
    """Every key of ``raw`` is in ``known``; else :class:`Invalid` at the first unknown key, worded by ``unknown``
    (``{key!r}``, ``{known}``: ``shown`` or ``known``, sorted unless ``sort`` is false)."""
    names = list(known if shown is None else shown)
    for key in raw:
        if key not in known:
            listed = ", ".join(sorted(names) if sort else names)
            raise Invalid(unknown.format(key=key, known=listed), str(key))


def read(raw: Mapping[str, Any], rules: Mapping[str, Rule], template: str = "must be {what}, got {type}", *,
         unknown: str | None = None, sort_known: bool = True, aliases: Mapping[str, str] | None = None,
         in_rule_order: bool = False) -> dict[str, Any]:
    """The values of ``raw`` checked by ``rules`` (field name → rule), keyed by rule name.

    Keys are read in ``raw``'s order (or in ``rules``' order, skipping absent ones); an unknown key fails when it
    is reached, worded by ``unknown`` (``None``: unknown keys are not checked here). ``aliases`` map accepted
    spellings to rule names; a failure names the key as written."""
    aliases = aliases or {}
    keys = [k for k in rules if k in raw] if in_rule_order else list(raw)
    out: dict[str, Any] = {}
    for key in keys:
        name = aliases.get(key, key)
        if name not in rules:
            if unknown is not None:
                check_known({key: None}, list(rules), unknown, sort=sort_known)
            continue
        try:
            out[name] = coerce(rules[name], raw[key], template)
        except Invalid as err:
            raise err.within(str(key)) from None
    return out


def rules_from_hints(cls: type) -> dict[str, Rule]:
    """A rule per field of dataclass ``cls`` from its type annotations (bool, int, float, str, tuple[str, ...])."""
    hints = typing.get_type_hints(cls)
    rules = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        kind = tuple if typing.get_origin(kind) is tuple else kind
        if kind not in (bool, int, float, str, tuple):
            raise TypeError(f"unsupported parameter type {hints[f.name]!r} for {f.name}")  # a programming error
        rules[f.name] = Rule(kind, lone_string="item")
    return rules


def rules_from_defaults(cls: type) -> dict[str, Rule]:
    """A rule per field of dataclass ``cls`` from the type of its default (a dict default: a mapping of strings;
    a default of another type, e.g. None: anything)."""
    defaults = cls()
    rules = {}
    for f in dataclasses.fields(cls):
        default = getattr(defaults, f.name)
        kind = next((k for k in (bool, int, float, str, tuple, dict) if isinstance(default, k)), None)
        if kind is dict:
            rules[f.name] = Rule(dict, "a mapping of strings", string_values=True)
        else:
            rules[f.name] = Rule(kind)
    return rules
