"""The grid file (``xrobust grid GRID.yaml``): models, tasks, suites, attacks, fine-tune recipes and the report.

::

    out: ../experiments/zero-shot        # jobs write models/, runs/, jobs/, site/ here
    data_dir: ../../shared/data          # paths are relative to this file; ~ is expanded
    tasks:
      udpos: {langs: [en, fi, tr]}       # a built-in task name or a task YAML path
      tydiqa: {langs: [ko], split: train, training: {max_length: 256}}
    suites: [typos, inflection]
    attacks: [adversarial]               # suites with attack conditions, evaluated after the others
    models:
      xlmr: {model: xlm-roberta-base}    # a hub id or a checkpoint directory, evaluated as it is
      e5 robust:                         # fine-tuned per task (and seed), then evaluated
        finetune: {base: offline-e5, augment: mixed, intermediate: {tydiqa: mlqa:validation}}
    finetune: {seeds: [1], training: {max_steps: 120}}   # defaults of every recipe
    eval: {limit: 200}
    report: {title: ..., resamples: 10000}

Every key is checked: an unknown key or a wrong type is one line naming the file and the field (exit 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import XRobustError

TRAINING_KEYS = ("learning_rate", "epochs", "batch_size", "max_steps", "max_length", "warmup_ratio",
                 "weight_decay", "lr_scheduler", "max_grad_norm")
OFFLINE_E5 = "offline-e5"  # xrobust's rebuilt multilingual-e5-small (``xrobust models offline-e5``)


@dataclass(frozen=True)
class TaskEntry:
    ref: str  # built-in name or absolute task YAML path
    langs: tuple[str, ...] = ()  # empty: the task's languages
    split: str | None = None  # evaluation split (default: the task's)
    train_split: str | None = None
    train_langs: tuple[str, ...] = ()
    train_limit: str | None = None
    training: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    """A fine-tune recipe: base model, intermediate chain per task, augmentation, seeds, hyper-parameters
    (the grid's defaults, then the task's ``training``, then the recipe's own; the seed comes from ``seeds``)."""

    base: str
    intermediate: dict[str, tuple[str, ...]]  # task ref (or "*") -> TASK[:SPLIT] stages
    augment: str | None = None
    augment_copies: int = 1
    seeds: tuple[int, ...] = (1,)
    train_limit: str | None = None
    training: dict[str, Any] = field(default_factory=dict)  # the recipe's own (over the task's)
    defaults: dict[str, Any] = field(default_factory=dict)  # the grid's `finetune.training` (under the task's)

    def chain(self, task: str) -> list[str]:
        return list(self.intermediate.get(task, self.intermediate.get("*", ())))


@dataclass(frozen=True)
class ModelEntry:
    name: str  # the submission name in the report
    slug: str  # directory names
    model: str | None = None  # evaluated as it is
    revision: str | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    recipe: Recipe | None = None


@dataclass(frozen=True)
class ReportEntry:
    enabled: bool = True
    out: Path | None = None  # default OUT/site
    title: str = "xrobust leaderboard"
    baseline: str | None = None
    resamples: int = 2000
    alpha: float = 0.05
    correction: str = "holm"
    examples: int = 12


@dataclass(frozen=True)
class GridSpec:
    path: Path
    out: Path
    tasks: dict[str, TaskEntry]
    models: tuple[ModelEntry, ...]
    suites: tuple[str, ...] = ()
    attacks: tuple[str, ...] = ()
    data_dir: Path | None = None
    resources: Path | None = None
    limit: int | None = None
    report: ReportEntry = field(default_factory=ReportEntry)

    @property
    def site(self) -> Path:
        return self.report.out or self.out / "site"


class _Reader:
    """Typed access to the raw YAML with one-line errors naming the grid file and the field."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, field_name: str, message: str) -> XRobustError:
        return XRobustError(message, file=self.file, field=field_name)

    def mapping(self, raw: Any, name: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise self.fail(name or "grid", f"expected a mapping, got {type(raw).__name__}")
        unknown = sorted(str(k) for k in raw if k not in allowed)
        if unknown:
            raise self.fail(f"{name}.{unknown[0]}" if name else unknown[0],
                            f"unknown key (allowed: {', '.join(sorted(allowed))})")
        missing = sorted(required - set(raw))
        if missing:
            raise self.fail(f"{name}.{missing[0]}" if name else missing[0], "required")
        return raw

    def text(self, raw: Any, name: str, *, optional: bool = True) -> str | None:
        if raw is None and optional:
            return None
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise self.fail(name, f"expected a string, got {type(raw).__name__}")
        return str(raw)

    def texts(self, raw: Any, name: str) -> tuple[str, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            raise self.fail(name, f"expected a list, got {type(raw).__name__}")
        return tuple(self.text(v, f"{name}[{i}]", optional=False) for i, v in enumerate(raw))  # type: ignore[misc]

    def integer(self, raw: Any, name: str, *, minimum: int = 1) -> int | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
            raise self.fail(name, f"expected an integer >= {minimum}, got {raw!r}")
        return raw

    def path(self, raw: Any, name: str) -> Path | None:
        value = self.text(raw, name)
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.file.parent / path).resolve()

    def model_ref(self, raw: Any, name: str) -> str:
        """A hub id stays as written; a path (absolute, ~, ./, or existing next to the grid file) is resolved;
        ``offline-e5`` is xrobust's rebuilt multilingual-e5-small."""
        value = self.text(raw, name, optional=False)
        assert value is not None
        if value == OFFLINE_E5:
            return value
        expanded = Path(value).expanduser()
        near = expanded if expanded.is_absolute() else self.file.parent / expanded
        if value.startswith(("/", "~", ".")) or near.exists():
            return str(near.resolve())
        return value

    def training(self, raw: Any, name: str) -> dict[str, Any]:
        data = self.mapping(raw, name, set(TRAINING_KEYS))
        for key, value in data.items():
            if key == "lr_scheduler":
                if value not in ("linear", "constant", "cosine"):
                    raise self.fail(f"{name}.{key}", f"expected linear, constant or cosine, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(f"{name}.{key}", f"expected a number, got {value!r}")
        return dict(data)

    def task_ref(self, raw: str) -> str:
        if raw.endswith((".yaml", ".yml")):
            path = Path(raw).expanduser()
            return str(path if path.is_absolute() else (self.file.parent / path).resolve())
        return raw


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "model"


def _recipe(r: _Reader, raw: Any, name: str, defaults: dict) -> Recipe:
    data = r.mapping(raw, name, {"base", "intermediate", "augment", "augment_copies", "seeds", "train_limit",
                                 "training"}, {"base"})
    chain_raw = data.get("intermediate")
    if isinstance(chain_raw, dict):
        chain = {r.task_ref(str(k)): r.texts(v, f"{name}.intermediate.{k}") for k, v in chain_raw.items()}
    else:
        chain = {"*": r.texts(chain_raw, f"{name}.intermediate")}
    seeds_raw = data.get("seeds", defaults.get("seeds", [1]))
    if not isinstance(seeds_raw, list) or not seeds_raw:
        raise r.fail(f"{name}.seeds", f"expected a non-empty list of integers, got {seeds_raw!r}")
    seeds = tuple(r.integer(s, f"{name}.seeds[{i}]", minimum=0) for i, s in enumerate(seeds_raw))
    if len(set(seeds)) != len(seeds):
        raise r.fail(f"{name}.seeds", "seeds repeat")
    copies = r.integer(data.get("augment_copies", 1), f"{name}.augment_copies")
    limit = data.get("train_limit", defaults.get("train_limit"))
    return Recipe(base=r.model_ref(data["base"], f"{name}.base"), intermediate=chain,
                  augment=r.text(data.get("augment"), f"{name}.augment"), augment_copies=copies or 1,
                  seeds=seeds, train_limit=None if limit is None else str(limit),  # type: ignore[arg-type]
                  training=r.training(data.get("training"), f"{name}.training"),
                  defaults=dict(defaults.get("training", {})))


def _models(r: _Reader, raw: Any, defaults: dict) -> tuple[ModelEntry, ...]:
    if not isinstance(raw, dict) or not raw:
        raise r.fail("models", "expected a non-empty mapping of submission name -> model or fine-tune recipe")
    out, slugs = [], {}
    for name, entry in raw.items():
        where = f"models.{name}"
        data = r.mapping(entry, where, {"model", "finetune", "revision", "label_map", "slug"})
        if ("model" in data) == ("finetune" in data):
            raise r.fail(where, "give exactly one of `model` (evaluated as it is) and `finetune` (a recipe)")
        slug = slugify(r.text(data.get("slug"), f"{where}.slug") or str(name))
        if slug in slugs:
            raise r.fail(where, f"its directory name {slug!r} is also that of {slugs[slug]!r}; set `slug`")
        slugs[slug] = name
        labels = r.mapping(data.get("label_map"), f"{where}.label_map", set(data.get("label_map") or {}))
        out.append(ModelEntry(
            name=str(name), slug=slug, revision=r.text(data.get("revision"), f"{where}.revision"),
            model=r.model_ref(data["model"], f"{where}.model") if "model" in data else None,
            label_map={str(k): str(v) for k, v in labels.items()},
            recipe=_recipe(r, data["finetune"], f"{where}.finetune", defaults) if "finetune" in data else None))
    return tuple(out)


def _tasks(r: _Reader, raw: Any) -> dict[str, TaskEntry]:
    if isinstance(raw, list):
        raw = {str(t): None for t in raw}
    if not isinstance(raw, dict) or not raw:
        raise r.fail("tasks", "expected a non-empty mapping of task -> {langs, split, …} (or a list of tasks)")
    out = {}
    for name, entry in raw.items():
        where = f"tasks.{name}"
        data = r.mapping(entry, where, {"langs", "split", "train_split", "train_langs", "train_limit", "training"})
        limit = data.get("train_limit")
        ref = r.task_ref(str(name))
        out[ref] = TaskEntry(ref=ref, langs=r.texts(data.get("langs"), f"{where}.langs"),
                             split=r.text(data.get("split"), f"{where}.split"),
                             train_split=r.text(data.get("train_split"), f"{where}.train_split"),
                             train_langs=r.texts(data.get("train_langs"), f"{where}.train_langs"),
                             train_limit=None if limit is None else str(limit),
                             training=r.training(data.get("training"), f"{where}.training"))
    return out


def _report(r: _Reader, raw: Any) -> ReportEntry:
    if raw is False:
        return ReportEntry(enabled=False)
    data = r.mapping(raw, "report", {"out", "title", "baseline", "resamples", "alpha", "correction", "examples"})
    correction = data.get("correction", "holm")
    if correction not in ("holm", "bh", "none"):
        raise r.fail("report.correction", f"expected holm, bh or none, got {correction!r}")
    alpha = data.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise r.fail("report.alpha", f"expected a number between 0 and 1, got {alpha!r}")
    return ReportEntry(out=r.path(data.get("out"), "report.out"),
                       title=r.text(data.get("title"), "report.title") or ReportEntry.title,
                       baseline=r.text(data.get("baseline"), "report.baseline"),
                       resamples=r.integer(data.get("resamples"), "report.resamples") or ReportEntry.resamples,
                       alpha=float(alpha), correction=correction,
                       examples=r.integer(data.get("examples"), "report.examples", minimum=0) or ReportEntry.examples)


def apply_overrides(raw: dict, overrides: list[str], path: Path) -> dict:
    """``--set KEY.PATH=VALUE`` (VALUE read as YAML) into the raw grid mapping."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise XRobustError(f"expected KEY.PATH=VALUE, got {item!r}", field="--set")
        parts = key.strip().split(".")
        node = raw
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        try:
            node[parts[-1]] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise XRobustError(f"{key}: value is not YAML ({err})", file=path, field="--set") from None
    return raw


def load_grid(path: str | Path, overrides: list[str] | None = None) -> GridSpec:
    """Read and check a grid file (after ``--set`` overrides)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise XRobustError(f"cannot read grid file ({err.strerror})", file=path) from None
    except yaml.YAMLError as err:
        raise XRobustError(f"invalid YAML: {' '.join(str(err).split())}", file=path) from None
    r = _Reader(path.resolve())
    if not isinstance(raw, dict):
        raise r.fail("grid", f"expected a mapping, got {type(raw).__name__}")
    raw = r.mapping(apply_overrides(raw, overrides or [], path), "", {
        "out", "data_dir", "resources", "tasks", "models", "suites", "attacks", "finetune", "eval", "report"},
        {"out", "tasks", "models"})
    defaults = r.mapping(raw.get("finetune"), "finetune", {"seeds", "training", "train_limit"})
    defaults = {**defaults, "training": r.training(defaults.get("training"), "finetune.training")}
    evaluation = r.mapping(raw.get("eval"), "eval", {"limit"})
    return GridSpec(path=r.file, out=r.path(raw["out"], "out"), tasks=_tasks(r, raw["tasks"]),  # type: ignore[arg-type]
                    models=_models(r, raw["models"], defaults), suites=r.texts(raw.get("suites"), "suites"),
                    attacks=r.texts(raw.get("attacks"), "attacks"), data_dir=r.path(raw.get("data_dir"), "data_dir"),
                    resources=r.path(raw.get("resources"), "resources"),
                    limit=r.integer(evaluation.get("limit"), "eval.limit"), report=_report(r, raw.get("report")))
