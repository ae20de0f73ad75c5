"""Progress of jobs made of units: one live line per job and an overall bar (units done / total, ETA).

The run loop and the executors report :class:`Events` (a job planned, a unit started on a worker, a unit done
or retried, a job finished); :class:`LiveProgress` draws them. On a terminal the block of lines is redrawn in
place; otherwise (logs, CI) a job's line is printed when its state changes and the bar at most every
``interval`` seconds. :class:`Events` itself does nothing, so a :class:`~harness.run.runner.Runner` without a
display prints nothing extra.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True)
class WorkerInfo:
    """Where a unit runs: the worker's slot in its pool, its process id and host, the device it uses."""

    slot: int
    pid: int
    host: str = ""
    device: str = "cpu"

    def __str__(self) -> str:
        return f"worker {self.slot} (pid {self.pid}{', ' + self.host if self.host else ''}, {self.device})"


class Events:
    """What a run reports while it works; every method is a no-op here (subclass to show or record them)."""

    def job_planned(self, job: str, total: int, done: int = 0, kind: str = "eval") -> None:
        """``job`` has ``total`` units, ``done`` of them already stored."""

    def unit_started(self, job: str, unit: str, worker: WorkerInfo | None = None) -> None:
        """A unit went to a worker (None: computed in this process)."""

    def unit_done(self, job: str, unit: str, worker: WorkerInfo | None = None) -> None:
        """A unit was committed (its meta file written)."""

    def unit_retried(self, job: str, unit: str, worker: WorkerInfo | None, reason: str) -> None:
        """A unit's worker died; the unit was put back in the queue."""

    def unit_failed(self, job: str, unit: str, worker: WorkerInfo | None, error: str) -> None:
        """A unit raised (bad data, a mismatched model): not retried, the job fails once the rest is done."""

    def unit_skipped(self, job: str, unit: str) -> None:
        """A unit was already stored for its fingerprint."""

    def job_state(self, job: str, state: str) -> None:
        """``state``: running, done, failed, blocked or skipped."""


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@dataclass
class _Job:
    name: str
    kind: str = "eval"
    total: int = 0
    done: int = 0  # stored before this process started
    finished: int = 0  # committed by this process
    running: dict[str, str] = field(default_factory=dict)  # unit -> worker label
    retries: int = 0
    failed: int = 0
    state: str = "pending"
    started: float | None = None


class LiveProgress(Events):
    """Draws one line per job and an overall bar on ``stream`` (default stderr)."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None, interval: float = 10.0,
                 width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval if not self.live else 0.2
        self.width = width
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last = 0.0
        self._drawn = 0  # lines of the last live block

    # --- Events ---------------------------------------------------------------------------------------
    def job_planned(self, job: str, total: int, done: int = 0, kind: str = "eval") -> None:
        with self._lock:
            entry = self._job(job, kind)
            entry.total, entry.done, entry.finished = total, done, 0
            self._changed(entry, force=True)

    def unit_started(self, job: str, unit: str, worker: WorkerInfo | None = None) -> None:
        with self._lock:
            entry = self._job(job)
            entry.running[unit] = f"w{worker.slot}" if worker is not None else "here"
            entry.state = "running"
            entry.started = entry.started or time.monotonic()
            self._changed(entry)

    def unit_done(self, job: str, unit: str, worker: WorkerInfo | None = None) -> None:
        with self._lock:
            entry = self._job(job)
            entry.running.pop(unit, None)
            entry.finished += 1
            self._changed(entry)

    def unit_retried(self, job: str, unit: str, worker: WorkerInfo | None, reason: str) -> None:
        with self._lock:
            entry = self._job(job)
            entry.running.pop(unit, None)
            entry.retries += 1
            self._changed(entry, force=True)

    def unit_failed(self, job: str, unit: str, worker: WorkerInfo | None, error: str) -> None:
        with self._lock:
            entry = self._job(job)
            entry.running.pop(unit, None)
            entry.failed += 1
            self._changed(entry, force=True)

    def unit_skipped(self, job: str, unit: str) -> None:
        with self._lock:
            self._job(job).done += 1

    def job_state(self, job: str, state: str) -> None:
        with self._lock:
            entry = self._job(job)
            if entry.state == state:
                return
            entry.state = state
            if state == "running":
                entry.started = entry.started or time.monotonic()
            if state != "running":
                entry.running.clear()
            self._changed(entry, force=True)

    # --- drawing --------------------------------------------------------------------------------------
    def _job(self, name: str, kind: str | None = None) -> _Job:
        if name not in self._jobs:
            self._jobs[name] = _Job(name, kind or "eval")
        elif kind is not None:
            self._jobs[name].kind = kind
        return self._jobs[name]

    def job_line(self, job: _Job) -> str:
        units = f"{job.done + job.finished}/{job.total} units" if job.total and job.kind == "eval" else ""
        running = f", {len(job.running)} running ({', '.join(sorted(set(job.running.values())))})" \
            if job.running else ""
        retries = f", {job.retries} retried" if job.retries else ""
        retries += f", {job.failed} failed" if job.failed else ""
        elapsed = f", {_duration(time.monotonic() - job.started)}" if job.started and job.state == "running" else ""
        detail = ", ".join(x for x in (units,) if x) + running + retries + elapsed
        return f"  {job.state:<8} {job.kind:<8} {job.name}" + (f": {detail}" if detail else "")

    def bar(self) -> str:
        """``[####......] 12/40 units (30%), 2/9 jobs done, ETA 1m20s``."""
        jobs = list(self._jobs.values())
        total = sum(max(j.total, 1) if j.kind != "eval" else j.total for j in jobs)
        done = sum((1 if j.state == "done" else 0) if j.kind != "eval" else j.done + j.finished for j in jobs)
        fresh = sum(j.finished for j in jobs if j.kind == "eval") + sum(
            1 for j in jobs if j.kind != "eval" and j.state == "done")
        share = done / total if total else 1.0
        filled = int(round(self.width * share))
        elapsed = time.monotonic() - self._start
        eta = f", ETA {_duration(elapsed / fresh * (total - done))}" if fresh and done < total else ""
        finished = sum(j.state in ("done", "skipped") for j in jobs)
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} units ({100 * share:.0f}%), "
                f"{finished}/{len(jobs)} jobs done{eta}")

    def _changed(self, job: _Job, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.live:
            if force or now - self._last >= self.interval:
                self._redraw()
                self._last = now
            return
        if force:
            print(self.job_line(job).strip(), file=self.stream, flush=True)
        if force or now - self._last >= self.interval:
            print(self.bar(), file=self.stream, flush=True)
            self._last = now

    def _redraw(self) -> None:
        lines = [self.job_line(j) for j in self._jobs.values()] + [self.bar()]
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    def close(self) -> None:
        """Draw the final state once more."""
        with self._lock:
            if self.live:
                self._redraw()
            else:
                print(self.bar(), file=self.stream, flush=True)
