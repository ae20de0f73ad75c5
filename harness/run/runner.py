"""Evaluate one submission: for each unit of work (task, language, split, condition), load examples,
perturb them if the condition says so, predict, store the predictions, and rebuild results.json.

Units already stored for the same fingerprint are skipped, so re-running a command recomputes nothing
and a run killed mid-way resumes at the first unfinished unit. The model is loaded only when some unit
actually needs it.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.models.loading import ModelCache, RuntimeOptions, is_local, weights_fingerprint
from harness.models.predictors import get_predictor
from harness.run.crosspairs import CrossLingualPairs, pair_change
from harness.run.variants import worst_case_units, write_worst_case
from harness.spec.slices import example_attributes
from harness.spec.taskspec import TaskSpec, known_language_codes
from harness.store.rundir import RunStore, Unit
from harness.store.scoring import scores_from_store, task_averages
from harness.store.signature import fingerprint, library_versions, signature

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
    suite: Any = None  # perturbations.Suite or None
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


def _conditions(request: RunRequest) -> list[Any]:
    conditions: list[Any] = [None]  # None = clean
    if request.suite is not None:
        conditions.extend(request.suite.conditions)
    conditions.extend(CrossLingualPairs(lang) for lang in request.cross_pairs)
    return conditions


def condition_id(condition: Any) -> str:
    """The unit's condition name: "clean", or "<suite>.<condition>" (unique across suites)."""
    return "clean" if condition is None else f"{condition.suite}.{condition.name}"


