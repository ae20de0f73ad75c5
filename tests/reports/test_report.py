"""The HTML leaderboard: built from stored predictions alone, escaped, consistent exports, clean in a browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cli.main import main
from tests.conftest import make_tiny_model

LABELS = ["entailment", "neutral", "contradiction"]


def tiny_run(root: Path, tokenizer_dir: Path, data: Path, *, seed: int, name: str, tasks: str) -> Path:
    """Evaluate a tiny random classifier (``seed``) on ``tasks`` in de/tr/ar; the model is deleted afterwards."""
    model = make_tiny_model(root / f"model-{seed}-{tasks}", tokenizer_dir, "AutoModelForSequenceClassification",
                            seed=seed, id2label=dict(enumerate(LABELS)), label2id={v: k for k, v in enumerate(LABELS)})
    out = root / f"run-{seed}-{tasks}"
    assert main(["run", "--no-progress", "--tasks", tasks, "--model", str(model), "--name", name,
                 "--langs", "de,tr,ar", "--data-dir", str(data), "--limit", "60", "--out", str(out)]) == 0
    shutil.rmtree(model)  # the report must not need the model
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path, shared_data: Path) -> list[Path]:
    root = tmp_path_factory.mktemp("report-runs")
    return [tiny_run(root, tiny_tokenizer_dir, shared_data, seed=seed, name=name, tasks="xnli,tatoeba")
            for seed, name in ((1, "baseline"), (2, "<script>alert('x')</script> & co"))]


@pytest.fixture(scope="module")
def site(two_runs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    assert main(["report", *map(str, two_runs), "--out", str(out), "--resamples", "500"]) == 0
    return out


def test_pages_and_exports_exist(site: Path) -> None:
    for name in ("index.html", "task-xnli.html", "task-tatoeba.html", "pairwise.html", "examples.html",
                 "leaderboard.csv", "leaderboard.json", "scores.csv", "comparisons.json", "slices.json",
                 "gain_robustness.csv"):
        assert (site / name).is_file(), name
    html = (site / "index.html").read_text()
    assert "baseline" in html and "xrobust:0.1.0|model:" in html
    assert "cdn" not in html.lower() and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_user_strings_are_escaped(site: Path) -> None:
    for page in ("index.html", "task-xnli.html", "pairwise.html", "examples.html"):
        html = (site / page).read_text()
        assert "<script>alert" not in html, page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in (site / "index.html").read_text()


def test_exports_agree_with_stored_predictions(site: Path, two_runs: list[Path]) -> None:
    scores = json.loads((site / "scores.json").read_text())
    row = next(r for r in scores if r["task"] == "xnli" and r["language"] == "tr" and r["submission"] == "baseline")
    records = [json.loads(x) for x in (two_runs[0] / "predictions/xnli/tr.test.clean.jsonl").read_text().splitlines()]
    assert row["value"] == pytest.approx(100 * sum(r["pred"] == r["gold"] for r in records) / len(records), abs=1e-4)
    assert row["ci_low"] <= row["value"] <= row["ci_high"] and row["n"] == 60
    board = json.loads((site / "leaderboard.json").read_text())
    xnli = next(r for r in board if r["submission"] == "baseline" and r["scope"] == "xnli")
    per_lang = [r["value"] for r in scores if r["task"] == "xnli" and r["submission"] == "baseline"
                and r["metric"] == "accuracy"]
    assert xnli["value"] == pytest.approx(sum(per_lang) / 3, abs=1e-3) and xnli["over"] == "ar,de,tr"
    overall = next(r for r in board if r["submission"] == "baseline" and r["scope"] == "overall")
    tatoeba = next(r for r in board if r["submission"] == "baseline" and r["scope"] == "tatoeba")
    assert overall["value"] == pytest.approx((xnli["value"] + tatoeba["value"]) / 2, abs=1e-3)
    comps = json.loads((site / "comparisons.json").read_text())
    assert {c["scope"] for c in comps} == {"overall", "xnli", "tatoeba"}
    assert all(c["p_adjusted"] >= c["p_value"] for c in comps)
    slices = json.loads((site / "slices.json").read_text())
    assert any(s["slice"] == "non_latin_script" and s["languages"] == ["ar"] for s in slices if "slice" in s and s["slice"])
    assert any(s.get("bucket") == "length" for s in slices)


def test_report_of_missing_run_dir_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and err.count("\n") == 1


def test_site_in_headless_browser(site: Path, tmp_path: Path) -> None:
    """Open every page in Chromium: the script runs, no console message of any kind, and a screenshot."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is needed for this test (.ci/run installs Debian's chromium)"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}"]
    for page in ("index.html", "task-xnli.html", "pairwise.html", "examples.html"):
        url = (site / page).resolve().as_uri()
        done = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
        assert console == [], console
        assert re.search(r'<body[^>]*class="[^"]*js-ready', done.stdout), page
        assert not re.search(r"<body[^>]*data-js-errors", done.stdout), page
    shot = tmp_path / "index.png"
    subprocess.run([browser, *flags, "--window-size=1400,1000", f"--screenshot={shot}",
                    (site / "index.html").resolve().as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000


def test_per_task_runs_of_one_name_are_one_submission(two_runs: list[Path], tmp_path: Path,
                                                      tiny_tokenizer_dir: Path, shared_data: Path) -> None:
    """A system fine-tuned per task (one checkpoint per task, XTREME-style) is one submission when its run dirs
    carry the same name and cover disjoint tasks; same-name runs that overlap stay apart."""
    per_task = [tiny_run(tmp_path, tiny_tokenizer_dir, shared_data, seed=seed, name="per-task system", tasks=task)
                for seed, task in ((3, "xnli"), (4, "tatoeba"))]
    site = tmp_path / "site"
    assert main(["report", str(two_runs[0]), *map(str, per_task), "--out", str(site), "--resamples", "200"]) == 0
    board = json.loads((site / "leaderboard.json").read_text())
    overall = {r["submission"]: r["value"] for r in board if r["scope"] == "overall" and r["condition"] == "clean"}
    assert set(overall) == {"baseline", "per-task system"} and overall["per-task system"] is not None
    task_scores = {r["scope"]: r["value"] for r in board
                   if r["submission"] == "per-task system" and r["condition"] == "clean" and r["scope"] != "overall"}
    for run in per_task:
        stored = json.loads((run / "results.json").read_text())
        (task, value), = ((t["task"], t["value"]) for t in stored["task_averages"]
                          if t["condition"] == "clean" and t["metric"] == stored["ranked_metrics"][t["task"]])
        assert task_scores[task] == pytest.approx(value, abs=0.01)
    index = (site / "index.html").read_text()
    assert "xnli: " in index and "tatoeba: " in index  # both checkpoints are listed

    site2 = tmp_path / "site2"
    assert main(["report", str(per_task[0]), str(per_task[0]), "--out", str(site2), "--resamples", "200"]) == 0
    names = {r["submission"] for r in json.loads((site2 / "leaderboard.json").read_text())}
    assert names == {"per-task system", "per-task system (2)"}
