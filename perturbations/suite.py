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

An *adversarial* condition adds an ``attack`` block; its steps then only name the candidate
generators (families and their parameters; ``rate`` is ignored) and ``harness.attack.search`` searches them
with the model under test (``variants`` must stay 1)::

      greedy:
        attack: {search: greedy, budget: 0.15, max_candidates: 4, max_queries: 1000, until: flip}
        steps:
          - inflection: {languages: [de, fi]}

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

from perturbations.base import REGISTRY, Perturbation, WordPerturbation
from perturbations.errors import PerturbationError
from perturbations.params import ParamError, params_to_dict, parse_params

SUITES_DIR = Path(__file__).resolve().parent / "suites"
ALGORITHM_VERSION = "2"  # bump when a perturbation's output for the same inputs changes
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
SEARCHES = ("greedy", "random")
UNTIL = ("flip", "budget")
QA_SUCCESS = ("f1", "em")
# every built-in task type, in registration order (each declares how it is attacked: harness.tasktypes)
ATTACK_TASK_TYPES = ("pair_classification", "retrieval", "token_classification", "qa", "multiple_choice",
                     "candidate_retrieval")


@dataclass(frozen=True)
class AttackParams:
    """How an adversarial condition searches the candidate edits of its steps.

    search: ``greedy`` (model-guided: each step applies the candidate edit that most lowers the model's score of
    the gold answer: the gold label's log-probability, the gold span's, the gold choice's or target's margin) or
    ``random`` (the same number of edits, drawn uniformly; a same-budget baseline).
    budget: at most this fraction of an example's words is edited (at least one word).
    max_candidates: replacements per word and family (a seeded sample when a family has more).
    max_queries: model calls (texts scored) per example, the clean scoring included.
    until: ``flip`` (stop once the prediction is wrong) or ``budget`` (keep lowering the gold score).
    qa_success: when an extractive QA attack succeeds: ``f1`` (the prediction's token F1 against the gold answers
    drops below 0.5) or ``em`` (an exact match is lost).
    real_word_typos: keep typo candidates that are words of the language (simplemma's dictionary): off by
    default, since a search finds the ones that change the word (de ``mit`` -> ``mir``), not its spelling.
    inflection_prefix: inflection candidates share at least this many initial letters with the word (0: any),
    which drops simplemma's homograph and suppletion noise (ru ``на`` -> ``бальзам``, de ``war`` -> ``seines``).
    """

    search: str = "greedy"
    budget: float = 0.15
    max_candidates: int = 4
    max_queries: int = 1000
    until: str = "flip"
    real_word_typos: bool = False
    inflection_prefix: int = 2
    qa_success: str = "f1"

    def check(self) -> None:
        if self.search not in SEARCHES:
            raise ParamError(f"search must be one of {', '.join(SEARCHES)}, got {self.search!r}", "search")
        if not 0.0 < self.budget <= 1.0:
            raise ParamError(f"budget must be in (0, 1], got {self.budget}", "budget")
        if self.max_candidates < 1:
            raise ParamError(f"max_candidates must be >= 1, got {self.max_candidates}", "max_candidates")
        if self.max_queries < 2:
            raise ParamError(f"max_queries must be >= 2 (the clean scoring is one), got {self.max_queries}",
                             "max_queries")
        if self.until not in UNTIL:
            raise ParamError(f"until must be one of {', '.join(UNTIL)}, got {self.until!r}", "until")
        if self.qa_success not in QA_SUCCESS:
            raise ParamError(f"qa_success must be one of {', '.join(QA_SUCCESS)}, got {self.qa_success!r}",
                             "qa_success")
        if self.inflection_prefix < 0:
            raise ParamError(f"inflection_prefix must be >= 0, got {self.inflection_prefix}", "inflection_prefix")


@dataclass(frozen=True)
class Condition:
    """One perturbation condition of a suite: steps applied in order to every perturbable field."""

    name: str
    suite: str
    seed: int
    steps: tuple[Perturbation, ...]
    variants: int = 1
    description: str = ""
    attack: AttackParams | None = None

    @property
    def adversarial(self) -> bool:
        """True for model-guided conditions (``attack`` block): the runner searches edits with the model."""
        return self.attack is not None

    def applies_to(self, task_type: str) -> bool:
        """Random conditions apply to every task type; attacks to the types in :data:`ATTACK_TASK_TYPES`."""
        return self.attack is None or task_type in ATTACK_TASK_TYPES

    def claims(self, lang: str) -> bool:
        """True if at least one step changes ``lang`` (steps that do not claim it are skipped)."""
        return any(step.claims(lang) for step in self.steps)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset().union(*(step.languages for step in self.steps))

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "suite": self.suite, "seed": self.seed, "variants": self.variants,
               "version": ALGORITHM_VERSION, "steps": [step.to_dict() for step in self.steps]}
        if self.attack is not None:
            out["attack"] = params_to_dict(self.attack)
        return out

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
        raise PerturbationError(f"no condition {name!r} in suite {self.name!r} (have: "
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
            raise PerturbationError("suite file not found", file=path, field="suite")
        return path
    path = SUITES_DIR / f"{text}.yaml"
    if not path.is_file():
        raise PerturbationError(f"unknown suite {text!r} (shipped: {', '.join(list_suites())})", field="suite")
    return path


def _mapping(value: Any, path: Path, field: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PerturbationError(f"expected a mapping, got {type(value).__name__}", file=path, field=field)
    for key in value:
        if key not in allowed:
            raise PerturbationError(f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})", file=path,
                               field=f"{field}.{key}" if field else str(key))
    return value


