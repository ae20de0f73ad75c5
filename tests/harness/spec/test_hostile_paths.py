"""Names and patterns that become paths stay inside their folders; task files with bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import XRobustError
from harness.spec.paths import confined, inside, is_safe_name, relative_pattern, safe_name
from harness.spec.taskspec import TASKS_DIR, load_task


@pytest.mark.parametrize("name", ["xnli", "de", "zh-Hans", "typos.b-de", "adv.greedy@from-model-A.1",
                                  "typos.keyboard~v2", "sr_Latn"])
def test_ordinary_names_are_safe(name: str) -> None:
    assert safe_name(name, field="x") == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", "/etc", ".hidden", "-flag", "a\0b",
                                  "x" * 161, None, 3, ["a"]])
def test_path_syntax_is_refused(name: object) -> None:
    assert not is_safe_name(name)
    with pytest.raises(XRobustError) as info:
        safe_name(name, field="name", file="t.yaml")
    assert str(info.value).startswith("t.yaml: field 'name': ")


def test_confined_paths(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert confined(tmp_path / "data", "xnli/de.test.jsonl", field="f") == tmp_path / "data/xnli/de.test.jsonl"
    for bad in ("../x", "a/../../x", "/etc/passwd", str(tmp_path / "elsewhere")):
        with pytest.raises(XRobustError, match="leads outside"):
            confined(tmp_path / "data", bad, field="f")
    (tmp_path / "data" / "link").symlink_to("/etc")
    assert inside(tmp_path / "data", "link/passwd")  # lexically inside
    with pytest.raises(XRobustError):
        confined(tmp_path / "data", "link/passwd", field="f", follow_links=True)
    for bad in ("/abs/{lang}", "../{lang}", "a/../../{lang}", "C:\\x", "~/x", ""):
        with pytest.raises(XRobustError):
            relative_pattern(bad, field="data.local.pattern")


def _task(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text("include: xnli.yaml\nname: t\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "field", "words"), [
    ("name: ../../../../escaped_task\n", "name", "cannot be a task name"),
    ("name: /tmp/abs\n", "name", "cannot be a task name"),
    ("data:\n  local:\n    pattern: '../../etc/{lang}.jsonl'\n", "data.local.pattern", "'..'"),
    ("data:\n  local:\n    pattern: '/etc/{lang}.jsonl'\n", "data.local.pattern", "absolute"),
    ("data:\n  local:\n    pattern: '{task}/{nope}.jsonl'\n", "data.local.pattern", "known fields"),
    ("language_codes: {de: ../../x}\n", "language_codes.de", "file name"),
    ("splits: {eval: ../test}\n", "splits.eval", "file name"),
    ("max_length: -5\n", "max_length", "got -5"),
    ("max_length: 0\n", "max_length", "at least 1"),
    ("retrieval: {top_k: 0}\n", "retrieval.top_k", "at least 1"),
    ("labels: [entailment, neutral, contradiction, neutral]\n", "labels", "listed twice"),
    ("languages: [de, de]\n", "languages", "listed twice"),
])
def test_bad_task_values_name_file_and_field(tmp_path: Path, body: str, field: str, words: str) -> None:
    path = _task(tmp_path, body)
    with pytest.raises(XRobustError) as info:
        load_task(path)
    text = str(info.value)
    assert text.startswith(f"{path}: field '{field}': ") and words in text and "\n" not in text


def test_stride_zero_and_negative_layer_stay_allowed(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("include: mlqa.yaml\nname: q\nqa: {stride: 0}\nretrieval: {layer: -2}\n", encoding="utf-8")
    spec = load_task(path)
    assert spec.qa.stride == 0 and spec.retrieval.layer == -2


@pytest.mark.parametrize("target", ["/etc/shadow", "/etc/passwd.yaml", "../../../../etc/hosts.yaml",
                                    "link/evil.yaml"])
def test_include_never_reads_outside_the_task_folders(tmp_path: Path, target: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.yaml").write_text("SECRET-LINE: 1\n", encoding="utf-8")
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "link").symlink_to(outside)
    path = folder / "t.yaml"
    path.write_text(f"include: {target}\nname: t\n", encoding="utf-8")
    with pytest.raises(XRobustError) as info:
        load_task(path)
    text = str(info.value)
    assert f"{path}: field 'include': " in text and "SECRET-LINE" not in text and "root:x:" not in text


def test_includes_inside_the_folders_still_work(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "base.yaml").write_text("include: xnli.yaml\ndescription: shared\n", encoding="utf-8")
    path = tmp_path / "t.yaml"
    path.write_text(f"include: [common/base.yaml, {TASKS_DIR / 'templates' / 'pair_classification.yaml'}]\n"
                    "name: t2\n", encoding="utf-8")
    spec = load_task(path)
    assert spec.name == "t2" and spec.description == "shared" and spec.labels


@pytest.mark.parametrize(("body", "line", "words"), [
    ("description: !!python/object/apply:os.system ['touch {marker}']\n", 3, "refused YAML tag (column 14): "),
    ("labels: [a, b\nmax_length: 3\n", 4, "malformed YAML (column 11): "),
])
def test_yaml_errors_name_the_line_and_build_no_object(tmp_path: Path, body: str, line: int, words: str) -> None:
    marker = tmp_path / "ran"
    path = _task(tmp_path, body.format(marker=marker))
    with pytest.raises(XRobustError) as info:
        load_task(path)
    assert str(info.value).startswith(f"{path}:{line}: {words}") and not marker.exists()
