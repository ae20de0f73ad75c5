"""``xrobust finetune --seeds`` (one checkpoint per seed of one recipe) and ``--select-on dev`` (the best
English-dev checkpoint is kept), with a tiny random encoder on real UD-POS rows of ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers

from harness.cli.main import main
from harness.finetune.card import read_card
from harness.finetune.select import dev_score
from harness.finetune.train import seed_out
from harness.spec.taskspec import resolve_task
from harness.stats.systems import recipe_digest
from tests.harness.finetune.test_finetune import STEPS, _one_line_error

TRAIN = ["--task", "udpos", "--train-limit", "16"]


def test_seeds_give_one_checkpoint_per_seed_of_one_recipe(tmp_path: Path, shared_data: Path,
                                                          tiny_encoder: Path) -> None:
    out = tmp_path / "udpos"
    assert main(["finetune", "--data-dir", str(shared_data), *STEPS, "--model", str(tiny_encoder), *TRAIN,
                 "--out", str(out), "--seeds", "3,1"]) == 0
    cards = {seed: read_card(out / f"seed-{seed}") for seed in (1, 3)}
    for seed, card in cards.items():
        assert card["seed"] == seed == card["training"]["seed"] and card["seeds"] == [3, 1]
        assert card["recipe"] == recipe_digest(card) and card["selection"] == {"select_on": "last"}
        assert "--seeds 3,1" in card["command"]
    assert cards[1]["recipe"] == cards[3]["recipe"]
    w1 = transformers.AutoModelForTokenClassification.from_pretrained(out / "seed-1").classifier.weight
    w3 = transformers.AutoModelForTokenClassification.from_pretrained(out / "seed-3").classifier.weight
    assert not (w1 == w3).all()  # different seeds, different heads
    assert seed_out(Path("m/{seed}/ckpt"), 2) == Path("m/2/ckpt") and seed_out(Path("m"), 2) == Path("m/seed-2")


def test_select_on_dev_keeps_the_best_step(tmp_path: Path, shared_data: Path, tiny_encoder: Path) -> None:
    out = tmp_path / "sel"
    assert main(["finetune", "--data-dir", str(shared_data), "--batch-size", "4", "--no-progress", "--max-steps", "5",
                 "--lr", "5e-3", "--model", str(tiny_encoder), *TRAIN, "--out", str(out), "--eval-steps", "2",
                 "--select-on", "dev", "--dev-holdout", "12"]) == 0
    card = read_card(out)
    sel = card["selection"]
    assert [h["step"] for h in sel["history"]] == [2, 4, 5] and sel["final_step"] == 5
    best = max(sel["history"], key=lambda h: h["score"])
    assert sel["best_step"] == best["step"] and sel["best_score"] == best["score"]
    assert sel["dev"]["holdout"] == 12 and sel["dev"]["n"] == 12 and sel["metric"] == "token_accuracy"
    assert "model selection | best dev token_accuracy" in (out / "README.md").read_text()
    # the holdout is the last 12 English training sentences, not trained on
    from harness.data.examples import load_examples

    spec = resolve_task("udpos")
    dev = load_examples(spec, "en", "train", data_dir=shared_data)[-12:]
    assert card["data"]["n_examples"] == 16
    model = transformers.AutoModelForTokenClassification.from_pretrained(out)
    tok = transformers.AutoTokenizer.from_pretrained(out)
    assert dev_score(model, tok, spec, dev) == pytest.approx(sel["best_score"], abs=1e-3)


def test_selection_errors_are_one_line(tmp_path: Path, shared_data: Path, tiny_encoder: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    base = ["finetune", "--data-dir", str(shared_data), *STEPS, "--model", str(tiny_encoder), *TRAIN]
    err = _one_line_error(capsys, main([*base, "--out", str(tmp_path / "a"), "--select-on", "dev"]))
    assert "--eval-steps" in err
    err = _one_line_error(capsys, main([*base, "--out", str(tmp_path / "b"), "--select-on", "dev",
                                        "--eval-steps", "1"]))
    assert "en.validation.jsonl" in err and "--dev-split" in err  # UD-POS has no English dev split offline
    err = _one_line_error(capsys, main([*base, "--out", str(tmp_path / "c"), "--seeds", "1,1"]))
    assert "--seeds" in err
