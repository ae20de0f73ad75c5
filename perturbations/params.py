"""Typed parsing of perturbation parameters from suite YAML into frozen dataclasses (checked by
:mod:`perturbations.validation`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from perturbations.validation import Invalid, read, rules_from_hints


class ParamError(Exception):
    """A bad parameter value; ``field`` is the parameter name (the suite loader adds the YAML path)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclasses.dataclass(frozen=True)
class BaseParams:
    """Parameters every perturbation accepts.

    rate: probability of editing each eligible unit (a word, or a character when ``unit: char``).
    unit: ``word`` or ``char`` (character rates exist for the typo family only).
    languages: restrict the languages claimed (empty: every language the perturbation supports).
    """

    rate: float = 0.1
    unit: str = "word"
    languages: tuple[str, ...] = ()


EXPECTED = "expected {what}, got {value!r}"
UNKNOWN = "unknown parameter {key!r} (known: {known})"


def parse_params(cls: type, raw: dict[str, Any] | None, units: tuple[str, ...]) -> Any:
    """Build ``cls`` (a frozen params dataclass) from a YAML mapping, checking names, types and ranges."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ParamError(f"expected a mapping of parameters, got {type(raw).__name__}")
    try:
        values = read(raw, rules_from_hints(cls), EXPECTED, unknown=UNKNOWN, sort_known=False)
    except Invalid as err:
        raise ParamError(err.message, err.field) from None
    params = cls(**values)
    rate = getattr(params, "rate", None)
    if rate is not None and not 0.0 < rate <= 1.0:
        raise ParamError(f"rate must be in (0, 1], got {rate}", "rate")
    unit = getattr(params, "unit", None)
    if unit is not None and unit not in units:
        raise ParamError(f"unit must be one of {', '.join(units)}, got {unit!r}", "unit")
    return params


def params_to_dict(params: Any) -> dict[str, Any]:
    """JSON-ready dict of a params dataclass (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(params).items()}


def resolve_dir(resources_dir: Path | None, value: str, field: str) -> Path:
    """A resource folder parameter: absolute, or relative to ``resources_dir``; must exist."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        if resources_dir is None:
            raise ParamError(f"{value!r} is relative but no resources_dir was given (pass resources_dir= / "
                             "--resources, or set XROBUST_RESOURCES)", field)
        path = Path(resources_dir) / path
    if not path.is_dir():
        raise ParamError(f"resource folder not found: {path}", field)
    return path
