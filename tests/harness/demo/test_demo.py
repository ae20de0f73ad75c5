"""``xrobust demo`` end to end: offline model, two submissions, clean and perturbed, HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main

pytestmark = pytest.mark.slow


def test_demo_builds_report(tmp_path: Path, offline_e5: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    index = tmp_path / "site" / "index.html"
    assert str(index) in printed and index.is_file()
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text())
    overall = {(r["submission"], r["condition"]): r["value"] for r in board if r["scope"] == "overall"}
    full = "multilingual-e5-small (4-bit, dequantized)"
    assert overall[(full, "clean")] > 90  # a real encoder on its own mini-benchmark
    assert overall[(full, "clean")] > overall[("e5-small, first 4 layers", "clean")]
    assert {"demo_suite.keyboard", "demo_suite.no_diacritics", "demo_suite.inflection"} <= {c for _, c in overall}
    assert (tmp_path / "site" / "examples.html").read_text().count('class="example"') > 0


def test_demo_with_data_uses_finetuned_submissions(tmp_path: Path, offline_e5: Path, shared_data: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With UD-POS data the demo fine-tunes e5-small on English (plain and with typo copies; cached), and both
    submissions are scored zero-shot on UD-POS and on the retrieval mini-benchmark, clean and perturbed."""
    from harness.demo import run as demo
    from harness.finetune import train as finetune
    from harness.finetune.card import read_card
    from harness.models.offline_e5 import default_cache_dir

    assert main(["demo", "--out", str(tmp_path), "--data-dir", str(shared_data), "--no-progress"]) == 0
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text())
    cells = {(r["submission"], r["scope"], r["condition"]): r["value"] for r in board}
    plain, robust = "e5-small fine-tuned on English UD-POS", "e5-small fine-tuned on English UD-POS + typo copies"
    for name in (plain, robust):
        assert cells[(name, "udpos", "clean")] > 70  # a fine-tuned token head, zero-shot on de/fi/tr/ru/hu
        assert cells[(name, "demo_tatoeba", "clean")] > 20  # 5x chance; POS fine-tuning costs alignment
        assert cells[(name, "udpos", "demo_suite.keyboard")] < cells[(name, "udpos", "clean")]
        assert (name, "overall", "demo_suite.inflection") in cells
    results = json.loads((tmp_path / "runs" / "e5-udpos" / "results.json").read_text())
    langs = {r["language"] for r in results["scores"] if r["task"] == "udpos"}
    assert langs == set(demo.POS_LANGS)
    assert {r["n"] for r in results["scores"] if r["task"] == "udpos"} == {demo.POS_EVAL_LIMIT}

    model = Path(results["submission"]["model"])
    card = read_card(model)
    stage = card["stages"][-1]
    assert stage["training"]["steps"] == demo.POS_RECIPE["max_steps"]
    assert stage["data"]["n_examples"] == int(demo.POS_TRAIN_LIMIT) and stage["augmentation"] is None
    robust_card = read_card(json.loads((tmp_path / "runs" / "e5-udpos-robust" / "results.json").read_text())
                            ["submission"]["model"])
    aug = robust_card["stages"][-1]["augmentation"]
    assert aug["suite"] == demo.ROBUST_SUITE and aug["n_added"] == int(demo.POS_TRAIN_LIMIT) and aug["n_changed"] > 0

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached checkpoint should have been reused")

    monkeypatch.setattr(finetune, "finetune", no_training)
    again = demo.finetuned_pos(offline_e5, shared_data, default_cache_dir().parent, augment=None, progress=False)
    assert again == model
