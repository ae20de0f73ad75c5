"""Systems: a set of fine-tuning seeds of one recipe, each seed a (possibly per-task merged) submission.

How run directories become systems (:func:`group_systems`):

* the system of a run is its ``submission.system`` (``xrobust run|import --system NAME``), else its submission
  name (``xrobust run --name``);
* the seed of a run is the training seed on the model card of the evaluated checkpoint
  (``<model_path>/xrobust-card.json``: ``seed``, else ``training.seed``), else ``submission.train_seed``
  (``xrobust run --train-seed N``, or copied from the card when the run was made: :func:`run_metadata`), else
  ``submission.params.seed`` (``xrobust import --param seed=N``);
* runs of one system with two or more different seeds are its seed runs: the runs of one seed are merged
  per task (:func:`harness.stats.runs.merge_per_task`), and per task every seed must come from the same recipe
  (:func:`recipe_digest` of the cards where they are readable, else ``submission.recipe``) — a one-line error
  otherwise;
* anything else (one run, no known seed, or every run the same seed) stays as before: runs merged per task,
  and same-name runs that cannot be merged kept apart as ``name (2)`` …, each a one-seed system.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import XRobustError
from harness.stats.runs import Submission, merge_per_task, unique_names

CARD_FILE = "xrobust-card.json"

#: What a card's ``training`` block records about the outcome of training rather than its recipe.
OUTCOME_KEYS = frozenset({"seed", "steps", "epochs_done", "train_loss", "loss_log", "runtime_s", "device",
                          "sources", "selection"})


@dataclass
class System:
    """One row of a report: the seed runs of one recipe (``runs[i]`` was trained with seed ``seeds[i]``)."""

    name: str
    seeds: list[str]
    runs: list[Submission]
    recipes: dict[str, str] = field(default_factory=dict)  # task → recipe digest, where cards were readable

    @property
    def n_seeds(self) -> int:
        return len(self.runs)

    @property
    def first(self) -> Submission:
        return self.runs[0]

    @classmethod
    def single(cls, sub: Submission, seed: str | None = None) -> System:
        return cls(sub.name, [seed or ""], [sub])


def card_in(directory: str | Path) -> dict[str, Any] | None:
    """The model card ``directory/xrobust-card.json``, None when there is none; an unreadable one (not JSON,
    not an object) is a one-line error naming it."""
    path = Path(str(directory)) / CARD_FILE
    try:
        if not path.is_file():
            return None
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise XRobustError("unreadable model card", file=path) from None
    if not isinstance(card, dict):
        raise XRobustError("a model card must be a JSON object", file=path)
    return card


def read_card(sub: Submission) -> dict[str, Any] | None:
    """The model card of the checkpoint a run evaluated, when its directory is still readable."""
    for ref in (sub.meta.get("model_path"), sub.meta.get("model")):
        if ref:
            card = card_in(ref)
            if card is not None:
                return card
    return None


def card_seed(card: dict[str, Any]) -> Any:
    """The training seed a card records (``seed``, else ``training.seed``), None when it records none."""
    training = card.get("training")
    return card.get("seed", training.get("seed") if isinstance(training, dict) else None)


def training_seed(sub: Submission, card: dict[str, Any] | None = None) -> str | None:
    """The training seed of a run (module docstring), as text; None when unknown."""
    card = card if card is not None else read_card(sub)
    if card:
        seed = card_seed(card)
        if seed is not None:
            return str(seed)
    for value in (sub.meta.get("train_seed"), (sub.meta.get("params") or {}).get("seed")):
        if value not in (None, ""):
            return str(value)
    return None


def recipe(card: dict[str, Any]) -> dict[str, Any]:
    """What a card says about how a checkpoint was made, minus the seed and the outcome of training."""
    def stage(entry: dict[str, Any]) -> dict[str, Any]:
        data = entry.get("data") or {}
        aug = entry.get("augmentation") or {}
        return {"task": entry.get("task"), "task_config": entry.get("task_config"), "head": entry.get("head"),
                "labels": entry.get("labels"),
                "data": {k: data.get(k) for k in ("split", "languages", "limits", "ids_sha256")},
                "augmentation": {k: aug.get(k) for k in ("suite", "copies", "fields", "n_original")} if aug else None,
                "training": {k: v for k, v in sorted((entry.get("training") or {}).items()) if k not in OUTCOME_KEYS}}

    stages = card.get("stages") or [card]
    selection = card.get("selection") or {}
    return {"base": (card.get("base_model") or {}).get("weights_sha256"), "stages": [stage(s) for s in stages],
            "selection": {k: selection.get(k) for k in ("select_on", "eval_steps", "dev")}
            if selection.get("select_on") == "dev" else {}}


def recipe_digest(card: dict[str, Any]) -> str:
    """sha256 (16 hex) of :func:`recipe`: equal for the seed runs of one recipe."""
    blob = json.dumps(recipe(card), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


SEED_KEYS = ("system", "train_seed", "recipe")  # the submission keys :func:`run_metadata` fills


def run_metadata(model_dir: str | Path | None, given: dict[str, Any], old: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """``system``, ``train_seed`` and ``recipe`` for the submission of a run of ``model_dir`` (None: a hub model).

    Where the checkpoint has a model card its seed and :func:`recipe_digest` are copied, so that reports still
    tell its seed and recipe when the checkpoint is later moved or deleted; a ``train_seed`` or ``recipe`` given
    that contradicts the card is a one-line error. Otherwise they are taken from ``given`` (``--train-seed``,
    ``--recipe``), else kept from the run directory's ``old`` submission; ``system`` likewise."""
    out = {k: given[k] for k in SEED_KEYS if given.get(k) not in (None, "")}
    card = card_in(model_dir) if model_dir is not None and Path(model_dir).is_dir() else None
    if card is not None:
        path = Path(model_dir) / CARD_FILE  # type: ignore[arg-type]
        try:
            seed, digest = card_seed(card), recipe_digest(card)
        except (AttributeError, TypeError):
            raise XRobustError("the model card does not describe a recipe (stages, training)", file=path,
                               field="stages") from None
        if seed is not None:
            if "train_seed" in out and str(out["train_seed"]) != str(seed):
                raise XRobustError(f"--train-seed {out['train_seed']} contradicts the model card's seed {seed}",
                                   file=path, field="seed")
            out["train_seed"] = seed
        if "recipe" in out and out["recipe"] != digest:
            raise XRobustError(f"--recipe {out['recipe']!r} contradicts the model card's recipe {digest} "
                               "(--recipe is for checkpoints without a card)", file=path, field="recipe")
        out["recipe"] = digest
    for key in SEED_KEYS:
        if key not in out and old and old.get(key) not in (None, ""):
            out[key] = old[key]
    return out


