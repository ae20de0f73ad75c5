"""``--draws shared``: one example resample and one sign-flip draw per (task, language, split) and example set.

The same tests and point estimates as the per-test draws (exact McNemar p-values equal, Monte Carlo quantities
within their Monte Carlo error), draws that do not depend on which systems a report holds (adding one leaves
every other system's interval and test unchanged), on a synthetic grid of six task types, a three-seed system
and three conditions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.stats.analysis import Analysis
from harness.stats.engine import shared_sums
from harness.stats.runs import load_runs
from harness.stats.systems import group_systems
from harness.store.synthetic import TASKS, write_submission
from reports import build_site

RESAMPLES = 2000
EXPORTS = ("leaderboard", "scores", "comparisons", "gain_robustness")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("shared-runs")
    tasks = [t for t in TASKS if t.name in ("xnli", "udpos", "panx", "mlqa", "tatoeba", "lareqa")]
    langs, conds = ["de", "sw"], ["clean", "typos.keyboard", "inflection.swap"]
    write_submission(root / "base", 0, 4, tasks, langs, conds, 80, seed=3)
    for s in (1, 2, 3):
        write_submission(root / f"robust-{s}", 2, 4, tasks, langs, conds, 80, seed=3, train_seed=s, system="robust")
    write_submission(root / "mid", 1, 4, tasks, langs, conds, 80, seed=3)
    write_submission(root / "late", 3, 4, tasks, langs, conds, 80, seed=3)
    return {p.name: p for p in root.iterdir()}


def _site(runs: dict[str, Path], names: list[str], out: Path, draws: str) -> dict[str, list[dict]]:
    build_site([runs[n] for n in names], out, n_resamples=RESAMPLES, draws=draws)
    return {name: json.loads((out / f"{name}.json").read_text(encoding="utf-8")) for name in EXPORTS}


def _key(row: dict) -> tuple:
    return tuple(row.get(k) for k in ("task", "language", "split", "condition", "metric", "submission", "scope",
                                      "baseline"))


def test_shared_draws_keep_every_estimate_and_test_and_agree_within_monte_carlo_error(
        runs: dict[str, Path], tmp_path: Path) -> None:
    names = ["base", "mid", "robust-1", "robust-2", "robust-3"]
    per_test = _site(runs, names, tmp_path / "per-test", "per-test")
    shared = _site(runs, names, tmp_path / "shared", "shared")
    for out, draws in ((per_test, "per-test"), (shared, "shared")):  # and the per-language comparisons
        analysis = Analysis(group_systems(load_runs([runs[n] for n in names])), n_resamples=RESAMPLES, slices={},
                            draws=draws)
        out["languages"] = [row for rows in analysis.comparisons.values() for row in rows]
    tests = {row["test"] for row in shared["languages"] + shared["gain_robustness"]}
    assert {"mcnemar_exact", "permutation", "condition_swap", "two-level bootstrap t"} <= tests, tests
    for export in (*EXPORTS, "languages"):
        want = {_key(r): r for r in per_test[export]}
        got = {_key(r): r for r in shared[export]}
        assert want.keys() == got.keys() and len(want) > 10, export
        for key, a in want.items():
            b = got[key]
            for field in ("value", "difference", "contrast", "n", "test", "rank", "seeds"):
                if field in a and field != "rank":
                    assert a[field] == b[field], (export, key, field)  # point estimates and tests unchanged
            if a.get("test") == "mcnemar_exact":
                assert a["p_value"] == b["p_value"], (export, key)  # exact: no draws
            width = max(a["ci_high"] - a["ci_low"], 1e-9)
            for field in ("ci_low", "ci_high"):
                assert abs(a[field] - b[field]) <= 0.2 * width + 1e-6, (export, key, field, a[field], b[field])
            if "p_value" in a and a.get("test") != "mcnemar_exact":
                assert abs(a["p_value"] - b["p_value"]) <= 0.08, (export, key, a["p_value"], b["p_value"])
    assert shared["scores"] != per_test["scores"]  # other draws (not a copy of the per-test path)
    page = (tmp_path / "shared" / "index.html").read_text(encoding="utf-8")
    assert "one example resample and one sign-flip draw per task" in page


def test_shared_draws_do_not_depend_on_the_other_systems(runs: dict[str, Path], tmp_path: Path) -> None:
    """Adding a submission leaves every other system's intervals and tests as they were (per-test draws
    resample the systems of a cell jointly, so there they move)."""
    few = _site(runs, ["base", "mid"], tmp_path / "few", "shared")
    more = _site(runs, ["base", "mid", "late"], tmp_path / "more", "shared")
    for export in ("scores", "comparisons", "gain_robustness"):
        more_rows = {_key(r): r for r in more[export]}
        assert len(more_rows) > len(few[export]) > 10
        for row in few[export]:
            family = ("p_adjusted", "significant")  # corrected over the comparisons a report holds
            assert {k: v for k, v in more_rows[_key(row)].items() if k not in family} == \
                {k: v for k, v in row.items() if k not in family}, (export, _key(row))
    moved = _site(runs, ["base", "mid", "late"], tmp_path / "per-test-more", "per-test")["scores"]
    before = _site(runs, ["base", "mid"], tmp_path / "per-test-few", "per-test")["scores"]
    moved_rows = {_key(r): r for r in moved}
    assert any(moved_rows[_key(r)] != r for r in before)


def test_shared_draws_report_is_cached_and_parallel_alike(runs: dict[str, Path], tmp_path: Path) -> None:
    names = ["base", "mid", "robust-1", "robust-2", "robust-3"]
    first = _site(runs, names, tmp_path / "site", "shared")
    assert _site(runs, names, tmp_path / "site", "shared") == first  # from the cache
    build_site([runs[n] for n in names], tmp_path / "jobs", n_resamples=RESAMPLES, draws="shared", jobs=2)
    assert {n: json.loads((tmp_path / "jobs" / f"{n}.json").read_text()) for n in EXPORTS} == first
    pages = sorted(p.name for p in (tmp_path / "site").iterdir() if p.suffix in (".html", ".json", ".csv"))
    assert len(pages) > 10  # pages of a report computed by two processes are the serial ones, byte for byte
    for page in pages:
        assert (tmp_path / "jobs" / page).read_bytes() == (tmp_path / "site" / page).read_bytes(), page
    # the cache keeps the two kinds of draws apart
    assert _site(runs, names, tmp_path / "site", "per-test") != first


def test_shared_sums_are_one_draw_for_every_column() -> None:
    rng = np.random.default_rng(0)
    matrix = np.c_[rng.integers(0, 2, (400, 3)), rng.random(400), np.full(400, 2.0)]
    boot, flips = shared_sums(matrix, 3000, seed=5)
    sub, sub_flips = shared_sums(matrix[:, [1, 3]], 3000, seed=5)
    np.testing.assert_array_equal(sub, boot[:, [1, 3]])  # the draws do not depend on the other columns,
    np.testing.assert_array_equal(sub_flips, flips[:, [1, 3]])  # nor the sums' rounding on their company
    wide = np.c_[matrix, rng.random((400, 70)), matrix[:, 3]]  # more columns than one product takes, a repeat
    wide_boot, wide_flips = shared_sums(wide, 3000, seed=5)
    np.testing.assert_array_equal(wide_boot[:, :5], boot)
    np.testing.assert_array_equal(wide_boot[:, -1], boot[:, 3])
    np.testing.assert_array_equal(wide_flips[:, :5], flips)
    masked_boot, masked = shared_sums(matrix, 3000, seed=5, flips=np.array([True, False, False, True, False]))
    np.testing.assert_array_equal(masked_boot, boot)
    np.testing.assert_array_equal(masked[:, [0, 3]], flips[:, [0, 3]])  # flips summed for the asked columns only
    assert np.isnan(masked[:, [1, 2, 4]]).all()
    assert (boot[:, 4] == 800.0).all()  # a constant column sums to n times its value
    # a resample is n draws with replacement: the means and spreads of the sums are the bootstrap's
    np.testing.assert_allclose(boot.mean(0)[:4], matrix.sum(0)[:4], rtol=0.02)
    np.testing.assert_allclose(boot.std(0)[:4], np.sqrt(400) * matrix.std(0)[:4], rtol=0.06)
    # fair coins: each row kept with probability 1/2, independently
    np.testing.assert_allclose(flips.mean(0), matrix.sum(0) / 2, rtol=0.03)
    np.testing.assert_allclose(flips.std(0)[:4], np.sqrt((matrix[:, :4] ** 2).sum(0) / 4), rtol=0.06)
    other, _ = shared_sums(matrix, 3000, seed=6)
    assert not np.allclose(other, boot)
    no_flips = shared_sums(matrix, 3000, seed=5, flips=False)
    assert no_flips[1] is None


def test_shared_permutation_p_values_are_uniform_under_the_null() -> None:
    """Two systems whose per-example outcomes are exchangeable: the shared sign-flip test's p-values over
    many independent cells are uniform (its size is the nominal one)."""
    from harness.metrics import METRICS
    from harness.stats.cells import Estimator, GroupJob, _Cell, _draw_shared, _shared_compare

    est = Estimator(("a", "b"), {"a": 1, "b": 1}, "a", n_resamples=500, draws="shared")
    metric = METRICS["f1"] if "f1" in METRICS else next(m for m in METRICS.values() if len(m.columns) > 1)
    p_values = []
    rng = np.random.default_rng(11)
    for trial in range(300):
        n = 60
        base = rng.random((n, len(metric.columns)))
        stats = {name: base + 0.3 * rng.standard_normal(base.shape) for name in ("a", "b")}

        class _D:  # a digest of one seed: what a cell reads
            def __init__(self, s: np.ndarray) -> None:
                self.stats = {metric.name: s}

        ids = [str(i) for i in range(n)]
        cell = _Cell(("t", str(trial), "test", "clean", metric.name), ["a", "b"], ids, metric,
                     {name: [_D(np.abs(s))] for name, s in stats.items()},  # type: ignore[list-item]
                     {name: [np.arange(n)] for name in stats})
        _draw_shared(GroupJob("t", str(trial), "test", {}, {}), {cell.key: cell}, est, metric.name)
        res = _shared_compare(cell, est, "b")
        assert res["test"] == "permutation"
        p_values.append(res["p_value"])
    p = np.array(p_values)
    assert 0.02 <= (p <= 0.05).mean() <= 0.09
    assert 0.4 <= (p <= 0.5).mean() <= 0.6


def test_adding_a_submission_computes_its_parts_only_and_renders_as_a_fresh_report(
        runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared draws cache a job's result per system: with one more submission only its parts (and the
    baseline's columns it is compared with) are computed, and the site is byte-identical to one built from
    an empty cache."""
    import harness.stats.bysystem as bysystem

    computed: list[set[str]] = []
    real = bysystem.compute_group

    def spy(job, *args, **kwargs):  # type: ignore[no-untyped-def]
        computed.append(set(job.systems))
        return real(job, *args, **kwargs)

    monkeypatch.setattr(bysystem, "compute_group", spy)
    import harness.stats.analysis as analysis_module

    scored: list[list[str]] = []
    real_buckets = analysis_module.bucket_scores

    def bucket_spy(buckets, conditions, names, *args):  # type: ignore[no-untyped-def]
        scored.append(list(names))
        return real_buckets(buckets, conditions, names, *args)

    monkeypatch.setattr(analysis_module, "bucket_scores", bucket_spy)
    from harness.stats.digest import UnitDigest
    from harness.stats.groupcache import GroupCache

    arrays_read: list[str] = []
    real_read = GroupCache.read_entry

    def read_spy(self, stem):  # type: ignore[no-untyped-def]
        if stem.endswith("-arrays"):
            arrays_read.append(stem)
        return real_read(self, stem)

    monkeypatch.setattr(GroupCache, "read_entry", read_spy)
    fetched: list[tuple[str, int]] = []  # (predictions file, row) read for the example browser
    real_fetch = UnitDigest.fetch

    def fetch_spy(self, rows):  # type: ignore[no-untyped-def]
        fetched.extend((str(self.path), int(r)) for r in rows)
        return real_fetch(self, rows)

    monkeypatch.setattr(UnitDigest, "fetch", fetch_spy)
    cache = tmp_path / "cache"
    names = ["base", "mid", "robust-1", "robust-2", "robust-3"]
    build_site([runs[n] for n in names], tmp_path / "before", n_resamples=RESAMPLES, draws="shared", cache_dir=cache)
    assert computed and all(s == {"system-00", "system-01", "robust"} for s in computed)
    first_fetched, late = set(fetched), str(runs["late"])
    assert first_fetched and len(first_fetched) == len(fetched)  # each record read once
    computed.clear()
    fetched.clear()
    build_site([runs[n] for n in [*names, "late"]], tmp_path / "warm", n_resamples=RESAMPLES, draws="shared",
               cache_dir=cache)
    assert computed and all(s == {"system-00", "system-03"} for s in computed), computed
    assert scored[-1] == ["system-03"]  # bucket scores: the new system's only
    # the old systems' averages and bucket rows are cached: their parts are read without their arrays
    assert arrays_read == []
    # the records shown before are kept: only the new system's and newly shown ones are read from predictions
    assert any(path.startswith(late) for path, _ in fetched)
    assert not first_fetched & set(fetched)
    build_site([runs[n] for n in [*names, "late"]], tmp_path / "fresh", n_resamples=RESAMPLES, draws="shared",
               cache_dir=tmp_path / "empty")
    pages = sorted(p.name for p in (tmp_path / "fresh").iterdir() if p.suffix in (".html", ".json", ".csv"))
    assert len(pages) > 10 and any(p.startswith("examples-") for p in pages)
    for page in pages:
        assert (tmp_path / "warm" / page).read_bytes() == (tmp_path / "fresh" / page).read_bytes(), page
    computed.clear()
    scored.clear()
    fetched.clear()
    build_site([runs[n] for n in [*names, "late"]], tmp_path / "again", n_resamples=RESAMPLES, draws="shared",
               cache_dir=cache)
    assert computed == [] and scored == [] and fetched == []  # nothing changed: all from the cache
    assert arrays_read == []
    for page in pages:
        assert (tmp_path / "again" / page).read_bytes() == (tmp_path / "fresh" / page).read_bytes(), page


