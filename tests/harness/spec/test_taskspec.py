"""Task YAML loading: includes, validation, one-line errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import XRobustError
from harness.spec.taskspec import builtin_task_files, load_task, resolve_task


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_tasks_load_and_include_templates() -> None:
    files = builtin_task_files()
    assert {"xnli", "pawsx", "tatoeba"} <= set(files)
    xnli = load_task(files["xnli"])
    assert xnli.type == "pair_classification"  # from templates/pair_classification.yaml
    assert xnli.labels == ("entailment", "neutral", "contradiction")
    assert xnli.perturb_fields == ("text_a", "text_b")
    assert "tr" in xnli.languages and "ko" not in xnli.languages and "ko" in xnli.extra_languages
    assert xnli.fields_for("local") == {"text_a": "sentence1", "text_b": "sentence2", "label": "gold_label"}
    assert xnli.fields_for("hub")["text_a"] == "premise"
    tatoeba = load_task(files["tatoeba"])
    assert tatoeba.type == "retrieval" and tatoeba.lang3("de") == "deu"


def test_tiny_variant_file_overrides_nested_keys(tmp_path: Path) -> None:
    spec = load_task(write(tmp_path / "t.yaml", "include: tatoeba.yaml\nname: tat_cls\nretrieval: {pooling: cls}\n"))
    assert spec.retrieval.pooling == "cls"
    assert spec.retrieval.max_length == 128  # kept from the included file
    assert spec.name == "tat_cls" and spec.config_hash() != resolve_task("tatoeba").config_hash()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("include: xnli.yaml\nname: x\nlabelz: [a]\n", "labelz"),
        ("include: xnli.yaml\nname: x\ndata: {local: {fields: {text_q: s}}}\n", "data.local.fields.text_q"),
        ("include: xnli.yaml\nname: x\nretrieval: {pooling: sum}\n", "retrieval.pooling"),
        ("include: xnli.yaml\nname: x\nlanguages: [de, xx]\n", "languages"),
        ("include: xnli.yaml\nname: x\nmetrics: [bleu]\n", "metrics"),
        ("name: x\ntype: pair_classification\n", "languages"),
        ("include: nothere.yaml\nname: x\n", "include"),
        ("include: xnli.yaml\nname: x\ntype: regression\n", "type"),
    ],
)
def test_bad_task_files_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(XRobustError) as info:
        load_task(path)
    message = str(info.value)
    assert str(path) in message and f"'{field}" in message
    assert "\n" not in message


def test_malformed_yaml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.yaml", "name: x\nlanguages: [de, tr\ntype: retrieval\n")
    with pytest.raises(XRobustError, match=r"broken\.yaml:\d+: malformed YAML \(column \d+\)"):
        load_task(path)


def test_cli_exit_code_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "bad.yaml", "include: xnli.yaml\nname: x\nunknown_key: 1\n")
    code = main(["run", "--tasks", str(path), "--model", str(tmp_path), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and str(path) in err and "unknown_key" in err
    assert not (tmp_path / "run").exists()


def test_unknown_task_name() -> None:
    with pytest.raises(XRobustError, match="unknown task 'xnly'"):
        resolve_task("xnly")
