"""``xrobust compare`` on stored predictions with a known difference, checked against scipy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.cli.main import main
from harness.stats import runs
from harness.store.rundir import MetaIndex, RunStore, Unit


def fake_run(root: Path, name: str, correct: np.ndarray, perturbed_correct: np.ndarray | None = None) -> Path:
    """A run directory whose xnli/de predictions are right exactly where ``correct`` is True."""
    store = RunStore(root / name)
    store.write_run({"submission": {"name": name, "model": name, "weights_sha256": name}, "signature": name})
    conditions = {"clean": correct}
    if perturbed_correct is not None:
        conditions["typos"] = perturbed_correct
    for cond, right in conditions.items():
        records = [{"id": str(i), "gold": "entailment", "pred": "entailment" if ok else "neutral"}
                   for i, ok in enumerate(right)]
        store.write_unit(Unit("xnli", "de", "test", cond), records, "fp",
                         {"metrics": ["accuracy"], "ranked_metric": "accuracy", "task_type": "pair_classification"})
    return root / name


def test_compare_known_difference(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.5
    b = a.copy()
    flip = np.flatnonzero(~a)[:80]  # B fixes 80 of A's errors and breaks 10 of its successes
    b[flip] = True
    b[np.flatnonzero(a)[:10]] = False
    run_a = fake_run(tmp_path, "A", a, perturbed_correct=a)
    run_b = fake_run(tmp_path, "B", b, perturbed_correct=a)  # under typos B's gain vanishes
    out = tmp_path / "cmp.json"
    assert main(["compare", str(run_a), str(run_b), "--json", str(out), "--resamples", "2000"]) == 0
    rows = json.loads(out.read_text())
    clean = next(r for r in rows if r["scope"] == "language" and r["condition"] == "clean")
    assert clean["difference"] == pytest.approx(100 * (b.mean() - a.mean()), abs=1e-3)
    assert clean["test"] == "mcnemar_exact"
    assert clean["p_value"] == pytest.approx(binomtest(10, 90, 0.5).pvalue, rel=1e-9)
    assert clean["ci_low"] > 0 and clean["significant"]
    typos = next(r for r in rows if r["scope"] == "language" and r["condition"] == "typos")
    assert typos["difference"] == 0 and not typos["significant"]
    assert all(r["p_adjusted"] >= r["p_value"] for r in rows)
    # the report's gain-robustness table sees that the gain does not survive the perturbation
    assert main(["report", str(run_a), str(run_b), "--out", str(tmp_path / "site"), "--resamples", "1000"]) == 0
    gains = json.loads((tmp_path / "site" / "gain_robustness.json").read_text())
    assert len(gains) == 1 and gains[0]["contrast"] == pytest.approx(-clean["difference"], abs=1e-3)
    assert gains[0]["ci_high"] < 0 and gains[0]["significant"]


def test_report_with_conditions_only_some_submissions_have(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = rng.random(100) < 0.6
    run_a = fake_run(tmp_path, "A", a, perturbed_correct=a)
    run_b = fake_run(tmp_path, "B", a)  # B was never run under typos
    assert main(["report", str(run_a), str(run_b), "--out", str(tmp_path / "site"), "--resamples", "200"]) == 0
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text())
    assert {(r["submission"], r["condition"]) for r in board if r["scope"] == "overall"} == {
        ("A", "clean"), ("B", "clean"), ("A", "typos")}


def test_compare_and_report_load_runs_through_one_loader(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    run_a = fake_run(tmp_path, "A", rng.random(50) < 0.6)
    run_b = fake_run(tmp_path, "B", rng.random(50) < 0.7)
    loaded: list[Path] = []
    real = runs.load_run

    def spy(run_dir: Path, index: MetaIndex | None = None) -> runs.Submission:
        loaded.append(run_dir)
        return real(run_dir, index)

    monkeypatch.setattr(runs, "load_run", spy)
    assert main(["compare", str(run_a), str(run_b), "--resamples", "200"]) == 0
    assert main(["report", str(run_a), str(run_b), "--out", str(tmp_path / "s"), "--resamples", "200"]) == 0
    assert loaded == [run_a, run_b, run_a, run_b]


def test_compare_and_report_refuse_damaged_or_missing_runs(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    run_a = fake_run(tmp_path, "A", rng.random(50) < 0.6)
    run_b = fake_run(tmp_path, "B", rng.random(50) < 0.7)
    predictions = RunStore(run_b).predictions_path(Unit("xnli", "de", "test", "clean"))
    # one prediction changed after the fact: the file no longer matches its checksum
    predictions.write_text(predictions.read_text().replace("neutral", "entailment", 1))
    for command in (["compare", str(run_a), str(run_b)],
                    ["report", str(run_a), str(run_b), "--out", str(tmp_path / "s")],
                    ["compare", str(run_a), str(tmp_path / "nope")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and (str(predictions) in err or "nope" in err), err
