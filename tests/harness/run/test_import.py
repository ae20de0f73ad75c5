"""``xrobust import`` of XTREME-layout prediction files, written here from the real gold rows: exact scores,
record formats, the report, and one-line rejections that keep earlier units."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.import_submission import parse_params
from harness.cli.main import main
from harness.errors import XRobustError
from harness.store.rundir import RunStore, Unit
from tests.conftest import shared_rows

XNLI_LABELS = ["entailment", "neutral", "contradiction"]
UPOS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X"]
# errors planted per file (first N rows / sentences / questions)
N_ERR = {"xnli_tr": 40, "pawsx_de": 10, "tatoeba_de": 25, "udpos_tr": 30, "mlqa_de": 12, "xcopa_et": 20}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def other(label: str, labels: list[str]) -> str:
    return labels[(labels.index(label) + 1) % len(labels)]


def xnli_lines(lang: str, errors: int = 0) -> list[str]:
    gold = [r["gold_label"] for r in shared_rows(f"xnli/{lang}.test.jsonl")]
    return [other(g, XNLI_LABELS) if i < errors else g for i, g in enumerate(gold)]


def pawsx_lines(errors: int = 0) -> list[str]:  # XTREME style: "0"/"1"
    gold = [r["label"] for r in shared_rows("pawsx/de.test.jsonl")]
    return [str(1 - int(g)) if i < errors else g for i, g in enumerate(gold)]


def tatoeba_lines(errors: int = 0) -> list[str]:
    n = len(shared_rows("tatoeba/de.test.jsonl"))
    return [str((i + 1) % n) if i < errors else str(i) for i in range(n)]


def tag_lines(rows: list[dict], column: str, *, errors: int = 0, labels: list[str] | None = None,
              with_words: bool = False) -> list[str]:
    """One tag per line, blank line between sentences; the first word of the first ``errors`` sentences
    gets a wrong tag."""
    lines: list[str] = []
    for i, row in enumerate(rows):
        for j, (word, tag) in enumerate(zip(row["tokens"], row[column], strict=True)):
            if i < errors and j == 0:
                tag = other(tag, labels or [])
            lines.append(f"{word}\t{tag}" if with_words else tag)
        lines.append("")
    return lines


def xcopa_lines(errors: int = 0) -> list[str]:
    gold = [int(r["label"]) for r in shared_rows("xcopa/et.test.jsonl")]
    return [str(1 - g) if i < errors else str(g) for i, g in enumerate(gold)]


def mlqa_answers(errors: int = 0) -> dict[str, str]:
    rows = shared_rows("mlqa/de.validation.jsonl")
    return {r["id"]: ("" if i < errors else r["answers"]["text"][0]) for i, r in enumerate(rows)}


def build_submission(root: Path) -> Path:
    write_lines(root / "xnli/test-de.tsv", xnli_lines("de"))
    write_lines(root / "xnli/test-tr.tsv", xnli_lines("tr", N_ERR["xnli_tr"]))
    write_lines(root / "pawsx/test-de.tsv", pawsx_lines(N_ERR["pawsx_de"]))
    write_lines(root / "tatoeba/test-de.tsv", tatoeba_lines(N_ERR["tatoeba_de"]))
    write_lines(root / "udpos/test-tr.tsv", tag_lines(shared_rows("udpos/tr.test.jsonl"), "pos_tags",
                                                      errors=N_ERR["udpos_tr"], labels=UPOS))
    write_lines(root / "panx/test-fi.tsv", tag_lines(shared_rows("panx/fi.validation.jsonl"), "ner_tags",
                                                     with_words=True))
    write_lines(root / "xcopa/test-et.tsv", xcopa_lines(N_ERR["xcopa_et"]))
    mlqa = root.parent / "mlqa-preds" / "mlqa"  # MLQA's sample data is its dev set: imported on its own
    mlqa.mkdir(parents=True)
    (mlqa / "test-de.json").write_text(json.dumps(mlqa_answers(N_ERR["mlqa_de"]), ensure_ascii=False),
                                       encoding="utf-8")
    return root


def run_import(pred_dir: Path, out: Path, data_dir: Path, *extra: str, name: str = "imported-sub") -> int:
    return main(["import", str(pred_dir), "--name", name, "--out", str(out), "--data-dir", str(data_dir), *extra])


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    root = tmp_path_factory.mktemp("import")
    pred_dir = build_submission(root / "preds")
    out = root / "run"
    meta = ("--model", "xlm-roberta-large", "--url", "https://example.org/p", "--param", "lr=2e-5", "--param",
            "epochs=5")
    assert run_import(pred_dir, out, shared_data, *meta) == 0
    assert run_import(root / "mlqa-preds", out, shared_data, *meta, "--split", "validation") == 0
    return out


def scores(out: Path) -> dict[tuple[str, str, str], float]:
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {(r["task"], r["language"], r["metric"]): r["value"] for r in results["scores"]}


def pct(correct: int, total: int) -> float:
    return round(100.0 * correct / total, 4)


def test_scores_are_exact(imported: Path) -> None:
    got = scores(imported)
    assert got[("xnli", "de", "accuracy")] == 100.0
    assert got[("xnli", "tr", "accuracy")] == pct(2000 - N_ERR["xnli_tr"], 2000)
    assert got[("pawsx", "de", "accuracy")] == pct(2000 - N_ERR["pawsx_de"], 2000)
    assert got[("tatoeba", "de", "accuracy")] == pct(1000 - N_ERR["tatoeba_de"], 1000)
    assert ("tatoeba", "de", "accuracy_en2xx") not in got  # a submission has no en→xx predictions
    n_tokens = sum(len(r["tokens"]) for r in shared_rows("udpos/tr.test.jsonl"))
    assert got[("udpos", "tr", "token_accuracy")] == pct(n_tokens - N_ERR["udpos_tr"], n_tokens)
    for metric in ("entity_f1", "entity_precision", "entity_recall"):
        assert got[("panx", "fi", metric)] == 100.0
    assert got[("xcopa", "et", "accuracy")] == pct(500 - N_ERR["xcopa_et"], 500)
    for metric in ("exact_match", "f1", "em_f1"):
        assert got[("mlqa", "de", metric)] == pytest.approx(100.0 * (512 - N_ERR["mlqa_de"]) / 512, abs=1e-4)


def test_units_splits_and_metadata(imported: Path) -> None:
    results = json.loads((imported / "results.json").read_text(encoding="utf-8"))
    units = {(u["task"], u["lang"]): (u["split"], u["condition"], u["n"]) for u in results["units"]}
    assert units[("panx", "fi")] == ("validation", "clean", 1000)  # test-fi → panx's eval split
    assert units[("mlqa", "de")] == ("validation", "clean", 512)
    assert units[("udpos", "tr")] == ("test", "clean", 1000)
    assert len(units) == 8
    sub = json.loads((imported / "run.json").read_text(encoding="utf-8"))["submission"]
    assert sub["name"] == "imported-sub" and sub["model"] == "xlm-roberta-large"
    assert sub["url"] == "https://example.org/p" and sub["params"] == {"lr": "2e-5", "epochs": "5"}
    assert sub["imported_from"].endswith("preds")
    assert results["submission"] == sub and results["signature"].startswith("xrobust:")
    assert results["ranked_metrics"]["mlqa"] == "em_f1" and results["ranked_metrics"]["panx"] == "entity_f1"


def test_records_match_the_predictors_formats(imported: Path, shared_data: Path) -> None:
    from harness.data.examples import load_examples
    from harness.spec.taskspec import resolve_task

    store = RunStore(imported)
    keys = {
        ("xnli", "tr", "test"): {"id", "gold", "pred", "probs"},
        ("tatoeba", "de", "test"): {"id", "gold", "pred", "pred_rev"},
        ("udpos", "tr", "test"): {"id", "gold", "pred", "lost"},
        ("mlqa", "de", "validation"): {"id", "gold", "pred", "start", "score", "windows", "language", "norm"},
        ("xcopa", "et", "test"): {"id", "gold", "pred", "probs"},
    }
    for (task, lang, split), expected in keys.items():
        records = store.read_predictions(Unit(task, lang, split))
        assert set(records[0]) == expected | {"input", "attrs"}, task
        gold = load_examples(resolve_task(task), lang, split, data_dir=shared_data)
        assert [r["id"] for r in records] == [e["id"] for e in gold]
    xnli = store.read_predictions(Unit("xnli", "tr", "test"))
    assert xnli[0]["pred"] != xnli[0]["gold"] and xnli[40]["pred"] == xnli[40]["gold"]
    pawsx = store.read_predictions(Unit("pawsx", "de", "test"))
    assert {r["pred"] for r in pawsx} == {"paraphrase", "not_paraphrase"}  # "0"/"1" → label names
    tatoeba = store.read_predictions(Unit("tatoeba", "de", "test"))
    assert tatoeba[0]["pred"] == "1" and tatoeba[0]["pred_rev"] is None
    mlqa = store.read_predictions(Unit("mlqa", "de", "validation"))
    assert mlqa[20]["norm"] == "mlqa" and mlqa[20]["language"] == "de" and mlqa[20]["start"] >= 0
    meta = store.unit_meta(Unit("tatoeba", "de", "test"))
    assert meta["metrics"] == ["accuracy"] and meta["imported_from"].endswith("test-de.tsv")


def test_report_renders_imported_run(imported: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert main(["report", str(imported), "--out", str(site)]) == 0
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "imported-sub" in index and "xlm-roberta-large" in index
    for task in ("xnli", "pawsx", "tatoeba", "udpos", "panx", "mlqa", "xcopa"):
        assert (site / f"task-{task}.html").is_file()


def test_reimport_is_idempotent(imported: Path, tmp_path: Path, shared_data: Path) -> None:
    pred_dir = tmp_path / "preds"
    write_lines(pred_dir / "xnli/test-de.tsv", xnli_lines("de"))
    out = tmp_path / "run"
    assert run_import(pred_dir, out, shared_data) == 0
    first = (out / "predictions/xnli/de.test.clean.meta.json").read_text(encoding="utf-8")
    assert run_import(pred_dir, out, shared_data) == 0
    assert (out / "predictions/xnli/de.test.clean.meta.json").read_text(encoding="utf-8") == first
    assert scores(out) == {("xnli", "de", "accuracy"): 100.0}


def _bad_count(d: Path) -> tuple[Path, str]:
    return write_lines(d / "xnli/test-de.tsv", xnli_lines("de")[:-1]), "1999 labels but the gold xnli/de test"


def _bad_label(d: Path) -> tuple[Path, str]:
    lines = xnli_lines("de")
    lines[6] = "maybe"
    return write_lines(d / "xnli/test-de.tsv", lines), "line 7: label 'maybe' is not one of entailment"


def _bad_task(d: Path) -> tuple[Path, str]:
    path = write_lines(d / "bucc2018/test-de.tsv", ["0\t1"])
    return path.parent, "unknown task folder 'bucc2018' (known tasks: "


def _bad_tokens(d: Path) -> tuple[Path, str]:
    lines = tag_lines(shared_rows("udpos/tr.test.jsonl"), "pos_tags")
    blanks = [i for i, line in enumerate(lines) if not line]
    del lines[blanks[2] - 1]  # drop the last tag of sentence 3
    return write_lines(d / "udpos/test-tr.tsv", lines), "sentence 3 (line "


@pytest.mark.parametrize("make_bad", [_bad_count, _bad_label, _bad_task, _bad_tokens],
                         ids=["count", "label", "task", "tokens"])
def test_rejections_are_one_line_and_keep_earlier_units(make_bad, tmp_path: Path, shared_data: Path,  # noqa: ANN001
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    first = tmp_path / "first"
    write_lines(first / "tatoeba/test-de.tsv", tatoeba_lines())
    assert run_import(first, out, shared_data) == 0
    bad_dir = tmp_path / "bad"
    write_lines(bad_dir / "pawsx/test-de.tsv", pawsx_lines())  # sorts before the bad file, so it is imported
    bad_path, message = make_bad(bad_dir)
    capsys.readouterr()
    assert run_import(bad_dir, out, shared_data) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("xrobust: error: ")
    assert str(bad_path) in err and message in err
    got = scores(out)
    assert got[("tatoeba", "de", "accuracy")] == 100.0
    if make_bad is not _bad_task:  # the unknown folder sorts first: nothing of this call was imported
        assert got[("pawsx", "de", "accuracy")] == 100.0
    bad_units = [p for p in (out / "predictions").glob("*/*") if p.parent.name in ("xnli", "udpos")]
    assert bad_units == []


def merged_first_sentences() -> list[str]:
    """PAN-X fi predictions with the blank line between sentences 1 and 2 missing."""
    lines = tag_lines(shared_rows("panx/fi.validation.jsonl"), "ner_tags")
    del lines[lines.index("")]
    return lines


def test_other_rejections(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    cases = {
        "tatoeba/test-de.tsv": (["1000"] + tatoeba_lines()[1:], "line 1: '1000' is not a target index (0..999)"),
        "xcopa/test-et.tsv": (["2"] + xcopa_lines()[1:], "line 1: '2' is not a choice index (0..1)"),
        "xnli/test-xx.tsv": (xnli_lines("de"), "'xx' is not a language of task xnli"),
        "xnli/test-de.json": (xnli_lines("de"), "xnli predictions must be a .tsv file"),
        "mlqa/test-de.json": ([json.dumps({"nope": "x"})], "no answer for 512 of the 512 gold mlqa/de"),
        "panx/test-fi.tsv": (merged_first_sentences(), "sentence 1 (line 1): 10 tags but the gold sentence '8'"),
        "lareqa/test-de.tsv": (["0"], "importing candidate_retrieval predictions is not supported"),
    }
    for rel, (lines, message) in cases.items():
        pred_dir = tmp_path / rel.replace("/", "_")
        path = write_lines(pred_dir / rel, lines)
        capsys.readouterr()
        split = ["--split", "validation"] if rel.startswith("mlqa") else []  # MLQA samples: the dev set
        assert run_import(pred_dir, out, shared_data, *split) == 2, rel
        err = capsys.readouterr().err
        where = path.parent if rel.startswith("lareqa") else path  # a folder-level error names the folder
        assert f"error: {where}: " in err and message in err, err
    answers = mlqa_answers()
    answers["extra-id"] = "x"
    pred_dir = tmp_path / "extra"
    write_lines(pred_dir / "mlqa/test-de.json", [json.dumps(answers)])
    assert run_import(pred_dir, out, shared_data, "--split", "validation") == 2
    assert "1 question ids are not in the gold mlqa/de validation data (first: 'extra-id')" in capsys.readouterr().err
    assert not (out / "predictions").exists() or not list((out / "predictions").glob("*/*.meta.json"))


def test_run_dir_of_another_submission_is_refused(tmp_path: Path, shared_data: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pred_dir = tmp_path / "preds"
    write_lines(pred_dir / "xnli/test-de.tsv", xnli_lines("de"))
    out = tmp_path / "run"
    assert run_import(pred_dir, out, shared_data) == 0
    assert run_import(pred_dir, out, shared_data, name="someone-else") == 2
    assert "run directory holds the import 'imported-sub'" in capsys.readouterr().err
    with pytest.raises(XRobustError, match="expected KEY=VALUE"):
        parse_params(["novalue"])
