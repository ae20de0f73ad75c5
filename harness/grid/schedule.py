"""Running a grid plan: fine-tunes, then each evaluation once its fine-tune is done, then the report.

- ``local``: in this process, an evaluation right after its fine-tune (as ``examples/zero_shot_experiment.sh``).
- ``ray``: every pending fine-tune is submitted at once as a Ray task holding ``finetune_gpus`` whole GPUs
  (and ``finetune_cpus`` CPUs); Ray runs as many side by side as the cluster fits, and retries one whose
  worker died. Evaluations run one after another on the executor's actor pool (their units spread over all
  its workers, which may share GPUs), in the order their fine-tunes finish; while the driver waits for a
  fine-tune the pool is stopped, so its CPUs and GPUs go to the training.

Jobs already done (:meth:`GridPlan.is_done`) are skipped. A job that fails (a one-line error) blocks the
jobs after it; the others still run, then the first error is raised.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import InputError, XRobustError
from harness.finetune.train import FinetuneRequest, finetune
from harness.grid.jobs import GridPlan, Job
from harness.run.executors import Executor
from harness.run.progress import Events
from harness.run.runner import Runner

log = logging.getLogger(__name__)

FINETUNE_RETRIES = 2  # a fine-tune whose worker died is run again this many times


def finetune_task(request: FinetuneRequest, cwd: str, threads: int) -> str:
    """A fine-tune as a Ray task: the checkpoint is written to ``request.out`` (a filesystem the driver reads)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if os.path.isdir(cwd):
        os.chdir(cwd)
    import torch

    torch.set_num_threads(max(1, threads))
    return str(finetune(request))


class _LocalFinetunes:
    """Fine-tunes in this process, each when the grid cannot go on without it."""

    def __init__(self) -> None:
        self.queue: list[Job] = []

    def submit(self, job: Job) -> None:
        self.queue.append(job)

    def pending(self) -> bool:
        return bool(self.queue)

    def poll(self, block: bool, events: Events) -> list[tuple[Job, BaseException | None]]:
        if not block or not self.queue:
            return []
        job = self.queue.pop(0)
        events.job_state(job.id, "running")
        try:
            assert job.finetune is not None
            finetune(job.finetune)
        except InputError as err:
            return [(job, err)]
        return [(job, None)]


class _RayFinetunes:
    """Fine-tunes as Ray tasks, all submitted up front."""

    def __init__(self, executor: Any, gpus: float | None, cpus: float) -> None:
        from harness.run.raypool import import_ray

        self.ray = import_ray()
        self.executor = executor
        executor.connect()
        have = float(self.ray.cluster_resources().get("GPU", 0))
        self.gpus = (1.0 if have >= 1 else 0.0) if gpus is None else gpus
        if self.gpus > have:
            raise XRobustError(f"the Ray cluster has {have:g} GPUs, a fine-tune asks for {self.gpus:g}",
                               field="--finetune-gpus")
        self.cpus = cpus
        self.refs: dict[Any, Job] = {}
        self._remote = self.ray.remote(finetune_task)

    def submit(self, job: Job) -> None:
        assert job.finetune is not None
        request = job.finetune if self.gpus else replace(job.finetune, device="cpu")
        ref = self._remote.options(num_cpus=self.cpus, num_gpus=self.gpus, max_retries=FINETUNE_RETRIES,
                                   retry_exceptions=False).remote(request, os.getcwd(), max(1, int(self.cpus)))
        self.refs[ref] = job

    def pending(self) -> bool:
        return bool(self.refs)

    def _fits(self) -> bool:
        """Whether every pending fine-tune can run beside the pool's workers (else the pool makes way)."""
        total = self.ray.cluster_resources()
        cpus, gpus = self.executor.held()
        room = (total.get("CPU", 0) - cpus) // self.cpus if self.cpus else len(self.refs)
        if self.gpus:
            room = min(room, (total.get("GPU", 0) - gpus) // self.gpus)
        return len(self.refs) <= room

    def poll(self, block: bool, events: Events) -> list[tuple[Job, BaseException | None]]:
        if not self.refs:
            return []
        refs = list(self.refs)
        done, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0)
        if not done and block:
            if not self._fits():  # a queued fine-tune may wait for what the idle pool holds
                self.executor.release()
            done, _ = self.ray.wait(refs, num_returns=1)
        out: list[tuple[Job, BaseException | None]] = []
        for ref in done:
            job = self.refs.pop(ref)
            try:
                self.ray.get(ref)
            except self.ray.exceptions.RayTaskError as err:
                cause = err.cause
                if not isinstance(cause, InputError):
                    raise
                out.append((job, cause))
                continue
            except self.ray.exceptions.RayError as err:
                line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                out.append((job, XRobustError(f"fine-tune {job.id} was lost ({line}); see the Ray logs",
                                              field="--executor")))
                continue
            out.append((job, None))
        return out


