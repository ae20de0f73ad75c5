"""The report's numbers and p-values are those of the in-memory implementation it replaced (golden files in
tests/fixtures/report_golden), on a synthetic grid of six task types, a three-seed system and three conditions:
computed serially, in two processes, and again from its cache; and a damaged unit is still refused when its
cell results are cached."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.errors import XRobustError
from harness.stats.analysis import Analysis
from harness.stats.runs import load_runs
from harness.stats.systems import group_systems
from harness.store.synthetic import TASKS, write_submission
from reports import build_site
from reports.pages import example_context

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "report_golden"
EXPORTS = ("leaderboard", "scores", "comparisons", "slices", "gain_robustness")
RESAMPLES = 400


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("golden-runs")
    tasks = [t for t in TASKS if t.name in ("xnli", "udpos", "panx", "mlqa", "tatoeba", "lareqa")]
    langs, conds = ["de", "sw"], ["clean", "typos.keyboard", "inflection.swap"]
    write_submission(root / "base", 0, 3, tasks, langs, conds, 40, seed=7)
    for s in (1, 2, 3):
        write_submission(root / f"robust-{s}", 2, 3, tasks, langs, conds, 40, seed=7, train_seed=s, system="robust")
    write_submission(root / "mid", 1, 3, tasks, langs, conds, 40, seed=7)
    return [root / "base", root / "mid", *(root / f"robust-{s}" for s in (1, 2, 3))]


def golden(name: str) -> object:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def exports(site: Path) -> dict[str, object]:
    return {name: json.loads((site / f"{name}.json").read_text(encoding="utf-8")) for name in EXPORTS}


def test_exports_equal_the_golden_ones_serial_parallel_and_cached(runs: list[Path], tmp_path: Path) -> None:
    want = {name: golden(name) for name in EXPORTS}
    assert len(want["comparisons"]) > 20 and any(r["test"] == "two-level bootstrap t" for r in want["comparisons"])
    build_site(runs, tmp_path / "serial", n_resamples=RESAMPLES)
    assert exports(tmp_path / "serial") == want
    assert list((tmp_path / "serial" / ".cache" / "cells").glob("*.json"))  # cell results were cached
    build_site(runs, tmp_path / "serial", n_resamples=RESAMPLES)  # again, from the cache
    assert exports(tmp_path / "serial") == want
    build_site(runs, tmp_path / "parallel", n_resamples=RESAMPLES, jobs=2)
    assert exports(tmp_path / "parallel") == want
    assert 'class="example"' in (tmp_path / "serial" / "examples-xnli.html").read_text(encoding="utf-8")


def test_pairwise_and_example_choice_equal_the_golden_ones(runs: list[Path]) -> None:
    analysis = Analysis(group_systems(load_runs(runs)), n_resamples=RESAMPLES, slices={})
    board = analysis.leaderboard()
    pairwise = {f"{s}|{c}": m for s in ["overall", *board["tasks"]] for c in board["conditions"]
                if (m := analysis.pairwise(s, c))}
    # p-values as small as 1e-35 come from a normal tail: equal up to the last bits the machine's BLAS rounds
    assert _close(json.loads(json.dumps(pairwise)), golden("pairwise"))
    chosen = [{"task": s["task"], "language": s["language"], "condition": s["condition"],
               "ids": [e["id"] for e in s["examples"]]} for s in example_context(analysis)]
    assert chosen == golden("example_ids")


def _close(a: object, b: object) -> bool:
    """Equal structures whose floats agree to 1e-9 relative (exact where they are ints, strings, None)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_damaged_predictions_are_refused_even_with_cached_results(runs: list[Path], tmp_path: Path) -> None:
    build_site(runs, tmp_path / "site", n_resamples=50)
    path = runs[1] / "predictions" / "xnli" / "de.test.clean.jsonl"
    original = path.read_bytes()
    try:
        path.write_bytes(original.replace(b'"pred": "neutral"', b'"pred": "entailment"', 1))
        with pytest.raises(XRobustError, match="checksum"):
            build_site(runs, tmp_path / "site", n_resamples=50)
    finally:
        path.write_bytes(original)


def test_large_task_pages_are_split_per_condition(runs: list[Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``SPLIT_CELLS`` a task gets one page per condition (its tables and gain contrasts cut to it), the
    pairwise page links there instead of listing every contrast, and the exports stay the same."""
    import reports.site

    monkeypatch.setattr(reports.site, "SPLIT_CELLS", 1)
    site = tmp_path / "site"
    build_site(runs, site, n_resamples=RESAMPLES)
    assert exports(site) == {name: golden(name) for name in EXPORTS}
    first = (site / "task-xnli.html").read_text(encoding="utf-8")
    other = (site / "task-xnli--typos.keyboard.html").read_text(encoding="utf-8")
    assert "task-xnli--inflection.swap.html" in first and "Does the gain survive" not in first
    assert "Does the gain survive typos.keyboard?" in other and "inflection.swap</td>" not in other
    assert "typos.keyboard</td>" in other and "clean</td>" not in other
    assert "Per task and condition on the task pages" in (site / "pairwise.html").read_text(encoding="utf-8")


def test_a_submission_of_one_task_recomputes_only_that_tasks_jobs(runs: list[Path], tmp_path: Path) -> None:
    """Cached job results depend on the systems in the job, not on the others: a new submission of XNLI only
    adds XNLI's jobs to the cache, and the report from the cache equals one computed afresh."""
    extra = tmp_path / "xnli-only"
    write_submission(extra, 1, 3, [t for t in TASKS if t.name == "xnli"], ["de", "sw"],
                     ["clean", "typos.keyboard", "inflection.swap"], 40, seed=7, system="xnli-only")
    cache = tmp_path / "cache"
    build_site(runs, tmp_path / "before", n_resamples=50, cache_dir=cache)
    jobs_before = {p.name for p in (cache / "cells").glob("*.json") if not p.name.startswith("rows-")}
    build_site([*runs, extra], tmp_path / "after", n_resamples=50, cache_dir=cache)
    jobs_after = {p.name for p in (cache / "cells").glob("*.json") if not p.name.startswith("rows-")}
    assert len(jobs_after - jobs_before) == 2  # xnli de and sw; the other 10 jobs came from the cache
    build_site([*runs, extra], tmp_path / "fresh", n_resamples=50, cache_dir=tmp_path / "empty-cache")
    assert exports(tmp_path / "after") == exports(tmp_path / "fresh")
