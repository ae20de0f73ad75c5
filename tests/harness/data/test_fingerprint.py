"""Data content is part of a unit's fingerprint: local files by the sha256 of their rows and bytes, hub sources by
the commit they resolve to (or a local repository's file digests), so a stored unit is never reused for other
data. The stale-cache case (gold labels edited in a local file, rerun into the same run dir) is a regression
test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.data import provenance
from harness.data.cache import RunData
from harness.data.sources import MIRROR_ENV
from harness.spec.taskspec import load_task, resolve_task
from tests.harness.data.hubrepo import build_mirror

LABELS = ["entailment", "neutral", "contradiction"]


def _copy(shared: Path, root: Path, rel: str = "xnli/de.test.jsonl", n: int = 24) -> Path:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = (shared / rel).read_text(encoding="utf-8").splitlines(keepends=True)[:n]
    target.write_text("".join(lines), encoding="utf-8")
    return target


def _rotate_gold(path: Path, rows: int) -> list[str]:
    """Gold labels of the first ``rows`` rows moved to the next label; returns the new gold of every row."""
    out, gold = [], []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        if i < rows:
            row["gold_label"] = LABELS[(LABELS.index(row["gold_label"]) + 1) % 3]
        gold.append(row["gold_label"])
        out.append(json.dumps(row, ensure_ascii=False) + "\n")
    path.write_text("".join(out), encoding="utf-8")
    return gold


def test_editing_a_local_file_changes_the_data_fingerprint(shared_data: Path, tmp_path: Path) -> None:
    spec = resolve_task("xnli")
    path = _copy(shared_data, tmp_path / "a")
    before = RunData(tmp_path / "a").fingerprint(spec, ["de"], "test")
    assert before["de"]["sources"] == [{"kind": "local", "sha256": provenance.file_sha256(path)}]
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the same bytes elsewhere: the same fingerprint
    assert RunData(tmp_path / "b").fingerprint(spec, ["de"], "test") == before
    _rotate_gold(path, 1)
    after = RunData(tmp_path / "a").fingerprint(spec, ["de"], "test")
    assert after["de"]["rows"] != before["de"]["rows"]
    assert after["de"]["sources"][0]["sha256"] == provenance.file_sha256(path) != before["de"]["sources"][0]["sha256"]
    # a cross-language pair unit depends on the second language's file too
    _copy(shared_data, tmp_path / "a", "xnli/en.test.jsonl")
    assert set(RunData(tmp_path / "a").fingerprint(spec, ["de", "en"], "test")) == {"de", "en"}


def test_hub_sources_are_fingerprinted_by_commit_or_repository_files(shared_data: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    spec = resolve_task("tatoeba")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # never ask the network here
    pinned = RunData().fingerprint(spec, ["az"], "test")["az"]
    assert pinned["resolved_revision"] == pinned["revision"] == "69e8f12da6e31d59addadda9a9c8a2e601a0e282"
    # an unpinned source offline: the commit the local hub cache last resolved its branch to
    cache = tmp_path / "hub-cache"
    ref = cache / "datasets--google--xtreme" / "refs" / "main"
    ref.parent.mkdir(parents=True)
    ref.write_text("0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(provenance, "_COMMITS", {})
    first = RunData().fingerprint(spec, ["fi"], "test")["fi"]
    assert first["resolved_revision"] == "0123456789abcdef0123456789abcdef01234567"
    ref.write_text("fedcba9876543210fedcba9876543210fedcba98")  # the branch moved on
    monkeypatch.setattr(provenance, "_COMMITS", {})
    assert RunData().fingerprint(spec, ["fi"], "test")["fi"] != first
    # a local repository (mirror): its parquet files' sha256
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf"))
    mirror = build_mirror(tmp_path / "mirror", shared_data)
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    files = RunData().fingerprint(spec, ["fi"], "test")["fi"]["files"]
    assert list(files) == ["tatoeba.fin/validation-00000-of-00001.parquet"]
    parquet = mirror / "google/xtreme/tatoeba.fin/validation-00000-of-00001.parquet"
    assert files[str(parquet.relative_to(mirror / "google/xtreme"))] == provenance.file_sha256(parquet)


def _run(model: Path, data: Path, out: Path, *extra: str) -> int:
    return main(["run", "--no-progress", "--tasks", "xnli", "--model", str(model), "--langs", "de", "--data-dir",
                 str(data), "--limit", "24", "--out", str(out), "--batch-size", "8", *extra])


def _unit(out: Path) -> tuple[list[dict], dict, dict]:
    folder = out / "predictions" / "xnli"
    records = [json.loads(x) for x in (folder / "de.test.clean.jsonl").read_text(encoding="utf-8").splitlines()]
    meta = json.loads((folder / "de.test.clean.meta.json").read_text(encoding="utf-8"))
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    score = next(r["value"] for r in results["scores"] if r["metric"] == "accuracy" and r["language"] == "de")
    return records, meta, {"accuracy": score}


def test_edited_gold_labels_are_never_scored_from_the_stale_cache(shared_data: Path, tmp_path: Path,
                                                                  tiny_xnli_model: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data, out = tmp_path / "data", tmp_path / "run"
    path = _copy(shared_data, data)
    assert _run(tiny_xnli_model, data, out) == 0
    records, meta, scores = _unit(out)
    assert meta["data_sources"] == [{"kind": "local", "file": str(path), "sha256": provenance.file_sha256(path)}]
    stored = (out / "predictions/xnli/de.test.clean.jsonl").read_bytes()
    # an unchanged rerun reuses the unit
    assert _run(tiny_xnli_model, data, out) == 0
    assert (out / "predictions/xnli/de.test.clean.jsonl").read_bytes() == stored
    # edit the gold labels: the stored unit no longer matches, it is not reused
    gold = _rotate_gold(path, 12)
    capsys.readouterr()
    assert _run(tiny_xnli_model, data, out) == 2
    err = capsys.readouterr().err.strip()
    assert "de.test.clean.meta.json" in err and "fingerprint" in err and "\n" not in err
    assert _unit(out)[2] == scores  # nothing stale was written either
    # recomputed on request: the new gold labels and the scores they give
    assert _run(tiny_xnli_model, data, out, "--overwrite") == 0
    new_records, new_meta, new_scores = _unit(out)
    assert [r["gold"] for r in new_records] == gold != [r["gold"] for r in records]
    assert [r["pred"] for r in new_records] == [r["pred"] for r in records]  # same model, same inputs
    expected = 100 * sum(r["pred"] == g for r, g in zip(new_records, gold, strict=True)) / len(gold)
    assert new_scores["accuracy"] == pytest.approx(expected, abs=1e-3) and new_scores != scores
    assert new_meta["data_sources"][0]["sha256"] == provenance.file_sha256(path)
    assert new_meta["fingerprint"] != meta["fingerprint"]


def test_a_candidate_pool_file_is_part_of_the_fingerprint(tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    shutil.copytree(fixtures / "mewslix", tmp_path / "mewslix")
    task = tmp_path / "mewslix.yaml"
    task.write_text(f"include: {resolve_task('mewslix').source_file}\nname: mewslix\nlanguages: [de]\n")
    spec = load_task(task)
    before = RunData(tmp_path).fingerprint(spec, ["de"], "test")["de"]
    pool = tmp_path / "mewslix" / "candidate_set_entities.jsonl"
    assert {"kind": "local", "sha256": provenance.file_sha256(pool)} in before["sources"]
    lines = pool.read_text(encoding="utf-8").splitlines(keepends=True)
    row = json.loads(lines[0])
    row["description"] += " (edited)"
    pool.write_text(json.dumps(row, ensure_ascii=False) + "\n" + "".join(lines[1:]), encoding="utf-8")
    after = RunData(tmp_path).fingerprint(spec, ["de"], "test")["de"]
    assert after["rows"] == before["rows"] and after["sources"] != before["sources"]  # the queries are unchanged
