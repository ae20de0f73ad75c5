"""Attacks on extractive QA, multiple choice, bitext and candidate retrieval with tiny random models on real rows:
the gold scores, the judges agreeing with them, answer spans never edited and their offsets moved, query-only
edits, budgets, the query cap, the random baseline, determinism, the unit meta and transfer to another model.

A tiny random QA model gets almost no real answer right, so the QA examples here take the model's own clean
prediction as their gold answer (real questions and contexts, every example attacked)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.attack.judges import answer
from harness.attack.slots import SpanSlots, example_slots
from harness.attack.support import attack_support
from harness.attack.unit import attack_unit
from harness.cli.main import main
from harness.data.examples import load_examples
from harness.models.loading import ModelCache, RuntimeOptions
from harness.models.predictors import get_predictor
from harness.models.predictors.qa import NO_SPAN, Window, answer_correct, gold_span_logprob
from harness.models.predictors.retrieval import rank_margins
from harness.spec.taskspec import load_task, resolve_task
from perturbations import load_suite
from perturbations.apply import _protected
from perturbations.candidates import CandidateGenerator, edit_budget
from perturbations.policies import ANSWER_SPANS
from perturbations.stats import text_change
from perturbations.suite import AttackParams
from tests.conftest import make_tiny_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LANGS = "[de, tr, ko, sw, ar]"  # keyboard; inflection and code-switching where the sample data has tables
INFLECT, SWITCH = "[de, tr, ar]", "[de, tr, ko, ar]"
SUITE = f"""seed: 5
conditions:
  greedy:
    attack: {{search: greedy, budget: 0.2, max_candidates: 2, max_queries: 60}}
    steps:
      - inflection: {{languages: {INFLECT}}}
      - codeswitch: {{into: [en], languages: {SWITCH}}}
      - keyboard: {{languages: {LANGS}}}
  capped:
    attack: {{search: greedy, budget: 1.0, max_candidates: 3, max_queries: 9, until: budget}}
    steps:
      - keyboard: {{languages: {LANGS}}}
  rand:
    attack: {{search: random, budget: 0.2, max_candidates: 2}}
    steps:
      - inflection: {{languages: {INFLECT}}}
      - codeswitch: {{into: [en], languages: {SWITCH}}}
      - keyboard: {{languages: {LANGS}}}
"""
OPTIONS = RuntimeOptions(device="cpu", progress=False, batch_size=16)


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "adv.yaml"
    path.write_text(SUITE)
    return path


@pytest.fixture(scope="module")
def qa_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("qa"), tiny_tokenizer_dir, "AutoModelForQuestionAnswering",
                           initializer_range=1.0)


@pytest.fixture(scope="module")
def choice_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("mc"), tiny_tokenizer_dir, "AutoModelForMultipleChoice",
                           initializer_range=1.0)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("enc"), tiny_tokenizer_dir, "AutoModel", initializer_range=1.0)


def predictor(task: str | Path, model: Path):  # noqa: ANN201
    spec = load_task(task) if isinstance(task, Path) else resolve_task(task)
    return get_predictor(spec, ModelCache(str(model), OPTIONS), OPTIONS)


def own_answers(qa: object, examples: list[dict]) -> list[dict]:
    """The examples with the model's clean prediction as their only gold answer (those it answers at all)."""
    out = []
    for example, record in zip(examples, qa.predict(examples), strict=True):  # type: ignore[attr-defined]
        if record["pred"]:
            out.append({**example, "answers": {"text": [record["pred"]], "answer_start": [record["start"]]}})
    return out


