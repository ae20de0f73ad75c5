"""``xrobust suites``: every claimed (condition, language) with its source, and coverage totals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.spec.languages import load_languages


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["suites", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_typo_claims_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, "--suite", "typos")
    languages = load_languages().codes()
    keyboard = {c["lang"]: c for c in out["claims"] if c["condition"] == "keyboard"}
    assert set(keyboard) == set(languages)
    assert keyboard["hi"]["sources"] == ["layout:inscript:Devanagari"]
    assert keyboard["ta"]["sources"] == ["layout:inscript:Tamil"]
    assert (keyboard["ko"]["sources"], keyboard["ja"]["sources"], keyboard["zh"]["sources"]) == (
        ["dubeolsik"], ["romaji-ime"], ["pinyin-ime"])
    assert keyboard["th"]["sources"] == ["layout:th"] and keyboard["de"]["sources"] == ["layout:de"]
    noise = {c["lang"]: c["steps"] for c in out["claims"] if c["condition"] == "char_noise"}
    assert noise["zh"] == ["char_delete", "char_swap"] and noise["ko"] == ["char_insert", "char_delete", "char_swap"]
    strip = {c["lang"]: c["sources"] for c in out["claims"] if c["condition"] == "no_diacritics"}
    assert strip["vi"] == ["strip:latin"] and strip["el"] == ["strip:greek"] and "zh" not in strip
    totals = out["coverage"]["conditions"]
    for name, total in totals.items():
        claimed = {c["lang"] for c in out["claims"] if f"{c['suite']}.{c['condition']}" == name}
        assert total["claimed"] == len(claimed & set(languages)) and total["of"] == len(languages)
        assert set(total["missing"]) == set(languages) - claimed
    assert totals["typos.keyboard"]["claimed"] == 50 and out["coverage"]["any"]["missing"] == []


@pytest.mark.data
def test_codeswitch_claims_every_language_with_a_dictionary(capsys: pytest.CaptureFixture[str],
                                                            shared_data: Path) -> None:
    out = _json(capsys, "--suite", "codeswitch", "--resources", str(shared_data))
    with_dictionary = {p.stem[3:] for p in (shared_data / "muse").glob("en-*.txt")} & set(load_languages().codes())
    to_english = {c["lang"]: c["sources"] for c in out["claims"] if c["condition"] == "to_english"}
    assert set(to_english) == with_dictionary and len(with_dictionary) == 32
    assert to_english["fi"] == ["muse:en-fi"] and to_english["zh"] == ["muse:en-zh+segmented"]
    third = {c["lang"]: c["sources"] for c in out["claims"] if c["condition"] == "to_third_language"}
    assert third["en"] == ["muse:en-de,en-ru"] and set(third) == with_dictionary | {"en"}


def test_text_and_markdown_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites", "--suite", "typos"]) == 0
    text = capsys.readouterr().out
    assert "typos.keyboard       50/50" in text and "any suite 50/50" in text
    assert main(["suites", "--suite", "typos", "--markdown"]) == 0
    markdown = capsys.readouterr().out.splitlines()
    rows = [line for line in markdown if line.startswith("| ") and line.split("|")[1].strip() in load_languages()]
    assert len(rows) == 50
    ko = next(line for line in rows if line.startswith("| ko |"))
    assert "dubeolsik" in ko and "strip" not in ko


def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["suites", "--suite", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown suite 'nope'" in err and "--suite" in err and "\n" not in err
    monkeypatch.delenv("XROBUST_RESOURCES", raising=False)
    assert main(["suites", "--suite", "codeswitch"]) == 2
    err = capsys.readouterr().err.strip()
    assert "codeswitch.yaml" in err and "muse_dir" in err and "\n" not in err


@pytest.mark.data
def test_inflection_claims_and_the_suites_that_reuse_them(capsys: pytest.CaptureFixture[str],
                                                          shared_data: Path) -> None:
    out = _json(capsys, "--resources", str(shared_data))
    claims = {(c["suite"], c["condition"], c["lang"]): c for c in out["claims"]}
    any_langs = {lang for suite, cond, lang in claims if (suite, cond) == ("inflection", "inflection_any")}
    case_number = {lang for suite, cond, lang in claims if (suite, cond) == ("inflection", "inflection_case_number")}
    assert len(any_langs) >= 20 and len(case_number) >= 7 and case_number <= any_langs
    assert claims[("inflection", "inflection_case_number", "ru")]["sources"] == ["engine+unimorph"]
    for lang in any_langs:  # the mixed and adversarial suites run inflection wherever the inflection suite does
        assert "inflection" in claims[("mixed", "mixed", lang)]["steps"]
        assert claims[("adversarial", "greedy_inflection", lang)]["steps"] == ["inflection"]
    assert {lang for suite, cond, lang in claims if (suite, cond) == ("adversarial", "greedy_case_number")} == case_number
    assert not any(lang not in any_langs and "inflection" in c["steps"] for (suite, _, lang), c in claims.items()
                   if suite == "mixed")


def test_top_level_help_names_every_sub_command() -> None:
    from harness.cli.main import build_parser

    parser = build_parser()
    names = next(a for a in parser._actions if a.dest == "command").choices
    assert {"run", "suites", "import", "finetune"} <= set(names)
    listed = (parser.description or "").removeprefix("xrobust command line: ").rstrip(".").split(", ")
    assert listed == list(names)
