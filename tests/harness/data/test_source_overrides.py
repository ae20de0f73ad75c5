"""Per-language hub sources in task files: validated like the rest of the file (one line naming the file and
the field), merged over the task's own source, and kept out of the hash of tasks that have none."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.sources import hub_load
from harness.errors import XRobustError
from harness.spec.taskspec import load_task, resolve_task


def _task(tmp_path: Path, base: str, hub: str) -> Path:
    path = tmp_path / "variant.yaml"
    path.write_text(f"include: {resolve_task(base).source_file}\nname: variant\ndata:\n  hub:\n{hub}",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("base", "hub", "field", "words"),
    [
        ("panx", "    overrides: {qu: {colour: red}}\n", "data.hub.overrides.qu.colour", "unknown field"),
        ("panx", "    overrides: {xx: {name: xx}}\n", "data.hub.overrides.xx", "unknown language code 'xx'"),
        ("panx", "    overrides: {qu: {fields: {words: tokens}}}\n", "data.hub.overrides.qu.fields.words",
         "not a field of token_classification"),
        ("panx", "    overrides: {qu: {revision: 1234567}}\n", "data.hub.overrides.qu.revision", "quote it"),
        ("panx", "    overrides: {qu: [unimelb-nlp/wikiann]}\n", "data.hub.overrides.qu", "must be a mapping"),
        ("panx", "    revision: 20240101\n", "data.hub.revision", "quote it"),
        ("udpos", "    unavailable: {lt: ''}\n", "data.hub.unavailable.lt", "reason"),
        ("udpos", "    unavailable: {xx.test: gone}\n", "data.hub.unavailable.xx.test", "unknown language code"),
        ("panx", "    unavailable: {qu: gone}\n", "data.hub.unavailable.qu", "override and be unavailable"),
        ("tatoeba", "    strip: [sentence]\n", "data.hub.strip.sentence", "not a field of retrieval"),
    ],
)
def test_bad_source_fields_name_file_and_field(tmp_path: Path, base: str, hub: str, field: str, words: str) -> None:
    path = _task(tmp_path, base, hub)
    with pytest.raises(XRobustError) as info:
        load_task(path)
    message = str(info.value)
    assert str(path) in message and f"'{field}'" in message and words in message and "\n" not in message


def test_an_override_replaces_the_keys_it_gives_and_inherits_the_rest(tmp_path: Path) -> None:
    spec = load_task(_task(tmp_path, "xquad", "    overrides:\n      th: {name: \"xquad.{lang}\", "
                                              "path: google/xquad}\n      th.train: {split: train}\n"))
    th = hub_load(spec, "th", "test")
    assert (th.path, th.name, th.hub_split, th.override) == ("google/xquad", "xquad.th", "validation", "th")
    train = hub_load(spec, "th", "train")  # the split key applies on top of the language key
    assert (train.path, train.hub_split, train.override) == ("google/xquad", "train", "th.train")
    de = hub_load(spec, "de", "test")
    assert (de.path, de.name, de.override) == ("google/xtreme", "XQuAD.de", None)


def test_a_variant_with_fewer_languages_keeps_the_included_overrides(tmp_path: Path) -> None:
    path = tmp_path / "few.yaml"
    path.write_text(f"include: {resolve_task('tatoeba').source_file}\nname: few\nlanguages: [de, pl]\n")
    spec = load_task(path)
    assert hub_load(spec, "pl", "test").path == "mteb/tatoeba-bitext-mining"
    assert hub_load(spec, "de", "test").path == "google/xtreme"


def test_hashes_of_tasks_without_overrides_do_not_move() -> None:
    pawsx = resolve_task("pawsx").to_dict()["hub"]
    assert not {"overrides", "unavailable", "strip"} & set(pawsx)
    assert resolve_task("pawsx").config_hash() == "65558a19ebab" and resolve_task("tydiqa").config_hash() == \
        "9972630033f7"  # as before per-language sources existed
    panx = resolve_task("panx").to_dict()["hub"]
    assert panx["overrides"]["qu"] == {"path": "unimelb-nlp/wikiann", "name": "{lang}"}


def test_unavailable_marks_do_not_change_the_task_hash(tmp_path: Path) -> None:
    assert resolve_task("xnli").config_hash() == "8d20eca705df"  # as before ko was marked unavailable
    same = load_task(_task(tmp_path, "xnli", "    fields: {label: label}\n")).config_hash()
    assert load_task(_task(tmp_path, "xnli", "    unavailable: {ar: gone}\n")).config_hash() == same
    assert load_task(_task(tmp_path, "xnli", "    revision: main\n")).config_hash() != same
