"""A grid file planned as jobs: one fine-tune per (recipe, task, seed), one evaluation per (model, task[, seed])
(clean plus every suite, then every attack suite, into one run directory), and the report over every run.

Each job has a fingerprint of everything its output depends on, its dependencies' fingerprints included: a
fine-tune pins the base weights, the task configs of its chain, the training files (sha256) or hub commits,
the augmentation suite's condition signatures and the hyper-parameters; an evaluation pins its model (the
fine-tune's fingerprint, or the checkpoint's weights), task config, languages, split, limit, the suites'
signatures, the runtime settings and the data. A finished job leaves ``OUT/jobs/<job>.json`` with its
fingerprint, written by the driver after the job's output is complete, so a rerun skips it; inside an
evaluation, every unit is resumed by its own fingerprint as in ``xrobust run``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.data.cache import RunData
from harness.data.examples import hub_identity
from harness.data.provenance import file_sha256
from harness.data.sources import local_path
from harness.errors import XRobustError
from harness.finetune.card import read_card
from harness.finetune.train import FinetuneRequest, task_for
from harness.grid.spec import OFFLINE_E5, GridSpec, ModelEntry, TaskEntry
from harness.models.loading import RuntimeOptions, weights_fingerprint
from harness.run.runner import RunRequest, plan_units
from harness.spec.taskspec import TaskSpec
from harness.store.rundir import read_json, write_json
from perturbations import Suite, load_suite

STATES = ("done", "pending", "blocked", "changed")


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Job:
    """One job of the grid."""

    id: str
    kind: str  # finetune | eval | report
    out: Path  # checkpoint dir, run dir or site dir
    fingerprint: str
    deps: tuple[str, ...] = ()
    finetune: FinetuneRequest | None = None
    evals: list[RunRequest] = field(default_factory=list)  # one per suite (clean is part of the first)
    units: int = 1  # units of work (evaluations: distinct planned units over its runs)
    run_units: list[int] = field(default_factory=list)  # evaluations: planned units of each run
    runs: list[Path] = field(default_factory=list)  # report: the run dirs it renders

    def label(self, request: RunRequest) -> str:
        """Progress name of one of an evaluation's runs."""
        return f"{self.id} [{request.suite.name if request.suite else 'clean'}]"