def _step(raw: Any, path: Path, field: str, resources: Path | None) -> Perturbation:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise PerturbationError("a step is a mapping with one key, the perturbation name: {name: {params}}",
                           file=path, field=field)
    (name, params), = raw.items()
    cls = REGISTRY.get(name)
    if cls is None:
        raise PerturbationError(f"unknown perturbation {name!r} (known: {', '.join(sorted(REGISTRY))})",
                           file=path, field=field)
    try:
        return cls(parse_params(cls.Params, params, cls.units), resources_dir=resources)
    except ParamError as err:
        where = f"{field}.{name}" + (f".{err.field}" if err.field else "")
        raise PerturbationError(err.message, file=path, field=where) from None


def _attack(raw: Any, path: Path, field: str, steps: tuple[Perturbation, ...], variants: int) -> AttackParams:
    try:
        params = parse_params(AttackParams, raw, ())
        params.check()
    except ParamError as err:
        where = f"{field}.attack" + (f".{err.field}" if err.field else "")
        raise PerturbationError(err.message, file=path, field=where) from None
    if variants != 1:
        raise PerturbationError("an attack is deterministic: variants must be 1", file=path, field=f"{field}.variants")
    for i, step in enumerate(steps):
        if not isinstance(step, WordPerturbation) or step.params.unit != "word":
            raise PerturbationError(f"attack candidates are word edits: {step.name} with unit {step.params.unit!r} "
                               "cannot be searched (use unit: word)", file=path, field=f"{field}.steps[{i}]")
    return params


def load_suite(name_or_path: str | Path, *, resources_dir: str | Path | None = None) -> Suite:
    """Load ``perturbations/suites/<name>.yaml`` (or a YAML path), validating every field.

    ``resources_dir`` holds ``unimorph/`` and ``muse/``; when None, ``$XROBUST_RESOURCES`` is used.
    Raises :class:`PerturbationError` naming the file and field for any problem.
    """
    path = suite_path(name_or_path)
    env = os.environ.get("XROBUST_RESOURCES")
    resources = Path(resources_dir) if resources_dir else (Path(env) if env else None)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise PerturbationError(f"invalid YAML: {err}", file=path) from None
    top = _mapping(raw, path, "", {"name", "description", "seed", "conditions"})
    seed = top.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise PerturbationError(f"seed must be an integer, got {seed!r}", file=path, field="seed")
    name = str(top.get("name") or path.stem)
    conds_raw = top.get("conditions")
    if not isinstance(conds_raw, dict) or not conds_raw:
        raise PerturbationError("conditions must be a non-empty mapping of name -> condition", file=path,
                           field="conditions")
    conditions = []
    for cname, body in conds_raw.items():
        field = f"conditions.{cname}"
        if not isinstance(cname, str) or not NAME_RE.fullmatch(cname) or cname == "clean":
            raise PerturbationError(f"bad condition name {cname!r} (use [a-z0-9_-], not 'clean')", file=path,
                               field=field)
        body = _mapping(body, path, field, {"steps", "variants", "description", "seed", "attack"})
        cond_seed = body.get("seed", condition_seed(seed, cname))
        if isinstance(cond_seed, bool) or not isinstance(cond_seed, int):
            raise PerturbationError(f"seed must be an integer, got {cond_seed!r}", file=path, field=f"{field}.seed")
        variants = body.get("variants", 1)
        if isinstance(variants, bool) or not isinstance(variants, int) or variants < 1:
            raise PerturbationError(f"variants must be an integer >= 1, got {variants!r}", file=path,
                               field=f"{field}.variants")
        steps_raw = body.get("steps")
        if not isinstance(steps_raw, list) or not steps_raw:
            raise PerturbationError("steps must be a non-empty list", file=path, field=f"{field}.steps")
        steps = tuple(_step(s, path, f"{field}.steps[{i}]", resources) for i, s in enumerate(steps_raw))
        attack = _attack(body["attack"], path, field, steps, variants) if "attack" in body else None
        conditions.append(Condition(name=cname, suite=name, seed=cond_seed, steps=steps, variants=variants,
                                    description=str(body.get("description", "")), attack=attack))
    return Suite(name=name, path=path, seed=seed, conditions=tuple(conditions),
                 description=str(top.get("description", "")))