def test_parts_give_the_numbers_of_the_whole_job_also_when_a_submission_lacks_examples(
        runs: dict[str, Path], tmp_path: Path) -> None:
    """Cached per system or computed whole (no cache), the same numbers; a submission holding fewer examples
    changes the ids its jobs align on, so those jobs are computed whole, and their numbers are still the same."""
    tasks = [t for t in TASKS if t.name in ("xnli", "panx")]
    write_submission(tmp_path / "short", 3, 4, tasks, ["de", "sw"], ["clean", "typos.keyboard"], 60, seed=3)
    dirs = [runs["base"], runs["mid"], tmp_path / "short"]

    def numbers(cache: Path | None, among: list[Path] = dirs) -> tuple:
        a = Analysis(group_systems(load_runs(among)), n_resamples=500, slices={"g": ["sw"]}, draws="shared",
                     cache_dir=cache)
        slices = {(t, c, n): (p, s.tobytes(), list(parts)) for t in a.tasks() for c in a.conditions()
                  for n in a.names if (got := a.slice_distribution(t, "g", c, n)) is not None
                  for p, s, _, parts in [got]}
        assert slices
        return (a.cell_rows(), [r for rows in a.comparisons.values() for r in rows],
                [r for rows in a.gains.values() for r in rows], a.examples, a.bucket_rows, a.leaderboard(), slices)

    whole = numbers(None)
    assert numbers(tmp_path / "cache") == whole
    assert numbers(tmp_path / "cache") == whole  # from the cache
    # the short submission joins a report whose averages are cached: the jobs it makes whole read every part
    numbers(tmp_path / "summarized", dirs[:2])
    assert numbers(tmp_path / "summarized") == whole
    parts = list((tmp_path / "cache" / "cells").glob("part-*.json"))
    assert parts  # the jobs the short submission is not in are cut by system
    held = {r["n"] for r in whole[0] if r["task"] == "xnli" and r["condition"] in ("clean", "typos.keyboard")}
    assert held == {60}  # aligned on the examples all systems hold


