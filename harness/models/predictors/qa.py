"""Extractive QA (XQuAD, MLQA, TyDiQA-GoldP): AutoModelForQuestionAnswering over sliding windows.

Questions longer than ``qa.max_query_length`` tokens are cut. Each (question, context) pair is split into
windows of ``qa.max_length`` tokens whose contexts overlap by ``qa.stride`` tokens (the fast tokenizer's
``return_overflowing_tokens``); offsets map tokens back to characters of the original context. In every
window the ``n_best`` highest start and end logits over context tokens are paired (start ≤ end, at most
``max_answer_length`` tokens) and scored start + end; the best span over all windows is the answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from harness.errors import XRobustError
from harness.models.engine import Encoded
from harness.models.predictors import Predictor


@dataclass
class Window:
    """One window's logits (already cut to its length), character offsets and context-token mask."""

    start: np.ndarray
    end: np.ndarray
    offsets: Sequence[tuple[int, int]]
    in_context: np.ndarray


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the context, end exclusive
    end: int
    score: float
    window: int


def best_span(windows: Sequence[Window], *, n_best: int = 20, max_answer_length: int = 30) -> Span | None:
    """The highest-scoring valid span over all windows (the first one found wins ties)."""
    best: Span | None = None
    for w_index, window in enumerate(windows):
        mask = np.asarray(window.in_context, dtype=bool)
        if not mask.any():
            continue
        start = np.where(mask, window.start, -np.inf)
        end = np.where(mask, window.end, -np.inf)
        starts = [int(i) for i in np.argsort(-start, kind="stable")[:n_best] if mask[i]]
        ends = [int(i) for i in np.argsort(-end, kind="stable")[:n_best] if mask[i]]
        for s in starts:
            for e in ends:
                if e < s or e - s + 1 > max_answer_length:
                    continue
                score = float(window.start[s] + window.end[e])
                if best is None or score > best.score:
                    best = Span(int(window.offsets[s][0]), int(window.offsets[e][1]), score, w_index)
    return best


def answer_text(context: str, span: Span | None) -> tuple[int, str]:
    """(start char, text) of a span, surrounding whitespace removed (some tokenizers' offsets include the
    space before a word); (-1, "") without a span."""
    if span is None:
        return -1, ""
    raw = context[span.start:span.end]
    stripped = raw.lstrip()
    return span.start + len(raw) - len(stripped), stripped.rstrip()


def clip_questions(tok: object, questions: list[str], max_tokens: int) -> list[str]:
    """Questions (leading whitespace removed) cut to at most ``max_tokens`` tokens."""
    questions = [q.lstrip() for q in questions]
    enc = tok(questions, add_special_tokens=False, return_offsets_mapping=True)  # type: ignore[operator]
    out = []
    for question, offsets in zip(questions, enc["offset_mapping"], strict=True):
        out.append(question[:offsets[max_tokens - 1][1]] if len(offsets) > max_tokens else question)
    return out


def encode_windows(tok: object, questions: list[str], contexts: list[str], *, max_length: int,
                   stride: int) -> tuple[dict, list[int], list[list[tuple[int, int]]], list[np.ndarray]]:
    """(model inputs, example index per window, offsets per window, context-token mask per window)."""
    enc = tok(questions, contexts, truncation="only_second", max_length=max_length,  # type: ignore[operator]
              stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True)
    owners = [int(i) for i in enc["overflow_to_sample_mapping"]]
    masks = [np.array([sid == 1 for sid in enc.sequence_ids(i)], dtype=bool) for i in range(len(owners))]
    inputs = {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc}
    return inputs, owners, [list(map(tuple, o)) for o in enc["offset_mapping"]], masks


class SpanExtractor(Predictor):
    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        tok = loaded.tokenizer
        if not getattr(tok, "is_fast", False):
            raise XRobustError(f"QA needs a fast tokenizer (offsets); {self.models.model_ref} has a slow one",
                               field="--model")
        opts = self.spec.qa

        def encode(chunk: Sequence[dict]) -> Encoded:
            questions = clip_questions(tok, [e["question"] for e in chunk], opts.max_query_length)
            inputs, owners, offsets, masks = encode_windows(tok, questions, [e["context"] for e in chunk],
                                                            max_length=opts.max_length, stride=opts.stride)
            return Encoded(inputs, extras=list(zip(offsets, masks, strict=True)), owners=owners)

        def forward(inputs: dict) -> torch.Tensor:
            out = loaded.model(**inputs)
            return torch.stack([out.start_logits, out.end_logits], dim=-1).float()

        with self.progress(len(examples), desc) as bar:
            rows = self.engine(loaded).run(examples, encode, forward, kind="tokens", progress=bar)
        windows: dict[int, list[Window]] = defaultdict(list)
        for row in rows:
            offsets, mask = row.extra
            logits = row.output.numpy()
            windows[row.owner].append(Window(logits[:, 0], logits[:, 1], offsets, mask))
        records = []
        for i, example in enumerate(examples):
            span = best_span(windows[i], n_best=opts.n_best, max_answer_length=opts.max_answer_length)
            begin, text = answer_text(example["context"], span)
            records.append({"id": example["id"], "gold": list(example["answers"]["text"]), "pred": text,
                            "start": begin,
                            "score": round(span.score, 4) if span else None, "windows": len(windows[i]),
                            "language": example.get("language", "en"), "norm": opts.normalization})
        return records
