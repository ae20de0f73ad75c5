"""Extractive QA: span decoding across stride windows, a pointer model whose answer we control, and the
real MLQA / TyDiQA rows through the CLI with a tiny random QA model."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from harness.cli.main import main
from harness.data.examples import load_examples
from harness.models.loading import LoadedModel, RuntimeOptions
from harness.models.predictors.qa import SpanExtractor, Window, best_span, encode_windows
from harness.spec.taskspec import load_task, resolve_task
from tests.conftest import make_tiny_model


def window(offsets: list[tuple[int, int]], start: dict[int, float], end: dict[int, float],
           context: range) -> Window:
    n = len(offsets)
    s, e = np.zeros(n), np.zeros(n)
    for i, v in start.items():
        s[i] = v
    for i, v in end.items():
        e[i] = v
    return Window(s, e, offsets, np.array([i in context for i in range(n)]))


def test_span_straddling_the_window_boundary_is_taken_from_the_window_holding_it_whole() -> None:
    # context "aa bb cc dd ee": tokens at chars (0,2) (3,5) (6,8) (9,11) (12,14); gold span = "cc dd"
    # window 0 = [CLS] q [SEP] aa bb cc [SEP]; window 1 = [CLS] q [SEP] bb cc dd ee [SEP] (stride 2)
    w0 = window([(0, 0), (0, 1), (0, 0), (0, 2), (3, 5), (6, 8), (0, 0)], {5: 5.0}, {5: 1.0}, range(3, 6))
    w1 = window([(0, 0), (0, 1), (0, 0), (3, 5), (6, 8), (9, 11), (12, 14), (0, 0)], {4: 5.0}, {5: 4.0},
                range(3, 7))
    # window 0 only sees the start ("cc" alone: 5 + 1 = 6); window 1 holds "cc dd" whole: 5 + 4 = 9
    span = best_span([w0, w1], n_best=3, max_answer_length=5)
    assert (span.start, span.end, span.window) == (6, 11, 1)
    assert "aa bb cc dd ee"[span.start:span.end] == "cc dd"


def test_span_rules_question_tokens_length_and_order() -> None:
    offsets = [(0, 0), (0, 5), (0, 0), (0, 4), (5, 8), (9, 12), (0, 0)]  # context "abcd efg hij"
    # highest logits sit on the question token (1) and on special tokens: never chosen
    w = window(offsets, {1: 50.0, 0: 40.0, 3: 2.0, 5: 3.0}, {1: 50.0, 6: 40.0, 4: 2.0, 3: 1.5}, range(3, 6))
    # valid pairs: (3,3) 3.5, (3,4) 4.0, (3,5) 2.0, (4,4) 2.0, (4,5) 0.0, (5,5) 3.0; (5,4) has end < start
    span = best_span([w], n_best=20, max_answer_length=30)
    assert (span.start, span.end) == (0, 8)
    assert (best_span([w], max_answer_length=1).start, best_span([w], max_answer_length=1).end) == (0, 4)
    # answer at both context boundaries: first char and last char of the context
    edge = window(offsets, {3: 9.0}, {5: 9.0}, range(3, 6))
    assert (best_span([edge]).start, best_span([edge]).end) == (0, 12)
    assert best_span([window(offsets, {}, {}, range(0))]) is None


class Pointer(torch.nn.Module):
    """Start logit 10 on ``start_id``, end logit 10 on ``end_id``, 0 elsewhere (any window, any batch)."""

    def __init__(self, start_id: int, end_id: int) -> None:
        super().__init__()
        self.start_id, self.end_id = start_id, end_id

    def forward(self, input_ids: torch.Tensor, **_: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(start_logits=(input_ids == self.start_id).float() * 10,
                               end_logits=(input_ids == self.end_id).float() * 10)


class FakeModels:
    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded, self.model_ref = loaded, "pointer"

    def get(self, task_type: str) -> LoadedModel:
        return self.loaded


def test_answer_across_a_stride_boundary_with_a_controlled_model(tmp_path: Path, tiny_tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    spec_file = tmp_path / "qa.yaml"
    spec_file.write_text(f"include: {resolve_task('xquad').source_file}\nname: xquad\n"
                         "qa: {max_length: 48, stride: 16, max_query_length: 8}\n")
    spec = load_task(spec_file)
    question, filler, answer = "Wo?", "Das ist gut und schön . ", "Kilimanjaro Tansania"

    def token_ids_at(context: str, begin: int, end: int) -> tuple[int, int]:
        enc = tok(context, add_special_tokens=False, return_offsets_mapping=True)
        ids, offs = enc["input_ids"], enc["offset_mapping"]
        first = next(i for i, (a, b) in enumerate(offs) if a <= begin < b)
        last = next(i for i, (a, b) in enumerate(offs) if a < end <= b)
        assert ids.count(ids[first]) == 1 and ids.count(ids[last]) == 1 and first != last
        return ids[first], ids[last]

    for k in range(1, 40):  # place the answer so that window 0 holds its start but not its end
        context = filler * k + answer + " . " + filler * 6
        begin = context.index(answer)
        start_id, end_id = token_ids_at(context, begin, begin + len(answer))
        inputs, owners, offsets, masks = encode_windows(tok, [question], [context], max_length=48, stride=16)
        first = [t for t, m in zip(inputs["input_ids"][0], masks[0], strict=True) if m]
        if start_id in first and end_id not in first:
            break
    else:
        pytest.fail("no placement straddles the first window boundary")
    loaded = LoadedModel(Pointer(start_id, end_id), tok, "cpu", "AutoModelForQuestionAnswering")
    predictor = SpanExtractor(spec, FakeModels(loaded), RuntimeOptions(progress=False, batch_size=3))
    example = {"id": "q", "question": question, "context": context, "language": "de",
               "answers": {"text": [answer], "answer_start": [context.index(answer)]}}
    tail = {**example, "id": "tail", "context": filler * 3 + answer}  # answer = the last chars of the context
    assert token_ids_at(tail["context"], len(filler) * 3, len(tail["context"])) == (start_id, end_id)
    record, tail_record = predictor.predict([example, tail])
    assert len(owners) >= 2 and record["windows"] == len(owners)
    assert record["pred"] == answer and record["start"] == context.index(answer)
    assert tail_record["pred"] == answer and tail_record["start"] + len(answer) == len(tail["context"])


@pytest.fixture(scope="module")
def qa_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-qa"), tiny_tokenizer_dir, "AutoModelForQuestionAnswering")


@pytest.mark.parametrize(("task", "langs", "split"), [("mlqa", "de,ar", "validation"), ("tydiqa", "ko,sw", "train")])
def test_real_rows_through_cli(tmp_path: Path, shared_data: Path, qa_model: Path, task: str, langs: str,
                               split: str | None) -> None:
    args = ["run", "--no-progress", "--tasks", task, "--model", str(qa_model), "--langs", langs, "--data-dir",
            str(shared_data), "--limit", "12", "--out", str(tmp_path), "--batch-size", "5"]
    assert main(args + (["--split", split] if split else [])) == 0
    spec = resolve_task(task)
    split = split or spec.eval_split
    results = json.loads((tmp_path / "results.json").read_text())
    for lang in langs.split(","):
        examples = load_examples(spec, lang, split, data_dir=shared_data, limit=12)
        lines = (tmp_path / f"predictions/{task}/{lang}.{split}.clean.jsonl").read_text(encoding="utf-8")
        records = [json.loads(x) for x in lines.splitlines()]
        assert [r["id"] for r in records] == [e["id"] for e in examples]
        for record, example in zip(records, examples, strict=True):
            assert record["gold"] == example["answers"]["text"] and record["language"] == lang
            assert record["norm"] == spec.qa.normalization
            assert example["context"][record["start"]:record["start"] + len(record["pred"])] == record["pred"]
        scores = {r["metric"] for r in results["scores"] if r["language"] == lang and r["split"] == split}
        assert scores == {"em_f1", "exact_match", "f1"}
    # long MLQA contexts need more than one window at max_length 384
    if task == "mlqa":
        assert max(r["windows"] for r in records) > 1


def test_answers_layouts_are_normalized(shared_data: Path) -> None:
    import datasets

    from harness.data.examples import canonicalize

    spec = resolve_task("xquad")
    squad_list = datasets.Dataset.from_list([{"id": "a", "context": "c d", "question": "q",
                                              "answers": [{"text": "d", "answer_start": 2}]}])
    assert canonicalize(squad_list, spec, "hub", "memory")[0]["answers"] == {"text": ["d"], "answer_start": [2]}
    ko = load_examples(resolve_task("tydiqa"), "ko", "train", data_dir=shared_data, limit=1)[0]
    assert ko["answers"] == {"text": ["예정"], "answer_start": [59]} and ko["language"] == "ko"
    assert ko["context"][59:61] == "예정"
