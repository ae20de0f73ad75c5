"""The ``ray`` executor: a job's pending units spread over a pool of Ray actors (one process each, on any node
of the cluster), the driver committing what they return.

- **Workers.** Each actor holds ``cpus_per_worker`` CPUs and ``gpus_per_worker`` GPUs (fractions share a GPU);
  Ray gives it its own ``CUDA_VISIBLE_DEVICES``, so the model it loads lives on one device. An actor rebuilds a
  job's work (:meth:`Work.build`: the runner, its plan, the model) once and keeps it for the job's units.
- **Pipelined.** Each actor has up to ``DEPTH`` units in flight: Ray runs an actor's calls one after another in
  the order they were sent, so the actor starts its next unit while the driver commits the one before (writes
  and hashes its files) instead of waiting for it. Every ready actor gets its first unit before any gets a
  second (actors that already hold the job's model first); the last units of a job (fewer left than ready
  actors) are not queued behind others but go to whichever actor is free first. A unit queued behind another is
  reported started when the one before it comes back (that is when the actor starts it).
- **One writer.** Actors return a unit's records and meta; only the driver writes the run directory (the
  store's atomic meta-last protocol), so workers need read access to the model, data and resources only,
  at the same paths (relative paths are resolved from the driver's working directory, which each actor enters).
- **Faults.** A worker process that dies (``kill -9``, OOM, a lost node) fails every call in flight on it with
  a Ray actor error: the actor is replaced once, and its units go back to the front of the queue in their
  order, to another worker where one is free. The unit it was running counts an attempt (up to
  ``MAX_ATTEMPTS``); the units queued behind it never started and do not. A unit that raises (bad data,
  mismatched labels) is not retried: the other units are still computed and committed, then the first error
  is raised (the CLI prints it as one line, exit code 2). A killed driver takes its actors with it; rerunning
  the same command resumes from the committed units.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from harness.errors import XRobustError
from harness.models.inference import Inference, resolve
from harness.models.loading import ModelCache
from harness.run.executors import ExecutorOptions, UnitJob, Work
from harness.run.progress import Events, WorkerInfo

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # per unit: first try plus retries after its worker died while running it
DEPTH = 2  # calls in flight per actor: the one it computes and the next, sent while the driver commits
MAX_START_FAILURES = 5  # per slot: actors that died before answering their first call
KEEP_WORKS = 2  # jobs an actor keeps built (each with its loaded model)
WARM_IMPORTS = ("torch", "transformers", "harness.run.runner")  # what a starting worker imports first


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise XRobustError("--executor ray needs the ray package: pip install 'xrobust[ray]'",
                           field="--executor") from None
    return ray


def connect(address: str | None) -> bool:
    """Connect to Ray: ``address``, else the instance this process already uses, else a new local one (no
    dashboard). Returns True if this call started the connection (and should shut it down)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(include_dashboard=False, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"at {address}" if address else "locally"
        raise XRobustError(f"cannot start or reach Ray {where}: {str(err).strip().splitlines()[0]}",
                           field="--ray-address") from None
    return True


class UnitActor:
    """A pool worker (wrapped with ``ray.remote`` at pool start): builds works and computes their units."""

    def __init__(self, cwd: str, threads: int, gpus: float, warm: tuple[str, ...] = ()) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if not gpus:  # device "auto" resolves to the CPU, as the driver assumed when it took fingerprints
            os.environ["CUDA_VISIBLE_DEVICES"] = ""
        if os.path.isdir(cwd):
            os.chdir(cwd)
        import torch

        torch.set_num_threads(max(1, threads))
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
        except ImportError:
            pass
        for module in warm:  # imported while the driver still takes fingerprints
            importlib.import_module(module)
        self._works: OrderedDict[str, Any] = OrderedDict()
        self._shared: dict[str, Any] = {}  # what works of one actor may share (loaded models)

    def hello(self) -> dict[str, Any]:
        import ray

        gpus = ray.get_gpu_ids()
        device = f"cuda ({','.join(map(str, gpus))})" if gpus else "cpu"
        return {"pid": os.getpid(), "host": socket.gethostname(), "device": device}

    def compute(self, work: Work, key: str) -> Any:
        built = self._works.get(work.key)
        if built is None:
            built = self._works[work.key] = work.build(self._shared)
            while len(self._works) > KEEP_WORKS:
                self._works.popitem(last=False)
        self._works.move_to_end(work.key)
        return built.compute(key)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)