@pytest.fixture(scope="module")
def qa_data(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, qa_model: Path) -> Path:
    """A data dir with real TyDiQA ko rows (train split) whose gold answers are the tiny model's predictions."""
    qa = predictor("tydiqa", qa_model)
    rows = own_answers(qa, load_examples(qa.spec, "ko", "train", data_dir=shared_data, limit=12))
    out = tmp_path_factory.mktemp("qa-data")
    (out / "tydiqa").mkdir()
    (out / "tydiqa" / "ko.train.jsonl").write_text("".join(
        json.dumps({k: r[k] for k in ("id", "title", "context", "question", "answers")}, ensure_ascii=False) + "\n"
        for r in rows), encoding="utf-8")
    return out


def lareqa_task(tmp_path: Path) -> Path:
    path = tmp_path / "lareqa_small.yaml"
    path.write_text(f"include: {resolve_task('lareqa').source_file}\nname: lareqa\nlanguages: [en, de, ar]\n")
    return path


# --- scores and judges, without a search -------------------------------------------------------------------------


def test_gold_span_logprob_takes_the_best_window_holding_the_answer() -> None:
    offsets = [(0, 0), (0, 3), (4, 9), (10, 15), (0, 0)]  # [CLS] "The" "quick" "brown" [SEP]
    mask = np.array([False, True, True, True, False])
    start = np.array([9.0, 0.0, 2.0, 0.0, 9.0])
    end = np.array([9.0, 0.0, 0.0, 2.0, 9.0])
    lse = np.log(np.exp([0.0, 2.0, 0.0]).sum())
    window = Window(start, end, offsets, mask)
    assert gold_span_logprob([window], [(4, 15)]) == pytest.approx((2.0 - lse) + (2.0 - lse))  # "quick brown"
    assert gold_span_logprob([window], [(4, 9), (4, 15)]) == pytest.approx(2 * (2.0 - lse))
    assert gold_span_logprob([window], [(4, 9)]) == pytest.approx((2.0 - lse) + (0.0 - lse))
    assert gold_span_logprob([window], [(12, 20)]) == NO_SPAN  # the window does not hold it whole
    later = Window(start, end, [(0, 0), (10, 15), (16, 20), (21, 25), (0, 0)], mask)  # the next window
    assert gold_span_logprob([window, later], [(16, 25)]) == pytest.approx(2 * (2.0 - lse))  # only in `later`
    # "brown" is in both: (start 0, end 2) in the first beats (start 0, end 0) in the second
    assert gold_span_logprob([window, later], [(10, 15)]) == pytest.approx((0.0 - lse) + (2.0 - lse))
    assert gold_span_logprob([later], [(10, 15)]) == pytest.approx(2 * (0.0 - lse))


def test_answer_correct_f1_or_exact_match() -> None:
    assert answer_correct("the Elbe river", ["Elbe river"], norm="squad", lang="en")
    assert answer_correct("Elbe", ["Elbe river"], norm="squad", lang="en")  # F1 2/3
    assert not answer_correct("Elbe", ["Elbe river"], norm="squad", lang="en", success="em")
    assert not answer_correct("the river Elbe in Dresden", ["Elbe"], norm="squad", lang="en")  # F1 1/3
    record = {"pred": "Elbe", "gold": ["Elbe river"], "norm": "squad", "language": "en"}
    assert answer(record, AttackParams()).tolist() == [True]
    assert answer(record, AttackParams(qa_success="em")).tolist() == [False]


def test_rank_margins() -> None:
    import torch

    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    targets = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    margins, hits = rank_margins(queries, targets, [[0], [1]])
    assert margins == pytest.approx([1.0 - 0.6, 0.8 - 1.0]) and hits.tolist() == [True, False]
    margins, hits = rank_margins(queries, targets, [[1, 2], []])
    assert margins == pytest.approx([0.6 - 1.0, -1.0 - 1.0]) and hits.tolist() == [False, False]


@pytest.mark.parametrize(("task", "lang", "split", "model"), [
    ("tydiqa", "sw", "train", "qa_model"), ("mlqa", "de", "validation", "qa_model"), ("xcopa", "tr", None,
                                                                                       "choice_model"),
    ("tatoeba", "tr", None, "encoder"), ("lareqa", "de", None, "encoder")])
