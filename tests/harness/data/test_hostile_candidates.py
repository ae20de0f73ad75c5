"""Candidate-retrieval files (flat JSON lines, the LAReQA SQuAD-format JSON) with bad bytes or broken JSON:
one line ``FILE:LINE: ...`` naming the file the user has to fix, never a traceback or a byte offset."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.data.candidates import candidate_pool
from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.spec.taskspec import load_task, resolve_task

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"


def _flat(tmp_path: Path, queries: bytes, pool: bytes) -> Path:
    folder = tmp_path / "data" / "faq"
    folder.mkdir(parents=True)
    (folder / "de.test.jsonl").write_bytes(queries)
    (folder / "candidates.test.jsonl").write_bytes(pool)
    spec_file = tmp_path / "faq.yaml"
    spec_file.write_text(f"include: {ROOT / 'tasks/templates/candidate_retrieval.yaml'}\n"
                         "name: faq\nlanguages: [de]\nfields: {query: q, positives: rel, id: qid}\n")
    return spec_file


GOOD_Q = '{"qid": 7, "q": "Wie spät?", "rel": "c2"}\n'.encode()
GOOD_POOL = b'{"id": "c1", "text": "Hallo"}\n{"id": "c2", "text": "Acht Uhr"}\n'


@pytest.mark.parametrize(("which", "bad", "words"), [
    ("pool", GOOD_POOL + b'{"id": "c3", "text": "Gr\xfc\xdfe"}\n', "not UTF-8 text (byte 0xfc)"),
    ("pool", GOOD_POOL + b'{"id": "c3", "text": \n', "not valid JSON"),
    ("queries", GOOD_Q + GOOD_Q.replace(b"7", b"8")[:-4] + b"\n", "not valid JSON"),
])
def test_bad_flat_rows_name_file_and_line(tmp_path: Path, which: str, bad: bytes, words: str) -> None:
    spec = load_task(_flat(tmp_path, bad if which == "queries" else GOOD_Q, bad if which == "pool" else GOOD_POOL))
    name = "de.test.jsonl" if which == "queries" else "candidates.test.jsonl"
    with pytest.raises(XRobustError) as info:  # the pool is read when the first query asks for it
        queries = load_examples(spec, "de", data_dir=tmp_path / "data")
        candidate_pool(spec, queries[0]["pool"])
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'data' / 'faq' / name}:" + ("3" if which == "pool" else "2") + ": ")
    assert words in text and "\n" not in text and " at line" not in text


def test_a_cut_lareqa_json_names_its_line(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "lareqa", tmp_path / "lareqa")
    path = next(p for p in sorted((tmp_path / "lareqa").rglob("*.json")))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: max(1, len(lines) // 2)]) + '"cut', encoding="utf-8")
    variant = tmp_path / "lareqa_small.yaml"
    variant.write_text(f"include: {resolve_task('lareqa').source_file}\nname: lareqa\nlanguages: [en, de, ar]\n")
    with pytest.raises(XRobustError) as info:
        for lang in ("en", "de", "ar"):
            load_examples(load_task(variant), lang, data_dir=tmp_path)
    assert str(info.value).startswith(f"{path}:") and "not valid JSON" in str(info.value)
