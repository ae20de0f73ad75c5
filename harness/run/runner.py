"""Evaluate one submission: for each unit of work (task, language, split, condition), load examples, let the
condition (:mod:`harness.run.conditions`) predict them, store the predictions, and rebuild results.json.

Units already stored for the same fingerprint are skipped, so re-running a command recomputes nothing
and a run killed mid-way resumes at the first unfinished unit. The model is loaded only when some unit
actually needs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from harness import __version__
from harness.attack.transfer import load_sources
from harness.data.cache import RunData
from harness.errors import XRobustError
from harness.models.inference import resolve
from harness.models.loading import ModelCache, RuntimeOptions, is_local, weights_fingerprint
from harness.models.predictors import Predictor, get_predictor
from harness.run.adversarial import Attack, Transfer
from harness.run.conditions import Clean, Condition, Perturbed, UnitData
from harness.run.crosspairs import CrossLingualPairs
from harness.run.variants import worst_case_units, write_worst_case
from harness.spec.slices import example_attributes
from harness.spec.taskspec import TaskSpec, known_language_codes
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
    metadata: dict[str, Any] = field(default_factory=dict)
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
    for cond in request.suite.conditions if request.suite is not None else ():
        conditions += [Attack(cond)] if cond.adversarial else [Perturbed(cond, k) for k in range(cond.variants)]
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


class Runner:
    """Runs a :class:`RunRequest` against a :class:`RunStore`."""

    def __init__(self, request: RunRequest) -> None:
        self.request = request
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
        """The weights' dtype of this run (``auto`` resolved for the device)."""
        return resolve(self.request.options).dtype

    def _submission(self, old: dict | None) -> dict:
        """This run's submission metadata; a run dir already claimed must belong to the same model."""
        req = self.request
        model_path = str(Path(req.model).resolve()) if is_local(req.model) else req.model
        default_name = Path(req.model.rstrip("/")).name or req.model
        submission = {"name": req.name or default_name, "model": req.model, "model_path": model_path,
                      "revision": req.revision, "weights_sha256": self.weights, "dtype": self.dtype,
                      "seed": req.options.seed, "harness_version": __version__, "libraries": library_versions(),
                      **req.metadata}
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
                         **self.models.inference(spec.type).pinned(),
                         data=self.data.fingerprint(spec, _data_languages(unit, condition), unit.split))
        variant = condition.id.variant
        return fingerprint(base=fp, variant=variant) if variant else fp

    def plan(self) -> list[Planned]:
        """Every unit to predict, per task and language: clean, the suite's conditions (a condition with
        ``variants: K`` gives K units, "<suite>.<cond>" and "<suite>.<cond>~v<k>" for k = 1..K-1), the
        cross-language pairs, and one unit "<suite>.<cond>@from-<its submission>" per greedy attack unit of an
        ``adversarial_from`` run with this task, language and split."""
        req = self.request
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

    def run(self) -> dict:
        """Run every pending unit; returns the results dict that was written."""
        run = claim_run_dir(self.store, self._submission)
        plan = self.plan()
        done = 0
        fingerprints: dict[Unit, str] = {}
        for spec, unit, condition in plan:
            fp = fingerprints[unit] = self.unit_fingerprint(spec, unit, condition)
            if self.request.overwrite:
                self.store.remove_unit(unit)
            elif self.store.is_complete(unit, fp):
                done += 1
                continue
            self._run_unit(spec, unit, condition, fp)
            self.write_results(run)
        for worst, parts in worst_case_units(p.unit for p in plan).items():
            fp = fingerprint(worst_of=[fingerprints[u] for u in parts])
            if self.request.overwrite or not self.store.is_complete(worst, fp):
                write_worst_case(self.store, worst, parts, fp)
                self.write_results(run)
        log.info("%d units, %d were already complete", len(plan), done)
        return self.write_results(run)

    def _predictor(self, spec: TaskSpec) -> Predictor:
        predictor = self._predictors.get(spec.name)
        if predictor is None:
            predictor = self._predictors[spec.name] = get_predictor(spec, self.models, self.request.options)
        return predictor

    def _run_unit(self, spec: TaskSpec, unit: Unit, condition: Condition, fp: str) -> None:
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
        self.store.write_unit(unit, predicted.records, fp, extra)

    def write_results(self, run: dict) -> dict:
        return write_results(self.store, run, model_signature)
