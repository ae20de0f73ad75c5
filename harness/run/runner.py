"""Evaluate one submission: for each unit of work (task, language, split, condition), load examples, let the
condition (:mod:`harness.run.conditions`) predict them, store the predictions, and rebuild results.json.

Units already stored for the same fingerprint are skipped, so re-running a command recomputes nothing
and a run killed mid-way resumes at the first unfinished unit. The model is loaded only when some unit
actually needs it.

Pending units go to an executor (:mod:`harness.run.executors`): ``local`` computes and commits them one after
another here; ``ray`` (:mod:`harness.run.raypool`) computes them on a pool of workers that each rebuild this
runner from the request (:class:`RunWork`) and return a unit's records and meta (:class:`Computed`); this
process, the only writer, commits each with :meth:`RunStore.write_unit`.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from harness import __version__
from harness.attack.transfer import load_sources
from harness.data.cache import RunData
from harness.errors import XRobustError
from harness.models.inference import Inference
from harness.models.loading import ModelCache, RuntimeOptions, is_local, weights_fingerprint
from harness.models.predictors import Predictor, get_predictor
from harness.run.adversarial import Attack, Transfer
from harness.run.conditions import Clean, Condition, Perturbed, UnitData
from harness.run.crosspairs import CrossLingualPairs
from harness.run.executors import Executor, LocalExecutor
from harness.run.progress import Events
from harness.run.variants import worst_case_units, write_worst_case
from harness.spec.slices import example_attributes
from harness.spec.taskspec import TaskSpec, known_language_codes
from harness.stats.systems import run_metadata
from harness.store.results import claim_run_dir, model_signature, write_results
from harness.store.rundir import RunStore, Unit
from harness.store.signature import fingerprint, library_versions
from perturbations import Suite

log = logging.getLogger(__name__)


@dataclass
class RunRequest:
    """Everything ``xrobust run`` was asked to do."""

    tasks: list[TaskSpec]
    model: str
    out: Path
    name: str | None = None
    langs: list[str] | None = None
    data_dir: Path | None = None
    split: str | None = None
    limit: int | None = None
    revision: str | None = None
    suite: Suite | None = None
    cross_pairs: list[str] = field(default_factory=list)  # pair tasks: text_b also from these languages
    overwrite: bool = False
    options: RuntimeOptions = field(default_factory=RuntimeOptions)
    metadata: dict[str, Any] = field(default_factory=dict)  # extra submission keys (system, train_seed, recipe)
    adversarial_from: list[Path] = field(default_factory=list)  # run dirs whose attack units are replayed


def _languages_for(spec: TaskSpec, requested: list[str] | None) -> list[str]:
    if not requested:
        return list(spec.languages)
    return [lang for lang in requested if lang in spec.all_languages]


def _check_languages(requested: list[str] | None, specs: list[TaskSpec]) -> None:
    if not requested:
        return
    known = known_language_codes()
    for lang in requested:
        if known and lang not in known:
            raise XRobustError(f"unknown language code {lang!r} (see tasks/languages.yaml)", field="--langs")
    for lang in requested:
        if not any(lang in s.all_languages for s in specs):
            raise XRobustError(f"language {lang!r} is not covered by any requested task", field="--langs")


def _conditions(request: RunRequest) -> list[Condition]:
    """Clean, the suite's conditions (each seeded variant of a random one), then the cross-language pairs."""
    conditions: list[Condition] = [Clean()]
    seed = request.options.seed  # --seed: every suite condition's seed derives from it (run_condition_seed)
    for cond in request.suite.conditions if request.suite is not None else ():
        conditions += [Attack(cond, run_seed=seed)] if cond.adversarial else \
            [Perturbed(cond, k, run_seed=seed) for k in range(cond.variants)]
    conditions += [CrossLingualPairs(lang) for lang in request.cross_pairs]
    return conditions


def _data_languages(unit: Unit, condition: Condition) -> list[str]:
    """The languages whose data a unit reads: its own, and the second segment's of a cross-language pair."""
    second = getattr(condition, "second_lang", None)
    return [unit.lang] + ([second] if second and second != unit.lang else [])


class Planned(NamedTuple):
    """One unit to predict: its task, name and condition."""

    spec: TaskSpec
    unit: Unit
    condition: Condition


class Computed(NamedTuple):
    """A predicted unit as a worker returns it: its records and its meta entries (the store adds the rest)."""

    records: list[dict]
    extra: dict[str, Any]


Pending = tuple[Planned, str]  # a unit to compute and its fingerprint

RESULTS_EVERY_S = 2.0  # ray: results.json is rebuilt at most this often while units arrive, and at the end


