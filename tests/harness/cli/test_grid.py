"""``xrobust grid`` with a tiny random encoder on real rows: 2 fine-tune recipes (plain, typo-augmented) x 2 tasks
(XNLI, UD-POS) x the typos suite in de and tr, then the report. The plan and its states (--dry-run), one-line
errors for bad grid files, the whole grid on a local Ray instance (2 CPUs), and a driver killed mid-grid:
the rerun completes the grid and touches nothing that was complete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray

from harness.cli.main import main
from harness.grid.jobs import plan_grid
from harness.grid.spec import load_grid

ROOT = Path(__file__).resolve().parents[3]
GRID = """\
out: out
data_dir: {data}
tasks:
  xnli: {{langs: [de, tr], train_split: validation}}
  udpos: {{langs: [de, tr]}}
suites: [typos]
models:
  tiny baseline:
    finetune: {{base: {base}}}
  tiny robust:
    finetune: {{base: {base}, augment: typos}}
finetune:
  train_limit: 8
  training: {{max_steps: 2, batch_size: 4}}
eval: {{limit: 8}}
report: {{title: Tiny grid, resamples: 200}}
"""
RAY = ["--executor", "ray", "--workers", "1", "--no-progress"]


def write_grid(folder: Path, data: Path, base: Path, text: str = GRID) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "grid.yaml"
    path.write_text(text.format(data=data, base=base), encoding="utf-8")
    return path


def dry_run(grid: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["grid", str(grid), "--dry-run"]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.fixture(scope="module")
def ray_address() -> str:
    """A local Ray instance for this module (as CI has it: 2 CPUs, no dashboard)."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def finished_grid(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, tiny_encoder: Path,
                  ray_address: str) -> Path:
    """The whole grid, run once under Ray."""
    grid = write_grid(tmp_path_factory.mktemp("grid-ray"), shared_data, tiny_encoder)
    assert main(["grid", str(grid), *RAY]) == 0
    return grid


