"""``xrobust data sources``: per task, language and split, where the data comes from, generated from the YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.spec.taskspec import builtin_task_files, resolve_task


def _rows(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["data", "sources", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_rows_cover_every_language_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(capsys)
    by = {(r["task"], r["lang"], r["split"]): r for r in rows}
    assert {r["task"] for r in rows} == set(builtin_task_files())
    for name in ("xnli", "panx", "udpos", "tatoeba", "xquad", "mlqa", "tydiqa", "xcopa", "pawsx"):
        spec = resolve_task(name)
        assert {lang for (t, lang, s) in by if t == name and s == spec.eval_split} == set(spec.all_languages)
    qu = by[("panx", "qu", "validation")]
    assert (qu["source"], qu["path"], qu["name"], qu["override"], qu["pinned"]) == (
        "hub", "unimelb-nlp/wikiann", "qu", "qu", False)
    assert by[("panx", "de", "validation")]["name"] == "PAN-X.de" and not by[("panx", "de", "validation")]["override"]
    az = by[("tatoeba", "az", "test")]
    assert (az["path"], az["name"], az["hub_split"], az["pinned"]) == ("mteb/tatoeba-bitext-mining", "aze-eng",
                                                                       "test", True)
    assert az["fields"] == {"source": "sentence1", "target": "sentence2"} and az["strip"] == ["source", "target"]
    ro = by[("xquad", "ro", "test")]
    assert (ro["path"], ro["name"], ro["hub_split"], ro["revision"]) == (
        "google/xquad", "xquad.ro", "validation", "51adfef1c1287aab1d2d91b5bead9bcfb9c68583")
    assert by[("mlqa", "de", "test")]["hub_split"] == "test"
    assert by[("xcopa", "en", "train")]["path"] == "aps/super_glue"
    for lang in ("lt", "pl", "uk", "wo", "ro"):
        assert by[("udpos", lang, "test")]["source"] == "unavailable" and by[("udpos", lang, "test")]["detail"]
    ko = by[("xnli", "ko", "test")]
    assert ko["source"] == "unavailable" and ko["extra"] and ko["local"] == "xnli/ko.test.jsonl"
    assert by[("lareqa", "de", "test")]["source"] == "files"


def test_text_and_markdown_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "sources", "--tasks", "tatoeba,udpos"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["task", "lang", "split", "source"]
    row = {tuple(line.split()[:2]): line.split() for line in lines[1:] if line.startswith(("tatoeba", "udpos"))}
    assert row[("tatoeba", "pl")][3:7] == ["mteb/tatoeba-bitext-mining", "pol-eng", "test",
                                           "69e8f12da6e31d59addadda9a9c8a2e601a0e282"]
    assert row[("tatoeba", "fi")][3:7] == ["google/xtreme", "tatoeba.fin", "validation", "unpinned"]
    assert row[("udpos", "wo")][3] == "unavailable"
    assert main(["data", "sources", "--markdown", "--tasks", "panx"]) == 0
    table = capsys.readouterr().out
    assert "| panx | validation | qu, pl, uk, az, lt, pa, gu, ro | `unimelb-nlp/wikiann` | `{lang}` | validation | " \
           "unpinned |" in table
    assert "| panx | validation | ar, he," in table and "`PAN-X.{lang}`" in table


def test_unknown_task_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["data", "sources", "--tasks", "nope"]) == 2
    assert "unknown task 'nope'" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"include: {resolve_task('panx').source_file}\nname: bad\n"
                   "data: {hub: {overrides: {qu: {colour: red}}}}\n")
    assert main(["data", "sources", "--tasks", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(bad) in err and "'data.hub.overrides.qu.colour'" in err and "\n" not in err