def plan_units(req: RunRequest) -> list[Planned]:
    """Every unit to predict, per task and language: clean, the suite's conditions (a condition with
    ``variants: K`` gives K units, "<suite>.<cond>" and "<suite>.<cond>~v<k>" for k = 1..K-1), the
    cross-language pairs, and one unit "<suite>.<cond>@from-<its submission>" per greedy attack unit of an
    ``adversarial_from`` run with this task, language and split. Needs no model."""
    _check_languages(req.langs, req.tasks)
    sources = load_sources(req.adversarial_from) if req.adversarial_from else []
    conditions = _conditions(req)
    units = []
    for spec in req.tasks:
        split = req.split or spec.eval_split
        here = conditions + [Transfer(source) for source in sources if source.unit.split == split]
        for lang in _languages_for(spec, req.langs):
            units += [Planned(spec, Unit(spec.name, lang, split, str(c.id)), c) for c in here
                      if c.claims(lang) and c.applies_to(spec)]
    if req.adversarial_from and not any(isinstance(p.condition, Transfer) for p in units):
        raise XRobustError("no stored greedy attack units for the requested tasks, languages and split in "
                           f"{', '.join(map(str, req.adversarial_from))}", field="--adversarial-from")
    return units


class Runner:
    """Runs a :class:`RunRequest` against a :class:`RunStore`, its pending units on ``executor`` (default: this
    process), reporting to ``events`` (default: nothing)."""

    def __init__(self, request: RunRequest, executor: Executor | None = None, events: Events | None = None,
                 job: str | None = None) -> None:
        self.request = request
        self.job = job
        self.executor: Executor = executor or LocalExecutor()
        self.events = events or Events()
        self.store = RunStore(request.out)
        self.models = ModelCache(request.model, request.options, request.revision)
        self.data = RunData(request.data_dir, request.limit, request.langs, tasks=request.tasks,
                            split=request.split)
        self._weights: str | None = None
        self._predictors: dict[str, Predictor] = {}

    @property
    def weights(self) -> str:
        if self._weights is None:
            self._weights = weights_fingerprint(self.request.model)
        return self._weights

    @property
    def dtype(self) -> str:
        """The weights' dtype of this run (``auto`` resolved for the device units are computed on)."""
        return self.executor.settings(self.models, None).dtype

    @property
    def job_name(self) -> str:
        """How progress names this run: ``job``, else its run directory."""
        return self.job or str(self.request.out)

    def settings(self, task_type: str) -> Inference:
        """The inference settings ``task_type``'s units are computed with (on the executor's devices)."""
        return self.executor.settings(self.models, task_type)

    def _submission(self, old: dict | None) -> dict:
        """This run's submission metadata; a run dir already claimed must belong to the same model. The system,
        training seed and recipe come from the request, the checkpoint's model card and the run dir's earlier
        metadata (:func:`harness.stats.systems.run_metadata`)."""
        req = self.request
        model_path = str(Path(req.model).resolve()) if is_local(req.model) else req.model
        default_name = Path(req.model.rstrip("/")).name or req.model
        submission = {"name": req.name or default_name, "model": req.model, "model_path": model_path,
                      "revision": req.revision, "weights_sha256": self.weights, "dtype": self.dtype,
                      "seed": req.options.seed, "harness_version": __version__, "libraries": library_versions(),
                      **req.metadata}
        submission.update(run_metadata(model_path if is_local(req.model) else None, req.metadata, old))
        if old is not None:
            if old.get("weights_sha256") != submission["weights_sha256"] or old.get("model_path") != \
                    submission["model_path"]:
                raise XRobustError(
                    f"run directory belongs to model {old.get('model')} ({old.get('weights_sha256')}); "
                    "use another --out", file=self.store.run_file, field="submission.model")
            submission["name"] = req.name or old.get("name", submission["name"])
        return submission

    def unit_fingerprint(self, spec: TaskSpec, unit: Unit, condition: Condition) -> str:
        req = self.request
        fp = fingerprint(model=req.model, revision=req.revision, weights=self.weights, task=spec.config_hash(),
                         split=unit.split, condition=condition.signature, limit=req.limit,
                         **self.settings(spec.type).pinned(),
                         data=self.data.fingerprint(spec, _data_languages(unit, condition), unit.split))
        variant = condition.id.variant
        return fingerprint(base=fp, variant=variant) if variant else fp

    def plan(self) -> list[Planned]:
        """Every unit to predict (:func:`plan_units`)."""
        return plan_units(self.request)

    def run(self) -> dict:
        """Run every pending unit; returns the results dict that was written."""
        run = claim_run_dir(self.store, self._submission)
        plan = self.plan()
        fingerprints: dict[Unit, str] = {}
        skipped: list[Unit] = []
        self.events.job_planned(self.job_name, len(plan))
        self.executor.execute(_RunJob(self, run), self._pending(plan, fingerprints, skipped), self.events)
        for worst, parts in worst_case_units(p.unit for p in plan).items():
            fp = fingerprint(worst_of=[fingerprints[u] for u in parts])
            if self.request.overwrite or not self.store.is_complete(worst, fp):
                write_worst_case(self.store, worst, parts, fp)
                self.write_results(run)
        log.info("%d units, %d were already complete", len(plan), len(skipped))
        return self.write_results(run)

    def _pending(self, plan: list[Planned], fingerprints: dict[Unit, str], skipped: list[Unit]
                 ) -> Iterator[Pending]:
        """The units of ``plan`` not stored for their fingerprint, each fingerprinted when it is reached."""
        for planned in plan:
            spec, unit, condition = planned
            fp = fingerprints[unit] = self.unit_fingerprint(spec, unit, condition)
            if self.request.overwrite:
                self.store.remove_unit(unit)
            elif self.store.is_complete(unit, fp):
                skipped.append(unit)
                self.events.unit_skipped(self.job_name, str(unit))
                continue
            yield planned, fp

    def _predictor(self, spec: TaskSpec) -> Predictor:
        predictor = self._predictors.get(spec.name)
        if predictor is None:
            predictor = self._predictors[spec.name] = get_predictor(spec, self.models, self.request.options)
        return predictor

    def _run_unit(self, spec: TaskSpec, unit: Unit, condition: Condition, fp: str) -> None:
        computed = self.compute_unit(spec, unit, condition)
        self.store.write_unit(unit, computed.records, fp, computed.extra)

    def compute_unit(self, spec: TaskSpec, unit: Unit, condition: Condition) -> Computed:
        """Predict one unit: its records (with inputs and attributes) and meta entries; nothing is written."""
        def load(lang: str) -> list[dict]:
            return self.data.load(spec, lang, unit.split)

        examples = load(unit.lang)
        fields = spec.perturb_fields
        attrs = example_attributes(examples, fields, unit.lang, self.models.tokenizer())
        extra: dict[str, Any] = {"metrics": list(spec.metrics), "ranked_metric": spec.ranked_metric,
                                 "task_type": spec.type, "task_config": spec.config_hash(),
                                 "text_fields": list(fields), "inference": self.models.inference(spec.type).pinned()}
        predicted = condition.predict(UnitData(spec, unit, examples, self._predictor(spec), load))
        extra.update(predicted.meta)
        extra["data_sources"] = self.data.sources(spec, _data_languages(unit, condition), unit.split)
        extra["data_digest"] = fingerprint(data=self.data.fingerprint(spec, _data_languages(unit, condition),
                                                                      unit.split))
        for record, example, attr in zip(predicted.records, predicted.inputs, attrs, strict=True):
            record["input"] = {name: example[name] for name in fields if name in example}
            record["attrs"] = attr
        return Computed(predicted.records, extra)

    def write_results(self, run: dict) -> dict:
        return write_results(self.store, run, model_signature)