def test_score_gold_agrees_with_the_predictions(tmp_path: Path, shared_data: Path, task: str, lang: str,
                                                split: str | None, model: str,
                                                request: pytest.FixtureRequest) -> None:
    """score_gold's correctness is the task type's judge of predict's records; its scores order as the
    prediction does (a wrong prediction has a non-positive margin, a right one a non-negative one)."""
    spec_task = lareqa_task(tmp_path) if task == "lareqa" else task
    scorer = predictor(spec_task, request.getfixturevalue(model))
    examples = load_examples(scorer.spec, lang, split, data_dir=FIXTURES if task == "lareqa" else shared_data,
                             limit=16)
    if task in ("tydiqa", "mlqa"):
        examples = examples[:4] + own_answers(scorer, examples[4:])  # some right, most real answers wrong
    params = AttackParams()
    support = attack_support(scorer, examples, params)
    scores, correct = support.score(examples)
    judged = support.correct(scorer.predict(examples))
    assert [c.tolist() for c in correct] == [j.tolist() for j in judged]
    assert any(c.all() for c in correct) and len(scores) == len(examples)
    if task in ("tydiqa", "mlqa"):
        assert all(s <= 0 for s in scores)  # log-probabilities
    else:
        for s, c in zip(scores, correct, strict=True):
            assert (s >= -1e-6) if c.all() else (s <= 1e-6)
    again, _ = support.score(list(reversed(examples)))  # batch composition does not change a score
    assert np.allclose(again[::-1], scores, atol=1e-4)


@pytest.mark.data
def test_qa_slots_skip_answer_spans_and_renders_move_offsets(shared_data: Path) -> None:
    spec = resolve_task("mlqa")
    cond = load_suite("adversarial", resources_dir=shared_data).condition("greedy")
    generator = CandidateGenerator(cond.steps, "de", max_candidates=3, seed=cond.seed)
    examples = load_examples(spec, "de", "validation", data_dir=shared_data, limit=30)
    checked = dropped = 0
    for example in examples:
        before = json.dumps(example, sort_keys=True)
        words = example_slots(generator, example, spec.perturb_fields, ANSWER_SPANS)
        assert isinstance(words, SpanSlots)
        spans = _protected(example["context"], example["answers"], example["id"], "answers")
        plain = generator.slots(example, spec.perturb_fields, False)
        inside = [s for s in plain.slots if s not in words.slots]  # the answer's words (none for "1949")
        assert all(s.piece == ("context", -1) for s in inside) and len(inside) + len(words.slots) == len(plain.slots)
        dropped += bool(inside)
        for slot, start in zip(words.slots, words.starts, strict=True):
            if slot.piece == ("context", -1):
                assert example["context"][start:start + len(slot.word)] == slot.word
                assert not any(start < e and s < start + len(slot.word) for s, e in spans)
        # every editable word edited at once (the longest replacement): answers stay intact, offsets move
        edits = {i: max((new for _, new in s.options), key=len) for i, s in enumerate(words.slots)}
        out = words.render(edits)
        assert out["context"] != example["context"] and out["answers"]["text"] == example["answers"]["text"]
        for text, old, new in zip(example["answers"]["text"], example["answers"]["answer_start"],
                                  out["answers"]["answer_start"], strict=True):
            assert out["context"][new:new + len(text)] == text
            checked += new != old
        assert json.dumps(example, sort_keys=True) == before  # the clean example is not changed
    assert checked > 10 and dropped > 10  # most answers moved, most had editable words


# --- searches ----------------------------------------------------------------------------------------------------


