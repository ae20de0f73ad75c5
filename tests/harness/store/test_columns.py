"""A unit's columns file: written with the unit, equal to what parsing its records gives, verified when read,
and optional (run dirs written without it read as before, with the same numbers)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.cli.main import main
from harness.stats.digest import DigestCache, digest_records
from harness.store.columns import SUFFIX, VERSION
from harness.store.rundir import META_CHECKSUM, RunStore, meta_checksum, parse_records
from harness.store.synthetic import TASKS, write_submission
from reports import build_site

ATTRS = ["n_words", "fertility", "rare_rate", "absent"]


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("columns")
    conds = ["clean", "typos.keyboard"]
    for i in range(2):
        write_submission(root / f"run-{i}", i, 2, TASKS, ["de", "sw"], conds, 30, seed=2)
    return [root / "run-0", root / "run-1"]


def test_every_task_type_gets_columns_equal_to_its_parsed_records(run_dirs: list[Path]) -> None:
    store = RunStore(run_dirs[0])
    units = store.complete_units()
    assert {u.task for u, _ in units} == {t.name for t in TASKS}
    for unit, meta in units:
        assert meta["columns"]["version"] == VERSION
        path = store.columns_path(unit)
        assert path.name.endswith(SUFFIX) and hashlib.sha256(path.read_bytes()).hexdigest() == \
            meta["columns"]["sha256"]
        stored = DigestCache(None).load(store, unit, meta, meta["metrics"], ATTRS)
        records, offsets = parse_records(store.verified_bytes(unit, meta), store.predictions_path(unit), meta)
        parsed = digest_records(records, meta["metrics"], ATTRS, path=store.predictions_path(unit), offsets=offsets)
        assert stored.ids == parsed.ids and stored.stats.keys() == parsed.stats.keys() and stored.stats
        for name in parsed.stats:
            np.testing.assert_array_equal(stored.stats[name], parsed.stats[name])
        np.testing.assert_array_equal(stored.pred, parsed.pred)
        np.testing.assert_array_equal(stored.offsets, parsed.offsets)
        for a in ATTRS:
            np.testing.assert_array_equal(stored.attrs[a], parsed.attrs[a])
        assert np.isnan(stored.attrs["absent"]).all()
        assert stored.fetch([0, len(records) - 1]) == [records[0], records[-1]]


def _strip_columns(run: Path) -> None:
    """The run dir as a version without columns files wrote it."""
    for meta_file in (run / "predictions").glob("*/*.meta.json"):
        meta = json.loads(meta_file.read_text())
        meta.pop("columns")
        meta.pop(META_CHECKSUM)
        meta_file.write_text(json.dumps({**meta, META_CHECKSUM: meta_checksum(meta)}))
    for path in (run / "predictions").glob(f"*/*{SUFFIX}"):
        path.unlink()


def test_run_dirs_without_columns_give_the_same_report(run_dirs: list[Path], tmp_path: Path) -> None:
    old = [tmp_path / r.name for r in run_dirs]
    for src, dst in zip(run_dirs, old, strict=True):
        shutil.copytree(src, dst)
        _strip_columns(dst)
    assert not list(old[0].rglob(f"*{SUFFIX}"))
    build_site(run_dirs, tmp_path / "new", n_resamples=200, cache_dir=tmp_path / "c1")
    build_site(old, tmp_path / "old", n_resamples=200, cache_dir=tmp_path / "c2")
    for name in ("scores", "comparisons", "gain_robustness", "leaderboard", "slices"):
        assert (tmp_path / "new" / f"{name}.json").read_text() == (tmp_path / "old" / f"{name}.json").read_text()


@pytest.mark.parametrize("damage", ["edited", "deleted", "not arrow"])
def test_damaged_columns_are_refused_in_one_line(run_dirs: list[Path], tmp_path: Path, damage: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    runs = [tmp_path / r.name for r in run_dirs]
    for src, dst in zip(run_dirs, runs, strict=True):
        shutil.copytree(src, dst)
    path = runs[1] / "predictions" / "xnli" / f"de.test.clean{SUFFIX}"
    if damage == "edited":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "deleted":
        path.unlink()
    else:  # a file whose checksum the meta was made to match, but that is not Arrow
        path.write_bytes(b"not arrow")
        meta_file = runs[1] / "predictions" / "xnli" / "de.test.clean.meta.json"
        meta = json.loads(meta_file.read_text())
        meta["columns"]["sha256"] = hashlib.sha256(b"not arrow").hexdigest()
        meta.pop(META_CHECKSUM)
        meta_file.write_text(json.dumps({**meta, META_CHECKSUM: meta_checksum(meta)}))
    code = main(["report", *map(str, runs), "--out", str(tmp_path / "site"), "--resamples", "50", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"de.test.clean{SUFFIX}" in err and "field 'columns" in err, err
    assert not (tmp_path / "site" / "index.html").exists()


def test_columns_of_other_predictions_are_not_used(run_dirs: list[Path], tmp_path: Path) -> None:
    """Predictions replaced together with their meta's sha256 (an edit by hand, say) are parsed, not read from
    the columns of the predictions they replaced."""
    run = tmp_path / "run"
    shutil.copytree(run_dirs[0], run)
    store = RunStore(run)
    unit, meta = next((u, m) for u, m in store.complete_units() if u.task == "xnli")
    path = store.predictions_path(unit)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for r in records:
        r["pred"] = r["gold"]  # every prediction right now
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.write_bytes(data)
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    meta.pop(META_CHECKSUM)
    store.meta_path(unit).write_text(json.dumps({**meta, META_CHECKSUM: meta_checksum(meta)}))
    meta = store.unit_meta(unit)
    assert store.verified_columns(unit, meta) is None
    digest = DigestCache(None).load(store, unit, meta, meta["metrics"], [])
    assert digest.stats["accuracy"][:, 0].all()


def test_units_a_metric_cannot_score_are_committed_without_columns(tmp_path: Path) -> None:
    from harness.store.rundir import Unit

    store = RunStore(tmp_path / "run")
    unit = Unit("xnli", "de", "test", "clean")
    store.write_unit(unit, [{"id": "1", "pred": "x", "gold": None}], "fp", {"metrics": ["entity_f1"]})
    meta = store.unit_meta(unit)
    assert meta is not None and "columns" not in meta and not store.columns_path(unit).exists()
    store.write_unit(unit, [{"id": "1", "pred": "a", "gold": "a"}], "fp", {"metrics": ["accuracy"]})
    assert "columns" in store.unit_meta(unit)  # type: ignore[operator]
    store.write_unit(unit, [{"id": "1", "pred": "a", "gold": "a"}], "fp", {})  # no metrics: no columns
    assert "columns" not in store.unit_meta(unit) and not store.columns_path(unit).exists()  # type: ignore[operator]
    store.release()
