"""Model-guided attacks: greedy search over the candidate edits of the perturbation families.

Per example: score the clean input with the predictor's ``score_gold`` (the gold label's log-probability; token
tasks: the sum over words of the gold tags' log-probabilities; QA: the gold span's start + end log-probability;
multiple choice: the gold choice's margin; retrieval: the gold target's rank margin), then step by step score
every candidate edit of every word not yet edited and apply the one that lowers the gold score most, until the
prediction flips (``until: flip``; a label, tag, choice or target that was right on the clean input is wrong;
QA: the answer's F1 drops below 0.5, or its exact match is lost), the edit budget (a fraction of the words) or
the query budget (texts scored per example, the clean one included) is spent, or no candidate lowers the score.
Each step scores the candidates of a whole batch of examples in one batched call. When a step has more
candidates than queries left, a seeded sample of them is scored, as many as the queries left divided by the
edits the budget still allows, so that long inputs (QA contexts) spread the query budget over their edits; when
no candidate of a sample lowers the score, the next step samples among the candidates not tried yet.

Which words are editable is the task type's field policy (:mod:`.slots`): token fields keep one token per
token, gold answer spans are never edited and answer offsets follow the edits.

Determinism: candidates come in a fixed order (field, word, family, replacement), scores are rounded to 1e-6
and ties go to the first candidate, so the same seed and model give the same adversarial examples.

``search: random`` edits as many words as the budget allows, uniformly at random (seeded) among the same
candidates: the same-budget baseline; the model only scores the clean inputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.attack.slots import example_slots
from harness.attack.stats import flipped
from perturbations.candidates import CandidateGenerator, WordSlots, edit_budget
from perturbations.policies import FieldPolicy
from perturbations.seeding import example_rng
from perturbations.suite import AttackParams

Scorer = Callable[[list[dict]], tuple[np.ndarray, list[np.ndarray]]]  # examples -> (gold score, correct)
DECIMALS = 6


@dataclass
class Outcome:
    """One example's attack."""

    words: WordSlots
    budget: int
    clean_correct: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    clean_score: float = 0.0
    score: float = 0.0
    queries: int = 0
    edits: dict[int, tuple[str, str]] = field(default_factory=dict)  # slot index -> (family, replacement)
    used_groups: set[int] = field(default_factory=set)
    tried: set[tuple[int, str, str]] = field(default_factory=set)  # sampled candidates that lowered nothing
    flipped: bool = False  # as seen by the search (the final prediction decides what is reported)
    done: bool = False

    @property
    def attacked(self) -> bool:
        """Initially correct (token tasks: at least one correct tag): worth attacking."""
        return bool(self.clean_correct.any())

    def render(self, extra: tuple[int, str] | None = None) -> dict:
        edits = {slot: new for slot, (_, new) in self.edits.items()}
        if extra is not None:
            edits[extra[0]] = extra[1]
        return self.words.render(edits)

    def candidates(self) -> list[tuple[int, str, str]]:
        """(slot index, family, replacement) for every word whose group is not edited yet."""
        return [(i, family, new) for i, slot in enumerate(self.words.slots) if slot.group not in self.used_groups
                for family, new in slot.options]

    def apply(self, slot: int, family: str, new: str) -> None:
        self.edits[slot] = (family, new)
        self.used_groups.add(self.words.slots[slot].group)
        self.tried.clear()


@dataclass
class AttackResult:
    outcomes: list[Outcome]
    score_calls: int  # batched scoring calls (one per search step and example batch)
    seconds: float

    @property
    def model_calls(self) -> int:
        """Texts scored, over all examples (the clean inputs included)."""
        return sum(o.queries for o in self.outcomes)

    def examples(self) -> list[dict]:
        return [o.render() for o in self.outcomes]


def run_attack(examples: Sequence[dict], score: Scorer, generator: CandidateGenerator, params: AttackParams, *,
               fields: Sequence[str], policy: FieldPolicy, seed: int, group_size: int = 32,
               progress: Any = None) -> AttackResult:
    """Attack ``examples`` (in batches of ``group_size``) editing ``fields`` as ``policy`` allows; returns the
    per-example outcomes."""
    started = time.monotonic()
    outcomes = []
    for example in examples:
        words = example_slots(generator, example, fields, policy)
        outcomes.append(Outcome(words, edit_budget(params.budget, words.n_words)))
    calls = 0
    for start in range(0, len(outcomes), max(group_size, 1)):
        group = outcomes[start:start + max(group_size, 1)]
        logprob, correct = score([o.words.example for o in group])
        calls += 1
        for o, lp, ok in zip(group, logprob, correct, strict=True):
            o.clean_correct, o.clean_score, o.score, o.queries = ok, float(lp), round(float(lp), DECIMALS), 1
        if params.search == "greedy":
            calls += _greedy(group, score, params, seed)
        else:
            _random(group, seed)
        if progress is not None:
            progress.update(len(group))
    return AttackResult(outcomes, calls, time.monotonic() - started)


def _greedy(group: list[Outcome], score: Scorer, params: AttackParams, seed: int) -> int:
    for o in group:
        o.done = not o.attacked
    calls = 0
    while True:
        batch: list[dict] = []
        owners: list[tuple[Outcome, tuple[int, str, str]]] = []
        sampled: set[int] = set()
        for o in group:
            if o.done:
                continue
            options = [c for c in o.candidates() if c not in o.tried]
            room = params.max_queries - o.queries
            if not options or room <= 0 or len(o.edits) >= o.budget:
                o.done = True
                continue
            if len(options) > room:
                share = max(room // (o.budget - len(o.edits)), 1)
                rng = example_rng(seed, len(o.edits), "attack", str(o.words.example["id"]), "queries")
                options = [options[i] for i in sorted(rng.sample(range(len(options)), share))]
                sampled.add(id(o))
                o.tried.update(options)
            o.queries += len(options)
            for option in options:
                batch.append(o.render((option[0], option[2])))
                owners.append((o, option))
        if not batch:
            return calls
        logprob, correct = score(batch)
        calls += 1
        best: dict[int, tuple[float, int]] = {}
        for position, (o, _) in enumerate(owners):
            value = round(float(logprob[position]), DECIMALS)
            if id(o) not in best or value < best[id(o)][0]:
                best[id(o)] = (value, position)
        for value, position in best.values():
            o, (slot, family, new) = owners[position]
            if value >= o.score:  # nothing lowers the gold score (a sample: try the others while queries last)
                o.done = id(o) not in sampled
                continue
            o.apply(slot, family, new)
            o.score = value
            if flipped(o.clean_correct, correct[position]):
                o.flipped = True
                o.done = params.until == "flip"
            if len(o.edits) >= o.budget:
                o.done = True


def _random(group: list[Outcome], seed: int) -> None:
    for o in group:
        rng = example_rng(seed, 0, "random-attack", str(o.words.example["id"]), "slots")
        order = list(range(len(o.words.slots)))
        rng.shuffle(order)
        for slot in order:
            if len(o.edits) >= o.budget:
                break
            if o.words.slots[slot].group in o.used_groups:
                continue
            family, new = rng.choice(o.words.slots[slot].options)
            o.apply(slot, family, new)
