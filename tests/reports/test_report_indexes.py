"""A report's cache keeps an index of the unit metas and of the predictions' stamps it verified: the next report
lists ~50,000 units without opening each meta again or rehashing any predictions, and gives the same site. The
stamps live in the index alone (no file per unit). A damaged index is ignored (metas are read and predictions
hashed as without one); a changed file is never vouched for by it (``tests/harness/store/test_hostile_store.py``)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from harness.store.synthetic import TASKS, write_submission
from reports import build_site


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("index-runs")
    tasks = [t for t in TASKS if t.name in ("xnli", "panx")]
    for i in range(3):
        write_submission(root / f"run-{i}", i, 3, tasks, ["de", "sw"], ["clean", "typos.keyboard"], 40, seed=2)
    return sorted(root.iterdir())


def _pages(site: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in site.iterdir() if p.suffix in (".html", ".json", ".csv")}


@pytest.mark.parametrize("draws", ["per-test", "shared"])
def test_a_second_report_opens_no_meta_or_stamp_file(runs: list[Path], tmp_path: Path, draws: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.stats.digest as digest
    import harness.store.rundir as rundir

    cache = tmp_path / "cache"
    build_site(runs, tmp_path / "first", n_resamples=200, draws=draws, cache_dir=cache)
    metas: list[Path] = []
    stamps: list[Path] = []
    real_meta, real_stamp = rundir.read_meta, digest.DigestCache._stamp_path

    def meta_spy(path: Path) -> dict:
        metas.append(path)
        return real_meta(path)

    def stamp_spy(self, path):  # type: ignore[no-untyped-def]
        stamps.append(path)
        return real_stamp(self, path)

    hashed: list[Path] = []
    real_bytes = rundir.RunStore.verified_bytes

    def bytes_spy(self, unit, meta):  # type: ignore[no-untyped-def]
        hashed.append(self.predictions_path(unit))
        return real_bytes(self, unit, meta)

    monkeypatch.setattr(rundir, "read_meta", meta_spy)
    monkeypatch.setattr(digest.DigestCache, "_stamp_path", stamp_spy)
    monkeypatch.setattr(rundir.RunStore, "verified_bytes", bytes_spy)
    assert not list((cache / "digests" / "stamps").glob("*/*.json"))  # no stamp file per unit: the index
    index = orjson.loads((cache / "digests" / "stamps" / "index.json").read_bytes())
    assert len(index) == 3 * 8
    if draws == "shared":  # the ids sha256 shared draws align on are named there too
        assert all(isinstance(entry[4], str) for entry in index.values())
    build_site(runs, tmp_path / "second", n_resamples=200, draws=draws, cache_dir=cache)
    assert metas == [] and stamps == [] and hashed == []
    assert _pages(tmp_path / "second") == _pages(tmp_path / "first")
    # a damaged index is ignored: every meta is read and every predictions file hashed again, the same site
    for index_file in [*(cache / "metas").iterdir(), cache / "digests" / "stamps" / "index.json"]:
        index_file.write_bytes(b"\x00not json")
    build_site(runs, tmp_path / "third", n_resamples=200, draws=draws, cache_dir=cache)
    assert len(metas) == 3 * 8 and len(set(hashed)) == 3 * 8
    assert _pages(tmp_path / "third") == _pages(tmp_path / "first")
    # and the index is whole again: a fourth report hashes nothing
    hashed.clear()
    build_site(runs, tmp_path / "fourth", n_resamples=200, draws=draws, cache_dir=cache)
    assert hashed == [] and _pages(tmp_path / "fourth") == _pages(tmp_path / "first")


def test_verify_full_reads_every_meta(runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.store.rundir as rundir

    build_site(runs, tmp_path / "first", n_resamples=200, cache_dir=tmp_path / "cache")
    metas: list[Path] = []
    real_meta = rundir.read_meta
    monkeypatch.setattr(rundir, "read_meta", lambda path: metas.append(path) or real_meta(path))
    build_site(runs, tmp_path / "again", n_resamples=200, cache_dir=tmp_path / "cache", verify="full")
    assert len(metas) == 3 * 8


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_new_submissions_predictions_are_hashed_once(runs: list[Path], tmp_path: Path, jobs: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """With shared draws the ids of a new submission's units are read before its jobs run (to know which
    systems' numbers are cached); the jobs then find those predictions verified, in workers too."""
    import harness.store.rundir as rundir

    cache = tmp_path / "cache"
    build_site(runs[:2], tmp_path / "first", n_resamples=200, draws="shared", cache_dir=cache, jobs=jobs)
    log = tmp_path / "hashed.log"
    real_bytes = rundir.RunStore.verified_bytes

    def bytes_spy(self, unit, meta):  # type: ignore[no-untyped-def]
        with log.open("a") as handle:  # appended to from forked workers too
            handle.write(f"{self.predictions_path(unit)}\n")
        return real_bytes(self, unit, meta)

    monkeypatch.setattr(rundir.RunStore, "verified_bytes", bytes_spy)
    build_site(runs, tmp_path / "second", n_resamples=200, draws="shared", cache_dir=cache, jobs=jobs)
    hashed = log.read_text().splitlines()
    assert len(hashed) == 8 and len(set(hashed)) == 8 and all(str(runs[2]) in h for h in hashed)
    assert _pages(tmp_path / "second") == _pages(build_site(runs, tmp_path / "plain", n_resamples=200,
                                                            draws="shared", jobs=jobs).parent)
