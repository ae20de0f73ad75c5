"""``xrobust demo`` end to end: offline model, two submissions, clean and perturbed, HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

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
