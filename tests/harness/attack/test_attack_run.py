"""Attack conditions in runs, with tiny random models on real rows: budgets, label preservation, the query cap,
determinism, the unit meta, transfer of adversarial inputs to another model, and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from perturbations.candidates import edit_budget
from perturbations.stats import text_change, tokens_change
from tests.conftest import make_tiny_model

SUITE = """seed: 5
conditions:
  greedy:
    attack: {search: greedy, budget: 0.2, max_candidates: 2, max_queries: 80}
    steps:
      - inflection: {languages: [de, tr]}
      - codeswitch: {into: [en], languages: [de, tr]}
      - keyboard: {languages: [de, tr]}
  capped:
    attack: {search: greedy, budget: 1.0, max_candidates: 3, max_queries: 9, until: budget}
    steps:
      - keyboard: {languages: [de, tr]}
  rand:
    attack: {search: random, budget: 0.2, max_candidates: 2}
    steps:
      - inflection: {languages: [de, tr]}
      - codeswitch: {into: [en], languages: [de, tr]}
      - keyboard: {languages: [de, tr]}
"""
UPOS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ",
        "SYM", "VERB", "X"]
NLI = ["entailment", "neutral", "contradiction"]


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "adv.yaml"
    path.write_text(SUITE)
    return path


def noisy_model(out: Path, tokenizer_dir: Path, head: str, labels: list[str], seed: int = 0) -> Path:
    """A tiny random model whose predictions depend on the input (large initial weights)."""
    return make_tiny_model(out, tokenizer_dir, head, seed=seed, initializer_range=1.0, id2label=dict(enumerate(labels)),
                           label2id={v: k for k, v in enumerate(labels)})


@pytest.fixture(scope="module")
def noisy_xnli_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return noisy_model(tmp_path_factory.mktemp("noisy-xnli"), tiny_tokenizer_dir, "AutoModelForSequenceClassification",
                       NLI)


@pytest.fixture(scope="module")
def noisy_pos_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return noisy_model(tmp_path_factory.mktemp("noisy-pos"), tiny_tokenizer_dir, "AutoModelForTokenClassification",
                       UPOS)


def run(shared: Path, model: Path, out: Path, task: str, lang: str, *extra: str, limit: int = 24) -> dict:
    assert main(["run", "--no-progress", "--tasks", task, "--model", str(model), "--langs", lang, "--data-dir",
                 str(shared), "--limit", str(limit), "--out", str(out), "--batch-size", "16", *extra]) == 0
    return json.loads((out / "results.json").read_text())


def words(record: dict) -> int:
    return sum(len(v.split()) if isinstance(v, str) else len(v) for v in record["input"].values())


def changed_words(clean: dict, adv: dict) -> int:
    total = 0
    for name, value in clean["input"].items():
        change = text_change(value, adv["input"][name]) if isinstance(value, str) else \
            tokens_change(value, adv["input"][name])
        total += change[1]
    return total


@pytest.mark.parametrize(("task", "lang", "model"), [("xnli", "tr", "noisy_xnli_model"),
                                                      ("udpos", "de", "noisy_pos_model")])
def test_attack_units_respect_budgets_and_labels(tmp_path: Path, shared_data: Path, suite_file: Path, task: str,
                                                 lang: str, model: str, request: pytest.FixtureRequest) -> None:
    out = tmp_path / "run"
    results = run(shared_data, request.getfixturevalue(model), out, task, lang, "--suite", str(suite_file))
    pred = out / "predictions" / task
    split = "test"
    clean = read(pred / f"{lang}.{split}.clean.jsonl")
    scores = {r["condition"]: r["value"] for r in results["scores"] if r["metric"] == results["ranked_metrics"][task]}
    units = {u["condition"]: u for u in results["units"]}
    for cond, budget in (("adv.greedy", 0.2), ("adv.rand", 0.2), ("adv.capped", 1.0)):
        adv = read(pred / f"{lang}.{split}.{cond}.jsonl")
        assert [r["id"] for r in adv] == [r["id"] for r in clean] and [r["gold"] for r in adv] == [r["gold"] for r in clean]
        for c, a in zip(clean, adv, strict=True):
            assert len(a["attack"]["edits"]) <= edit_budget(budget, words(c))  # never over budget
            assert changed_words(c, a) <= len(a["attack"]["edits"])
            if task == "udpos":
                assert len(a["input"]["tokens"]) == len(c["input"]["tokens"])  # one token per token
            if cond == "adv.capped":
                assert a["attack"]["queries"] <= 9
        change = units[cond]["change"]
        for key in ("frac_examples_changed", "frac_words_changed", "mean_char_edit_distance", "model_calls",
                    "success_rate", "mean_edited_words", "model_calls_per_example"):
            assert key in change
        assert change["frac_examples_changed"] > 0.2
        assert scores[cond] <= scores["clean"] + 1e-9 or cond == "adv.rand"
    greedy = units["adv.greedy"]["change"]
    assert greedy["success_rate"] > 0 and 0 < greedy["model_calls_per_example"] <= 80
    assert units["adv.capped"]["change"]["model_calls"] <= 9 * 24
    assert units["adv.rand"]["change"]["model_calls"] == 24  # only the clean inputs are scored
    meta = json.loads((pred / f"{lang}.{split}.adv.greedy.meta.json").read_text())
    assert meta["attack"]["search"] == "greedy" and meta["attack"]["score_calls"] >= 2
    site = tmp_path / "site"  # the report shows the attack's success rate and the adversarial examples
    assert main(["report", str(out), "--out", str(site), "--resamples", "200"]) == 0
    page = (site / f"task-{task}.html").read_text()
    assert f"{100 * greedy['success_rate']:.1f}%" in page
    assert "adv.greedy" in (site / "examples.html").read_text()
    assert meta["condition_params"]["attack"]["max_queries"] == 80


def test_same_seed_same_adversarial_examples(tmp_path: Path, shared_data: Path, suite_file: Path,
                                             noisy_xnli_model: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    run(shared_data, noisy_xnli_model, first, "xnli", "de", "--suite", str(suite_file), limit=16)
    run(shared_data, noisy_xnli_model, second, "xnli", "de", "--suite", str(suite_file), "--batch-size", "5", limit=16)
    for cond in ("adv.greedy", "adv.capped", "adv.rand"):
        a = read(first / f"predictions/xnli/de.test.{cond}.jsonl")
        b = read(second / f"predictions/xnli/de.test.{cond}.jsonl")
        assert [r["input"] for r in a] == [r["input"] for r in b]
        assert [r["attack"] for r in a] == [r["attack"] for r in b]
    before = (first / "predictions/xnli/de.test.adv.greedy.jsonl").read_bytes()
    run(shared_data, noisy_xnli_model, first, "xnli", "de", "--suite", str(suite_file), limit=16)  # cached
    assert (first / "predictions/xnli/de.test.adv.greedy.jsonl").read_bytes() == before


def test_transfer_scores_another_model_on_stored_adversarial_inputs(
        tmp_path: Path, shared_data: Path, noisy_xnli_model: Path, tiny_tokenizer_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "adv.yaml"
    suite.write_text(SUITE.split("  capped:")[0])  # the greedy condition only
    run_a, run_b = tmp_path / "A", tmp_path / "B"
    run(shared_data, noisy_xnli_model, run_a, "xnli", "tr", "--suite", str(suite), "--name", "model A/v1", limit=16)
    other = noisy_model(tmp_path / "other", tiny_tokenizer_dir, "AutoModelForSequenceClassification", NLI, seed=1)
    results = run(shared_data, other, run_b, "xnli", "tr", "--suite", str(suite), "--adversarial-from", str(run_a),
                  "--name", "B", limit=16)
    assert "attack xnli" in capsys.readouterr().out
    assert {u["condition"] for u in results["units"]} == {"clean", "adv.greedy", "adv.greedy@from-model-A-v1"}
    a = read(run_a / "predictions/xnli/tr.test.adv.greedy.jsonl")
    b = read(run_b / "predictions/xnli/tr.test.adv.greedy@from-model-A-v1.jsonl")
    assert [r["input"] for r in a] == [r["input"] for r in b] and [r["gold"] for r in a] == [r["gold"] for r in b]
    assert [r["attack"]["edits"] for r in a] == [r["attack"]["edits"] for r in b]
    assert [r["input"] for r in a] != [r["input"] for r in read(run_b / "predictions/xnli/tr.test.adv.greedy.jsonl")]
    meta = json.loads((run_b / "predictions/xnli/tr.test.adv.greedy@from-model-A-v1.meta.json").read_text())
    assert meta["adversarial_from"]["from_submission"] == "model A/v1" and meta["change"]["model_calls"] == 0
    assert 0 <= meta["change"]["success_rate"] <= 1 and meta["change"]["frac_words_changed"] > 0
    # A on its own inputs under the same name (a rerun adds only that unit), so the report compares both
    own = run(shared_data, noisy_xnli_model, run_a, "xnli", "tr", "--suite", str(suite), "--adversarial-from",
              str(run_a), limit=16)
    replayed = read(run_a / "predictions/xnli/tr.test.adv.greedy@from-model-A-v1.jsonl")
    assert [r["pred"] for r in replayed] == [r["pred"] for r in a]
    assert {u["condition"] for u in own["units"]} == {"clean", "adv.greedy", "adv.greedy@from-model-A-v1"}
    site = tmp_path / "site"
    assert main(["report", str(run_a), str(run_b), "--out", str(site), "--resamples", "100"]) == 0
    html = "".join(p.read_text() for p in site.rglob("*.html"))
    assert "adv.greedy@from-model-A-v1" in html
    assert main(["run", "--no-progress", "--tasks", "xnli", "--model", str(other), "--langs", "de", "--data-dir",
                 str(shared_data), "--limit", "4", "--out", str(tmp_path / "C"), "--adversarial-from",
                 str(run_a)]) != 0  # A has no attack units for de: a one-line error
