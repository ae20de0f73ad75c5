"""Token classification (UD-POS, PAN-X) on real rows with tiny random taggers: word alignment, truncation
fallback, label matching by name, records and results.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.models.loading import ModelCache, RuntimeOptions
from harness.models.predictors import get_predictor
from harness.models.predictors.token import first_subword_positions, words_to_tags
from harness.spec.taskspec import load_task, resolve_task
from tests.conftest import make_tiny_model

UPOS = resolve_task("udpos").labels
NER = resolve_task("panx").labels


def tagger(tmp: Path, tok: Path, labels: tuple[str, ...]) -> Path:
    # id2label in a different order than the task's labels: matching must go by name
    names = list(reversed(labels))
    return make_tiny_model(tmp, tok, "AutoModelForTokenClassification", id2label=dict(enumerate(names)),
                           label2id={n: i for i, n in enumerate(names)})


@pytest.fixture(scope="module")
def pos_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return tagger(tmp_path_factory.mktemp("tiny-pos"), tiny_tokenizer_dir, UPOS)


@pytest.fixture(scope="module")
def ner_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return tagger(tmp_path_factory.mktemp("tiny-ner"), tiny_tokenizer_dir, NER)


def test_first_subword_and_fallback() -> None:
    # <s> w0 w0 w1 </s> with word 2 cut off: word 2 falls back; the 2nd subword of w0 (9) is ignored
    first = first_subword_positions([None, 0, 0, 1, None], 3)
    assert first == [1, 3, -1]
    tags, lost = words_to_tags(first, [0, 1, 9, 2, 0], ["O", "B-PER", "I-PER"], "O")
    assert tags == ["B-PER", "I-PER", "O"] and lost == 1


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_udpos_and_panx_through_cli(tmp_path: Path, shared_data: Path, pos_model: Path, ner_model: Path) -> None:
    for task, model, langs in (("udpos", pos_model, "en,ko,ar"), ("panx", ner_model, "ko,ar")):
        out = tmp_path / task
        assert main(["run", "--no-progress", "--tasks", task, "--model", str(model), "--langs", langs,
                     "--data-dir", str(shared_data), "--limit", "25", "--out", str(out), "--batch-size", "8"]) == 0
        results = json.loads((out / "results.json").read_text())
        spec = resolve_task(task)
        for lang in langs.split(","):
            gold = load_examples(spec, lang, data_dir=shared_data, limit=25)
            records = read_records(out / f"predictions/{task}/{lang}.{spec.eval_split}.clean.jsonl")
            assert [r["id"] for r in records] == [e["id"] for e in gold]
            assert all(len(r["pred"]) == len(r["gold"]) == len(e["tokens"]) for r, e in zip(records, gold, strict=True))
            assert all(set(r["pred"]) <= set(spec.labels) for r in records)
            metrics = {r["metric"]: r["value"] for r in results["scores"] if r["language"] == lang}
            assert set(metrics) == set(spec.metrics)
        assert results["ranked_metrics"][task] == spec.main_metric


def test_truncated_words_get_fallback_and_are_counted(tmp_path: Path, shared_data: Path, pos_model: Path) -> None:
    short = tmp_path / "udpos_short.yaml"
    short.write_text(f"include: {resolve_task('udpos').source_file}\nname: udpos\nmax_length: 12\n")
    spec = load_task(short)
    examples = load_examples(spec, "ar", data_dir=shared_data, limit=20)
    predictor = get_predictor(spec, ModelCache(str(pos_model), RuntimeOptions(progress=False)),
                              RuntimeOptions(progress=False, batch_size=4))
    records = predictor.predict(examples)
    long_ones = [(r, e) for r, e in zip(records, examples, strict=True) if r["lost"] > 0]
    assert long_ones  # 12 subwords (with <s> and </s>) cannot hold every Arabic sentence
    for record, example in long_ones:
        assert len(record["pred"]) == len(example["tokens"])
        assert record["pred"][-record["lost"]:] == ["X"] * record["lost"]  # cut words are the last ones


def test_hub_style_classlabel_tags_become_names() -> None:
    import datasets

    features = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                                  "ner_tags": datasets.Sequence(datasets.ClassLabel(names=list(NER)))})
    dataset = datasets.Dataset.from_dict({"tokens": [["Crail", ",", "Fife"]], "ner_tags": [[5, 0, 5]]},
                                         features=features)
    from harness.data.examples import canonicalize

    examples = canonicalize(dataset, resolve_task("panx"), "hub", "memory")
    assert examples[0]["tags"] == ["B-LOC", "O", "B-LOC"] and examples[0]["id"] == "0"


def test_model_without_matching_labels_is_refused(tmp_path: Path, tiny_tokenizer_dir: Path, shared_data: Path) -> None:
    model = make_tiny_model(tmp_path / "m", tiny_tokenizer_dir, "AutoModelForTokenClassification",
                            id2label={0: "LABEL_0", 1: "LABEL_1"}, label2id={"LABEL_0": 0, "LABEL_1": 1})
    spec = resolve_task("panx")
    predictor = get_predictor(spec, ModelCache(str(model), RuntimeOptions(progress=False)),
                              RuntimeOptions(progress=False))
    with pytest.raises(XRobustError, match="do not match task panx labels"):
        predictor.predict(load_examples(spec, "ko", data_dir=shared_data, limit=2))
