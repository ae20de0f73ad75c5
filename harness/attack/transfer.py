"""Transfer of adversarial examples: score this model on the inputs another submission's attack produced.

``xrobust run --model B --adversarial-from RUN_A`` adds, for every greedy attack unit stored in RUN_A (task,
language and split of this run), a unit ``<suite>.<cond>@from-<A's name>`` whose inputs are A's stored
adversarial inputs, so models can be compared on shared inputs. Its records are B's predictions; its meta keeps
A's change statistics (the inputs are A's) with B's own success rate (among the examples B gets right clean).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.attack.stats import change_stats, success_stats
from harness.errors import XRobustError
from harness.store.rundir import RunStore, Unit

UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(name: str) -> str:
    """A submission name as a file-name-safe suffix (``[A-Za-z0-9_.-]``, other runs become ``-``)."""
    return UNSAFE.sub("-", name).strip("-.") or "run"


@dataclass(frozen=True)
class TransferSource:
    """One stored attack unit of another run, replayed as a condition of this one
    (:class:`harness.run.adversarial.Transfer`)."""

    run_dir: Path
    submission: str
    unit: Unit
    fingerprint: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"from_run": str(self.run_dir), "from_submission": self.submission,
                "from_condition": self.unit.condition, "from_fingerprint": self.fingerprint,
                "from_sha256": self.sha256}

    def signature(self) -> str:
        """Hash of the source unit's identity and content: replayed inputs change only if they do."""
        blob = json.dumps({"fingerprint": self.fingerprint, "sha256": self.sha256}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def records(self) -> list[dict]:
        return RunStore(self.run_dir).read_predictions(self.unit)

    def meta(self) -> dict:
        return RunStore(self.run_dir).unit_meta(self.unit) or {}


def load_sources(run_dirs: Sequence[Path]) -> list[TransferSource]:
    """Every greedy attack unit stored in ``run_dirs`` (transfers of transfers are not replayed)."""
    out = []
    for run_dir in run_dirs:
        store = RunStore(run_dir)
        run = store.read_run()
        if run is None:
            raise XRobustError("not a run directory (no run.json)", file=run_dir, field="--adversarial-from")
        name = run.get("submission", {}).get("name") or Path(run_dir).name
        for unit, meta in store.complete_units():
            attack = meta.get("attack")
            if isinstance(attack, dict) and attack.get("search") == "greedy" and "adversarial_from" not in meta:
                out.append(TransferSource(Path(run_dir), name, unit, meta["fingerprint"], meta["sha256"]))
    return out


def transfer_unit(predictor: Any, examples: list[dict], source: TransferSource, *, fields: Sequence[str],
                  desc: str) -> tuple[list[dict], list[dict], dict]:
    """Replace each example's ``fields`` by the source's adversarial input, predict, and summarise."""
    stored = {r["id"]: r for r in source.records()}
    missing = [e["id"] for e in examples if e["id"] not in stored]
    if missing:
        raise XRobustError(f"{len(missing)} of {len(examples)} examples (e.g. {missing[0]!r}) have no adversarial "
                           f"input in {source.unit} of that run (was it run with a smaller --limit?)",
                           file=source.run_dir, field="--adversarial-from")
    adversarial, edits = [], []
    for example in examples:
        given = stored[example["id"]].get("input") or {}
        adversarial.append({**example, **{name: given[name] for name in fields if name in given}})
        edits.append((stored[example["id"]].get("attack") or {}).get("edits", []))
    _, clean_correct = predictor.score_gold(examples)
    records = predictor.predict(adversarial, desc=desc)
    for record, done in zip(records, edits, strict=True):
        record["attack"] = {"edits": done}
    token_task = predictor.spec.type == "token_classification"
    families = Counter(edit[2] for done in edits for edit in done if len(edit) > 2)
    change = change_stats(examples, adversarial, fields, token_task, dict(sorted(families.items())))
    change |= success_stats(clean_correct, records, [len(done) for done in edits])
    change |= {"model_calls": 0, "model_calls_per_example": 0.0}
    meta = {"condition_params": source.to_dict(), "variant": 0, "condition_signature": source.signature(),
            "adversarial_from": source.to_dict(), "change": change, "attack_source": source.meta().get("attack", {})}
    return adversarial, records, meta