def test_qa_greedy_beats_random_and_never_edits_an_answer(shared_data: Path, qa_model: Path,
                                                          suite_file: Path) -> None:
    """Same candidates and budget: the greedy search lowers the gold span's score more than random edits
    (until: budget) and succeeds (until: flip); no gold span is edited, no budget exceeded."""
    qa = predictor("tydiqa", qa_model)
    examples = own_answers(qa, load_examples(qa.spec, "sw", "train", data_dir=shared_data, limit=8))
    suite = load_suite(suite_file, resources_dir=shared_data)
    greedy = suite.condition("greedy")
    conditions = {"greedy": greedy, "rand": suite.condition("rand"),
                  "greedy_budget": replace(greedy, attack=replace(greedy.attack, until="budget"))}
    support = attack_support(qa, examples, greedy.attack)
    clean, _ = support.score(examples)
    outs = {}
    for name, condition in conditions.items():
        adversarial, records, meta = attack_unit(qa, examples, "sw", condition, fields=qa.spec.perturb_fields,
                                                 desc="t")
        outs[name] = (adversarial, meta["change"], support.score(adversarial)[0])
        for example, adv, record in zip(examples, adversarial, records, strict=True):
            words = len(example["question"].split()) + len(example["context"].split())
            assert len(record["attack"]["edits"]) <= edit_budget(0.2, words)
            assert record["attack"]["answers"] == adv["answers"]
            for (s, e), (s2, e2) in zip(_protected(example["context"], example["answers"], "x", "a"),
                                        _protected(adv["context"], adv["answers"], "x", "a"), strict=True):
                assert example["context"][s:e] == adv["context"][s2:e2]  # the widened gold span is untouched
            changed = text_change(example["context"], adv["context"])[1] + \
                text_change(example["question"], adv["question"])[1]
            assert changed <= len(record["attack"]["edits"])
            assert record["attack"]["queries"] <= 60
        assert meta["change"]["n_attacked"] == len(examples)
    assert outs["greedy"][1]["success_rate"] > 0
    assert np.mean(outs["greedy_budget"][2]) < np.mean(outs["rand"][2]) < np.mean(clean)
    assert outs["rand"][1]["model_calls"] == len(examples)
    qa.options = RuntimeOptions(device="cpu", progress=False, batch_size=3)  # deterministic, whatever the batches
    again, _, _ = attack_unit(qa, examples, "sw", greedy, fields=qa.spec.perturb_fields, desc="t")
    assert again == outs["greedy"][0]


@pytest.mark.parametrize("task", ["tydiqa", "xcopa", "tatoeba", "lareqa"])
def test_attack_units_in_runs(tmp_path: Path, shared_data: Path, suite_file: Path, qa_data: Path, qa_model: Path,
                              choice_model: Path, encoder: Path, task: str) -> None:
    setups = {"tydiqa": ("tydiqa", "ko", qa_model, qa_data, ["--split", "train"]),
              "xcopa": ("xcopa", "tr", choice_model, shared_data, []),
              "tatoeba": ("tatoeba", "tr", encoder, shared_data, []),
              "lareqa": (str(lareqa_task(tmp_path)), "de", encoder, FIXTURES, [])}
    name, lang, model, data, extra = setups[task]
    out = tmp_path / "run"
    assert main(["run", "--no-progress", "--tasks", name, "--model", str(model), "--langs", lang, "--data-dir",
                 str(data), "--limit", "16", "--out", str(out), "--batch-size", "16", "--suite", str(suite_file),
                 "--resources", str(shared_data), *extra]) == 0
    results = json.loads((out / "results.json").read_text())
    pred = out / "predictions" / ("lareqa" if task == "lareqa" else task)
    split = "train" if task == "tydiqa" else "test"
    clean = read(pred / f"{lang}.{split}.clean.jsonl")
    fields = resolve_task("lareqa" if task == "lareqa" else task).perturb_fields
    units = {u["condition"]: u for u in results["units"]}
    for cond, budget in (("adv.greedy", 0.2), ("adv.rand", 0.2), ("adv.capped", 1.0)):
        adv = read(pred / f"{lang}.{split}.{cond}.jsonl")
        assert [r["id"] for r in adv] == [r["id"] for r in clean] and [r["gold"] for r in adv] == [r["gold"] for r in clean]
        for c, a in zip(clean, adv, strict=True):
            assert set(a["input"]) == set(fields)  # the query only, for retrieval
            words = sum(len(v.split()) if isinstance(v, str) else sum(len(x.split()) for x in v)
                        for v in c["input"].values())
            assert len(a["attack"]["edits"]) <= edit_budget(budget, words)
            if task == "tydiqa":
                for text, start in zip(a["gold"], a["attack"]["answers"]["answer_start"], strict=True):
                    assert a["input"]["context"][start:start + len(text)] == text
            if task == "xcopa":
                assert len(a["input"]["choices"]) == 2
            if cond == "adv.capped":
                assert a["attack"]["queries"] <= 9
        change = units[cond]["change"]
        for key in ("success_rate", "n_attacked", "mean_edited_words", "model_calls", "model_calls_per_example",
                    "frac_words_changed"):
            assert key in change
    greedy = units["adv.greedy"]["change"]
    assert greedy["n_attacked"] > 0 and 0 < greedy["model_calls_per_example"] <= 60
    assert units["adv.rand"]["change"]["model_calls"] == len(clean)
    assert units["adv.greedy"]["change"]["frac_examples_changed"] > 0
    if task in ("tydiqa", "xcopa"):
        assert greedy["success_rate"] > 0
    main_metric = results["ranked_metrics"]["lareqa" if task == "lareqa" else task]
    scores = {r["condition"]: r["value"] for r in results["scores"] if r["metric"] == main_metric}
    assert scores["adv.greedy"] <= scores["clean"] + 1e-9


