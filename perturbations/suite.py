"""Perturbation suites: YAML files of named conditions, each an ordered list of perturbation steps.

Format (``perturbations/suites/<name>.yaml``)::

    seed: 20240611                    # conditions derive their own seed from it and their name
    description: ...
    conditions:
      keyboard:                       # condition name: [a-z0-9_-]
        description: ...
        seed: 7                       # optional: override the derived seed
        variants: 1                   # independent draws, for worst-case evaluation (default 1)
        steps:                        # applied in order
          - keyboard: {rate: 0.1, unit: word, languages: [de, fi]}

Resource folders in step parameters (``unimorph_dir``, ``muse_dir``) are relative to the
``resources_dir`` given to :func:`load_suite`, else to ``$XROBUST_RESOURCES``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import XRobustError
from perturbations.base import REGISTRY, Perturbation
from perturbations.params import ParamError, parse_params

SUITES_DIR = Path(__file__).resolve().parent / "suites"
ALGORITHM_VERSION = "1"  # bump when a perturbation's output for the same inputs changes
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class Condition:
    """One perturbation condition of a suite: steps applied in order to every perturbable field."""

    name: str
    suite: str
    seed: int
    steps: tuple[Perturbation, ...]
    variants: int = 1
    description: str = ""

    def claims(self, lang: str) -> bool:
        """True if at least one step changes ``lang`` (steps that do not claim it are skipped)."""
        return any(step.claims(lang) for step in self.steps)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset().union(*(step.languages for step in self.steps))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "suite": self.suite, "seed": self.seed, "variants": self.variants,
                "version": ALGORITHM_VERSION, "steps": [step.to_dict() for step in self.steps]}

    def signature(self) -> str:
        """Short stable hash of everything the perturbed text depends on (params, seed, resources)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


@dataclass(frozen=True)
class Suite:
    """A loaded suite file."""

    name: str
    path: Path
    seed: int
    conditions: tuple[Condition, ...]
    description: str = ""

    def condition(self, name: str) -> Condition:
        for cond in self.conditions:
            if cond.name == name:
                return cond
        raise XRobustError(f"no condition {name!r} in suite {self.name!r} (have: "
                           f"{', '.join(c.name for c in self.conditions)})", file=self.path, field="conditions")

    def claims(self, lang: str) -> bool:
        return any(c.claims(lang) for c in self.conditions)


def condition_seed(suite_seed: int, name: str) -> int:
    """A condition's default seed: derived from the suite seed and its name, so that conditions are
    independent of each other and of their order in the file."""
    digest = hashlib.blake2b(f"{suite_seed}/{name}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def list_suites() -> list[str]:
    """Names of the shipped suites."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def suite_path(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or os.sep in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise XRobustError("suite file not found", file=path, field="suite")
        return path
    path = SUITES_DIR / f"{text}.yaml"
    if not path.is_file():
        raise XRobustError(f"unknown suite {text!r} (shipped: {', '.join(list_suites())})", field="suite")
    return path


def _mapping(value: Any, path: Path, field: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise XRobustError(f"expected a mapping, got {type(value).__name__}", file=path, field=field)
    for key in value:
        if key not in allowed:
            raise XRobustError(f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})", file=path,
                               field=f"{field}.{key}" if field else str(key))
    return value


def _step(raw: Any, path: Path, field: str, resources: Path | None) -> Perturbation:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise XRobustError("a step is a mapping with one key, the perturbation name: {name: {params}}",
                           file=path, field=field)
    (name, params), = raw.items()
    cls = REGISTRY.get(name)
    if cls is None:
        raise XRobustError(f"unknown perturbation {name!r} (known: {', '.join(sorted(REGISTRY))})",
                           file=path, field=field)
    try:
        return cls(parse_params(cls.Params, params, cls.units), resources_dir=resources)
    except ParamError as err:
        where = f"{field}.{name}" + (f".{err.field}" if err.field else "")
        raise XRobustError(err.message, file=path, field=where) from None


def load_suite(name_or_path: str | Path, *, resources_dir: str | Path | None = None) -> Suite:
    """Load ``perturbations/suites/<name>.yaml`` (or a YAML path), validating every field.

    ``resources_dir`` holds ``unimorph/`` and ``muse/``; when None, ``$XROBUST_RESOURCES`` is used.
    Raises :class:`XRobustError` naming the file and field for any problem.
    """
    path = suite_path(name_or_path)
    env = os.environ.get("XROBUST_RESOURCES")
    resources = Path(resources_dir) if resources_dir else (Path(env) if env else None)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise XRobustError(f"invalid YAML: {err}", file=path) from None
    top = _mapping(raw, path, "", {"name", "description", "seed", "conditions"})
    seed = top.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise XRobustError(f"seed must be an integer, got {seed!r}", file=path, field="seed")
    name = str(top.get("name") or path.stem)
    conds_raw = top.get("conditions")
    if not isinstance(conds_raw, dict) or not conds_raw:
        raise XRobustError("conditions must be a non-empty mapping of name -> condition", file=path,
                           field="conditions")
    conditions = []
    for cname, body in conds_raw.items():
        field = f"conditions.{cname}"
        if not isinstance(cname, str) or not NAME_RE.fullmatch(cname) or cname == "clean":
            raise XRobustError(f"bad condition name {cname!r} (use [a-z0-9_-], not 'clean')", file=path,
                               field=field)
        body = _mapping(body, path, field, {"steps", "variants", "description", "seed"})
        cond_seed = body.get("seed", condition_seed(seed, cname))
        if isinstance(cond_seed, bool) or not isinstance(cond_seed, int):
            raise XRobustError(f"seed must be an integer, got {cond_seed!r}", file=path, field=f"{field}.seed")
        variants = body.get("variants", 1)
        if isinstance(variants, bool) or not isinstance(variants, int) or variants < 1:
            raise XRobustError(f"variants must be an integer >= 1, got {variants!r}", file=path,
                               field=f"{field}.variants")
        steps_raw = body.get("steps")
        if not isinstance(steps_raw, list) or not steps_raw:
            raise XRobustError("steps must be a non-empty list", file=path, field=f"{field}.steps")
        steps = tuple(_step(s, path, f"{field}.steps[{i}]", resources) for i, s in enumerate(steps_raw))
        conditions.append(Condition(name=cname, suite=name, seed=cond_seed, steps=steps, variants=variants,
                                    description=str(body.get("description", ""))))
    return Suite(name=name, path=path, seed=seed, conditions=tuple(conditions),
                 description=str(top.get("description", "")))
