"""Import predictions in the XTREME leaderboard submission layout into a normal run directory.

Layout read (google-research/xtreme README "Submissions" and ``evaluate.py``)::

    PRED_DIR/<task>/test-<lang>.tsv     xnli, pawsx, udpos, panx, tatoeba, xcopa
    PRED_DIR/<task>/test-<lang>.json    xquad, mlqa, tydiqa

``<task>`` is a built-in task name (``xrobust tasks``). ``test-<lang>`` is the task's eval split (its
``splits.eval``: validation for panx, test for the others), or ``--split`` (e.g. ``validation`` for MLQA
predictions on the dev set, which is what the offline samples hold).
Folders and files are read only where they lie inside PRED_DIR once links are resolved.
Predictions are in the order of the gold examples. Formats assumed (each task type's ``submission`` reader in
:mod:`harness.tasktypes`; XTREME's readers strip each line):

* pair classification (XNLI, PAWS-X): one label per line, a label name, alias, or 0-based label index
  (``0``/``1`` for PAWS-X, as in google/xtreme), matched as ``harness.data.examples`` matches gold labels; a line
  ``label<TAB>…`` is read as its first field.
* retrieval (Tatoeba): one line per source sentence, the 0-based index of the predicted target sentence
  (xx→en). The reverse direction is not part of a submission: ``pred_rev`` is None and ``accuracy_en2xx``
  is not scored.
* token classification (UD-POS, PAN-X): one tag per line per word, a blank line between sentences (runs of
  blank lines count as one); tag names or 0-based indices into the task's ``labels``. A line
  ``word<TAB>tag`` (run_tag.py's ``output_word_prediction``) is read as its last field.
* QA (XQuAD, MLQA, TyDiQA): a JSON object question id → answer text (``{"data": {...}}`` also accepted,
  as XTREME's ``read_squad`` does); it must answer exactly the gold questions.
* multiple choice (XCOPA): one 0-based choice index per line.

Each (task, language) becomes one unit with condition ``clean``, holding records in the same format the
task type's predictor writes (unknown fields: ``probs``/``score``/``windows`` None, ``lost`` 0; QA
``start`` = first occurrence of the answer in the context, else -1). Folder and file names are checked
before anything is written; then files are imported one at a time in sorted order, and the first bad file
raises :class:`XRobustError` naming it: nothing is written for it, units imported before it stay, and
results.json is rebuilt either way.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from harness import __version__, tasktypes
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.spec.paths import confined
from harness.spec.slices import example_attributes
from harness.spec.taskspec import TaskSpec, builtin_task_files, load_task
from harness.store.results import claim_run_dir, import_signature, write_results
from harness.store.rundir import RunStore, Unit
from harness.store.signature import fingerprint

log = logging.getLogger(__name__)

UNSCORABLE = frozenset({"accuracy_en2xx"})  # metrics that need what a submission does not contain
FILE_NAME = re.compile(r"^test-(?P<lang>[^.]+)\.(?P<ext>[A-Za-z0-9]+)$")


@dataclass
class ImportRequest:
    """Everything ``xrobust import`` was asked to do."""

    pred_dir: Path
    name: str
    out: Path
    data_dir: Path | None = None
    model: str | None = None
    url: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    split: str | None = None
    system: str | None = None  # this import is one seed run of this system (seed: params["seed"])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _task_for(folder: Path, known: dict[str, Path]) -> TaskSpec:
    if folder.name not in known:
        raise XRobustError(f"unknown task folder {folder.name!r} (known tasks: {', '.join(known)})", file=folder)
    spec = load_task(known[folder.name])
    if tasktypes.get(spec.type).submission is None:
        supported = [t.name for t in tasktypes.all_types() if t.submission is not None]
        raise XRobustError(f"importing {spec.type} predictions is not supported (supported: "
                           f"{', '.join(supported)})", file=folder)
    return spec


def _unit_for(spec: TaskSpec, path: Path, split: str) -> Unit:
    match = FILE_NAME.match(path.name)
    ext = tasktypes.get(spec.type).submission.ext
    if not match:
        raise XRobustError(f"expected a file named test-<lang>.{ext}", file=path)
    if match["ext"] != ext:
        raise XRobustError(f"{spec.name} predictions must be a .{ext} file", file=path)
    lang = match["lang"]
    if lang not in spec.all_languages:
        raise XRobustError(f"{lang!r} is not a language of task {spec.name} (known: "
                           f"{', '.join(spec.all_languages)})", file=path)
    return Unit(spec.name, lang, split, "clean")


def import_file(store: RunStore, spec: TaskSpec, unit: Unit, path: Path, data_dir: Path | None) -> None:
    """Check one prediction file against the gold data and store it as ``unit``."""
    examples = load_examples(spec, unit.lang, unit.split, data_dir=data_dir)
    records = tasktypes.get(spec.type).submission.read(spec, unit, examples, path)
    fields = spec.perturb_fields
    attrs = example_attributes(examples, fields, unit.lang, None)
    for record, example, attr in zip(records, examples, attrs, strict=True):
        record["input"] = {name: example[name] for name in fields if name in example}
        record["attrs"] = attr
    source_sha = _sha256(path.read_bytes())
    fp = fingerprint(source="import", sha256=source_sha, task=spec.config_hash(), split=unit.split,
                     condition="clean", data=str(data_dir or "hub"))
    extra: dict[str, Any] = {"metrics": [m for m in spec.metrics if m not in UNSCORABLE],
                             "ranked_metric": spec.ranked_metric, "task_type": spec.type,
                             "task_config": spec.config_hash(), "text_fields": list(fields),
                             "imported_from": str(path.resolve()), "source_sha256": source_sha}
    store.write_unit(unit, records, fp, extra)
    log.info("imported %s (%d examples) from %s", unit, len(records), path)


def _submission(request: ImportRequest, run_file: Path, old: dict | None) -> dict:
    """The import's submission metadata; a run dir already claimed must hold the same import."""
    if old is not None:
        if "imported_from" not in old:
            raise XRobustError(f"run directory holds a model run ({old.get('model')}), not an import; use "
                               "another --out", file=run_file, field="submission.imported_from")
        if old.get("name") != request.name:
            raise XRobustError(f"run directory holds the import {old.get('name')!r}; use another --out or the "
                               "same --name", file=run_file, field="submission.name")
    return {"name": request.name, "model": request.model or "", "url": request.url or "",
            "params": dict(request.params), "imported_from": str(request.pred_dir.resolve()),
            "data": str(request.data_dir.resolve()) if request.data_dir else "hub",
            "revision": None, "weights_sha256": None, "harness_version": __version__,
            **({"system": request.system} if request.system else {})}


