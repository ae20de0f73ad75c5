"""Task pages are written while the analysis runs, under the tasks and conditions it planned; the site is the
same as if every page were written after it, also when the leaderboard's tasks or conditions differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.store.synthetic import TASKS, write_submission
from reports import build_site
from reports.site import _Site


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("pipelined-runs")
    tasks = [t for t in TASKS if t.name in ("xnli", "udpos", "xquad")]
    for i in range(3):
        write_submission(root / f"run-{i}", i, 3, tasks, ["de", "sw"], ["clean", "typos.keyboard"], 30, seed=4)
    return sorted(root.iterdir())


def _pages(site: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in site.iterdir() if p.suffix in (".html", ".json", ".csv")}


def test_each_task_is_written_before_the_analysis_ends(runs: list[Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, bool]] = []
    original = _Site.task_done

    def spy(self: _Site, analysis, task: str) -> None:  # noqa: ANN001
        original(self, analysis, task)
        seen.append((task, (tmp_path / "site" / f"task-{task}.html").is_file()))
        assert not (tmp_path / "site" / "index.html").exists()  # the index waits for the leaderboard

    monkeypatch.setattr(_Site, "task_done", spy)
    build_site(runs, tmp_path / "site", n_resamples=200, jobs=2, draws="shared")
    assert seen == [("udpos", True), ("xnli", True), ("xquad", True)]


@pytest.mark.parametrize("draws", ["per-test", "shared"])
def test_pages_rewritten_when_the_plan_differs_from_the_leaderboard(runs: list[Path], tmp_path: Path, draws: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(runs, tmp_path / "plain", n_resamples=200, draws=draws)
    original = _Site.task_done

    def planned_more(self: _Site, analysis, task: str) -> None:  # noqa: ANN001
        if self.analysis is None:  # a planned condition and task that end up without a cell
            analysis.planned_conditions = [*analysis.planned_conditions, "ghost.condition"]
            analysis.planned_tasks = [*analysis.planned_tasks, "ghost"]
        original(self, analysis, task)
        if task == "xquad":  # as if the planned task "ghost" had been written too
            self.written["ghost"] = [self.out / "task-ghost.html"]
            (self.out / "task-ghost.html").write_text("stale")

    monkeypatch.setattr(_Site, "task_done", planned_more)
    build_site(runs, tmp_path / "replanned", n_resamples=200, draws=draws)
    assert _pages(tmp_path / "replanned") == _pages(tmp_path / "plain")
    assert b"ghost" not in (tmp_path / "plain" / "task-xnli.html").read_bytes()
