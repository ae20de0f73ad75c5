"""Output paths the file system refuses (``--out`` is a file or lies under one) are one-line errors naming the
path, exit 2, for every sub-command that writes: run, report, compare --json."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from tests.harness.store.test_hostile_store import real_run


def _one_line(capsys: pytest.CaptureFixture[str], start: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith(start) and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("rel", ["afile", "afile/sub"])
def test_run_out_that_is_or_lies_under_a_file(rel: str, tmp_path: Path, shared_data: Path, tiny_xnli_model: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("not a folder\n")
    out = tmp_path / rel
    capsys.readouterr()
    assert main(["run", "--no-progress", "--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de",
                 "--data-dir", str(shared_data), "--limit", "4", "--out", str(out)]) == 2
    _one_line(capsys, f"xrobust: error: {out}: field '--out': run directory ")
    assert (tmp_path / "afile").read_text() == "not a folder\n"


def test_report_and_compare_outputs_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_a, run_b = real_run(tmp_path, "A"), real_run(tmp_path, "B", shift=1)
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder\n")
    for argv, option in ((["report", str(run_a), str(run_b), "--out", str(blocker), "--resamples", "50"], "--out"),
                         (["report", str(run_a), str(run_b), "--out", str(blocker / "site"), "--resamples", "50"],
                          "--out"),
                         (["compare", str(run_a), str(run_b), "--resamples", "50", "--json",
                           str(blocker / "x.json")], "--json")):
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"xrobust: error: {blocker}") and f"field '{option}'" in err and err.count("\n") == 1
    assert blocker.read_text() == "not a folder\n"