@dataclass
class GridPlan:
    spec: GridSpec
    jobs: list[Job]

    def job(self, job_id: str) -> Job:
        return next(j for j in self.jobs if j.id == job_id)

    def marker(self, job: Job) -> Path:
        return self.spec.out / "jobs" / (re.sub(r"[^A-Za-z0-9._-]+", "_", job.id) + ".json")

    def stored(self, job: Job) -> dict | None:
        path = self.marker(job)
        return read_json(path, what="job record") if path.exists() else None

    def is_done(self, job: Job) -> bool:
        stored = self.stored(job)
        return stored is not None and stored.get("fingerprint") == job.fingerprint and _output_ready(job)

    def states(self) -> dict[str, str]:
        """done (stored for this fingerprint, and so is every job it depends on), changed (a fine-tune stored with another recipe), pending (can
        run now) or blocked (waits for a job that is not done)."""
        out: dict[str, str] = {}
        for job in self.jobs:  # dependencies come first
            stored = self.stored(job)
            if self.is_done(job) and all(out[d] == "done" for d in job.deps):  # not if an input is redone
                out[job.id] = "done"
            elif job.kind == "finetune" and stored is not None and stored.get("fingerprint") != job.fingerprint:
                out[job.id] = "changed"
            else:
                out[job.id] = "pending" if all(out[d] == "done" for d in job.deps) else "blocked"
        return out

    def mark_done(self, job: Job) -> None:
        write_json(self.marker(job), {"job": job.id, "kind": job.kind, "fingerprint": job.fingerprint,
                                      "out": str(job.out), "deps": list(job.deps),
                                      "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})


def _output_ready(job: Job) -> bool:
    if job.kind == "finetune":
        return read_card(job.out) is not None
    if job.kind == "eval":
        return (job.out / "results.json").is_file()
    return (job.out / "index.html").is_file()


def _training_data(spec: TaskSpec, split: str, langs: list[str], data_dir: Path | None) -> dict[str, Any]:
    """What a fine-tune stage reads: each training file's sha256, or the hub source and commit."""
    out: dict[str, Any] = {}
    for lang in langs:
        if data_dir is None:
            out[lang] = hub_identity(spec, lang, split)[1]
        else:
            path = local_path(spec, lang, split, data_dir)
            out[lang] = file_sha256(path) if path.is_file() else "missing"
    return out


def _overrides_cli(overrides: dict[str, Any]) -> list[str]:
    flags = []
    for key, value in overrides.items():
        flags += ["--lr" if key == "learning_rate" else "--" + key.replace("_", "-"), str(value)]
    return flags


class _Planner:
    def __init__(self, spec: GridSpec, options: RuntimeOptions, finetune_device: str, overwrite: bool) -> None:
        self.spec, self.options, self.device, self.overwrite = spec, options, finetune_device, overwrite
        self.resources = spec.resources or spec.data_dir
        self._suites: dict[str, Suite] = {}
        self._bases: dict[str, str] = {}

    def suite(self, name: str) -> Suite:
        if name not in self._suites:
            self._suites[name] = load_suite(name, resources_dir=self.resources)
        return self._suites[name]

    def base(self, ref: str) -> str:
        if ref not in self._bases:
            if ref == OFFLINE_E5:
                from harness.models.offline_e5 import ensure_checkpoint

                self._bases[ref] = str(ensure_checkpoint())
            else:
                self._bases[ref] = ref
        return self._bases[ref]

    def finetune_job(self, model: ModelEntry, task: TaskEntry, spec: TaskSpec, seed: int, suffix: str) -> Job:
        recipe = model.recipe
        assert recipe is not None
        base = self.base(recipe.base)
        out = self.spec.out / "models" / f"{model.slug}-{spec.name}{suffix}"
        overrides = {**recipe.defaults, **task.training, **recipe.training, "seed": seed}
        chain = recipe.chain(task.ref)
        train_limit = task.train_limit or recipe.train_limit
        train_langs = list(task.train_langs)
        request = FinetuneRequest(
            model=base, task=task.ref, out=out, train_langs=train_langs, train_split=task.train_split,
            train_limit=train_limit, intermediate=chain, augment=recipe.augment,
            augment_copies=recipe.augment_copies,
            resources=str(self.resources) if self.resources and recipe.augment else None,
            data_dir=self.spec.data_dir, overrides=overrides, overwrite=True, progress=False, device=self.device)
        request.command = self.command(request)
        stages = []
        for item in chain:
            ref, _, split = item.partition(":")
            stage = task_for(ref.strip(), f"models.{model.name}.finetune.intermediate")
            split = split.strip() or stage.splits.get("train", "train")
            stages.append({"task": stage.config_hash(), "split": split, "data": _training_data(
                stage, split, [stage.source_language], self.spec.data_dir)})
        split = task.train_split or spec.splits.get("train", "train")
        augment = [c.signature() for c in self.suite(recipe.augment).conditions] if recipe.augment else None
        fp = digest({"kind": "finetune", "base": recipe.base, "weights": weights_fingerprint(base),
                     "task": spec.config_hash(), "split": split, "langs": train_langs, "limit": train_limit,
                     "data": _training_data(spec, split, train_langs or [spec.source_language], self.spec.data_dir),
                     "stages": stages, "augment": augment, "copies": recipe.augment_copies, "params": overrides})
        return Job(f"finetune:{model.slug}/{spec.name}{suffix.replace('-s', '/seed')}", "finetune", out, fp,
                   finetune=request)

    def command(self, req: FinetuneRequest) -> list[str]:
        """The ``xrobust finetune`` flags that make the same checkpoint (for its card)."""
        cmd = ["finetune", "--model", req.model, "--task", req.task, "--out", str(req.out)]
        for flag, value in (("--data-dir", req.data_dir), ("--train-split", req.train_split),
                            ("--train-limit", req.train_limit), ("--augment", req.augment),
                            ("--resources", req.resources)):
            if value is not None:
                cmd += [flag, str(value)]
        if req.train_langs:
            cmd += ["--train-langs", ",".join(req.train_langs)]
        if req.intermediate:
            cmd += ["--intermediate", ",".join(req.intermediate)]
        if req.augment and req.augment_copies != 1:
            cmd += ["--augment-copies", str(req.augment_copies)]
        return cmd + _overrides_cli(req.overrides) + ["--no-progress"]

    def eval_job(self, model: ModelEntry, task: TaskEntry, spec: TaskSpec, name: str, suffix: str,
                 dep: Job | None) -> Job:
        model_ref = str(dep.out) if dep is not None else self.base(model.model or "")
        out = self.spec.out / "runs" / f"{model.slug}-{spec.name}{suffix}"
        options = replace(self.options, label_map=dict(model.label_map), progress=False)
        suites = [*self.spec.suites, *self.spec.attacks]
        seeded = {"system": model.name} if suffix else {}  # a recipe's seed runs: one system of the report
        base = RunRequest(tasks=[spec], model=model_ref, out=out, name=name, langs=list(task.langs) or None,
                          data_dir=self.spec.data_dir, split=task.split, limit=self.spec.limit,
                          revision=model.revision, overwrite=self.overwrite, options=options, metadata=seeded)
        requests = [replace(base, suite=self.suite(s)) for s in suites] or [base]
        plans = [plan_units(r) for r in requests]
        split = task.split or spec.eval_split
        langs = list(task.langs) or list(spec.languages)
        data = RunData(self.spec.data_dir, self.spec.limit, langs, tasks=[spec], split=split)
        fp = digest({"kind": "eval", "model": dep.fingerprint if dep else [model_ref, model.revision,
                                                                           weights_fingerprint(model_ref)],
                     "task": spec.config_hash(), "langs": langs, "split": split, "limit": self.spec.limit,
                     "suites": {s: [c.signature() for c in self.suite(s).conditions] for s in suites},
                     "options": [options.dtype, options.attn, options.padding_free, options.seed,
                                 sorted(options.label_map.items())],
                     "data": data.fingerprint(spec, [x for x in langs if x in spec.all_languages], split)})
        return Job(f"eval:{model.slug}/{spec.name}{suffix.replace('-s', '/seed')}", "eval", out, fp,
                   deps=(dep.id,) if dep else (), evals=requests, units=len({p.unit for x in plans for p in x}),
                   run_units=[len(x) for x in plans])


def plan_grid(spec: GridSpec, options: RuntimeOptions | None = None, *, finetune_device: str = "auto",
              overwrite: bool = False) -> GridPlan:
    """Every job of ``spec``, dependencies first: fine-tunes, evaluations, the report."""
    planner = _Planner(spec, options or RuntimeOptions(), finetune_device, overwrite)
    finetunes: list[Job] = []
    evals: list[Job] = []
    for model in spec.models:
        seeds = model.recipe.seeds if model.recipe else (None,)
        for task in spec.tasks.values():
            task_spec = task_for(task.ref, f"tasks.{task.ref}")
            for seed in seeds:
                suffix = f"-s{seed}" if seed is not None and len(seeds) > 1 else ""
                name = model.name + (f" (seed {seed})" if suffix else "")
                dep = planner.finetune_job(model, task, task_spec, seed, suffix) if model.recipe else None
                if dep is not None:
                    finetunes.append(dep)
                evals.append(planner.eval_job(model, task, task_spec, name, suffix, dep))
    jobs = finetunes + evals
    if spec.report.enabled:
        fp = digest({"kind": "report", "runs": [j.fingerprint for j in evals], "report": repr(spec.report)})
        jobs.append(Job("report", "report", spec.site, fp, deps=tuple(j.id for j in evals),
                        runs=[j.out for j in evals]))
    return GridPlan(spec, jobs)


def describe(plan: GridPlan) -> list[str]:
    """``--dry-run``: one line per job (state, kind, id, units, output), then the counts per state."""
    states = plan.states()
    lines = []
    for job in plan.jobs:
        what = f"{job.units} units" if job.kind == "eval" else ""
        after = f"  after {', '.join(job.deps)}" if job.kind == "eval" and job.deps else ""
        lines.append(f"{states[job.id]:<8} {job.kind:<8} {job.id:<40} {what:>10}  {job.out}{after}")
        if job.kind == "finetune" and job.finetune is not None:
            lines.append(f"{'':<18}xrobust {shlex.join(job.finetune.command)}")
    counts = {s: sum(v == s for v in states.values()) for s in STATES}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) + f" ({len(plan.jobs)} jobs)")
    return lines


def refuse_changed(plan: GridPlan) -> None:
    """A fine-tune stored with another recipe would replace a checkpoint that runs were scored with."""
    for job_id, state in plan.states().items():
        if state == "changed":
            job = plan.job(job_id)
            raise XRobustError(f"job {job_id} was made with another recipe (fingerprint "
                               f"{(plan.stored(job) or {}).get('fingerprint')} != {job.fingerprint}) and its runs "
                               f"were scored with it; use another `out`, or remove {job.out} and its runs",
                               file=plan.spec.path, field=f"jobs.{job_id}")
