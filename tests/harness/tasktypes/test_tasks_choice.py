"""Multiple choice (XCOPA) on real rows: list-of-columns field mapping, connectives, the th/tr question
fix, a tiny random AutoModelForMultipleChoice through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.models.loading import ModelCache, RuntimeOptions
from harness.models.predictors import get_predictor
from harness.models.predictors.choice import choice_pairs
from harness.spec.taskspec import load_task, resolve_task
from tests.conftest import make_tiny_model, shared_rows


@pytest.fixture(scope="module")
def mc_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-mc"), tiny_tokenizer_dir, "AutoModelForMultipleChoice")


def test_choices_from_two_columns_and_connectives(shared_data: Path) -> None:
    spec = resolve_task("xcopa")
    example = load_examples(spec, "et", data_dir=shared_data, limit=1)[0]
    raw = shared_rows("xcopa/et.test.jsonl", 1)[0]
    assert example["choices"] == [raw["choice1"], raw["choice2"]]
    assert example["id"] == str(raw["idx"]) and example["label"] == raw["label"]
    connective = {"cause": "because", "effect": "so"}[raw["question"]]
    assert choice_pairs(spec, example) == [(raw["premise"], f"{connective} {raw['choice1']}"),
                                           (raw["premise"], f"{connective} {raw['choice2']}")]


def test_connectives_and_templates_are_configurable(tmp_path: Path, shared_data: Path) -> None:
    variant = tmp_path / "xcopa_et.yaml"
    variant.write_text(f"include: {resolve_task('xcopa').source_file}\nname: xcopa\n"
                       "choice: {connectives: {cause: sest, effect: seega}, first: '{premise} {connective}', "
                       "second: '{choice}'}\n")
    spec = load_task(variant)
    example = {"id": "1", "premise": "P.", "question": "effect", "choices": ["A.", "B."], "label": 0}
    assert choice_pairs(spec, example) == [("P. seega", "A."), ("P. seega", "B.")]
    with pytest.raises(XRobustError, match="no connective"):
        choice_pairs(spec, {**example, "question": "reason"})


def test_question_taken_from_english_for_th_and_tr(shared_data: Path) -> None:
    plain = load_examples(resolve_task("xcopa"), "th", data_dir=shared_data, limit=8)
    fixed = load_examples(resolve_task("xcopa_enq"), "th", data_dir=shared_data, limit=8)
    english = {r["idx"]: r["question"] for r in shared_rows("xcopa/en.test.jsonl")}
    # idx 0 ("the item was packaged in bubble wrap", cause in English COPA) says "effect" in the th file
    assert plain[0]["question"] == "effect" and english[0] == "cause"
    assert [e["question"] for e in fixed] == [english[int(e["id"])] for e in fixed]
    assert [e["premise"] for e in fixed] == [e["premise"] for e in plain]  # only the question changes
    et_plain = load_examples(resolve_task("xcopa"), "et", data_dir=shared_data, limit=8)
    assert load_examples(resolve_task("xcopa_enq"), "et", data_dir=shared_data, limit=8) == et_plain


def test_xcopa_through_cli(tmp_path: Path, shared_data: Path, mc_model: Path) -> None:
    assert main(["run", "--no-progress", "--tasks", "xcopa", "--model", str(mc_model), "--langs", "th,zh",
                 "--data-dir", str(shared_data), "--limit", "21", "--out", str(tmp_path), "--batch-size", "4"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    spec = resolve_task("xcopa")
    for lang in ("th", "zh"):
        lines = (tmp_path / f"predictions/xcopa/{lang}.test.clean.jsonl").read_text(encoding="utf-8").splitlines()
        records = [json.loads(x) for x in lines]
        examples = load_examples(spec, lang, data_dir=shared_data, limit=21)
        assert [r["id"] for r in records] == [e["id"] for e in examples]
        assert all(r["pred"] in (0, 1) and len(r["probs"]) == 2 for r in records)
        accuracy = 100 * sum(r["pred"] == e["label"] for r, e in zip(records, examples, strict=True)) / 21
        score = next(r["value"] for r in results["scores"] if r["language"] == lang)
        assert score == pytest.approx(accuracy, abs=1e-3)


def test_predictions_do_not_depend_on_batch_size(shared_data: Path, mc_model: Path) -> None:
    spec = resolve_task("xcopa")
    examples = load_examples(spec, "vi", data_dir=shared_data, limit=9)
    probs = []
    for batch_size in (1, 4):
        options = RuntimeOptions(progress=False, batch_size=batch_size)
        predictor = get_predictor(spec, ModelCache(str(mc_model), options), options)
        probs.append([p for r in predictor.predict(examples) for p in r["probs"]])
    assert probs[0] == pytest.approx(probs[1], abs=1e-4)
