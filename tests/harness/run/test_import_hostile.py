"""``xrobust import`` reads only what lies inside PRED_DIR, and the stores it rebuilds are verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from tests.conftest import shared_rows


def _labels(path: Path, lang: str) -> Path:
    gold = [r["gold_label"] for r in shared_rows(f"xnli/{lang}.test.jsonl")]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(g + "\n" for g in gold), encoding="utf-8")
    return path


def _import(pred: Path, out: Path, data: Path) -> int:
    return main(["import", str(pred), "--name", "sub", "--out", str(out), "--data-dir", str(data)])


@pytest.mark.parametrize("link", ["file", "folder"])
def test_links_out_of_pred_dir_are_refused(link: str, tmp_path: Path, shared_data: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    outside = _labels(tmp_path / "elsewhere" / "xnli" / "test-de.tsv", "de")
    pred = tmp_path / "pred"
    if link == "file":
        (pred / "xnli").mkdir(parents=True)
        (pred / "xnli" / "test-de.tsv").symlink_to(outside)
    else:
        pred.mkdir()
        (pred / "xnli").symlink_to(outside.parent)
    capsys.readouterr()
    assert _import(pred, tmp_path / "run", shared_data) == 2
    err = capsys.readouterr().err
    assert err.startswith("xrobust: error: ") and "leads outside" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_import_into_a_damaged_run_dir_is_refused(tmp_path: Path, shared_data: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pred = tmp_path / "pred"
    _labels(pred / "xnli" / "test-de.tsv", "de")
    _labels(pred / "xnli" / "test-tr.tsv", "tr").rename(tmp_path / "test-tr.tsv")
    out = tmp_path / "run"
    assert _import(pred, out, shared_data) == 0
    (tmp_path / "test-tr.tsv").rename(pred / "xnli" / "test-tr.tsv")
    stored = out / "predictions" / "xnli" / "de.test.clean.jsonl"
    stored.write_bytes(stored.read_bytes()[:-40])
    (pred / "xnli" / "test-de.tsv").unlink()  # de is not imported again: its stored unit is read as it is
    capsys.readouterr()
    assert _import(pred, out, shared_data) == 2  # rebuilding results.json reads the damaged unit
    err = capsys.readouterr().err
    assert err.startswith(f"xrobust: error: {stored}: field 'sha256'") and err.count("\n") == 1
