"""Report cache entries: a JSON body with the places of its arrays and one ``.bin`` of their bytes. Arrays come
back as they went in (dtypes, shapes, writable, each its own memory); a damaged entry (truncated, missing,
tampered with: an object dtype, a place past the end, broken JSON) is recomputed, and the site is the one an
empty cache gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.stats.groupcache import DAMAGED, GroupCache
from harness.store.synthetic import TASKS, write_submission
from reports import build_site


def test_arrays_come_back_as_written(tmp_path: Path) -> None:
    cache = GroupCache(tmp_path)
    arrays = {"f": np.linspace(0, 1, 7), "i": np.arange(12, dtype=np.int64).reshape(3, 4), "s": np.float32(2.5),
              "e": np.zeros((0, 3)), "b": np.array([True, False]), "t": np.arange(6, dtype=np.int16)[::2],
              "u": np.array(["ab", "c"])}
    cache.write_entry("x", {"rows": [{"v": float("nan"), "n": 3}]}, arrays)
    body, back = cache.read_entry("x")
    assert body["rows"][0]["n"] == 3 and np.isnan(body["rows"][0]["v"])  # NaN in a row read back
    for name, value in arrays.items():
        got = back[name]
        assert got.dtype == np.asarray(value).dtype and got.shape == np.shape(value)
        assert np.array_equal(got, value) and got.flags.writeable and got.flags.owndata
    assert not list(tmp_path.glob(".*"))  # no temporary file left


@pytest.mark.parametrize("damage", ["truncated", "missing", "object", "past_end", "json"])
def test_a_damaged_entry_reads_as_damaged(tmp_path: Path, damage: str) -> None:
    cache = GroupCache(tmp_path)
    cache.write_entry("x", {"k": 1}, {"a": np.arange(100, dtype=np.int64), "b": np.ones(3)})
    meta, data = tmp_path / "x.json", tmp_path / "x.bin"
    if damage == "truncated":
        data.write_bytes(data.read_bytes()[:100])
    elif damage == "missing":
        data.unlink()
    elif damage in ("object", "past_end"):
        entry = json.loads(meta.read_text())
        entry["arrays"]["a"] = ["|O", 0, [4]] if damage == "object" else ["<i8", 64, [1000]]
        meta.write_text(json.dumps(entry))
    else:
        meta.write_text('{"body": {"k": 1}, "arrays": ')
    with pytest.raises(DAMAGED):
        cache.read_entry("x")


def test_damaged_entries_are_recomputed_and_the_site_is_unchanged(tmp_path: Path) -> None:
    tasks = [t for t in TASKS if t.name in ("xnli", "panx")]
    runs = []
    for i in range(3):
        write_submission(tmp_path / f"run-{i}", i, 3, tasks, ["de", "sw"], ["clean", "typos.keyboard"], 60, seed=2)
        runs.append(tmp_path / f"run-{i}")
    build_site(runs, tmp_path / "fresh", n_resamples=200, draws="shared", cache_dir=tmp_path / "empty")
    cache = tmp_path / "cache"
    build_site(runs, tmp_path / "first", n_resamples=200, draws="shared", cache_dir=cache)
    entries = sorted((cache / "cells").glob("*.bin"))
    assert len(entries) > 10
    for k, data in enumerate(entries):  # every entry damaged, one way or another
        meta = data.with_suffix(".json")
        if k % 3 == 0:
            data.write_bytes(data.read_bytes()[: len(data.read_bytes()) // 2])
        elif k % 3 == 1:
            entry = json.loads(meta.read_text())
            name = next(iter(entry["arrays"]), None)
            if name is not None:
                entry["arrays"][name][0] = "|O"
            meta.write_text(json.dumps(entry))
        else:
            data.unlink()
    build_site(runs, tmp_path / "again", n_resamples=200, draws="shared", cache_dir=cache)
    pages = sorted(p.name for p in (tmp_path / "fresh").iterdir() if p.is_file())
    assert pages and pages == sorted(p.name for p in (tmp_path / "again").iterdir() if p.is_file())
    for page in pages:
        assert (tmp_path / "again" / page).read_bytes() == (tmp_path / "fresh" / page).read_bytes(), page