class Runner:
    """Runs a :class:`RunRequest` against a :class:`RunStore`."""

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.store = RunStore(request.out)
        self.models = ModelCache(request.model, request.options, request.revision)
        self._weights: str | None = None
        self._predictors: dict[str, Any] = {}

    @property
    def weights(self) -> str:
        if self._weights is None:
            self._weights = weights_fingerprint(self.request.model)
        return self._weights

    def _submission(self) -> dict:
        req = self.request
        model_path = str(Path(req.model).resolve()) if is_local(req.model) else req.model
        default_name = Path(req.model.rstrip("/")).name or req.model
        return {"name": req.name or default_name, "model": req.model, "model_path": model_path,
                "revision": req.revision, "weights_sha256": self.weights, "dtype": req.options.dtype,
                "seed": req.options.seed, "harness_version": __version__, "libraries": library_versions(),
                **req.metadata}

    def _claim_run_dir(self) -> dict:
        """Create run.json, or check that this run dir belongs to the same model."""
        existing = self.store.read_run()
        submission = self._submission()
        if existing is not None:
            old = existing.get("submission", {})
            if old.get("weights_sha256") != submission["weights_sha256"] or old.get("model_path") != \
                    submission["model_path"]:
                raise XRobustError(
                    f"run directory belongs to model {old.get('model')} ({old.get('weights_sha256')}); "
                    "use another --out", file=self.store.run_file, field="submission.model")
            submission["name"] = self.request.name or old.get("name", submission["name"])
            submission["created"] = old.get("created")
        submission.setdefault("created", None)
        submission["created"] = submission["created"] or _dt.datetime.now(_dt.timezone.utc).isoformat(
            timespec="seconds")
        run = {"submission": submission, "signature": (existing or {}).get("signature", "")}
        self.store.write_run(run)
        return run

    def unit_fingerprint(self, spec: TaskSpec, unit: Unit, condition: Any) -> str:
        req = self.request
        return fingerprint(model=req.model, revision=req.revision, weights=self.weights, task=spec.config_hash(),
                           split=unit.split, condition=condition.signature() if condition else "clean",
                           limit=req.limit, dtype=req.options.dtype, data=str(req.data_dir or "hub"))

    def plan(self) -> list[tuple[TaskSpec, Unit, Any, int]]:
        """(task, unit, condition, variant) for every unit to predict; a condition with ``variants: K`` gives
        K units ("<suite>.<cond>" for variant 0, "<suite>.<cond>~v<k>" for the others); each greedy attack unit
        of an ``adversarial_from`` run gives one unit "<suite>.<cond>@from-<its submission>"."""
        req = self.request
        _check_languages(req.langs, req.tasks)
        sources = None
        if req.adversarial_from:
            from harness.attack.transfer import load_sources

            sources = load_sources(req.adversarial_from)
        units = []
        for spec in req.tasks:
            split = req.split or spec.eval_split
            for lang in _languages_for(spec, req.langs):
                for condition in _conditions(req):
                    if condition is not None and not (condition.claims(lang) and condition.applies_to(spec.type)):
                        continue
                    name = condition_id(condition)
                    for variant in range(getattr(condition, "variants", 1) or 1):
                        unit_name = name if variant == 0 else f"{name}~v{variant}"
                        units.append((spec, Unit(spec.name, lang, split, unit_name), condition, variant))
                for source in sources or ():  # another submission's adversarial inputs (transfer)
                    if (source.unit.task, source.unit.lang, source.unit.split) == (spec.name, lang, split):
                        units.append((spec, Unit(spec.name, lang, split, source.condition), source, 0))
        if sources is not None and not any(u[2] in sources for u in units):
            raise XRobustError("no stored greedy attack units for the requested tasks, languages and split in "
                               f"{', '.join(map(str, req.adversarial_from))}", field="--adversarial-from")
        return units

    def run(self) -> dict:
        """Run every pending unit; returns the results dict that was written."""
        run = self._claim_run_dir()
        plan = self.plan()
        done = 0
        fingerprints: dict[Unit, str] = {}
        for spec, unit, condition, variant in plan:
            fp = self.unit_fingerprint(spec, unit, condition)
            if variant:
                fp = fingerprint(base=fp, variant=variant)
            fingerprints[unit] = fp
            if self.request.overwrite:
                self.store.remove_unit(unit)
            elif self.store.is_complete(unit, fp):
                done += 1
                continue
            self._run_unit(spec, unit, condition, fp, variant)
            self.write_results(run)
        for worst, parts in worst_case_units(plan).items():
            fp = fingerprint(worst_of=[fingerprints[u] for u in parts])
            if self.request.overwrite or not self.store.is_complete(worst, fp):
                write_worst_case(self.store, worst, parts, fp)
                self.write_results(run)
        log.info("%d units, %d were already complete", len(plan), done)
        return self.write_results(run)

    def _run_unit(self, spec: TaskSpec, unit: Unit, condition: Any, fp: str, variant: int = 0) -> None:
        req = self.request
        examples = load_examples(spec, unit.lang, unit.split, data_dir=req.data_dir, limit=req.limit)
        fields = spec.perturb_fields
        attrs = example_attributes(examples, fields, unit.lang, self.models.tokenizer())
        extra: dict[str, Any] = {"metrics": list(spec.metrics), "ranked_metric": spec.ranked_metric,
                                 "task_type": spec.type, "task_config": spec.config_hash(),
                                 "text_fields": list(fields)}
        predictor = self._predictors.get(spec.name)
        if predictor is None:
            predictor = self._predictors[spec.name] = get_predictor(spec, self.models, req.options)
        if getattr(condition, "adversarial", False):  # searched with this model, or another run's inputs
            from harness.attack.unit import adversarial_unit

            examples, records, more = adversarial_unit(predictor, examples, unit, condition, fields=list(fields),
                                                       desc=str(unit))
            extra.update(more)
        else:
            if isinstance(condition, CrossLingualPairs):
                from perturbations import crosslingual_pairs

                second = load_examples(spec, condition.second_lang, unit.split, data_dir=req.data_dir,
                                       limit=req.limit)
                mixed = crosslingual_pairs(examples, second)
                extra.update(condition_params=condition.to_dict(), condition_signature=condition.signature(),
                             change=pair_change(examples, mixed))
                examples, condition = mixed, None
            if condition is not None:
                from perturbations import perturb_examples

                examples, change = perturb_examples(examples, task_type=spec.type, fields=list(spec.perturb_fields),
                                                    lang=unit.lang, condition=condition, variant=variant)
                extra["condition_params"] = condition.to_dict()
                extra["variant"] = variant
                extra["condition_signature"] = condition.signature()
                extra["change"] = change.to_dict()
            records = predictor.predict(examples, desc=str(unit))
        for record, example, attr in zip(records, examples, attrs, strict=True):
            record["input"] = {name: example[name] for name in fields if name in example}
            record["attrs"] = attr
        self.store.write_unit(unit, records, fp, extra)

    def write_results(self, run: dict) -> dict:
        scores = scores_from_store(self.store)
        metas = {str(u): m for u, m in self.store.complete_units()}
        ranked = {m["task"]: m.get("ranked_metric") for m in metas.values()}
        sub = run["submission"]
        tasks = {m["task"]: m.get("task_config", "") for m in metas.values()}
        conds = {m["condition"]: (m.get("condition_signature") or "") for m in metas.values()
                 if "~v" not in m["condition"] and "@worst" not in m["condition"]}  # variants: in the hash
        sig = signature(model=sub["model"], revision=sub.get("revision"), weights=sub["weights_sha256"],
                        tasks=tasks, dtype=sub["dtype"], seed=sub["seed"], conditions=conds or None)
        run["signature"] = sig
        self.store.write_run(run)
        results = {
            "submission": sub,
            "signature": sig,
            "ranked_metrics": ranked,
            "scores": scores,
            "task_averages": task_averages(scores),
            "units": [{k: m[k] for k in ("task", "lang", "split", "condition", "n", "fingerprint")}
                      | ({"change": m["change"]} if "change" in m else {}) for m in metas.values()],
        }
        from harness.store.rundir import write_json

        write_json(self.store.results_file, results)
        return results
