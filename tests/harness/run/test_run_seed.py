"""--seed feeds the perturbation seeds: a suite condition under run seed s uses a seed derived from its own and
s, its signature (and so the unit fingerprints and the run signature's cond: hashes) changes with it, and seed 0
keeps every stored unit of earlier runs valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.run.adversarial import Attack
from harness.run.conditions import Perturbed, UnitData, run_condition_seed, seeded
from harness.spec.taskspec import resolve_task
from harness.store.rundir import Unit
from perturbations import load_suite


class EchoPredictor:
    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        return [{"id": e["id"], "gold": e["label"], "pred": e["text_a"]} for e in examples]


def _texts(cond: Perturbed, spec, rows: list[dict]) -> list[str]:  # noqa: ANN001
    unit = Unit("xnli", "de", "test", str(cond.id))
    data = UnitData(spec, unit, [dict(r) for r in rows], EchoPredictor(), lambda lang: [])
    predicted = cond.predict(data)
    assert predicted.meta["condition_signature"] == cond.signature
    return [r["pred"] for r in predicted.records]


def test_run_seed_changes_perturbations_and_signatures(shared_data: Path) -> None:
    spec = resolve_task("xnli")
    rows = load_examples(spec, "de", data_dir=shared_data, limit=60)
    cond = next(c for c in load_suite("typos").conditions if c.claims("de") and not c.adversarial)
    zero, again_zero = Perturbed(cond), Perturbed(cond, run_seed=0)
    one, other = Perturbed(cond, run_seed=1), Perturbed(cond, run_seed=2)
    assert zero.signature == cond.signature() == again_zero.signature  # seed 0: stored units stay valid
    assert len({zero.signature, one.signature, other.signature}) == 3
    assert one.params["run_seed"] == 1 and one.params["seed"] == run_condition_seed(cond.seed, 1) != cond.seed
    base, seeded_one = _texts(zero, spec, rows), _texts(one, spec, rows)
    assert seeded_one == _texts(Perturbed(cond, run_seed=1), spec, rows)  # deterministic per seed
    assert seeded_one != base and _texts(other, spec, rows) != seeded_one
    clean = [r["text_a"] for r in rows]
    assert sum(a != b for a, b in zip(seeded_one, clean, strict=True)) > 10  # still perturbed, at another place


def test_attack_conditions_take_the_run_seed_too(shared_data: Path) -> None:
    cond = next(c for c in load_suite("adversarial", resources_dir=shared_data).conditions)
    assert Attack(cond).seeded is cond
    attack = Attack(cond, run_seed=5)
    assert attack.seeded.seed == run_condition_seed(cond.seed, 5) and attack.signature != Attack(cond).signature
    with pytest.raises(XRobustError, match="--seed"):
        seeded(cond, "1")  # type: ignore[arg-type]
