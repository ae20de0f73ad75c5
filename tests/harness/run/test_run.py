"""End-to-end runs with tiny random models on real rows: records, caching, resume, corrupt cache, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.run import runner as runner_module
from harness.spec.taskspec import load_task, resolve_task


def run_cli(*args: str) -> int:
    return main(["run", "--no-progress", *args])


def test_loads_real_rows_with_labels(shared_data: Path) -> None:
    spec = resolve_task("xnli")
    examples = load_examples(spec, "tr", data_dir=shared_data, limit=5)
    assert len(examples) == 5
    assert set(examples[0]) == {"id", "text_a", "text_b", "label"}
    assert all(e["label"] in spec.labels for e in examples)
    pawsx = load_examples(resolve_task("pawsx"), "de", data_dir=shared_data, limit=3)
    assert {e["label"] for e in pawsx} <= {"paraphrase", "not_paraphrase"} and pawsx[0]["id"] == "10"


def test_run_writes_predictions_results_and_signature(tmp_path: Path, shared_data: Path,
                                                      tiny_xnli_model: Path) -> None:
    out = tmp_path / "run"
    code = run_cli("--tasks", "xnli,tatoeba", "--model", str(tiny_xnli_model), "--langs", "de,tr",
                   "--data-dir", str(shared_data), "--limit", "24", "--out", str(out), "--batch-size", "7")
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    keys = {(r["task"], r["language"], r["metric"]) for r in results["scores"]}
    assert ("xnli", "de", "accuracy") in keys and ("tatoeba", "tr", "accuracy_en2xx") in keys
    assert all(r["n"] == 24 and r["condition"] == "clean" and r["split"] == "test" for r in results["scores"])
    records = [json.loads(x) for x in (out / "predictions/xnli/de.test.clean.jsonl").read_text().splitlines()]
    gold = load_examples(resolve_task("xnli"), "de", data_dir=shared_data, limit=24)
    assert [r["id"] for r in records] == [e["id"] for e in gold]
    assert [r["gold"] for r in records] == [e["label"] for e in gold]
    accuracy = 100 * sum(r["pred"] == r["gold"] for r in records) / len(records)
    score = next(r["value"] for r in results["scores"] if (r["task"], r["language"]) == ("xnli", "de"))
    assert score == pytest.approx(accuracy)
    sig = results["signature"]
    weights = results["submission"]["weights_sha256"]
    assert f"#{weights}" in sig and "xnli@" in sig and "tatoeba@" in sig and "transformers:" in sig
    averages = {(a["task"], a["metric"]): a for a in results["task_averages"]}
    xnli_avg = averages[("xnli", "accuracy")]
    per_lang = [r["value"] for r in results["scores"] if r["task"] == "xnli"]
    assert xnli_avg["value"] == pytest.approx(sum(per_lang) / 2, abs=1e-3) and xnli_avg["languages"] == ["de", "tr"]


def test_predictions_do_not_depend_on_batch_size(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    probs = []
    for bs in ("1", "16"):
        out = tmp_path / f"bs{bs}"
        assert run_cli("--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "ru", "--data-dir",
                       str(shared_data), "--limit", "20", "--out", str(out), "--batch-size", bs) == 0
        lines = (out / "predictions/xnli/ru.test.clean.jsonl").read_text().splitlines()
        probs.append([json.loads(x)["probs"] for x in lines])
    for a, b in zip(*probs, strict=True):
        assert a == pytest.approx(b, abs=1e-4)


def test_rerun_recomputes_nothing_and_resume_after_crash(tmp_path: Path, shared_data: Path,
                                                         tiny_xnli_model: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    args = ["--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de,tr,ru", "--data-dir",
            str(shared_data), "--limit", "10", "--out", str(out)]
    calls: list[str] = []
    original = runner_module.Runner._run_unit

    def crash_on_third(self, spec, unit, condition, fp):  # noqa: ANN001
        calls.append(unit.lang)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process is killed mid-way
        return original(self, spec, unit, condition, fp)

    monkeypatch.setattr(runner_module.Runner, "_run_unit", crash_on_third)
    assert run_cli(*args) == 130
    done = sorted(p.name for p in (out / "predictions/xnli").glob("*.meta.json"))
    assert done == ["de.test.clean.meta.json", "tr.test.clean.meta.json"]  # ru was interrupted
    kept = {p: p.stat().st_mtime_ns for p in (out / "predictions/xnli").glob("*.jsonl")}
    results_before = json.loads((out / "results.json").read_text())
    assert len(results_before["scores"]) == 2  # the two finished units were already scored

    calls.clear()
    monkeypatch.setattr(runner_module.Runner, "_run_unit", original)
    seen: list[str] = []
    monkeypatch.setattr(runner_module.Runner, "_run_unit",
                        lambda self, spec, unit, c, fp: (seen.append(unit.lang), original(self, spec, unit, c, fp)))
    assert run_cli(*args) == 0
    assert len(seen) == 1  # only the unit that was interrupted
    for path, mtime in kept.items():
        assert path.stat().st_mtime_ns == mtime
    seen.clear()
    assert run_cli(*args) == 0
    assert seen == []  # nothing left to compute


def test_partial_file_without_meta_is_recomputed(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    out = tmp_path / "run"
    target = out / "predictions/xnli/de.test.clean.jsonl"
    target.parent.mkdir(parents=True)
    target.write_text('{"id": "1", "gold": "entail')  # cut short by a crash, never marked complete
    assert run_cli("--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de", "--data-dir",
                   str(shared_data), "--limit", "5", "--out", str(out)) == 0
    assert len(target.read_text().splitlines()) == 5


def test_corrupt_cache_is_reported_not_overwritten(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = ["--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de", "--data-dir", str(shared_data),
            "--limit", "5", "--out", str(out)]
    assert run_cli(*args) == 0
    target = out / "predictions/xnli/de.test.clean.jsonl"
    damaged = target.read_text().replace('"gold"', '"gild"', 1)
    target.write_text(damaged)
    capsys.readouterr()
    assert run_cli(*args) == 2
    err = capsys.readouterr().err.strip()
    assert str(target) in err and "sha256" in err and "\n" not in err
    assert target.read_text() == damaged


def test_unmatched_labels_lists_both_sets_and_keeps_results(tmp_path: Path, shared_data: Path,
                                                            tiny_xnli_model: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert run_cli("--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de", "--data-dir",
                   str(shared_data), "--limit", "5", "--out", str(out)) == 0
    before = (out / "results.json").read_text()
    capsys.readouterr()
    assert run_cli("--tasks", "pawsx", "--model", str(tiny_xnli_model), "--langs", "de", "--data-dir",
                   str(shared_data), "--limit", "5", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "entailment, neutral, contradiction" in err and "not_paraphrase, paraphrase" in err
    assert "pawsx.yaml" in err and "'labels'" in err
    assert (out / "results.json").read_text() == before
    assert (out / "predictions/xnli/de.test.clean.jsonl").exists()
    # an explicit mapping makes the same model usable
    assert run_cli("--tasks", "pawsx", "--model", str(tiny_xnli_model), "--langs", "de", "--data-dir",
                   str(shared_data), "--limit", "5", "--out", str(out),
                   "--label-map", "entailment=paraphrase,contradiction=not_paraphrase") == 0
    results = json.loads((out / "results.json").read_text())
    assert {r["task"] for r in results["scores"]} == {"xnli", "pawsx"}


def test_missing_column_and_unknown_language(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    task = tmp_path / "xnli_bad.yaml"
    task.write_text("include: xnli.yaml\nname: xnli\ndata: {local: {fields: {text_b: hypothesis}}}\n")
    assert run_cli("--tasks", str(task), "--model", str(tiny_xnli_model), "--langs", "de", "--data-dir",
                   str(shared_data), "--out", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert "de.test.jsonl" in err and "fields.text_b" in err and "'hypothesis' missing" in err
    assert run_cli("--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "de,xx", "--data-dir",
                   str(shared_data), "--out", str(tmp_path / "r2")) == 2
    assert "--langs" in capsys.readouterr().err


def test_label_outside_label_set_names_file(tmp_path: Path) -> None:
    data = tmp_path / "data" / "xnli"
    data.mkdir(parents=True)
    (data / "de.test.jsonl").write_text('{"sentence1": "a", "sentence2": "b", "gold_label": "maybe"}\n')
    with pytest.raises(XRobustError, match=r"de\.test\.jsonl:1: field 'fields\.label \(gold_label\)': label 'maybe'"):
        load_examples(resolve_task("xnli"), "de", data_dir=tmp_path / "data")


def test_run_dir_of_another_model_is_refused(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path,
                                             tiny_encoder: Path) -> None:
    out = tmp_path / "run"
    assert run_cli("--tasks", "tatoeba", "--model", str(tiny_xnli_model), "--langs", "de", "--data-dir",
                   str(shared_data), "--limit", "5", "--out", str(out)) == 0
    with pytest.raises(XRobustError, match="belongs to model"):
        from harness.run.runner import Runner, RunRequest

        Runner(RunRequest(tasks=[load_task(resolve_task("tatoeba").source_file)], model=str(tiny_encoder),
                          out=out, data_dir=shared_data, limit=5)).run()