class _RunJob:
    """One :meth:`Runner.run` as an executor sees it (:class:`harness.run.executors.UnitJob`)."""

    def __init__(self, runner: Runner, run: dict) -> None:
        self.runner, self.run = runner, run
        self.name = runner.job_name
        self._work: RunWork | None = None
        self._written = 0.0

    def unit_key(self, item: Pending) -> str:
        return str(item[0].unit)

    def run_here(self, item: Pending) -> None:
        (spec, unit, condition), fp = item
        self.runner._run_unit(spec, unit, condition, fp)
        self.runner.write_results(self.run)

    def work(self) -> RunWork:
        if self._work is None:
            self._work = RunWork(self.runner.request, os.getcwd())
        return self._work

    def commit(self, item: Pending, result: Computed) -> None:
        (spec, unit, _), fp = item
        expected = self.runner.settings(spec.type).pinned()
        if result.extra.get("inference") != expected:
            raise XRobustError(f"unit {unit} was computed with inference settings {result.extra.get('inference')}, "
                               f"not {expected} as fingerprinted; give every worker the same kind of device",
                               field="--gpus-per-worker")
        self.runner.store.write_unit(unit, result.records, fp, result.extra)
        if time.monotonic() - self._written >= RESULTS_EVERY_S:
            self.flush()

    def flush(self) -> None:
        self.runner.write_results(self.run)
        self._written = time.monotonic()


@dataclass
class RunWork:
    """What a worker needs to compute a run's units: the request (without progress bars) and the driver's
    working directory, which relative paths in the request are resolved from."""

    request: RunRequest
    cwd: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def build(self, shared: dict[str, Any]) -> UnitComputer:
        return UnitComputer(replace(self.request, options=replace(self.request.options, progress=False)), shared)


class UnitComputer:
    """Worker side: the request's plan, and one unit computed at a time with a model loaded once."""

    def __init__(self, request: RunRequest, shared: dict[str, Any]) -> None:
        self.runner = Runner(request)
        models_key = repr((request.model, request.revision, request.options))
        models = shared.get(models_key)
        if models is None:  # keep the last model this worker loaded (suites of one model share it)
            shared.clear()
            models = shared[models_key] = self.runner.models
        self.runner.models = models
        self.plan = {str(p.unit): p for p in self.runner.plan()}

    def compute(self, key: str) -> Computed:
        spec, unit, condition = self.plan[key]
        return self.runner.compute_unit(spec, unit, condition)
