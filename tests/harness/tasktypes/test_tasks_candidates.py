"""Retrieval from a candidate pool (LAReQA, Mewsli-X) on small fixtures in the releases' own file formats
(tests/fixtures, text written for these tests): pool building, relevance lists, records, mAP@20; the
offline e5 checked against an independent plain-transformers computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.cli.main import main
from harness.data.candidates import candidate_pool
from harness.data.examples import load_examples
from harness.metrics.ranking import average_precision
from harness.spec.taskspec import load_task, resolve_task

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def variant(tmp_path: Path, task: str, langs: str, extra: str = "") -> Path:
    path = tmp_path / f"{task}_small.yaml"
    path.write_text(f"include: {resolve_task(task).source_file}\nname: {task}\nlanguages: [{langs}]\n{extra}")
    return path


def test_lareqa_pool_and_relevance(tmp_path: Path) -> None:
    spec = load_task(variant(tmp_path, "lareqa", "en, de, ar"))
    queries = load_examples(spec, "ar", data_dir=FIXTURES)
    assert [q["id"] for q in queries] == ["elbe-q1", "elbe-q2"]
    assert queries[0]["query"] == "أين ينبع نهر الإلبه؟" and queries[0]["context"] == ""
    # the answer of q1 is in sentence 0 of each language's paragraph, that of q2 in sentence 2
    assert queries[0]["positives"] == ["en:0:0:0", "de:0:0:0", "ar:0:0:0"]
    assert queries[1]["positives"] == ["en:0:0:2", "de:0:0:2", "ar:0:0:2"]
    pool = candidate_pool(spec, queries[0]["pool"])
    assert len(pool) == 9 and pool[4] == {"id": "de:0:0:1",
                                          "text": "Sie fließt nach Nordwesten durch Dresden und Hamburg."}


def test_mewslix_mentions_and_entities(tmp_path: Path) -> None:
    spec = load_task(variant(tmp_path, "mewslix", "en, de"))
    queries = load_examples(spec, "de", data_dir=FIXTURES)
    assert [(q["id"], q["query"], q["positives"]) for q in queries] == [
        ("m-de-1", "Dresden", ["Q1731"]), ("m-de-2", "Elbe", ["Q1644"])]
    assert queries[1]["context"] == "Sie überspannt die Elbe nahe der Altstadt."  # the mention's sentence
    assert [c["id"] for c in candidate_pool(spec, queries[0]["pool"])] == ["Q1055", "Q1644", "Q1731", "Q64", "Q90"]


def test_flat_jsonl_layout(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "faq"
    folder.mkdir(parents=True)
    (folder / "de.test.jsonl").write_text('{"qid": 7, "q": "Wie spät?", "rel": "c2"}\n', encoding="utf-8")
    (folder / "candidates.test.jsonl").write_text('{"id": "c1", "text": "Hallo"}\n{"id": "c2", "text": "Acht Uhr"}\n')
    spec_file = tmp_path / "faq.yaml"
    spec_file.write_text(f"include: {FIXTURES.parent.parent / 'tasks/templates/candidate_retrieval.yaml'}\n"
                         "name: faq\nlanguages: [de]\nfields: {query: q, positives: rel, id: qid}\n")
    queries = load_examples(load_task(spec_file), "de", data_dir=tmp_path / "data")
    assert [(q["id"], q["query"], q["positives"]) for q in queries] == [("7", "Wie spät?", ["c2"])]


def records_of(out: Path, task: str, lang: str) -> list[dict]:
    lines = (out / f"predictions/{task}/{lang}.test.clean.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines]


def test_runner_records_and_results_with_a_tiny_encoder(tmp_path: Path, tiny_encoder: Path) -> None:
    tasks = f"{variant(tmp_path, 'lareqa', 'en, de, ar')},{variant(tmp_path, 'mewslix', 'en, de')}"
    out = tmp_path / "run"
    assert main(["run", "--no-progress", "--tasks", tasks, "--model", str(tiny_encoder), "--data-dir",
                 str(FIXTURES), "--out", str(out), "--batch-size", "4"]) == 0
    results = json.loads((out / "results.json").read_text())
    scores = {(r["task"], r["language"]): r["value"] for r in results["scores"] if r["metric"] == "map_at_20"}
    assert set(scores) == {("lareqa", "en"), ("lareqa", "de"), ("lareqa", "ar"), ("mewslix", "en"),
                           ("mewslix", "de")}
    for task, lang, pool_size in (("lareqa", "de", 9), ("mewslix", "en", 5)):
        records = records_of(out, task, lang)
        assert all(len(r["ranked"]) == pool_size == len(set(r["ranked"])) for r in records)
        assert all(r["pred"] == r["ranked"][0] for r in records)
        expected = 100 * np.mean([average_precision(r["ranked"], r["gold"]) for r in records])
        assert scores[(task, lang)] == pytest.approx(expected, abs=1e-3)


@pytest.mark.slow
def test_offline_e5_matches_an_independent_computation(tmp_path: Path, offline_e5: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    out = tmp_path / "run"
    e5_prefixes = 'retrieval: {prefix: "query: ", target_prefix: "passage: "}\n'
    tasks = f"{variant(tmp_path, 'lareqa_e5', 'en, de, ar')},{variant(tmp_path, 'mewslix', 'en, de', e5_prefixes)}"
    assert main(["run", "--no-progress", "--tasks", tasks, "--model", str(offline_e5), "--data-dir",
                 str(FIXTURES), "--out", str(out)]) == 0
    tok = AutoTokenizer.from_pretrained(offline_e5)
    model = AutoModel.from_pretrained(offline_e5).eval()

    def encode(texts: list[str]) -> np.ndarray:  # fixed order, one padded batch, mean pooling
        batch = tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        vectors = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    pool = [(f"{lang}:0:0:{i}", s) for lang in ("en", "de", "ar")
            for i, s in enumerate(json.loads((FIXTURES / f"lareqa/xquad-r/{lang}.json").read_text())
                                  ["data"][0]["paragraphs"][0]["sentences"])]
    pool_vectors = encode(["passage: " + text for _, text in pool])
    for record in records_of(out, "lareqa_e5", "de"):
        question = {"elbe-q1": "Wo entspringt die Elbe?", "elbe-q2": "Wo erreicht die Elbe das Meer?"}[record["id"]]
        sims = pool_vectors @ encode(["query: " + question])[0]
        assert record["ranked"] == [pool[i][0] for i in np.argsort(-sims, kind="stable")]
    # Mewsli-X: every fixture mention finds its entity first (a real encoder, easy pool)
    results = json.loads((out / "results.json").read_text())
    assert {r["value"] for r in results["scores"] if r["task"] == "mewslix"} == {100.0}


def test_suite_perturbs_queries_not_the_pool(tmp_path: Path, tiny_encoder: Path) -> None:
    out = tmp_path / "run"
    suite = tmp_path / "keys.yaml"
    suite.write_text("seed: 1\nconditions:\n  all_words:\n    steps:\n      - keyboard: {rate: 1.0, languages: [de]}\n")
    assert main(["run", "--no-progress", "--tasks", str(variant(tmp_path, "lareqa", "de")), "--model",
                 str(tiny_encoder), "--data-dir", str(FIXTURES), "--out", str(out), "--suite", str(suite),
                 "--batch-size", "4"]) == 0
    clean = records_of(out, "lareqa", "de")
    lines = (out / "predictions/lareqa/de.test.keys.all_words.jsonl").read_text(encoding="utf-8")
    noisy = [json.loads(x) for x in lines.splitlines()]
    assert [r["gold"] for r in clean] == [r["gold"] for r in noisy]
    assert sorted(clean[0]["ranked"]) == sorted(noisy[0]["ranked"])  # same candidate pool
    assert all(set(r["input"]) == {"query"} for r in noisy)
    assert all(c["input"]["query"] != n["input"]["query"] for c, n in zip(clean, noisy, strict=True))
