"""The XTREME-R task files: languages, metrics, sources, field mappings on real rows, hub-side options
(split names, row filters, config names), option-section validation, `xrobust tasks`, overall score."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from harness import tasktypes
from harness.cli.main import main
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.spec.taskspec import builtin_task_files, load_task, resolve_task
from harness.store.scoring import XTREME_R_TASKS, overall, overall_table

# XTREME-R task → languages (google-research/xtreme evaluate.py, as listed in the data MANIFEST)
XTREME_R = {
    "xnli": "ar bg de el en es fr hi ru sw th tr ur vi zh",
    "panx": "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw yo "
            "my zh kk tr et fi hu qu pl uk az lt pa gu ro",
    "udpos": "af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr ur vi yo zh "
             "lt pl uk wo ro",
    "tatoeba": "ar he vi id jv tl eu ml ta te af nl de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw zh kk "
               "tr et fi hu az lt pl uk ro",
    "xcopa": "et ht id it qu sw ta th tr vi zh",
    "mewslix": "ar de en es fa ja pl ro ta tr uk",
    "xquad": "en es de el ru tr ar vi th zh hi ro",
    "mlqa": "en es de ar hi vi zh",
    "tydiqa": "en ar bn fi id ko ru sw te",
    "lareqa": "ar de el en es hi ru th tr vi zh",
}


def test_every_xtreme_r_task_is_defined_with_its_languages() -> None:
    assert set(XTREME_R) == set(XTREME_R_TASKS)
    for name, langs in XTREME_R.items():
        spec = resolve_task(name)
        assert spec.languages == tuple(langs.split()), name
        assert spec.ranked_metric in spec.metrics
    expected = {"udpos": "token_accuracy", "panx": "entity_f1", "xquad": "em_f1", "mlqa": "em_f1",
                "tydiqa": "em_f1", "xcopa": "accuracy", "lareqa": "map_at_20", "mewslix": "map_at_20"}
    assert {n: resolve_task(n).main_metric for n in expected} == expected
    assert all(load_task(p).name == n for n, p in builtin_task_files().items())


@pytest.mark.parametrize(
    ("task", "lang", "split"),
    [("udpos", "ko", None), ("panx", "ar", None), ("mlqa", "ar", "validation"), ("tydiqa", "sw", "train"),
     ("xcopa", "qu", None)],
)
def test_real_rows_map_to_canonical_fields(shared_data: Path, task: str, lang: str, split: str | None) -> None:
    spec = resolve_task(task)
    examples = load_examples(spec, lang, split, data_dir=shared_data, limit=3)
    required, optional = tasktypes.get(spec.type).required, tasktypes.get(spec.type).optional
    for example in examples:
        assert set(required) <= set(example) and isinstance(example["id"], str)
        assert set(example) <= set(required) | set(optional) | {"language"}
    if spec.type == "token_classification":
        assert all(set(e["tags"]) <= set(spec.labels) for e in examples)


def test_tydiqa_eval_split_is_missing_offline_but_train_works(shared_data: Path) -> None:
    with pytest.raises(XRobustError, match=r"tydiqa/ko\.test\.jsonl"):
        load_examples(resolve_task("tydiqa"), "ko", data_dir=shared_data)
    assert len(load_examples(resolve_task("tydiqa"), "ko", "train", data_dir=shared_data, limit=4)) == 4


class FakeHub:
    """Stands in for datasets.load_dataset: records the call, returns a small in-memory dataset."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows, self.calls = rows, []

    def __call__(self, path: str, name: str | None = None, **kwargs: Any) -> Any:
        import datasets

        self.calls.append((path, name, kwargs["split"]))
        return datasets.Dataset.from_list(self.rows)


