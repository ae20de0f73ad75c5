"""An example's editable words under its task type's field policy.

:class:`~perturbations.candidates.CandidateGenerator` splits the fields into words with their candidate edits.
Where the policy protects a text field's answers (extractive QA: ``context`` keeps ``answers``), words inside a
gold answer span, widened to whole words as the random suites widen it (:mod:`perturbations.apply`), are not
editable, and rendering an edited example moves every ``answer_start`` by the length changes of the edits
before it, so the gold spans stay where the answers are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from perturbations.apply import _protected as protected_spans
from perturbations.candidates import CandidateGenerator, WordSlots
from perturbations.policies import FieldPolicy


@dataclass
class SpanSlots(WordSlots):
    """Word slots of an example with protected answer spans; :meth:`render` recomputes the answer offsets."""

    answers: dict[str, str] = field(default_factory=dict)  # text field -> its answers field
    starts: list[int] = field(default_factory=list)  # per slot: character offset of its word in its field

    def render(self, edits: Mapping[int, str]) -> dict:
        out = super().render(edits)
        for name, answers_field in self.answers.items():
            moved = [(self.starts[i], len(new) - len(self.slots[i].word)) for i, new in edits.items()
                     if self.slots[i].piece == (name, -1)]
            if not moved:
                continue
            answers = self.example[answers_field]
            new_starts = [start + sum(delta for at, delta in moved if at < start) for start in answers["answer_start"]]
            for text, start in zip(answers["text"], new_starts, strict=True):
                if out[name][start:start + len(text)] != text:
                    raise RuntimeError(f"example {self.example['id']!r}: answer offset lost")  # a bug, not input
            out[answers_field] = {**answers, "answer_start": new_starts}
        return out


def example_slots(generator: CandidateGenerator, example: dict, fields: Sequence[str],
                  policy: FieldPolicy) -> WordSlots:
    """The editable words of ``example``'s ``fields``: token fields keep one token per token
    (``policy.tokens``); protected text fields lose the words of their gold answer spans."""
    words = generator.slots(example, fields, policy.tokens)
    answers = {name: policy.answers_for(name) for name in fields}
    answers = {name: a for name, a in answers.items() if a is not None and isinstance(example.get(name), str)}
    if not answers:
        return words
    locked = {(name, -1): protected_spans(example[name], example[a], str(example["id"]), a)
              for name, a in answers.items()}
    offsets = {piece: _part_offsets(parts) for piece, parts in words.pieces.items()}
    kept, starts = [], []
    for slot in words.slots:
        begin = offsets[slot.piece][slot.part]
        end = begin + len(slot.word)
        if any(begin < e and s < end for s, e in locked.get(slot.piece, ())):
            continue
        kept.append(slot)
        starts.append(begin)
    return SpanSlots(words.example, words.pieces, kept, words.n_words, answers, starts)


def _part_offsets(parts: list[str]) -> list[int]:
    out, at = [], 0
    for part in parts:
        out.append(at)
        at += len(part)
    return out

