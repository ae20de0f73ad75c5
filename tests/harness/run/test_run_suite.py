"""Runs under a perturbation suite: one unit per condition, aligned ids, change statistics, the perturb command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_run_with_suite_stores_each_condition(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", "--no-progress", "--tasks", "xnli,tatoeba", "--model", str(tiny_xnli_model), "--langs",
                 "tr,ru", "--data-dir", str(shared_data), "--limit", "40", "--suite", "typos", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    conditions = {r["condition"] for r in results["scores"]}
    assert conditions == {"clean", "typos.keyboard", "typos.char_noise", "typos.no_diacritics"}
    clean = read(out / "predictions/xnli/tr.test.clean.jsonl")
    noisy = read(out / "predictions/xnli/tr.test.typos.keyboard.jsonl")
    assert [r["id"] for r in clean] == [r["id"] for r in noisy]
    assert [r["gold"] for r in clean] == [r["gold"] for r in noisy]
    changed = sum(c["input"] != n["input"] for c, n in zip(clean, noisy, strict=True))
    assert changed > 10  # the condition really changed what the model saw
    assert [c["attrs"] for c in clean] == [n["attrs"] for n in noisy]  # slices follow the clean text
    units = {(u["task"], u["lang"], u["condition"]): u for u in results["units"]}
    change = units[("xnli", "tr", "typos.keyboard")]["change"]
    assert 0 < change["frac_words_changed"] < 0.3 and change["frac_examples_changed"] > 0.3
    assert "cond:clean+typos.char_noise@" in results["signature"] or "typos.char_noise@" in results["signature"]
    tatoeba = read(out / "predictions/tatoeba/ru.test.typos.keyboard.jsonl")
    assert set(tatoeba[0]["input"]) == {"source"}  # only the non-English side is perturbed


def test_perturb_command_shows_and_exports(tmp_path: Path, shared_data: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "perturbed.jsonl"
    assert main(["perturb", "--task", "xnli", "--lang", "de", "--suite", "typos", "--condition", "keyboard",
                 "--data-dir", str(shared_data), "--limit", "30", "--show", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("  id ") == 3 and "[-" in printed and "{+" in printed
    rows = read(out)
    assert len(rows) == 30 and {"sentence1", "sentence2", "gold_label", "id", "condition"} <= set(rows[0])
    clean = [json.loads(x) for x in (shared_data / "xnli/de.test.jsonl").read_text().splitlines()[:30]]
    assert [r["gold_label"] for r in rows] == [c["gold_label"] for c in clean]
    assert sum(r["sentence1"] != c["sentence1"] for r, c in zip(rows, clean, strict=True)) > 5


def test_cross_lingual_pairs_condition(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", "--no-progress", "--tasks", "xnli,tatoeba", "--model", str(tiny_xnli_model), "--langs",
                 "de,en", "--data-dir", str(shared_data), "--limit", "30", "--cross-pairs", "en",
                 "--out", str(out)]) == 0
    mixed = read(out / "predictions/xnli/de.test.xling.b-en.jsonl")
    german = [json.loads(x) for x in (shared_data / "xnli/de.test.jsonl").read_text().splitlines()[:30]]
    english = [json.loads(x) for x in (shared_data / "xnli/en.test.jsonl").read_text().splitlines()[:30]]
    assert [r["input"]["text_a"] for r in mixed] == [g["sentence1"] for g in german]
    assert [r["input"]["text_b"] for r in mixed] == [e["sentence2"] for e in english]
    assert [r["gold"] for r in mixed] == [g["gold_label"] for g in german]
    assert not (out / "predictions/xnli/en.test.xling.b-en.jsonl").exists()  # not paired with itself
    assert not list((out / "predictions/tatoeba").glob("*xling*"))  # pair tasks only
