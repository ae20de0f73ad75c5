"""Extractive QA (XQuAD, MLQA, TyDiQA-GoldP): AutoModelForQuestionAnswering over sliding windows.

Questions longer than ``qa.max_query_length`` tokens are cut. Each (question, context) pair is split into
windows of ``qa.max_length`` tokens whose contexts overlap by ``qa.stride`` tokens (the fast tokenizer's
``return_overflowing_tokens``); offsets map tokens back to characters of the original context. In every
window the ``n_best`` highest start and end logits over context tokens are paired (start ≤ end, at most
``max_answer_length`` tokens) and scored start + end; the best span over all windows is the answer.

For attacks, :meth:`SpanExtractor.score_gold` scores the gold span instead: per window, the log-softmax of the
start and end logits over the context tokens, summed at the first and last token of a gold answer; the best
gold answer in the best window counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from harness.errors import XRobustError
from harness.metrics.squad import best_scores
from harness.models.engine import Encoded, Row
from harness.models.loading import LoadedModel
from harness.models.predictors import Predictor

F1_SUCCESS = 0.5  # an attack succeeds once the prediction's F1 is below this (qa_success: f1)
NO_SPAN = -1e4  # the gold score when no window holds a gold answer whole


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


def answer_correct(pred: str, golds: Sequence[str], *, norm: str, lang: str, success: str = "f1") -> bool:
    """Whether a predicted answer still counts as right for an attack: F1 against the gold answers of at least
    :data:`F1_SUCCESS` (``success="f1"``) or an exact match (``"em"``)."""
    em, f1 = best_scores(pred, golds, norm, lang)
    return bool(em == 1.0) if success == "em" else bool(f1 >= F1_SUCCESS)


def _log_softmax(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    masked = np.where(mask, values.astype(np.float64), -np.inf)
    top = masked.max()
    return masked - (top + np.log(np.exp(masked - top).sum()))


def gold_span_logprob(windows: Sequence[Window], spans: Sequence[tuple[int, int]]) -> float:
    """The best, over windows holding a gold answer whole and over those answers (character ``[start, end)``),
    of log P(start token) + log P(end token), each a softmax over the window's context tokens; the start token
    is the first context token ending after the answer's start, the end token the last one starting before its
    end. :data:`NO_SPAN` when no window holds any."""
    best = -np.inf
    for window in windows:
        mask = np.asarray(window.in_context, dtype=bool)
        if not mask.any():
            continue
        context = np.flatnonzero(mask)
        begins = np.array([window.offsets[i][0] for i in context])
        ends = np.array([window.offsets[i][1] for i in context])
        start_lp = end_lp = None
        for a, b in spans:
            if b <= a or begins.min() > a or ends.max() < b:
                continue
            first, last = context[np.argmax(ends > a)], context[len(ends) - 1 - np.argmax(begins[::-1] < b)]
            if last < first:
                continue
            if start_lp is None:
                start_lp, end_lp = _log_softmax(window.start, mask), _log_softmax(window.end, mask)
            best = max(best, float(start_lp[first] + end_lp[last]))
    return best if np.isfinite(best) else NO_SPAN


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
        opts = self.spec.qa
        with self.progress(len(examples), desc) as bar:
            windows = self._windows(loaded, examples, bar)
        records = []
        for i, example in enumerate(examples):
            span = best_span(windows[i], n_best=opts.n_best, max_answer_length=opts.max_answer_length)
            begin, text = answer_text(example["context"], span)
            records.append({"id": example["id"], "gold": list(example["answers"]["text"]), "pred": text,
                            "start": begin,
                            "score": round(span.score, 4) if span else None, "windows": len(windows[i]),
                            "language": example.get("language", "en"), "norm": opts.normalization})
        return records

    def _windows(self, loaded: LoadedModel, examples: list[dict], progress: Any = None) -> dict[int, list[Window]]:
        """Each example's windows with their start/end logits (questions clipped, contexts split as the module
        docstring says); ``progress`` is updated per example."""
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

        rows: list[Row] = self.engine(loaded).run(examples, encode, forward, kind="tokens", progress=progress)
        windows: dict[int, list[Window]] = defaultdict(list)
        for row in rows:
            offsets, mask = row.extra
            logits = row.output.numpy()
            windows[row.owner].append(Window(logits[:, 0], logits[:, 1], offsets, mask))
        return windows

    def score_gold(self, examples: list[dict], *, qa_success: str = "f1") -> tuple[np.ndarray, list[np.ndarray]]:
        """Batched scores for attacks: per example, the gold span's log-probability (:func:`gold_span_logprob`)
        and a one-element array holding whether the predicted answer (as :meth:`predict` decodes it) is still
        right (:func:`answer_correct` under ``qa_success``)."""
        loaded = self.models.get(self.spec.type)
        opts = self.spec.qa
        windows = self._windows(loaded, examples)
        scores = np.zeros(len(examples), dtype=np.float64)
        correct = []
        for i, example in enumerate(examples):
            answers = example["answers"]
            spans = [(int(start), int(start) + len(text)) for text, start in
                     zip(answers["text"], answers["answer_start"], strict=True) if int(start) >= 0]
            scores[i] = gold_span_logprob(windows[i], spans)
            span = best_span(windows[i], n_best=opts.n_best, max_answer_length=opts.max_answer_length)
            _, text = answer_text(example["context"], span)
            correct.append(np.array([answer_correct(text, list(answers["text"]), norm=opts.normalization,
                                                    lang=example.get("language", "en"), success=qa_success)]))
        return scores, correct
