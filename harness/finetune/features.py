"""Training features per task type (what the head's loss reads; each task type's ``training.features`` names
its builder here) and a padding collator.

* pair classification: ``tok(text_a, text_b)`` + ``labels`` = index of the label name;
* token classification: words pre-split, the FIRST subword of each word carries its tag, every other
  position ``-100`` (the token predictor reads the first subword too);
* QA: SQuAD-style windows (``max_length``/``stride``, question clipped to ``max_query_length`` tokens);
  ``start_positions``/``end_positions`` are the answer's token span, or the CLS position for windows that do
  not contain the whole answer;
* multiple choice: one ``(first, second)`` pair per choice from the task's ``choice`` templates (premise,
  connective chosen by ``question``, choice) and ``labels`` = index of the correct choice.

Word alignment, QA windows and choice pairs come from the predictors' own helpers, so what a head is
trained on is exactly what ``xrobust run`` feeds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from harness import tasktypes
from harness.errors import XRobustError
from harness.finetune.params import HyperParams
from harness.spec.taskspec import TaskSpec

MODEL_KEYS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass
class Features:
    """Model inputs of one stage plus counts for the card."""

    rows: list[dict[str, Any]]
    stats: dict[str, int] = field(default_factory=dict)


def build_features(spec: TaskSpec, examples: list[dict], tok: Any, params: HyperParams) -> Features:
    """Tokenized training rows of ``examples`` for ``spec``'s head."""
    if not getattr(tok, "is_fast", False):
        raise XRobustError("fine-tuning needs a fast tokenizer (word ids, offsets)", field="--model")
    return tasktypes.resolve(tasktypes.get(spec.type).training.features)(spec, examples, tok, params)


def _rows(encodings: Any, n: int) -> list[dict[str, Any]]:
    return [{k: encodings[k][i] for k in MODEL_KEYS if k in encodings} for i in range(n)]


def pair_features(spec: TaskSpec, examples: list[dict], tok: Any, params: HyperParams) -> Features:
    label2id = {name: i for i, name in enumerate(spec.labels)}
    enc = tok([e["text_a"] for e in examples], [e["text_b"] for e in examples], truncation=True,
              max_length=params.max_length)
    rows = _rows(enc, len(examples))
    for row, example in zip(rows, examples, strict=True):
        row["labels"] = label2id[example["label"]]
    return Features(rows)


def token_features(spec: TaskSpec, examples: list[dict], tok: Any, params: HyperParams) -> Features:
    from harness.models.predictors.token import first_subword_positions

    label2id = {name: i for i, name in enumerate(spec.labels)}
    words = [[str(w) for w in e["tokens"]] for e in examples]
    enc = tok(words, is_split_into_words=True, truncation=True, max_length=params.max_length)
    rows = _rows(enc, len(examples))
    labelled = total = 0
    for i, (row, example) in enumerate(zip(rows, examples, strict=True)):
        labels = [-100] * len(row["input_ids"])
        for word, position in enumerate(first_subword_positions(enc.word_ids(i), len(words[i]))):
            if position >= 0:
                labels[position] = label2id[example["tags"][word]]
                labelled += 1
        row["labels"] = labels
        total += len(words[i])
    return Features(rows, {"words": total, "words_labelled": labelled})


def answer_span(example: dict) -> tuple[int, int] | None:
    """Character span of the first usable gold answer (located by text if its offset is missing/wrong)."""
    context = example["context"]
    answers = example["answers"]
    for text, start in zip(answers["text"], answers["answer_start"], strict=True):
        if not text:
            continue
        if start < 0 or context[start:start + len(text)] != text:
            start = context.find(text)
        if start >= 0:
            return start, start + len(text)
    return None


def qa_features(spec: TaskSpec, examples: list[dict], tok: Any, params: HyperParams) -> Features:
    from harness.models.predictors.qa import clip_questions, encode_windows

    questions = clip_questions(tok, [e["question"] for e in examples], params.max_query_length)
    inputs, owners, offsets, masks = encode_windows(tok, questions, [e["context"] for e in examples],
                                                    max_length=params.max_length, stride=params.stride)
    rows = _rows(inputs, len(owners))
    spans = [answer_span(e) for e in examples]
    with_answer = 0
    for row, owner, window, mask in zip(rows, owners, offsets, masks, strict=True):
        span = spans[owner]
        ids = row["input_ids"]
        start = end = ids.index(tok.cls_token_id) if tok.cls_token_id in ids else 0
        context = [p for p in range(len(mask)) if mask[p]]
        if span is not None and context and window[context[0]][0] <= span[0] and window[context[-1]][1] >= span[1]:
            start = next(p for p in context if window[p][1] > span[0])
            end = next(p for p in reversed(context) if window[p][0] < span[1])
            with_answer += 1
        row["start_positions"], row["end_positions"] = start, end
    return Features(rows, {"windows": len(rows), "windows_with_answer": with_answer,
                           "windows_to_cls": len(rows) - with_answer,
                           "examples_without_usable_answer": sum(s is None for s in spans)})


def choice_features(spec: TaskSpec, examples: list[dict], tok: Any, params: HyperParams) -> Features:
    from harness.models.predictors.choice import choice_pairs

    pairs = [choice_pairs(spec, e) for e in examples]
    sizes = {len(p) for p in pairs}
    if len(sizes) > 1:
        raise XRobustError(f"examples have different numbers of choices ({sorted(sizes)})",
                           file=spec.source_file, field="fields.choices")
    flat = [pair for p in pairs for pair in p]
    enc = tok([a for a, _ in flat], [b for _, b in flat], truncation=True, max_length=params.max_length)
    singles = _rows(enc, len(flat))
    rows, pos = [], 0
    for example, group_pairs in zip(examples, pairs, strict=True):
        group = singles[pos:pos + len(group_pairs)]
        pos += len(group_pairs)
        row: dict[str, Any] = {k: [g[k] for g in group] for k in group[0]}
        row["labels"] = int(example["label"])
        rows.append(row)
    return Features(rows)


class PadCollator:
    """Pads ``input_ids`` with the tokenizer's pad id, ``labels`` lists with -100, other lists with 0;
    nested lists (multiple choice) become ``[batch, choices, length]``."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = {}
        for key in features[0]:
            values = [f[key] for f in features]
            if not isinstance(values[0], list):
                batch[key] = torch.tensor(values)
                continue
            fill = self.pad_id if key == "input_ids" else -100 if key == "labels" else 0
            nested = isinstance(values[0][0], list)
            rows = [r for v in values for r in v] if nested else values
            array = np.full((len(rows), max(len(r) for r in rows)), fill, dtype=np.int64)
            for i, r in enumerate(rows):
                array[i, :len(r)] = r
            tensor = torch.from_numpy(array)
            batch[key] = tensor.view(len(values), -1, tensor.shape[-1]) if nested else tensor
        return batch