def system_name(sub: Submission) -> str:
    """The system a run belongs to: ``submission.system``, else its name."""
    return str(sub.meta.get("system") or sub.name)


def _seed_order(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _seeded_system(name: str, group: list[Submission], seeds: list[str],
                   cards: list[dict[str, Any] | None]) -> System:
    recipes: dict[str, tuple[str, Path]] = {}
    for sub, card in zip(group, cards, strict=True):
        digest = recipe_digest(card) if card is not None else sub.meta.get("recipe")
        if not digest:
            continue
        for task in sorted(sub.tasks) or [str((card or {}).get("task"))]:
            if task in recipes and recipes[task][0] != digest:
                raise XRobustError(f"system {name!r}: the seed runs of task {task} come from different recipes "
                                   f"(model cards differ beyond the seed; also {recipes[task][1]})",
                                   file=sub.run_dir, field="submission.name")
            recipes.setdefault(task, (digest, sub.run_dir))
    runs, labels = [], []
    for label in sorted(set(seeds), key=_seed_order):
        members = [s for s, seed in zip(group, seeds, strict=True) if seed == label]
        merged = merge_per_task(members)
        if len(merged) != 1:
            raise XRobustError(f"system {name!r} has two runs of seed {label} for the same task "
                               f"({', '.join(str(s.run_dir) for s in members)})", file=members[-1].run_dir,
                               field="submission.name")
        merged[0].name = name
        runs.append(merged[0])
        labels.append(label)
    return System(name, labels, runs, {task: digest for task, (digest, _) in recipes.items()})


def group_systems(subs: list[Submission]) -> list[System]:
    """Systems from loaded runs (module docstring), in order of first appearance; names are unique."""
    groups: dict[str, list[Submission]] = {}
    for sub in subs:
        groups.setdefault(system_name(sub), []).append(sub)
    systems: list[System] = []
    for name, group in groups.items():
        cards = [read_card(s) for s in group]
        seeds = [training_seed(s, c) for s, c in zip(group, cards, strict=True)]
        if len(group) > 1 and None not in seeds and len(set(seeds)) > 1:
            systems.append(_seeded_system(name, group, [str(s) for s in seeds], cards))
            continue
        merged = merge_per_task(group)
        for sub in merged:
            sub.name = name
            systems.append(System.single(sub, training_seed(sub)))
    unique_names([s.first for s in systems])
    for system in systems:
        system.name = system.first.name
        for run in system.runs:
            run.name = system.name
    return systems
