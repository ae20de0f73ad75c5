"""``xrobust run --system NAME --train-seed N``: a run is one seed run of a system, its seed and recipe kept in
run.json (copied from the checkpoint's card where it has one), so reports group the seeds after the checkpoints
are moved. Tiny random models on real XNLI rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import XRobustError
from harness.stats.runs import load_runs
from harness.stats.systems import group_systems, recipe_digest
from tests.conftest import shared_rows


def card(seed: int, lr: float = 3e-4) -> dict:
    """A card as ``xrobust finetune`` writes it, reduced to what a recipe and a seed are read from."""
    training = {"learning_rate": lr, "seed": seed, "steps": 40, "train_loss": 1.0 / seed}
    stage = {"task": "xnli", "task_config": "cfg", "head": "AutoModelForSequenceClassification",
             "labels": ["entailment", "neutral", "contradiction"],
             "data": {"split": "train", "languages": ["en"], "limits": {"en": 64}, "ids_sha256": "ids"},
             "augmentation": None, "training": training}
    return {"seed": seed, "base_model": {"weights_sha256": "base"}, "stages": [stage], "training": training}


def checkpoint(tmp: Path, model: Path, name: str, card_data: dict | None = None) -> Path:
    out = tmp / name
    shutil.copytree(model, out)
    if card_data is not None:
        (out / "xrobust-card.json").write_text(json.dumps(card_data))
    return out


def run(model: Path, out: Path, data: Path, *extra: str) -> int:
    return main(["run", "--no-progress", "--tasks", "xnli", "--model", str(model), "--langs", "de", "--data-dir",
                 str(data), "--limit", "8", "--out", str(out), *extra])


def submission(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())["submission"]


def test_card_seed_and_recipe_are_copied_and_survive_moving_the_checkpoints(
        tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    outs = []
    for seed in (2, 1):
        model = checkpoint(tmp_path, tiny_xnli_model, f"base-s{seed}", card(seed))
        outs.append(tmp_path / f"run-s{seed}")
        assert run(model, outs[-1], shared_data, "--name", f"base-s{seed}", "--system", "base") == 0
        meta = submission(outs[-1])
        assert (meta["system"], meta["train_seed"], meta["recipe"]) == ("base", seed, recipe_digest(card(seed)))
        results = json.loads((outs[-1] / "results.json").read_text())
        assert results["submission"]["train_seed"] == seed
    assert recipe_digest(card(1)) == recipe_digest(card(2))
    for seed in (1, 2):  # the checkpoints move: their cards are no longer readable from the run dirs
        (tmp_path / f"base-s{seed}").rename(tmp_path / f"moved-s{seed}")
    systems = group_systems(load_runs(outs))
    assert [(s.name, s.seeds) for s in systems] == [("base", ["1", "2"])]
    assert set(systems[0].recipes.values()) == {recipe_digest(card(1))}


def test_train_seed_and_recipe_without_a_card(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    outs = []
    for seed, recipe in ((3, "lr3e-4"), (4, "lr3e-4"), (5, "lr1e-4")):
        model = checkpoint(tmp_path, tiny_xnli_model, f"ckpt-{seed}")
        outs.append(tmp_path / f"run-{seed}")
        assert run(model, outs[-1], shared_data, "--system", "xlmr", "--train-seed", str(seed),
                   "--recipe", recipe) == 0
        meta = submission(outs[-1])
        assert (meta["name"], meta["system"], meta["train_seed"], meta["recipe"]) == (f"ckpt-{seed}", "xlmr",
                                                                                     seed, recipe)
    systems = group_systems(load_runs(outs[:2]))
    assert [(s.name, s.seeds, s.n_seeds) for s in systems] == [("xlmr", ["3", "4"], 2)]
    with pytest.raises(XRobustError, match="different recipes"):
        group_systems(load_runs(outs))
    # a rerun without the flags keeps them (nothing is recomputed)
    assert run(tmp_path / "ckpt-3", outs[0], shared_data) == 0
    assert {k: submission(outs[0]).get(k) for k in ("system", "train_seed", "recipe")} == {
        "system": "xlmr", "train_seed": 3, "recipe": "lr3e-4"}


def test_flags_that_contradict_the_card_are_one_line_errors(tmp_path: Path, shared_data: Path,
                                                            tiny_xnli_model: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    model = checkpoint(tmp_path, tiny_xnli_model, "carded", card(2))
    bad_card = checkpoint(tmp_path, tiny_xnli_model, "bad-card")
    (bad_card / "xrobust-card.json").write_text("{not json")
    cases = [(model, ["--train-seed", "3"], "contradicts the model card's seed 2"),
             (model, ["--recipe", "mine"], "contradicts the model card's recipe"),
             (model, ["--system", " "], "--system"),
             (bad_card, [], "unreadable model card")]
    for i, (ckpt, flags, words) in enumerate(cases):
        capsys.readouterr()
        assert run(ckpt, tmp_path / f"bad-{i}", shared_data, *flags) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, err
        assert "xrobust-card.json" in err or "--system" in err
        assert not (tmp_path / f"bad-{i}" / "predictions").exists()
    assert run(model, tmp_path / "ok", shared_data, "--train-seed", "2") == 0  # agreeing with the card is fine
    assert submission(tmp_path / "ok")["train_seed"] == 2


def test_import_train_seed_is_the_seed_param(tmp_path: Path, shared_data: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    gold = [int(r["label"]) for r in shared_rows("xcopa/et.test.jsonl")]
    outs = []
    for seed in (7, 6):
        pred = tmp_path / f"pred{seed}" / "xcopa"
        pred.mkdir(parents=True)
        (pred / "test-et.tsv").write_text("".join(f"{g if i % seed else 1 - g}\n" for i, g in enumerate(gold)))
        outs.append(tmp_path / f"imp{seed}")
        assert main(["import", str(pred.parent), "--name", f"m-{seed}", "--out", str(outs[-1]), "--data-dir",
                     str(shared_data), "--system", "m", "--train-seed", str(seed)]) == 0
        assert submission(outs[-1])["params"] == {"seed": str(seed)}
    assert [(s.name, s.seeds) for s in group_systems(load_runs(outs))] == [("m", ["6", "7"])]
    code = main(["import", str(tmp_path / "pred6"), "--name", "x", "--out", str(tmp_path / "imp"),
                 "--train-seed", "4", "--param", "seed=5"])
    err = capsys.readouterr().err
    assert code == 2 and "--train-seed 4 contradicts --param seed=5" in err and err.count("\n") == 1
