"""Reading the values of a task file: the wording of its errors and the readers of its lists, column maps
and option sections, on :mod:`perturbations.validation`.

Readers raise :class:`~perturbations.validation.Invalid` (message and dotted field); :func:`load_task
<harness.spec.taskspec.load_task>` adds the file. Per-type option sections (``tagging:``, ``qa:``, ``choice:``,
``candidates:`` …) are declared by their task types; a section only counts for (and is only hashed into) tasks
of its own type, but is checked in every task file that has it.
"""

from __future__ import annotations

from typing import Any

from harness import tasktypes
from perturbations.validation import Invalid, Rule, check_known, coerce, read, rules_from_defaults

MUST_BE = "must be {what}, got {type}"
UNKNOWN_FIELD = "unknown field (known: {known})"
MAPPING = Rule(dict)
ANY = Rule()


def _at_least(low: int) -> Rule:
    def check(value: Any) -> int:
        number = coerce(Rule(int), value, MUST_BE)
        if number < low:
            raise Invalid(f"must be at least {low}, got {number}")
        return number

    return Rule(read=check)


POSITIVE = _at_least(1)
NON_NEGATIVE = _at_least(0)
#: integer options that may be 0 although their default is positive (tokens shared by QA windows)
ZERO_ALLOWED = frozenset({"stride"})


def list_fields() -> frozenset[str]:
    """Canonical fields that may be mapped to a LIST of columns (their values are collected in order)."""
    return frozenset(name for t in tasktypes.all_types() for name in t.list_fields)


def str_list(value: Any) -> tuple[str, ...]:
    """A list of strings, or one comma-separated string."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise Invalid(f"must be a list, got {type(value).__name__}")
    for item in value:
        if not isinstance(item, str):
            raise Invalid(f"items must be strings, got {item!r}")
    return tuple(value)


def str_map(value: Any) -> dict[str, str]:
    """A mapping of strings (column names, split names, language codes)."""
    coerce(MAPPING, value, MUST_BE)
    for key, val in value.items():
        if not isinstance(val, str):
            raise Invalid("values must be column names (strings)", str(key))
    return dict(value)


def fields_map(value: Any) -> dict[str, str | list[str]]:
    """Canonical field → column name, or a list of column names for :func:`list_fields`."""
    coerce(MAPPING, value, MUST_BE)
    allowed = list_fields()
    for key, val in value.items():
        if not (isinstance(val, str) or (isinstance(val, list) and val and all(isinstance(v, str) for v in val))):
            raise Invalid("values must be column names (a string, or a list of strings)", str(key))
        if isinstance(val, list) and key not in allowed:
            raise Invalid(f"only {', '.join(sorted(allowed))} may map to a list of columns", str(key))
    return dict(value)


def optional_text(value: Any) -> str | None:
    """A string or null (a commit hash must be quoted: YAML reads ``1234567`` as a number)."""
    if value is not None and not isinstance(value, str):
        raise Invalid(f"must be a string (quote it), got {type(value).__name__}")
    return value


def reasons(value: Any) -> dict[str, str]:
    """Keys (a language, or ``<lang>.<split>``) → a non-empty reason."""
    coerce(MAPPING, value, MUST_BE)
    for key, val in value.items():
        if not isinstance(val, str) or not val.strip():
            raise Invalid("must give the reason as text", str(key))
    return {str(k): v for k, v in value.items()}


def per_language(value: Any, cls: type, rules: dict[str, Rule]) -> dict[str, Any]:
    """Language → an option mapping read as ``cls`` (per-language source overrides)."""
    coerce(MAPPING, value, MUST_BE)
    out = {}
    for lang, section in value.items():
        try:
            out[str(lang)] = read_section(cls, rules, section)
        except Invalid as err:
            raise err.within(str(lang)) from None
    return out


def section_rules(cls: type) -> dict[str, Rule]:
    """Rules of an option dataclass: each value of its default's type (an integer with a positive default must be
    positive, with a zero default at least 0); ``fields`` a column map."""
    rules = rules_from_defaults(cls)
    if "fields" in rules:
        rules["fields"] = Rule(read=fields_map)
    defaults = cls()
    for name, rule in rules.items():
        default = getattr(defaults, name)
        if rule.kind is int and default >= 0:  # lengths, counts and budgets; a negative default (layer -1) is
            rules[name] = NON_NEGATIVE if default == 0 or name in ZERO_ALLOWED else POSITIVE  # an index: any int
    return rules


def read_section(cls: type, rules: dict[str, Rule], value: Any) -> Any:
    """``cls`` built from a mapping: unknown keys first, then each value in the mapping's order."""
    coerce(MAPPING, value, MUST_BE)
    check_known(value, list(rules), UNKNOWN_FIELD)
    kwargs = read(value, rules, MUST_BE)
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise Invalid(str(err)) from None


def section_reader(cls: type, rules: dict[str, Rule] | None = None) -> Rule:
    """A rule reading the option section ``cls``."""
    rules = section_rules(cls) if rules is None else rules
    return Rule(read=lambda value: read_section(cls, rules, value))


def validate_sections(spec: Any, path: Any) -> None:
    """Every type's section checks (each section is checked even in tasks of other types), and the checks of
    the task's own type, in registration order."""
    for task_type in tasktypes.all_types():
        if task_type.section is not None:
            task_type.check_section(spec.section(task_type.section.name), path)
        if task_type.name == spec.type:
            task_type.validate(spec, path)
