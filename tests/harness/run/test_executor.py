"""The executor seam on a local Ray instance (2 CPUs, no GPU), with a tiny random model on real XNLI and UD-POS
rows in two languages, clean and under the typos suite: ``--executor ray --workers 2`` writes the same bytes as
``--executor local``; a worker killed with SIGKILL in the middle of a unit is replaced and the unit retried
(also with the next unit already queued behind it on that worker: the actor is replaced once); a unit that fails
deterministically fails the run with one line after every other unit is committed."""

from __future__ import annotations

import json
import logging
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import ray

from harness.cli.main import main
from harness.cli.run import make_executor
from harness.errors import XRobustError
from harness.models.loading import RuntimeOptions
from harness.run.executors import ExecutorOptions, LocalExecutor
from harness.run.progress import Events, LiveProgress, WorkerInfo
from harness.run.raypool import DEPTH, ActorPool, RayExecutor
from harness.run.runner import Runner, RunRequest
from harness.spec.taskspec import resolve_task
from perturbations import load_suite
from tests.conftest import make_tiny_model

pytestmark = [pytest.mark.ray, pytest.mark.data]

LANGS = "de,tr"
LIMIT = 12


@pytest.fixture(scope="module")
def ray_instance() -> str:
    """A local Ray instance for this module (as CI has it: 2 CPUs, no dashboard)."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def two_head_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """One tiny checkpoint for both tasks: its labels are XNLI's and UD-POS's (each head uses its own)."""
    labels = list(resolve_task("xnli").labels) + list(resolve_task("udpos").labels)
    return make_tiny_model(tmp_path_factory.mktemp("tiny-two-heads"), tiny_tokenizer_dir,
                           "AutoModelForSequenceClassification", id2label=dict(enumerate(labels)),
                           label2id={v: k for k, v in enumerate(labels)})


def cli_args(model: Path, data: Path, out: Path) -> list[str]:
    return ["run", "--no-progress", "--tasks", "xnli,udpos", "--model", str(model), "--langs", LANGS,
            "--data-dir", str(data), "--limit", str(LIMIT), "--suite", "typos", "--out", str(out)]


def request(model: Path, data: Path, out: Path) -> RunRequest:
    return RunRequest(tasks=[resolve_task("xnli"), resolve_task("udpos")], model=str(model), out=out,
                      langs=LANGS.split(","), data_dir=data, limit=LIMIT, suite=load_suite("typos"),
                      options=RuntimeOptions(progress=False))


def unit_files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted((run / "predictions").rglob("*.json*"))}


def assert_same_run(a: Path, b: Path) -> None:
    files_a, files_b = unit_files(a), unit_files(b)
    assert sorted(files_a) == sorted(files_b)
    for name in files_a:
        if name.endswith(".jsonl"):
            assert files_a[name] == files_b[name], name  # byte-identical predictions
        else:
            assert json.loads(files_a[name]) == json.loads(files_b[name]), name
    ra, rb = (json.loads((d / "results.json").read_text()) for d in (a, b))
    assert ra["scores"] == rb["scores"] and ra["units"] == rb["units"] and ra["signature"] == rb["signature"]


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, two_head_model: Path) -> Path:
    out = tmp_path_factory.mktemp("local") / "run"
    assert main(cli_args(two_head_model, shared_data, out)) == 0
    return out


class Recorder(Events):
    """Keeps every event; optionally SIGKILLs the worker of the first (or ``kill_at``-th) unit it sees start;
    with ``pool``, notes how many calls are in flight on it each time a unit is committed."""

    def __init__(self, kill_first: bool = False, kill_at: int | None = None, pool: ActorPool | None = None) -> None:
        self.kill_at = 1 if kill_first else kill_at
        self.pool = pool
        self.started: list[tuple[str, WorkerInfo | None]] = []
        self.retried: list[tuple[str, str]] = []
        self.killed: tuple[str, int] | None = None
        self.in_flight_at_done: list[int] = []

    def unit_started(self, job: str, unit: str, worker: WorkerInfo | None = None) -> None:
        self.started.append((unit, worker))
        if self.kill_at == len(self.started) and self.killed is None and worker is not None:
            self.killed = (unit, worker.pid)
            os.kill(worker.pid, signal.SIGKILL)  # first: the worker is building the job / loading the model

    def unit_done(self, job: str, unit: str, worker: WorkerInfo | None = None) -> None:
        if self.pool is not None:
            self.in_flight_at_done.append(sum(len(slot.flights) for slot in self.pool.slots))

    def unit_retried(self, job: str, unit: str, worker: WorkerInfo | None, reason: str) -> None:
        self.retried.append((unit, reason))


def test_ray_two_workers_write_the_bytes_local_writes(ray_instance: str, local_run: Path, shared_data: Path,
                                                       two_head_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    assert main([*cli_args(two_head_model, shared_data, out), "--executor", "ray", "--workers", "2"]) == 0
    assert_same_run(local_run, out)
    units = json.loads((out / "results.json").read_text())["units"]
    conditions = {u["condition"] for u in units}
    assert {"clean", "typos.keyboard", "typos.char_noise"} <= conditions and {u["task"] for u in units} == {
        "xnli", "udpos"} and {u["lang"] for u in units} == {"de", "tr"} and all(u["n"] == LIMIT for u in units)
    # a rerun finds every unit stored and recomputes nothing
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.meta.json")}
    assert main([*cli_args(two_head_model, shared_data, out), "--executor", "ray", "--workers", "2"]) == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.meta.json")} == before


def test_sigkilled_worker_unit_is_retried_and_the_run_is_identical(ray_instance: str, local_run: Path,
                                                                   shared_data: Path, two_head_model: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "ray-killed"
    events = Recorder(kill_first=True)
    executor = RayExecutor(ExecutorOptions("ray", workers=2))
    try:
        Runner(request(two_head_model, shared_data, out), executor, events).run()
    finally:
        executor.close()
    assert events.killed is not None
    unit, pid = events.killed
    assert [u for u, _ in events.retried] == [unit]  # the killed unit, and only it, went back to the queue
    later = [w for u, w in events.started if u == unit][1:]
    assert later and all(w is not None and w.pid != pid for w in later)  # retried in another process
    assert_same_run(local_run, out)


def test_killed_worker_with_a_unit_queued_behind_is_replaced_once(ray_instance: str, local_run: Path,
                                                                  shared_data: Path, two_head_model: Path,
                                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """One worker, ``DEPTH`` calls in flight: it is SIGKILLed in its second unit (on a warm actor) with the next
    unit already sent behind it. Both calls fail with the actor error; the pool replaces the actor once, puts
    both units back (only the running one counts a retry) and the run is still the local run, byte for byte."""
    assert DEPTH == 2
    replaced: list[int] = []
    replace = ActorPool._replace

    def counting_replace(pool: ActorPool, slot: Any) -> None:
        replaced.append(slot.index)
        replace(pool, slot)

    monkeypatch.setattr(ActorPool, "_replace", counting_replace)
    out = tmp_path / "ray-killed-queued"
    executor = RayExecutor(ExecutorOptions("ray", workers=1))
    events = Recorder(kill_at=2, pool=executor.pool())
    try:
        with caplog.at_level(logging.INFO, logger="harness.run.raypool"):
            Runner(request(two_head_model, shared_data, out), executor, events).run()
    finally:
        executor.close()
    assert events.killed is not None
    _, pid = events.killed
    assert [r.getMessage().split(" with ")[-1] for r in caplog.records if " died with " in r.getMessage()] == [
        f"{DEPTH} call(s) in flight"]  # one death, with the next unit already sent to the actor
    assert replaced == [0]  # one death, one new actor: the failed call queued behind killed nothing more
    assert len(events.retried) == 1  # the unit the actor was running; the queued one went back silently
    retried = events.retried[0][0]
    starts = [w for u, w in events.started if u == retried]
    assert len(starts) == 2 and starts[-1] is not None and starts[-1].pid != pid
    assert len({u for u, _ in events.started}) == len(events.started) - 1  # every other unit started once
    assert max(events.in_flight_at_done) == 1  # pipelined: the next unit was on the actor during each commit
    assert_same_run(local_run, out)


def test_deterministic_failure_commits_the_rest_then_one_line(ray_instance: str, shared_data: Path,
                                                              tiny_xnli_model: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fails"
    args = cli_args(tiny_xnli_model, shared_data, out)  # an NLI-only model cannot tag UD-POS
    args.remove("--no-progress")
    assert main([*args, "--executor", "ray", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    error = [line for line in err.splitlines() if line.startswith("xrobust: error:")]
    assert len(error) == 1 and "do not match task udpos labels" in error[0]
    stored = {p.name for p in (out / "predictions" / "xnli").glob("*.meta.json")}
    assert stored == {f"{lang}.test.{cond}.meta.json" for lang in LANGS.split(",")
                      for cond in ("clean", "typos.keyboard", "typos.char_noise", "typos.no_diacritics")}
    assert not (out / "predictions" / "udpos").exists()
    results = json.loads((out / "results.json").read_text())
    assert {u["task"] for u in results["units"]} == {"xnli"} and len(results["units"]) == len(stored)
    # the progress display: the job's line (with the failures) and the overall bar
    assert any(str(out) in line and "failed" in line for line in err.splitlines())
    assert any(line.startswith("[") and "units" in line and "jobs done" in line for line in err.splitlines())


def test_cpu_workers_fingerprint_as_they_compute(ray_instance: str, two_head_model: Path) -> None:
    from harness.models.loading import ModelCache

    models = ModelCache(str(two_head_model), RuntimeOptions())
    ray_settings = RayExecutor(ExecutorOptions("ray", workers=1)).settings(models, "token_classification")
    assert ray_settings == LocalExecutor().settings(models, "token_classification")  # this machine is a CPU
    assert ray_settings.device == "cpu"
    with pytest.raises(XRobustError, match="--device"):
        RayExecutor(ExecutorOptions("ray")).settings(ModelCache(str(two_head_model), RuntimeOptions(device="cuda")),
                                                     None)


def test_executor_flags_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--tasks", "xnli", "--model", str(tmp_path), "--workers", "2"]) == 2
    assert "--workers" in capsys.readouterr().err
    with pytest.raises(XRobustError, match="--cpus-per-worker"):
        make_executor(ExecutorOptions("ray", cpus_per_worker=0))
    assert isinstance(make_executor(ExecutorOptions()), LocalExecutor)


def test_progress_lines_and_bar(tmp_path: Path) -> None:
    stream = (tmp_path / "progress.txt").open("w+", encoding="utf-8")
    display = LiveProgress(stream, live=False, interval=0)
    display.job_planned("runs/a", 4)
    display.unit_skipped("runs/a", "xnli/de/test/clean")
    display.unit_started("runs/a", "xnli/tr/test/clean", WorkerInfo(1, 123))
    display.unit_done("runs/a", "xnli/tr/test/clean")
    display.job_planned("finetune:b", 1, kind="finetune")
    display.job_state("finetune:b", "running")
    display.close()
    stream.seek(0)
    lines = stream.read().splitlines()
    assert "pending  eval     runs/a: 0/4 units" in lines
    assert lines[-1].startswith("[") and "2/5 units (40%), 0/2 jobs done" in lines[-1] and "ETA" in lines[-1]
    assert any(line.startswith("running  finetune finetune:b") for line in lines)
