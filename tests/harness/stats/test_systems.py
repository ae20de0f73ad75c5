"""Seed runs of one recipe become one system (:func:`harness.stats.systems.group_systems`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import XRobustError
from harness.stats.runs import Submission
from harness.stats.systems import group_systems, recipe_digest, training_seed


def card(seed: int, lr: float = 3e-4, loss: float = 1.0, augment: str | None = None) -> dict:
    stage = {"task": "udpos", "task_config": "cfg", "head": "AutoModelForTokenClassification", "labels": ["X"],
             "data": {"split": "train", "languages": ["en"], "limits": {"en": 640}, "ids_sha256": "ids"},
             "augmentation": {"suite": augment, "copies": 1, "fields": ["tokens"], "n_original": 640,
                              "copies_detail": [{"seed": seed * 7}]} if augment else None,
             "training": {"learning_rate": lr, "seed": seed, "steps": 40, "train_loss": loss, "runtime_s": seed}}
    return {"seed": seed, "base_model": {"weights_sha256": "w"}, "stages": [stage], "training": stage["training"]}


def run(tmp: Path, name: str, seed: int | None, tasks: tuple[str, ...] = ("udpos",), **card_kw: object) -> Submission:
    model = tmp / f"model-{name}-{seed}-{'-'.join(tasks)}-{len(list(tmp.iterdir()))}"
    model.mkdir()
    if seed is not None:
        (model / "xrobust-card.json").write_text(json.dumps(card(seed, **card_kw)))
    return Submission(name, tmp / f"run-{model.name}", {"name": name, "model_path": str(model)}, "sig",
                      tasks=set(tasks))


def test_seed_runs_of_one_name_are_one_system(tmp_path: Path) -> None:
    subs = [run(tmp_path, "base", 2, loss=0.9), run(tmp_path, "base", 1, loss=1.1), run(tmp_path, "robust", 1,
                                                                                          augment="mixed"),
            run(tmp_path, "robust", 3, augment="mixed"), run(tmp_path, "solo", 5)]
    systems = group_systems(subs)
    assert [(s.name, s.seeds, s.n_seeds) for s in systems] == [("base", ["1", "2"], 2), ("robust", ["1", "3"], 2),
                                                                 ("solo", ["5"], 1)]
    assert systems[0].runs[0] is subs[1]  # seed order
    assert recipe_digest(card(1, augment="mixed")) == recipe_digest(card(3, augment="mixed", loss=0.2))
    assert recipe_digest(card(1)) != recipe_digest(card(1, lr=1e-4))


def test_different_recipes_under_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(XRobustError, match="different recipes") as err:
        group_systems([run(tmp_path, "base", 1), run(tmp_path, "base", 2, lr=1e-4)])
    assert "\n" not in str(err.value)


def test_runs_without_seeds_stay_apart_and_tasks_merge_per_seed(tmp_path: Path) -> None:
    systems = group_systems([run(tmp_path, "x", None), run(tmp_path, "x", None)])
    assert [s.name for s in systems] == ["x", "x (2)"] and all(s.n_seeds == 1 for s in systems)
    per_task = group_systems([run(tmp_path, "m", 1, ("udpos",)), run(tmp_path, "m", 1, ("panx",)),
                              run(tmp_path, "m", 2, ("udpos",)), run(tmp_path, "m", 2, ("panx",))])
    assert len(per_task) == 1 and per_task[0].seeds == ["1", "2"]
    assert all(r.tasks == {"udpos", "panx"} for r in per_task[0].runs)
    with pytest.raises(XRobustError, match="two runs of seed 1"):
        group_systems([run(tmp_path, "d", 1), run(tmp_path, "d", 1), run(tmp_path, "d", 2)])


def test_imports_name_their_system_and_seed(tmp_path: Path) -> None:
    subs = [Submission(f"sub-{k}", tmp_path / f"imp{k}", {"system": "xlmr", "params": {"seed": str(k)}}, "s",
                       tasks={"xnli"}) for k in (3, 1, 2)]
    assert training_seed(subs[0]) == "3"
    systems = group_systems(subs)
    assert len(systems) == 1 and systems[0].name == "xlmr" and systems[0].seeds == ["1", "2", "3"]