@dataclass
class GridOutcome:
    skipped: list[str] = field(default_factory=list)  # done before this run
    done: list[str] = field(default_factory=list)  # done by this run
    failed: dict[str, BaseException] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    report: Path | None = None


def run_grid(plan: GridPlan, executor: Executor, events: Events | None = None, *,
             finetune_gpus: float | None = None, finetune_cpus: float = 1.0, redo: bool = False) -> GridOutcome:
    """Run every job of ``plan`` that is not done (``redo``: every job); raises the first job error once
    nothing else can run."""
    events = events or Events()
    outcome = GridOutcome()
    states = plan.states()
    done = set() if redo else {job_id for job_id, state in states.items() if state == "done"}
    for job in plan.jobs:
        if job.kind == "eval":
            for request, units in zip(job.evals, job.run_units, strict=True):
                label = job.label(request)
                events.job_planned(label, units, units if job.id in done else 0)
                if job.id in done:
                    events.job_state(label, "done")
        else:
            events.job_planned(job.id, 1, kind=job.kind)
        if job.id in done:
            outcome.skipped.append(job.id)
            events.job_state(job.id, "done")
    finetunes = _RayFinetunes(executor, finetune_gpus, finetune_cpus) if executor.name == "ray" else _LocalFinetunes()
    for job in plan.jobs:
        if job.kind == "finetune" and job.id not in done:
            finetunes.submit(job)
            if executor.name == "ray":
                events.job_state(job.id, "running")

    def settle(results: list[tuple[Job, BaseException | None]]) -> None:
        for job, err in results:
            if err is None:
                plan.mark_done(job)
                done.add(job.id)
                outcome.done.append(job.id)
                events.job_state(job.id, "done")
            else:
                outcome.failed[job.id] = err
                events.job_state(job.id, "failed")

    waiting = [j for j in plan.jobs if j.kind == "eval" and j.id not in done]
    while waiting:
        settle(finetunes.poll(False, events))
        for job in [j for j in waiting if any(d in outcome.failed or d in outcome.blocked for d in j.deps)]:
            waiting.remove(job)
            outcome.blocked.append(job.id)
            events.job_state(job.id, "blocked")
        ready = [j for j in waiting if all(d in done for d in j.deps)]
        if ready:
            waiting.remove(ready[0])
            _evaluate(plan, ready[0], executor, events, outcome, done)
        elif finetunes.pending():
            settle(finetunes.poll(True, events))
        elif waiting:
            raise AssertionError(f"grid jobs wait for nothing that runs: {[j.id for j in waiting]}")
    while finetunes.pending():  # fine-tunes no evaluation waits for
        settle(finetunes.poll(True, events))
    for job in plan.jobs:
        if job.kind == "report" and job.id not in done:
            if all(d in done for d in job.deps):
                _report(plan, job, events, outcome)
                done.add(job.id)
            else:
                outcome.blocked.append(job.id)
                events.job_state(job.id, "blocked")
    report = next((j for j in plan.jobs if j.kind == "report"), None)
    outcome.report = report.out / "index.html" if report is not None and report.id in done else None
    if outcome.failed:
        first_id, first = next(iter(outcome.failed.items()))
        if len(outcome.failed) > 1:
            log.warning("%d grid jobs failed (%s); the first error follows", len(outcome.failed),
                        ", ".join(outcome.failed))
        raise first
    return outcome


def _evaluate(plan: GridPlan, job: Job, executor: Executor, events: Events, outcome: GridOutcome,
              done: set[str]) -> None:
    for request in job.evals:
        label = job.label(request)
        try:
            events.job_state(label, "running")
            Runner(request, executor, events, job=label).run()
            events.job_state(label, "done")
        except InputError as err:
            events.job_state(label, "failed")
            outcome.failed[job.id] = err
            return
    plan.mark_done(job)
    done.add(job.id)
    outcome.done.append(job.id)


def _report(plan: GridPlan, job: Job, events: Events, outcome: GridOutcome) -> None:
    from reports import build_site

    spec = plan.spec.report
    events.job_state(job.id, "running")
    try:
        build_site(job.runs, job.out, title=spec.title, baseline=spec.baseline, alpha=spec.alpha,
                   correction=spec.correction, n_resamples=spec.resamples, examples_per_section=spec.examples)
    except InputError as err:
        events.job_state(job.id, "failed")
        outcome.failed[job.id] = err
        return
    plan.mark_done(job)
    outcome.done.append(job.id)
    events.job_state(job.id, "done")
