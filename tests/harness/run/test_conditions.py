"""The Condition protocol and its implementations, without a model: a stand-in predictor echoes the inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run.adversarial import Attack
from harness.run.conditions import Clean, Condition, Perturbed, UnitData
from harness.run.crosspairs import CrossLingualPairs
from harness.run.runner import Runner, RunRequest, _conditions
from harness.spec.taskspec import resolve_task
from harness.store.rundir import Unit
from perturbations import load_suite

SUITE = """\
seed: 11
conditions:
  keyboard:
    variants: 3
    steps:
      - keyboard: {rate: 0.5, languages: [de, tr]}
  attack:
    attack: {search: random, budget: 0.2}
    steps:
      - keyboard: {rate: 0.1, languages: [de]}
"""


class EchoPredictor:
    """Predicts ``text_b`` as the label, so the records show what the model saw."""

    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        return [{"id": e["id"], "gold": e["label"], "pred": e["text_b"], "desc": desc} for e in examples]


def examples(lang: str) -> list[dict]:
    words = {"de": ["der Hund schläft tief", "die Katze läuft schnell"], "en": ["the dog sleeps", "the cat runs"]}
    return [{"id": str(i), "text_a": f"{lang} premise {i}", "text_b": text, "label": "neutral"}
            for i, text in enumerate(words[lang])]


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(SUITE)
    return path


def data(lang: str = "de") -> UnitData:
    return UnitData(resolve_task("xnli"), Unit("xnli", lang, "test", "x"), examples(lang), EchoPredictor(),
                    examples)  # type: ignore[arg-type]


def test_conditions_of_a_request_in_order(tmp_path: Path, suite_file: Path) -> None:
    request = RunRequest(tasks=[], model="m", out=tmp_path, suite=load_suite(suite_file), cross_pairs=["en"])
    conditions = _conditions(request)
    assert all(isinstance(c, Condition) for c in conditions)
    assert [str(c.id) for c in conditions] == ["clean", "toy.keyboard", "toy.keyboard~v1", "toy.keyboard~v2",
                                               "toy.attack", "xling.b-en"]
    assert [type(c) for c in conditions] == [Clean, Perturbed, Perturbed, Perturbed, Attack, CrossLingualPairs]
    assert len({c.signature for c in conditions[1:4]}) == 1  # variants differ in the fingerprint only
    assert conditions[0].signature == "clean" and conditions[0].params == {}


def test_plan_names_units_by_condition_id(tmp_path: Path, suite_file: Path, tiny_xnli_model: Path) -> None:
    request = RunRequest(tasks=[resolve_task("xnli"), resolve_task("tydiqa")], model=str(tiny_xnli_model), out=tmp_path,
                         langs=["de", "en"], suite=load_suite(suite_file), cross_pairs=["en"])
    runner = Runner(request)
    plan = runner.plan()
    names = [(p.unit.task, p.unit.lang, p.unit.condition) for p in plan]
    assert names == [("xnli", "de", "clean"), ("xnli", "de", "toy.keyboard"), ("xnli", "de", "toy.keyboard~v1"),
                     ("xnli", "de", "toy.keyboard~v2"), ("xnli", "de", "toy.attack"), ("xnli", "de", "xling.b-en"),
                     ("xnli", "en", "clean"), ("tydiqa", "en", "clean")]  # no attack on QA, nothing claims en
    runner._weights = "w"
    fps = [runner.unit_fingerprint(p.spec, p.unit, p.condition) for p in plan[1:4]]
    assert len(set(fps)) == 3


def test_clean_and_cross_pairs_predict() -> None:
    clean = Clean().predict(data())
    assert clean.inputs == examples("de") and clean.meta == {}
    assert [r["desc"] for r in clean.records] == ["xnli/de/test/x"] * 2
    pairs = CrossLingualPairs("en")
    assert pairs.claims("de") and not pairs.claims("en")
    assert pairs.applies_to(resolve_task("xnli")) and not pairs.applies_to(resolve_task("udpos"))
    assert pairs.signature == "5c4304ff1ac3"  # as stored in existing run dirs
    out = pairs.predict(data())
    assert [r["pred"] for r in out.records] == ["the dog sleeps", "the cat runs"]
    assert [e["text_a"] for e in out.inputs] == ["de premise 0", "de premise 1"]
    assert list(out.meta) == ["condition_params", "condition_signature", "change"]
    assert out.meta["change"]["frac_examples_changed"] == 1.0


def test_perturbed_variants_draw_differently(suite_file: Path) -> None:
    keyboard = load_suite(suite_file).condition("keyboard")
    outs = [Perturbed(keyboard, k).predict(data()) for k in range(3)]
    assert all(list(o.meta) == ["condition_params", "variant", "condition_signature", "change"] for o in outs)
    assert [o.meta["variant"] for o in outs] == [0, 1, 2]
    assert all(o.inputs[0]["text_a"] != "de premise 0" or o.inputs[0]["text_b"] != "der Hund schläft tief"
               for o in outs)
    assert len({tuple(r["pred"] for r in o.records) for o in outs}) > 1
    again = Perturbed(keyboard, 1).predict(data())
    assert again.records == outs[1].records