def worker_settings(model: str, options: Any, revision: str | None, task_type: str | None) -> Inference:
    """Inference settings as a worker resolves them on its own device."""
    return ModelCache(model, options, revision).inference(task_type) if task_type else resolve(options)


@dataclass
class _Slot:
    index: int
    actor: Any = None
    generation: int = 0  # actors started in this slot: which one a call in flight went to
    ready: Any = None  # the pending first call (hello) of a starting actor
    info: WorkerInfo | None = None
    flights: list[_Flight] = field(default_factory=list)  # calls in flight on the current actor, oldest first
    work: str | None = None  # the work key it last computed
    start_failures: int = 0


@dataclass
class _Queued:
    key: str
    item: Any
    attempts: int = 0
    failed_on: set[int] = field(default_factory=set)


@dataclass(eq=False)
class _Flight:
    """A unit sent to an actor: the slot and actor generation it went to; announced once reported started."""

    ref: Any
    entry: _Queued
    slot: _Slot
    generation: int
    info: WorkerInfo | None
    announced: bool = False


class ActorPool:
    """``size`` actors, started on demand, replaced when they die."""

    def __init__(self, size: int, cpus: float, gpus: float, warm: tuple[str, ...] = ()) -> None:
        self.size, self.cpus, self.gpus, self.warm = size, cpus, gpus, warm
        self.slots = [_Slot(i) for i in range(size)]
        self._remote: Any = None

    def _start(self, slot: _Slot) -> None:
        ray = import_ray()
        if self._remote is None:
            self._remote = ray.remote(UnitActor)
        threads = max(1, int(self.cpus))
        slot.actor = self._remote.options(num_cpus=self.cpus, num_gpus=self.gpus, max_restarts=0,
                                          max_task_retries=0).remote(os.getcwd(), threads, self.gpus,
                                                                             self.warm)
        slot.generation += 1
        slot.ready = slot.actor.hello.remote()
        slot.info = None
        slot.flights = []  # a replaced actor's calls still in flight keep their (old) generation

    def _replace(self, slot: _Slot) -> None:
        ray = import_ray()
        try:
            ray.kill(slot.actor, no_restart=True)
        except Exception:  # already gone
            pass
        self._start(slot)

    def start(self) -> None:
        for slot in self.slots:
            if slot.actor is None:
                self._start(slot)

    def ready_slot(self) -> _Slot:
        """A started worker (waits for the first to answer)."""
        ray = import_ray()
        self.start()
        while True:
            ready = [s for s in self.slots if s.info is not None]
            if ready:
                return ready[0]
            refs = [s.ready for s in self.slots if s.ready is not None]
            done, _ = ray.wait(refs, num_returns=1)
            for slot in self.slots:
                if slot.ready is not None and slot.ready in done:
                    self._greet(slot)

    def _greet(self, slot: _Slot) -> None:
        """The first call of a started actor came back: record who it is, or restart it if it died."""
        ray = import_ray()
        ref, slot.ready = slot.ready, None
        try:
            hello = ray.get(ref)
        except ray.exceptions.RayActorError as err:
            slot.start_failures += 1
            if slot.start_failures >= MAX_START_FAILURES:
                raise XRobustError(f"Ray workers die while starting ({_first_line(err)}); see the Ray logs",
                                   field="--executor") from None
            self._start(slot)
            return
        slot.info = WorkerInfo(slot.index, hello["pid"], hello["host"], hello["device"])
        log.info("ray %s ready", slot.info)

    def release(self) -> None:
        """Stop every actor (their resources go back to the cluster); the pool restarts them on demand."""
        ray = import_ray()
        for slot in self.slots:
            if slot.actor is not None:
                try:
                    ray.kill(slot.actor, no_restart=True)
                except Exception:
                    pass
            self.slots[slot.index] = _Slot(slot.index)

    def map(self, job: UnitJob, items: Iterable[Any], events: Events) -> list[BaseException]:
        """Compute every item on the pool, committing each result through ``job`` as it arrives; returns the
        errors of units that failed deterministically (the others are all committed)."""
        ray = import_ray()
        lost = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError,
                ray.exceptions.OutOfMemoryError, ray.exceptions.NodeDiedError)
        queue = deque(_Queued(job.unit_key(item), item) for item in items)
        spec = job.work()
        work, work_key = ray.put(spec), spec.key
        inflight: dict[Any, _Flight] = {}  # every call in flight, in the order it was sent
        errors: list[BaseException] = []

        def announce(flight: _Flight) -> None:
            if not flight.announced:
                flight.announced = True
                events.unit_started(job.name, flight.entry.key, flight.info)

        def announce_next(slot: _Slot) -> None:
            """Report the oldest call in flight on ``slot`` started (the actor runs it now)."""
            if slot.flights:
                announce(slot.flights[0])

        self.start()
        while queue or inflight:
            for slot in self.slots:
                if slot.actor is None:
                    self._start(slot)
            ready = sorted((s for s in self.slots if s.info is not None),
                           key=lambda s: s.work != work_key)  # workers that hold this job first
            for place in range(DEPTH):  # every ready worker's first place before any worker's second
                for slot in ready:
                    if not queue or (place and len(queue) < len(ready)):
                        break  # the last units go to whichever worker is free first, not behind another
                    if len(slot.flights) > place:
                        continue
                    entry = _take(queue, slot.index, len(self.slots))
                    ref = slot.actor.compute.remote(work, entry.key)
                    inflight[ref] = flight = _Flight(ref, entry, slot, slot.generation, slot.info)
                    slot.flights.append(flight)
                    slot.work = work_key
                    announce_next(slot)
            starting = {s.ready: s for s in self.slots if s.ready is not None}
            done, _ = ray.wait([*inflight, *starting], num_returns=1, timeout=5.0)
            for ref in done:
                if ref in starting:
                    self._greet(starting[ref])
                    continue
                flight = inflight.pop(ref, None)
                if flight is None:  # went back to the queue with the rest of its dead actor's calls
                    continue
                slot, entry = flight.slot, flight.entry
                current = flight.generation == slot.generation  # else its actor was replaced already
                if current:
                    index = slot.flights.index(flight)
                    del slot.flights[index]
                try:
                    result = ray.get(ref)
                except lost as err:
                    reason = _first_line(err)
                    behind: list[_Flight] = []
                    if current:  # this actor died: replace it (once), with the calls queued behind this one
                        behind = slot.flights[index:]
                        for other in behind:
                            inflight.pop(other.ref, None)
                        log.info("%s died with %d call(s) in flight", flight.info, index + 1 + len(behind))
                        self._replace(slot)  # calls sent before this one stay in flight, under the old generation
                    # An attempt counts for the call the actor was running: the oldest in flight on it, which is the
                    # one announced. Calls queued behind it never started: they go back without one (and without
                    # an event: they were never reported started).
                    requeue = [entry, *(other.entry for other in behind)]
                    if flight.announced:
                        events.unit_retried(job.name, entry.key, flight.info, reason)
                        log.warning("unit %s: %s died (%s); retrying", entry.key, flight.info, reason)
                        entry.attempts += 1
                        entry.failed_on.add(slot.index)
                        if entry.attempts >= MAX_ATTEMPTS:
                            errors.append(XRobustError(f"unit {entry.key}: its worker died {entry.attempts} times "
                                                       f"(last: {reason}); see the Ray logs", field="--executor"))
                            requeue.remove(entry)
                    queue.extendleft(reversed(requeue))  # front of the queue, in the order they were sent
                    continue
                except ray.exceptions.RayTaskError as err:
                    cause = err.cause if isinstance(err.cause, BaseException) else err
                    log.warning("unit %s failed on %s: %s", entry.key, flight.info, _first_line(cause))
                    errors.append(cause)
                    announce(flight)
                    events.unit_failed(job.name, entry.key, flight.info, _first_line(cause))
                    announce_next(slot)
                    continue
                announce(flight)  # (if it came back before the call sent ahead of it)
                announce_next(slot)  # the actor computes its next unit while the driver commits this one
                job.commit(entry.item, result)
                events.unit_done(job.name, entry.key, flight.info)
        return errors