def test_example_browser_of_parts_matches_the_whole_job_where_a_condition_holds_other_ids(tmp_path: Path) -> None:
    """The example browser built from the parts' views picks the examples and records the whole job picks, also
    where a perturbed condition holds a subset of the clean ids in another order (each condition's units
    alike, so the job is still cut by system), before and after a submission is added."""
    from harness.store.rundir import Unit

    tasks = [t for t in TASKS if t.name in ("xnli", "udpos")]
    conds = ["clean", "typos.keyboard", "inflection.swap"]
    dirs = []
    for i in range(4):
        store = write_submission(tmp_path / f"sub-{i}", i, 4, tasks, ["de"], conds, 90, seed=5)
        for task in tasks:  # typos.keyboard: every third example dropped, the rest in reverse order
            unit = Unit(task.name, "de", task.split, "typos.keyboard")
            meta = store.unit_meta(unit)
            assert meta is not None
            kept = [r for r in reversed(store.read_predictions(unit)) if int(r["id"]) % 3]
            extra = {k: v for k, v in meta.items() if k not in ("task", "lang", "split", "condition", "fingerprint",
                                                                 "n", "sha256")}
            store.write_unit(unit, kept, meta["fingerprint"], extra)
        store.release()
        dirs.append(tmp_path / f"sub-{i}")

    def examples(among: list[Path], cache: Path | None) -> list[dict]:
        a = Analysis(group_systems(load_runs(among)), n_resamples=200, draws="shared", cache_dir=cache)
        assert cache is None or not a._whole  # with a cache every job is cut by system
        return a.examples

    whole = examples(dirs, None)
    shown = {(s["task"], s["condition"]): len(s["examples"]) for s in whole}
    assert shown[("xnli", "typos.keyboard")] > 0 and shown[("xnli", "inflection.swap")] > 0
    assert all(int(e["id"]) % 3 for s in whole if s["condition"] == "typos.keyboard" for e in s["examples"])
    assert examples(dirs, tmp_path / "cache") == whole
    examples(dirs[:3], tmp_path / "warm")
    assert examples(dirs, tmp_path / "warm") == whole  # the parts of three, one submission added
