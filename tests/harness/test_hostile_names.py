"""A submission name becomes a path only as one safe component: ``run --name`` without ``--out`` writes to
``runs/<name>`` and never outside ``runs/``; with ``--out`` the name is metadata and may hold any text."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main


@pytest.mark.parametrize("name", ["../escaped", "../../escaped", "ABSOLUTE", "a/b"])
def test_run_name_without_out_stays_in_runs(name: str, tmp_path: Path, shared_data: Path, tiny_xnli_model: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    name = str(tmp_path / "abs" / "escaped") if name == "ABSOLUTE" else name
    before = {p for p in tmp_path.rglob("*")}
    capsys.readouterr()
    code = main(["run", "--no-progress", "--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de",
                 "--data-dir", str(shared_data), "--limit", "4", f"--name={name}"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("xrobust: error: ") and "field '--name'" in err and err.count("\n") == 1
    assert {p for p in tmp_path.rglob("*")} == before


def test_run_split_is_one_safe_path_component(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """``--split`` names prediction files: a path in it is refused before anything is written."""
    code = main(["run", "--no-progress", "--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de",
                 "--data-dir", str(shared_data), "--limit", "4", "--split", "../x", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "field '--split'" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
