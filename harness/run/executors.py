"""Executors: where a job's pending units are computed. ``local`` (the default) computes them one after another
in this process; ``ray`` (:mod:`harness.run.raypool`) spreads them over a pool of Ray actors.

An executor knows units only as keys of a :class:`UnitJob`: it never knows what a task is. Whatever runs a
unit, the driver (this process) is the only writer of the run directory: a worker returns the unit's records
and meta, and the job commits them with the store's atomic meta-last protocol, so a unit is either complete
and verified or absent, and the files are byte-identical to a local run's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from harness.errors import XRobustError
from harness.models.inference import Inference, resolve
from harness.models.loading import ModelCache
from harness.run.progress import Events

EXECUTORS = ("local", "ray")


class Work(Protocol):
    """What a worker rebuilds (picklable): ``key`` names it, ``build()`` makes the object whose
    ``compute(unit_key)`` returns a unit's result."""

    key: str

    def build(self) -> Any: ...


class UnitJob(Protocol):
    """A job of units as an executor sees it."""

    name: str

    def unit_key(self, item: Any) -> str:
        """The name a unit is scheduled, retried and reported by."""
        ...

    def run_here(self, item: Any) -> None:
        """Compute and commit a unit in this process (the local executor)."""
        ...

    def work(self) -> Work:
        """What a remote worker needs to compute this job's units."""
        ...

    def commit(self, item: Any, result: Any) -> None:
        """Write a unit a worker computed (the driver is the only writer)."""
        ...

    def flush(self) -> None:
        """Bring the job's derived files (results.json) up to date after a burst of commits."""
        ...


class Executor(Protocol):
    name: str

    def settings(self, models: ModelCache, task_type: str | None) -> Inference:
        """The inference settings units of ``task_type`` are computed with (None: the checkpoint-independent
        part, e.g. the dtype), on the devices this executor computes on: what fingerprints pin."""
        ...

    def execute(self, job: UnitJob, pending: Iterable[Any], events: Events) -> None:
        """Compute and commit every item of ``pending`` (consumed lazily by ``local``)."""
        ...

    def close(self) -> None:
        """Release workers (a no-op for ``local``)."""
        ...


class LocalExecutor:
    """Units one after another in this process: each is computed, committed and results.json rebuilt before
    the next unit's fingerprint is taken, as ``xrobust run`` always did."""

    name = "local"

    def settings(self, models: ModelCache, task_type: str | None) -> Inference:
        return models.inference(task_type) if task_type else resolve(models.options)

    def execute(self, job: UnitJob, pending: Iterable[Any], events: Events) -> None:
        for item in pending:
            key = job.unit_key(item)
            events.unit_started(job.name, key)
            job.run_here(item)
            events.unit_done(job.name, key)

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class ExecutorOptions:
    """``--executor``, ``--ray-address``, ``--workers``, ``--gpus-per-worker``, ``--cpus-per-worker``."""

    executor: str = "local"
    address: str | None = None  # None: the Ray instance this process is connected to, else a new local one
    workers: int | None = None  # None: as many as the cluster's CPUs (or GPUs) allow
    gpus_per_worker: float | None = None  # None: 1 when the cluster has GPUs, else 0
    cpus_per_worker: float = 1.0

    def check(self) -> None:
        if self.executor not in EXECUTORS:
            raise XRobustError(f"{self.executor!r} is not one of {', '.join(EXECUTORS)}", field="--executor")
        if self.workers is not None and self.workers < 1:
            raise XRobustError(f"must be at least 1, got {self.workers}", field="--workers")
        if self.gpus_per_worker is not None and self.gpus_per_worker < 0:
            raise XRobustError(f"must be 0 or more, got {self.gpus_per_worker}", field="--gpus-per-worker")
        if self.cpus_per_worker <= 0:
            raise XRobustError(f"must be more than 0, got {self.cpus_per_worker}", field="--cpus-per-worker")
        if self.executor == "local" and (self.address or self.workers or self.gpus_per_worker):
            flag = "--ray-address" if self.address else "--workers" if self.workers else "--gpus-per-worker"
            raise XRobustError("only applies with --executor ray", field=flag)
