"""Transfer of adversarial examples: score this model on the inputs another submission's attack produced.

``xrobust run --model B --adversarial-from RUN_A`` adds, for every greedy attack unit stored in RUN_A (task,
language and split of this run), a unit ``<suite>.<cond>@from-<A's name>`` whose inputs are A's stored
adversarial inputs, so models can be compared on shared inputs. Its records are B's predictions; its meta keeps
A's change statistics (the inputs are A's) with B's own success rate (among the examples B gets right clean),
judged by A's attack parameters (e.g. its QA success criterion).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from harness.attack.stats import change_stats, success_stats
from harness.attack.support import attack_support, protected_fields
from harness.errors import XRobustError
from harness.store.rundir import RunStore, Unit
from perturbations.suite import AttackParams

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
        """The source unit's records, verified by :meth:`RunStore.read_verified` against a meta that is still
        the one this source was planned from (same sha256 and fingerprint: the inputs the signature pins)."""
        return RunStore(self.run_dir).read_verified(self.unit, self.meta())

    def meta(self) -> dict:
        store = RunStore(self.run_dir)
        meta = store.unit_meta(self.unit)
        if meta is None or meta.get("sha256") != self.sha256 or meta.get("fingerprint") != self.fingerprint:
            raise XRobustError(f"stored attack unit {self.unit} changed or vanished since this run was planned",
                               file=store.meta_path(self.unit), field="--adversarial-from")
        return meta


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
                store.read_verified(unit, meta)  # a damaged source is refused before anything is planned
                out.append(TransferSource(Path(run_dir), name, unit, meta["fingerprint"], meta["sha256"]))
    return out


def source_params(meta: dict) -> AttackParams:
    """The attack parameters a stored attack unit ran with (its meta ``attack``; missing ones at their
    defaults)."""
    stored = meta.get("attack") or {}
    known = {f.name for f in dataclass_fields(AttackParams)}
    return AttackParams(**{k: v for k, v in stored.items() if k in known})


def transfer_unit(predictor: Any, examples: list[dict], source: TransferSource, *, fields: Sequence[str],
                  desc: str) -> tuple[list[dict], list[dict], dict]:
    """Replace each example's ``fields`` by the source's adversarial input (and, for QA, its answer offsets),
    predict, and summarise."""
    stored = {r["id"]: r for r in source.records()}
    missing = [e["id"] for e in examples if e["id"] not in stored]
    if missing:
        raise XRobustError(f"{len(missing)} of {len(examples)} examples (e.g. {missing[0]!r}) have no adversarial "
                           f"input in {source.unit} of that run (was it run with a smaller --limit?)",
                           file=source.run_dir, field="--adversarial-from")
    source_meta = source.meta()
    support = attack_support(predictor, examples, source_params(source_meta))
    kept = protected_fields(support.policy, fields)
    adversarial, edits = [], []
    for example in examples:
        given = stored[example["id"]].get("input") or {}
        attack = stored[example["id"]].get("attack") or {}
        adversarial.append({**example, **{name: given[name] for name in fields if name in given},
                            **{name: attack[name] for name in kept if name in attack}})
        edits.append(attack.get("edits", []))
    _, clean_correct = support.score(examples)
    records = predictor.predict(adversarial, desc=desc)
    for record, done, example in zip(records, edits, adversarial, strict=True):
        record["attack"] = {"edits": done} | {name: example[name] for name in kept}
    families = Counter(edit[2] for done in edits for edit in done if len(edit) > 2)
    change = change_stats(examples, adversarial, fields, support.policy.tokens, dict(sorted(families.items())))
    change |= success_stats(clean_correct, support.correct(records), [len(done) for done in edits])
    change |= {"model_calls": 0, "model_calls_per_example": 0.0}
    meta = {"condition_params": source.to_dict(), "variant": 0, "condition_signature": source.signature(),
            "adversarial_from": source.to_dict(), "change": change, "attack_source": source_meta.get("attack", {})}
    return adversarial, records, meta
