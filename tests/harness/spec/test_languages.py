"""Tests for tasks/languages.yaml and harness.spec.languages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import XRobustError
from harness.spec.languages import DEFAULT_PATH, REQUIRED, load_languages, select

XNLI = "ar bg de el en es fr hi ru sw th tr ur vi zh".split()
PANX = (
    "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw yo my zh "
    "kk tr et fi hu qu pl uk az lt pa gu ro"
).split()
XTREME_R = set(XNLI) | set(PANX) | {"wo", "ht", "ko"}


def write_table(tmp_path: Path, slices: dict) -> Path:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["slices"] = slices
    path = tmp_path / "languages.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_every_xtreme_r_language_present_and_complete() -> None:
    table = load_languages()
    assert len(XTREME_R) == 50
    assert XTREME_R <= set(table.codes())
    for iso in XTREME_R:
        lang = table[iso]
        for key in REQUIRED:
            assert lang.get(key) not in (None, ""), (iso, key)
        assert lang.genus


def test_spot_facts() -> None:
    table = load_languages()
    assert table["ar"].morph_type == table["he"].morph_type == "introflexive"
    assert {table[x].script for x in ("ru", "uk", "bg", "kk")} == {"Cyrl"}
    assert table["ko"].script == "Hang" and table["hi"].script == "Deva" and table["ja"].script == "Jpan"
    assert table["en"].resource_class == 5 and table["fi"].iso639_3 == "fin"


def test_slices() -> None:
    agglutinative = select("agglutinative")
    assert {"fi", "tr", "et", "hu", "ko", "ja", "ta", "kk", "az", "eu", "qu"} <= set(agglutinative)
    assert {"zh", "vi", "th", "yo"} <= set(select("isolating"))
    low = set(select("low_resource"))
    assert {"sw", "yo", "qu"} <= low and "en" not in low and "de" not in low
    non_latin = set(select("non_latin_script"))
    assert {"ru", "ar", "zh", "hi", "ko"} <= non_latin and not {"en", "tr", "vi"} & non_latin
    rich = set(select("morphologically_rich"))
    assert {"ar", "fi", "ru", "pl"} <= rich and "en" not in rich and "zh" not in rich
    assert set(select("indo_european")).isdisjoint(select("non_indo_european"))
    assert set(select("low_resource_non_latin")) == low & non_latin


@pytest.mark.parametrize(
    ("slices", "field"),
    [
        ({"bad": {"where": {"field": "speakers", "op": ">", "value": 1}}}, "slices.bad.where.field"),
        ({"bad": {"where": {"field": "script", "op": "~=", "value": "Latn"}}}, "slices.bad.where.op"),
        ({"bad": {"where": {"field": "script", "op": "<", "value": "Latn"}}}, "slices.bad.where.op"),
        ({"bad": {"where": {"field": "iso", "op": "in", "value": "fi"}}}, "slices.bad.where.value"),
        (
            {"bad": {"where": {"any": [{"field": "morph", "op": "==", "value": 1}]}}},
            "slices.bad.where.any[0].field",
        ),
        ({"bad": {"where": "resource_class <= 2"}}, "slices.bad.where"),
        ({"bad": {"filter": {"field": "iso", "op": "==", "value": "fi"}}}, "slices.bad"),
    ],
)
def test_malformed_slice_raises(tmp_path: Path, slices: dict, field: str) -> None:
    path = write_table(tmp_path, slices)
    with pytest.raises(XRobustError) as info:
        load_languages(path)
    assert info.value.file == str(path) and info.value.field == field
    assert str(path) in str(info.value) and field in str(info.value)


def test_missing_field_and_unknown_slice(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    del data["languages"]["fi"]["morph_type"]
    path = tmp_path / "languages.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(XRobustError) as info:
        load_languages(path)
    assert info.value.field == "languages.fi.morph_type" and info.value.file == str(path)
    with pytest.raises(XRobustError) as info:
        select("no_such_slice")
    assert info.value.field == "slices" and "agglutinative" in str(info.value)
