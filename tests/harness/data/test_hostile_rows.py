"""Bad rows in real data files: one line ``xrobust: error: FILE:LINE: field 'X': message``, exit 2, and the
results stored before are left exactly as they were."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.spec.taskspec import resolve_task

Rows = list[dict]


def _set(i: int, key: str, value: object) -> Callable[[Rows], Rows]:
    def edit(rows: Rows) -> Rows:
        rows[i][key] = value
        return rows
    return edit


def _drop(i: int, key: str) -> Callable[[Rows], Rows]:
    def edit(rows: Rows) -> Rows:
        del rows[i][key]
        return rows
    return edit


def _tag(i: int, j: int, value: object) -> Callable[[Rows], Rows]:
    def edit(rows: Rows) -> Rows:
        rows[i]["pos_tags"][j] = value
        return rows
    return edit


def _token(i: int, j: int, value: object) -> Callable[[Rows], Rows]:
    def edit(rows: Rows) -> Rows:
        rows[i]["tokens"][j] = value
        return rows
    return edit


def _pop_tag(i: int) -> Callable[[Rows], Rows]:
    def edit(rows: Rows) -> Rows:
        rows[i]["pos_tags"].pop()
        return rows
    return edit


ROW_CASES = {  # case: (task, edit of the parsed rows, line, field, words)
    "null text": ("xnli", _set(3, "sentence1", None), 4, "fields.text_a (sentence1)", "got null"),
    "int text": ("xnli", _set(2, "sentence2", 7), 3, "fields.text_b (sentence2)", "got int"),
    "list text": ("xnli", _set(5, "sentence1", ["a", "b"]), 6, "fields.text_a (sentence1)", "got list"),
    "column missing in one row": ("xnli", _drop(6, "sentence2"), 7, "fields.text_b (sentence2)", "missing"),
    "unknown label": ("xnli", _set(1, "gold_label", "maybe"), 2, "fields.label (gold_label)", "'maybe'"),
    "tag/token length": ("udpos", _pop_tag(3), 4, "fields.tags (pos_tags)", "tokens but"),
    "unknown UD-POS tag": ("udpos", _tag(4, 0, "NOUNX"), 5, "fields.tags (pos_tags)", "'NOUNX'"),
    "tag index out of range": ("udpos", _tag(2, 1, 40), 3, "fields.tags (pos_tags)", "index 40"),
    "None token": ("udpos", _token(1, 2, None), 2, "fields.tokens (tokens)", "got null"),
    "None tag": ("udpos", _tag(1, 2, None), 2, "fields.tags (pos_tags)", "got null"),
}


def _raw_bad_utf8(lines: list[bytes]) -> list[bytes]:
    lines[8] = lines[8][:20] + b"\xff\xfe" + lines[8][20:]
    return lines


def _raw_bad_json(lines: list[bytes]) -> list[bytes]:
    lines[9] = lines[9][:-3]
    return lines


def _raw_not_object(lines: list[bytes]) -> list[bytes]:
    lines[4] = b'["a", "b"]'
    return lines


BYTE_CASES = {  # case: (edit of the file's lines as bytes, line, words)
    "non-UTF-8 bytes": (_raw_bad_utf8, 9, "not UTF-8"),
    "JSON error": (_raw_bad_json, 10, "not valid JSON"),
    "a row that is not an object": (_raw_not_object, 5, "JSON object"),
}


@pytest.fixture(scope="module")
def tiny_tagger(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    from tests.conftest import make_tiny_model

    labels = resolve_task("udpos").labels
    return make_tiny_model(tmp_path_factory.mktemp("tagger"), tiny_tokenizer_dir, "AutoModelForTokenClassification",
                           id2label=dict(enumerate(labels)), label2id={v: k for k, v in enumerate(labels)})


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, tiny_xnli_model: Path,
           tiny_tagger: Path) -> dict[str, tuple[Path, Path, Path]]:
    """Per task: (a data folder with 12 real rows, the model, a run directory made from them)."""
    out = {}
    for task, model in (("xnli", tiny_xnli_model), ("udpos", tiny_tagger)):
        base = tmp_path_factory.mktemp(task)
        (base / "data" / task).mkdir(parents=True)
        lines = (shared_data / task / "de.test.jsonl").read_text(encoding="utf-8").splitlines()[:12]
        (base / "data" / task / "de.test.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert _run(task, model, base / "data", base / "run") == 0
        out[task] = (base / "data", model, base / "run")
    return out


def _run(task: str, model: Path, data: Path, out: Path, *extra: str) -> int:
    return main(["run", "--no-progress", "--tasks", task, "--model", str(model), "--langs", "de", "--data-dir",
                 str(data), "--out", str(out), *extra])


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()
            and p.name != ".lock"}


def _check_refused(task: str, stored: dict, tmp_path: Path, write: Callable[[Path], None], line: int | None,
                   field: str | None, words: str, capsys: pytest.CaptureFixture[str], *extra: str) -> None:
    data, model, run = stored[task]
    bad_data, bad_run = tmp_path / "data", tmp_path / "run"
    shutil.copytree(data, bad_data)
    shutil.copytree(run, bad_run)
    before = _snapshot(bad_run)
    path = bad_data / task / "de.test.jsonl"
    write(path)
    capsys.readouterr()
    assert _run(task, model, bad_data, bad_run, *extra) == 2
    err = capsys.readouterr().err
    where = f"{path}:{line}: " if line else ""
    prefix = f"xrobust: error: {where}" + (f"field '{field}': " if field else "")
    assert err.startswith(prefix) and words in err and err.count("\n") == 1, err
    assert _snapshot(bad_run) == before  # earlier results left as they were


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_bad_rows_are_one_line_errors_and_keep_earlier_results(case: str, stored: dict, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    task, edit, line, field, words = ROW_CASES[case]

    def write(path: Path) -> None:
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        rows = edit(copy.deepcopy(rows))
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    _check_refused(task, stored, tmp_path, write, line, field, words, capsys)


@pytest.mark.parametrize("case", list(BYTE_CASES))
def test_bad_bytes_are_one_line_errors_with_the_line(case: str, stored: dict, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    edit, line, words = BYTE_CASES[case]

    def write(path: Path) -> None:
        path.write_bytes(b"\n".join(edit(path.read_bytes().split(b"\n"))))

    _check_refused("xnli", stored, tmp_path, write, line, "row", words, capsys)


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_limit_must_be_positive(limit: str, stored: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _check_refused("xnli", stored, tmp_path, lambda path: None, None, "--limit", "at least 1", capsys,
                   "--limit", limit)


def test_blank_lines_keep_line_numbers(shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "xnli").mkdir()
    rows = (shared_data / "xnli" / "de.test.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    bad = json.loads(rows[4]) | {"sentence1": 3}
    text = "\n".join([rows[0], "", rows[1], "  ", rows[2], rows[3], json.dumps(bad)]) + "\n"
    (tmp_path / "xnli" / "de.test.jsonl").write_text(text, encoding="utf-8")
    with pytest.raises(XRobustError) as info:
        load_examples(resolve_task("xnli"), "de", data_dir=tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'xnli' / 'de.test.jsonl'}:7: field 'fields.text_a (sentence1)'")
    good = "\n".join([rows[0], "", rows[1], "  ", rows[2]]) + "\n"
    (tmp_path / "xnli" / "de.test.jsonl").write_text(good, encoding="utf-8")
    assert len(load_examples(resolve_task("xnli"), "de", data_dir=tmp_path)) == 3


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_an_empty_data_file_is_refused_and_keeps_earlier_results(content: bytes, stored: dict, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data, model, run = stored["xnli"]
    bad_data, bad_run = tmp_path / "data", tmp_path / "run"
    shutil.copytree(data, bad_data)
    shutil.copytree(run, bad_run)
    before = _snapshot(bad_run)
    path = bad_data / "xnli" / "de.test.jsonl"
    path.write_bytes(content)
    capsys.readouterr()
    assert _run("xnli", model, bad_data, bad_run) == 2
    err = capsys.readouterr().err
    assert err == f"xrobust: error: {path}: field 'rows': the data file holds no rows\n"
    assert _snapshot(bad_run) == before
    capsys.readouterr()
    assert _run("xnli", model, tmp_path / "nope", bad_run) == 2
    assert capsys.readouterr().err == f"xrobust: error: {tmp_path / 'nope'}: field '--data-dir': not a directory\n"
