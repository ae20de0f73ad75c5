"""The hub path for real, offline: dataset repositories laid out as the hub ones (README ``configs:``, parquet per
config and split, ClassLabel features), built from ../shared/data rows, read through the harness's own
``load_dataset(path, name, split=…, revision=…)`` call, give the same examples as the local files; override
languages read their own repository; unavailable languages are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.data import provenance
from harness.data.cache import RunData
from harness.data.examples import load_examples, load_hub_rows
from harness.data.sources import MIRROR_ENV, hub_load
from harness.errors import XRobustError
from harness.spec.taskspec import load_task, resolve_task
from tests.harness.data.hubrepo import CASES, OVERRIDE_CASES, build_mirror, override_task


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    return build_mirror(tmp_path_factory.mktemp("hub-mirror"), shared_data)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, mirror: Path, tmp_path: Path) -> list[tuple]:
    """The mirror switched on, a private datasets cache, and every load_dataset call recorded (and made)."""
    import datasets

    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    datasets.disable_progress_bars()
    real, seen = datasets.load_dataset, []

    def spy(path: str, name: str | None = None, **kwargs: Any) -> Any:
        seen.append((path, name, kwargs.get("split"), kwargs.get("revision")))
        return real(path, name, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", spy)
    return seen


def _same_examples(hub: list[dict], local: list[dict]) -> None:
    assert len(hub) == len(local) > 0
    assert hub == local


@pytest.mark.parametrize(("task", "lang", "split"), list(CASES))
def test_hub_repository_gives_the_local_examples(calls: list[tuple], mirror: Path, shared_data: Path, task: str,
                                                 lang: str, split: str) -> None:
    spec = resolve_task(task)
    repo, config, hub_split, rel = CASES[(task, lang, split)]
    with provenance.recording() as sources:
        hub = load_examples(spec, lang, split)
    local = load_examples(spec, lang, split, data_dir=shared_data)
    _same_examples(hub, local)
    # one call, through load_dataset, with the config and hub split of the task file (or its override)
    hub_calls = [c for c in calls if c[0] != "json"]
    assert hub_calls == [(str(mirror / repo), config, hub_split, None)]
    [record] = sources
    assert (record["path"], record["name"], record["split"]) == (repo, config, hub_split)
    parquet = f"{config}/{hub_split}-00000-of-00001.parquet"
    assert record["files"] == {parquet: provenance.file_sha256(mirror / repo / parquet)}


def test_class_labels_become_names_and_tatoeba_lines_are_stripped(calls: list[tuple], mirror: Path) -> None:
    dataset, _, _ = load_hub_rows(resolve_task("udpos"), "de", "test")
    assert isinstance(dataset[0]["pos_tags"][0], int)  # ids in the repository …
    example = load_examples(resolve_task("udpos"), "de", "test", limit=1)[0]
    assert all(isinstance(t, str) for t in example["tags"])  # … tag names in the examples
    raw, _, _ = load_hub_rows(resolve_task("tatoeba"), "fi", "test")
    assert raw[0]["source_sentence"].endswith("\n")
    fi = load_examples(resolve_task("tatoeba"), "fi", "test", limit=5)
    assert all(e["source"] == e["source"].strip() and e["target"] == e["target"].strip() for e in fi)


def test_xcopa_english_training_data_comes_from_superglue_copa(calls: list[tuple], mirror: Path) -> None:
    spec = resolve_task("xcopa")
    load = hub_load(spec, "en", "train")
    assert (load.path, load.name, load.hub_split, load.override) == ("aps/super_glue", "copa", "train", "en")
    examples = load_examples(spec, "en", "train")
    assert len(examples) == 400 and {e["label"] for e in examples} == {0, 1}  # ClassLabel ids are choice indexes
    assert all(len(e["choices"]) == 2 for e in examples)
    with pytest.raises(XRobustError, match=r"task xcopa: no public hub source for 'en' \(test\)") as info:
        load_examples(spec, "en", "test")
    assert "data.hub.unavailable.en.test" in str(info.value)
    # the target languages keep cambridgeltl/xcopa
    assert hub_load(spec, "et", "test").path == "cambridgeltl/xcopa"


@pytest.mark.parametrize(("task", "lang", "split"), list(OVERRIDE_CASES))
def test_override_language_reads_its_own_repository(calls: list[tuple], mirror: Path, shared_data: Path,
                                                    tmp_path: Path, task: str, lang: str, split: str) -> None:
    spec = load_task(override_task(tmp_path, task))
    repo, config, hub_split, _ = OVERRIDE_CASES[(task, lang, split)]
    _same_examples(load_examples(spec, lang, split), load_examples(spec, lang, split, data_dir=shared_data))
    assert [c[:3] for c in calls if c[0] != "json"] == [(str(mirror / repo), config, hub_split)]
    # the task's other languages still read the task's own repository
    other = next(x for x in spec.languages if x not in spec.hub.overrides)
    assert hub_load(spec, other, split).path == resolve_task(task).hub.path


def test_builtin_overrides_resolve_as_the_issue_table_says() -> None:
    panx, tatoeba, xquad = resolve_task("panx"), resolve_task("tatoeba"), resolve_task("xquad")
    for lang in ("qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"):
        load = hub_load(panx, lang, "validation")
        assert (load.path, load.name, load.hub_split, load.fields["tags"]) == ("unimelb-nlp/wikiann", lang,
                                                                                "validation", "ner_tags")
    assert hub_load(panx, "de", "validation").name == "PAN-X.de"
    for lang, code in (("az", "aze"), ("lt", "lit"), ("pl", "pol"), ("uk", "ukr"), ("ro", "ron")):
        load = hub_load(tatoeba, lang, "test")
        assert (load.path, load.name, load.hub_split) == ("mteb/tatoeba-bitext-mining", f"{code}-eng", "test")
        assert load.fields["source"] == "sentence1" and load.fields["target"] == "sentence2"
        assert load.revision == "69e8f12da6e31d59addadda9a9c8a2e601a0e282" and load.strip == ("source", "target")
    assert (hub_load(tatoeba, "fi", "test").name, hub_load(tatoeba, "fi", "test").hub_split) == \
        ("tatoeba.fin", "validation")
    ro = hub_load(xquad, "ro", "test")
    assert (ro.path, ro.name, ro.hub_split, ro.revision) == ("google/xquad", "xquad.ro", "validation",
                                                             "51adfef1c1287aab1d2d91b5bead9bcfb9c68583")
    assert hub_load(xquad, "de", "test").path == "google/xtreme"
    mlqa = resolve_task("mlqa")
    assert mlqa.eval_split == "test" and hub_load(mlqa, "de", "test").hub_split == "test"
    assert hub_load(mlqa, "en", "train").path == "rajpurkar/squad"


@pytest.mark.parametrize(("task", "lang", "split"), [("udpos", "lt", "test"), ("udpos", "wo", "test"),
                                                     ("xnli", "ko", "test")])
def test_unavailable_languages_are_refused_with_task_and_language(task: str, lang: str, split: str) -> None:
    with pytest.raises(XRobustError) as info:
        load_examples(resolve_task(task), lang, split)
    message = str(info.value)
    assert f"task {task}: no public hub source for {lang!r}" in message and "\n" not in message
    assert f"data.hub.unavailable.{lang}" in message and f"{task}/{lang}.{split}.jsonl" in message


def test_a_run_over_an_unavailable_language_is_refused_before_any_unit(shared_data: Path) -> None:
    spec = resolve_task("udpos")
    data = RunData(None, None, ["de", "lt"], tasks=[spec])
    with pytest.raises(XRobustError, match="no public hub source for 'lt'"):
        data.fingerprint(spec, ["de"], "test")  # the first unit (de) already refuses: lt would come later
    # the same languages from local files are fine (nothing is refused, lt's file is simply looked up)
    local = RunData(shared_data, 3, ["de"], tasks=[spec])
    assert set(local.fingerprint(spec, ["de"], "test")) == {"de"}