def test_dry_run_lists_every_job_with_its_state(tmp_path: Path, shared_data: Path, tiny_encoder: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    grid = write_grid(tmp_path, shared_data, tiny_encoder)
    lines = dry_run(grid, capsys)
    jobs = [line.split()[:3] for line in lines if line.split()[:1] in (["pending"], ["blocked"], ["done"])]
    assert jobs == [["pending", "finetune", f"finetune:tiny-{r}/{t}"] for r in ("baseline", "robust")
                    for t in ("xnli", "udpos")] + [["blocked", "eval", f"eval:tiny-{r}/{t}"]
                                                   for r in ("baseline", "robust") for t in ("xnli", "udpos")] + [
        ["blocked", "report", "report"]]
    assert lines[-1] == "4 pending, 5 blocked (9 jobs)"
    commands = [line.strip() for line in lines if line.strip().startswith("xrobust finetune")]
    assert len(commands) == 4 and sum("--augment typos" in c for c in commands) == 2
    assert all("--max-steps 2 --batch-size 4 --seed 1" in c and "--train-limit 8" in c for c in commands)
    evals = [line for line in lines if line.startswith("blocked  eval")]
    assert all("8 units" in line for line in evals)  # clean + 3 typos conditions x 2 languages
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


def test_job_fingerprints_follow_their_inputs(tmp_path: Path, shared_data: Path, tiny_encoder: Path) -> None:
    grid = write_grid(tmp_path, shared_data, tiny_encoder)
    plain = {j.id: j.fingerprint for j in plan_grid(load_grid(grid)).jobs}
    assert plan_grid(load_grid(grid)).jobs[0].fingerprint == plain["finetune:tiny-baseline/xnli"]  # stable
    steps = {j.id: j.fingerprint for j in plan_grid(load_grid(grid, ["finetune.training.max_steps=3"])).jobs}
    assert all(steps[k] != plain[k] for k in plain)  # every fine-tune, so every evaluation and the report
    langs = {j.id: j.fingerprint for j in plan_grid(load_grid(grid, ["tasks.udpos.langs=[de]"])).jobs}
    changed = {k for k in plain if langs[k] != plain[k]}
    assert changed == {"eval:tiny-baseline/udpos", "eval:tiny-robust/udpos", "report"}


def test_seed_runs_of_a_recipe_are_one_system(tmp_path: Path, shared_data: Path, tiny_encoder: Path) -> None:
    """A recipe with several seeds gives one evaluation per seed, each carrying the recipe's name as its system,
    so the report shows one row with its seed count; a one-seed recipe carries none."""
    text = GRID.replace("augment: typos}}", "augment: typos, seeds: [1, 2]}}")
    plan = plan_grid(load_grid(write_grid(tmp_path, shared_data, tiny_encoder, text)))
    evals = {j.id: j for j in plan.jobs if j.kind == "eval"}
    seeded = [evals["eval:tiny-robust/xnli/seed1"], evals["eval:tiny-robust/xnli/seed2"]]
    assert {r.metadata.get("system") for j in seeded for r in j.evals} == {"tiny robust"}
    assert len({j.out for j in seeded}) == 2
    assert all(not r.metadata for r in evals["eval:tiny-baseline/xnli"].evals)


@pytest.mark.parametrize("text,field", [
    (GRID.replace("augment: typos", "augment: typos, bogus: 1"), "models.tiny robust.finetune.bogus"),
    (GRID.replace("max_steps: 2", "max_steps: two"), "finetune.training.max_steps"),
    (GRID.replace("  tiny baseline:\n    finetune: {{base: {base}}}\n", "  tiny baseline: {{}}\n"),
     "models.tiny baseline"),
    (GRID.replace("out: out\n", ""), "out"),
], ids=["unknown key", "wrong type", "neither model nor recipe", "no out"])
def test_bad_grid_is_one_line_naming_file_and_field(tmp_path: Path, shared_data: Path, tiny_encoder: Path,
                                                    capsys: pytest.CaptureFixture[str], text: str,
                                                    field: str) -> None:
    grid = write_grid(tmp_path, shared_data, tiny_encoder, text)
    assert main(["grid", str(grid), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(grid) in err and f"field '{field}'" in err


@pytest.mark.ray
def test_grid_under_ray_renders_a_report(finished_grid: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = finished_grid.parent / "out"
    site = json.loads((out / "site" / "leaderboard.json").read_text())
    text = json.dumps(site)
    assert "tiny baseline" in text and "tiny robust" in text and (out / "site" / "index.html").is_file()
    for run in sorted((out / "runs").iterdir()):
        results = json.loads((run / "results.json").read_text())
        assert {(u["lang"], u["condition"]) for u in results["units"]} == {
            (lang, c) for lang in ("de", "tr") for c in ("clean", "typos.keyboard", "typos.char_noise",
                                                          "typos.no_diacritics")}
        assert all(u["n"] == 8 for u in results["units"])
        model = Path(results["submission"]["model"])
        card = json.loads((model / "xrobust-card.json").read_text())
        assert card["task"] == results["units"][0]["task"] and card["training"]["steps"] == 2
        assert (card["augmentation"] is not None) == ("robust" in run.name)
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        f"tiny-{r}-{t}" for r in ("baseline", "robust") for t in ("udpos", "xnli")]
    lines = dry_run(finished_grid, capsys)
    assert lines[-1] == "9 done (9 jobs)"
    assert main(["grid", str(finished_grid), *RAY]) == 0  # nothing left to do
    assert "jobs: 0 run, 9 already done" in capsys.readouterr().out
    # a checkpoint gone: its fine-tune is pending again, and what depends on it waits for it
    ckpt = out / "models" / "tiny-robust-udpos"
    ckpt.rename(ckpt.with_name("moved"))
    try:
        states = {line.split()[2]: line.split()[0] for line in dry_run(finished_grid, capsys)[:-1]
                  if not line.startswith(" ")}
    finally:
        ckpt.with_name("moved").rename(ckpt)
    assert {k: v for k, v in states.items() if v != "done"} == {
        "finetune:tiny-robust/udpos": "pending", "eval:tiny-robust/udpos": "blocked", "report": "blocked"}


def _complete_files(out: Path) -> dict[Path, int]:
    """Everything a rerun must leave alone: job records, finished checkpoints, committed units, run files."""
    files: dict[Path, int] = {}
    for record in (out / "jobs").glob("*.json"):
        files[record] = record.stat().st_mtime_ns
        job_out = Path(json.loads(record.read_text())["out"])
        files.update({p: p.stat().st_mtime_ns for p in job_out.rglob("*") if p.is_file()})
    for meta in (out / "runs").rglob("*.meta.json"):
        files[meta] = meta.stat().st_mtime_ns
        data = meta.with_name(meta.name.replace(".meta.json", ".jsonl"))
        files[data] = data.stat().st_mtime_ns
    return files


@pytest.mark.ray
def test_killed_driver_resumes_without_recomputing(tmp_path: Path, shared_data: Path, tiny_encoder: Path,
                                                   ray_address: str, finished_grid: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    grid = write_grid(tmp_path, shared_data, tiny_encoder)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "harness.cli.main", "grid", str(grid), "--executor", "ray", "--ray-address",
           ray_address, "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while not list((out / "jobs").glob("eval*.json")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)  # the driver, with fine-tunes and units in flight
    proc.wait()
    before = _complete_files(out)
    states = {line.split()[2]: line.split()[0] for line in dry_run(grid, capsys)[:-1] if not line.startswith(" ")}
    assert len(states) == 9 and states["report"] == "blocked"
    done_before = sum(state == "done" for state in states.values())
    assert 2 <= done_before < 9  # at least one fine-tune and its evaluation
    assert main(["grid", str(grid), *RAY]) == 0
    assert f"jobs: {9 - done_before} run, {done_before} already done" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in before} == before  # nothing complete was recomputed
    assert dry_run(grid, capsys)[-1] == "9 done (9 jobs)"
    # the resumed grid scores what the uninterrupted one scored
    for run in sorted((out / "runs").iterdir()):
        resumed = json.loads((run / "results.json").read_text())
        whole = json.loads((finished_grid.parent / "out" / "runs" / run.name / "results.json").read_text())
        assert resumed["scores"] == whole["scores"], run.name
