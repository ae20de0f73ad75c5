"""What a run records about its system, training seed and recipe (:func:`harness.stats.systems.run_metadata`):
the checkpoint's card first, then the flags, then the run directory's earlier submission."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import XRobustError
from harness.stats.systems import recipe_digest, run_metadata
from tests.harness.stats.test_systems import card


def write_card(directory: Path, data: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "xrobust-card.json").write_text(json.dumps(data))
    return directory


def test_the_card_wins_and_flags_fill_in(tmp_path: Path) -> None:
    carded = write_card(tmp_path / "carded", card(4, augment="mixed"))
    assert run_metadata(carded, {"system": "robust"}) == {"system": "robust", "train_seed": 4,
                                                        "recipe": recipe_digest(card(4, augment="mixed"))}
    assert run_metadata(carded, {"train_seed": 4})["train_seed"] == 4  # agreeing with the card is fine
    bare = tmp_path / "bare"
    bare.mkdir()
    assert run_metadata(bare, {"train_seed": 2, "recipe": "r"}) == {"train_seed": 2, "recipe": "r"}
    old = {"system": "s", "train_seed": 9, "recipe": "old", "name": "n"}
    assert run_metadata(bare, {}, old) == {"system": "s", "train_seed": 9, "recipe": "old"}
    assert run_metadata(bare, {"train_seed": 3}, old) == {"system": "s", "train_seed": 3, "recipe": "old"}
    assert run_metadata(None, {"system": ""}) == {}  # a hub model: only what was given
    seedless = {k: v for k, v in card(1).items() if k != "seed"}
    seedless["training"] = {k: v for k, v in seedless["training"].items() if k != "seed"}
    no_seed = write_card(tmp_path / "seedless", seedless)
    assert run_metadata(no_seed, {"train_seed": 5}) == {"train_seed": 5, "recipe": recipe_digest(seedless)}


@pytest.mark.parametrize("data,given,words", [
    (card(4), {"train_seed": 5}, "--train-seed 5 contradicts the model card's seed 4"),
    (card(4), {"recipe": "mine"}, "contradicts the model card's recipe"),
    ([1, 2], {}, "a model card must be a JSON object"),
    ({"seed": 1, "stages": "x"}, {}, "does not describe a recipe"),
])
def test_contradictions_and_bad_cards_name_the_card(tmp_path: Path, data: object, given: dict, words: str) -> None:
    directory = write_card(tmp_path / "m", data)
    with pytest.raises(XRobustError, match=words) as err:
        run_metadata(directory, given)
    assert "xrobust-card.json" in str(err.value) and "\n" not in str(err.value)