@pytest.mark.parametrize("task", ["tydiqa", "tatoeba"])
def test_transfer_of_new_types(tmp_path: Path, shared_data: Path, suite_file: Path, qa_data: Path, qa_model: Path,
                               encoder: Path, tiny_tokenizer_dir: Path, task: str) -> None:
    head = {"tydiqa": "AutoModelForQuestionAnswering", "tatoeba": "AutoModel"}[task]
    model, lang, data = {"tydiqa": (qa_model, "ko", qa_data), "tatoeba": (encoder, "tr", shared_data)}[task]
    extra = ["--split", "train"] if task == "tydiqa" else []
    suite = tmp_path / "adv.yaml"
    suite.write_text(SUITE.split("  capped:")[0])
    other = make_tiny_model(tmp_path / "other", tiny_tokenizer_dir, head, seed=1, initializer_range=1.0)
    run_a, run_b = tmp_path / "A", tmp_path / "B"
    common = ["run", "--no-progress", "--tasks", task, "--langs", lang, "--data-dir", str(data), "--limit", "12",
              "--suite", str(suite), "--resources", str(shared_data), *extra]
    assert main([*common, "--model", str(model), "--out", str(run_a), "--name", "A"]) == 0
    assert main([*common, "--model", str(other), "--out", str(run_b), "--name", "B", "--adversarial-from",
                 str(run_a)]) == 0
    split = "train" if task == "tydiqa" else "test"
    a = read(run_a / f"predictions/{task}/{lang}.{split}.adv.greedy.jsonl")
    b = read(run_b / f"predictions/{task}/{lang}.{split}.adv.greedy@from-A.jsonl")
    assert [r["input"] for r in a] == [r["input"] for r in b]
    assert [r["attack"]["edits"] for r in a] == [r["attack"]["edits"] for r in b]
    if task == "tydiqa":
        assert [r["attack"]["answers"] for r in a] == [r["attack"]["answers"] for r in b]
    meta = json.loads((run_b / f"predictions/{task}/{lang}.{split}.adv.greedy@from-A.meta.json").read_text())
    assert meta["adversarial_from"]["from_submission"] == "A" and 0 <= meta["change"]["success_rate"] <= 1
    assert meta["attack_source"]["qa_success"] == "f1"