def _take(queue: deque[_Queued], slot: int, slots: int) -> _Queued:
    """The first queued unit that has not failed on this slot (when there is another slot to try it on)."""
    for i, entry in enumerate(queue):
        if slot not in entry.failed_on or len(entry.failed_on) >= slots:
            del queue[i]
            return entry
    return queue.popleft()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class RayExecutor:
    """Pending units on an :class:`ActorPool` of the Ray cluster at ``options.address`` (default: the instance
    this process is connected to, else a new local one)."""

    name = "ray"

    def __init__(self, options: ExecutorOptions) -> None:
        self.options = options
        self._pool: ActorPool | None = None
        self._owns_ray = False
        self._gpus: float | None = None
        self._cpu_models: dict[tuple, ModelCache] = {}

    def connect(self) -> None:
        ray = import_ray()
        if not ray.is_initialized():
            self._owns_ray = connect(self.options.address) or self._owns_ray
        if self._gpus is None:
            resources = ray.cluster_resources()
            have = float(resources.get("GPU", 0))
            gpus = self.options.gpus_per_worker
            self._gpus = (1.0 if have >= 1 else 0.0) if gpus is None else gpus
            if self._gpus > have:
                raise XRobustError(f"the Ray cluster has {have:g} GPUs, a worker asks for {self._gpus:g}",
                                   field="--gpus-per-worker")
            if self.options.cpus_per_worker > float(resources.get("CPU", 0)):
                raise XRobustError(f"the Ray cluster has {resources.get('CPU', 0):g} CPUs, a worker asks for "
                                   f"{self.options.cpus_per_worker:g}", field="--cpus-per-worker")

    @property
    def gpus_per_worker(self) -> float:
        self.connect()
        assert self._gpus is not None
        return self._gpus

    def pool(self) -> ActorPool:
        if self._pool is None:
            self.connect()
            ray = import_ray()
            workers = self.options.workers
            if workers is None:
                resources = ray.cluster_resources()
                share = resources.get("GPU", 0) / self.gpus_per_worker if self.gpus_per_worker else \
                    resources.get("CPU", 1) / self.options.cpus_per_worker
                workers = max(1, int(share))
            self._pool = ActorPool(workers, self.options.cpus_per_worker, self.gpus_per_worker, WARM_IMPORTS)
            log.info("ray pool: %d workers x (%g CPU, %g GPU)", workers, self.options.cpus_per_worker,
                     self.gpus_per_worker)
        return self._pool

    def settings(self, models: ModelCache, task_type: str | None) -> Inference:
        if self.gpus_per_worker:  # the workers' GPUs may differ from this machine's: ask one of them
            ray = import_ray()
            slot = self.pool().ready_slot()
            return ray.get(slot.actor.call.remote(worker_settings, models.model_ref, models.options,
                                                  models.revision, task_type))
        if models.options.device.startswith("cuda"):
            raise XRobustError("CUDA requested but the Ray workers get no GPU; pass --gpus-per-worker",
                               field="--device")
        key = (models.model_ref, models.revision, id(models.options))
        if key not in self._cpu_models:  # CPU workers: resolved here exactly as they resolve it
            self._cpu_models[key] = ModelCache(models.model_ref, replace(models.options, device="cpu"),
                                               models.revision)
        cpu = self._cpu_models[key]
        return cpu.inference(task_type) if task_type else resolve(cpu.options)

    def execute(self, job: UnitJob, pending: Iterable[Any], events: Events) -> None:
        pool = self.pool()
        pool.start()  # workers start (and import) while the fingerprints are taken
        items = list(pending)  # every fingerprint is taken (and every data error raised) before dispatch
        if not items:
            return
        started = time.monotonic()
        errors = pool.map(job, items, events)
        job.flush()
        log.info("ray: %d units in %.1fs", len(items), time.monotonic() - started)
        if errors:
            if len(errors) > 1:
                log.warning("%d units failed; the first error follows", len(errors))
            raise errors[0]

    def held(self) -> tuple[float, float]:
        """CPUs and GPUs the pool's started workers hold (or wait for)."""
        if self._pool is None:
            return 0.0, 0.0
        started = sum(slot.actor is not None for slot in self._pool.slots)
        return started * self._pool.cpus, started * self._pool.gpus

    def release(self) -> None:
        """Give the pool's resources back to the cluster (e.g. while a fine-tune waits for them)."""
        if self._pool is not None:
            self._pool.release()

    def close(self) -> None:
        self.release()
        self._pool = None
        if self._owns_ray:
            import_ray().shutdown()
            self._owns_ray = False