def test_hub_names_split_map_and_language_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    answers = {"text": ["x"], "answer_start": [0]}
    hub = FakeHub([{"id": f"{lang}-{i}", "context": "x y", "question": "q", "answers": answers, "title": ""}
                   for lang in ("korean", "swahili") for i in range(3)])
    monkeypatch.setattr(datasets, "load_dataset", hub)
    ko = load_examples(resolve_task("tydiqa"), "ko")
    assert hub.calls[-1] == ("google/xtreme", "tydiqa", "validation")  # our test split = GoldP dev
    assert [e["id"] for e in ko] == ["korean-0", "korean-1", "korean-2"] and ko[0]["language"] == "ko"
    load_examples(resolve_task("mlqa"), "de")
    assert hub.calls[-1] == ("google/xtreme", "MLQA.de.de", "test")  # XTREME-R reports MLQA test
    load_examples(resolve_task("xquad"), "th")
    assert hub.calls[-1] == ("google/xtreme", "XQuAD.th", "validation")
    hub.rows = [{"tokens": ["a"], "pos_tags": ["NOUN"]}]
    load_examples(resolve_task("udpos"), "de")
    assert hub.calls[-1] == ("google/xtreme", "udpos.German", "test")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("include: udpos.yaml\nname: x\nfields: {tags: [a, b]}\n", "fields.tags"),
        ("include: udpos.yaml\nname: x\ntagging: {fallback_label: MISC}\n", "tagging.fallback_label"),
        ("include: mlqa.yaml\nname: x\nqa: {normalization: bleu}\n", "qa.normalization"),
        ("include: mlqa.yaml\nname: x\nqa: {stride: 400}\n", "qa.stride"),
        ("include: mlqa.yaml\nname: x\nqa: {n_best: many}\n", "qa.n_best"),
        ("include: mlqa.yaml\nname: x\nqa: {beam: 3}\n", "qa.beam"),
        ("include: xcopa.yaml\nname: x\nchoice: {first: '{hypothesis}'}\n", "choice.first"),
        ("include: lareqa.yaml\nname: x\nretrieval: {top_k: 5}\n", "retrieval.top_k"),
        ("include: lareqa.yaml\nname: x\ncandidates: {format: squad}\n", "candidates.format"),
    ],
)
def test_bad_option_sections_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("include: ", f"include: {Path(resolve_task('xnli').source_file).parent}/"))
    with pytest.raises(XRobustError) as info:
        load_task(path)
    assert str(path) in str(info.value) and f"'{field}'" in str(info.value)


def test_sections_of_other_types_stay_out_of_the_hash() -> None:
    xnli = resolve_task("xnli").to_dict()
    assert not {"qa", "tagging", "choice", "candidates"} & set(xnli) and "split_map" not in xnli["hub"]
    assert "qa" in resolve_task("mlqa").to_dict() and "filter" in resolve_task("tydiqa").to_dict()["hub"]


def test_cli_tasks_lists_type_metric_languages_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(XTREME_R) <= set(lines)
    assert lines["udpos"].split()[1:3] == ["token_classification", "token_accuracy"]
    assert "google/xtreme:PAN-X.{lang}" in lines["panx"] and "entity_f1" in lines["panx"]
    assert "cambridgeltl/xcopa" in lines["xcopa"] and "et,ht,id,it,qu,sw,ta,th,tr,vi,zh" in lines["xcopa"]
    assert "lareqa files" in lines["lareqa"] and "map_at_20" in lines["mewslix"]


def avg(task: str, value: float, condition: str = "clean", metric: str = "m", split: str = "test") -> dict:
    return {"task": task, "split": split, "condition": condition, "metric": metric, "value": value,
            "languages": ["de"]}


def test_overall_is_the_mean_of_tasks_run_and_missing_is_never_zero() -> None:
    ranked = {t: "m" for t in XTREME_R_TASKS}
    averages = [avg("xnli", 80.0), avg("udpos", 70.0), avg("mlqa", 60.0), avg("mlqa", 10.0, metric="other"),
                avg("panx", math.nan), avg("xnli", 40.0, "typos"), avg("udpos", 99.0, split="validation")]
    assert overall(averages, ranked) == {"clean": 70.0, "typos": 40.0}  # (80 + 70 + 60) / 3; panx NaN left out
    table = overall_table(averages, ranked)["clean"]
    assert table["score"] == 70.0 and table["complete"] is False
    assert table["tasks"]["udpos"] == 70.0  # the test split wins over validation
    assert table["tasks"]["panx"] is None and set(table["missing"]) == set(XTREME_R_TASKS) - {"xnli", "udpos", "mlqa"}
    full = [avg(t, 50.0) for t in XTREME_R_TASKS]
    assert overall_table(full, ranked)["clean"] == {"score": 50.0, "tasks": dict.fromkeys(XTREME_R_TASKS, 50.0),
                                                    "missing": [], "complete": True}