def plan(pred_dir: Path, split: str | None = None) -> list[tuple[TaskSpec, Unit, Path]]:
    """(task, unit, file) for every prediction file, sorted; folder and file names are checked here."""
    if not pred_dir.is_dir():
        raise XRobustError("not a directory", file=pred_dir, field="PRED_DIR")
    folders = sorted(p for p in pred_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise XRobustError("no task folders (expected <task>/test-<lang>.tsv or .json)", file=pred_dir)
    known = builtin_task_files()
    out = []
    for folder in folders:
        confined(pred_dir, folder.name, field="PRED_DIR", file=folder, follow_links=True)
        spec = _task_for(folder, known)
        files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        for path in files:  # a link to a file elsewhere on the machine is never read as predictions
            confined(pred_dir, path.relative_to(pred_dir), field="PRED_DIR", file=path, follow_links=True)
        if not files:
            raise XRobustError(f"no prediction files (expected test-<lang>.{tasktypes.get(spec.type).submission.ext})", file=folder)
        out += [(spec, _unit_for(spec, path, split or spec.eval_split), path) for path in files]
    return out


def import_submission(request: ImportRequest) -> dict:
    """Import every prediction file under ``request.pred_dir``; returns the results dict written."""
    if request.data_dir is not None and not request.data_dir.is_dir():
        raise XRobustError("not a directory", file=request.data_dir, field="--data-dir")
    work = plan(request.pred_dir, request.split)
    store = RunStore(request.out)
    run = claim_run_dir(store, partial(_submission, request, store.run_file))
    try:
        for spec, unit, path in work:
            import_file(store, spec, unit, path, request.data_dir)
    except BaseException:
        write_results(store, run, import_signature)  # keep results.json in step with the units imported so far
        raise
    return write_results(store, run, import_signature)
