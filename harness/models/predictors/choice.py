"""Multiple choice (XCOPA): AutoModelForMultipleChoice scores every (premise + connective, choice) pair.

Each choice becomes one sequence pair built from ``choice.first`` and ``choice.second`` templates with
``{premise}``, ``{connective}`` (``choice.connectives`` looked up by the example's ``question``, e.g.
cause → "because", effect → "so") and ``{choice}``. Batches hold whole examples (all their choices),
length-sorted by an example's longest choice (choices × examples × longest under the token budget).
For attacks, :meth:`ChoiceScorer.score_gold` gives the gold choice's margin over the best other choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from harness.errors import XRobustError
from harness.models.engine import Encoded
from harness.models.loading import LoadedModel
from harness.models.predictors import Predictor
from harness.spec.taskspec import TaskSpec


def choice_pairs(spec: TaskSpec, example: dict) -> list[tuple[str, str]]:
    """The (first, second) text pair of each choice of one example."""
    opts = spec.choice
    question = str(example["question"]).strip()
    connective = opts.connectives.get(question, opts.connectives.get(question.lower()))
    if connective is None:
        raise XRobustError(f"question {question!r} of example {example['id']} has no connective (known: "
                           f"{', '.join(opts.connectives)})", file=spec.source_file, field="choice.connectives")
    values = {"premise": str(example["premise"]).strip(), "connective": connective}
    return [(opts.first.format(**values, choice=str(c).strip()), opts.second.format(**values, choice=str(c).strip()))
            for c in example["choices"]]


class ChoiceScorer(Predictor):
    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        with self.progress(len(examples), desc) as bar:
            rows = self._logits(loaded, examples, bar)
        if not rows:  # no examples, or examples without choices
            return []
        records = []
        for example, logits in zip(examples, rows, strict=True):
            probs = torch.softmax(logits, dim=-1)
            records.append({"id": example["id"], "gold": int(example["label"]), "pred": int(probs.argmax()),
                            "probs": [round(float(p), 5) for p in probs]})
        return records

    def _logits(self, loaded: LoadedModel, examples: list[dict], progress: Any = None) -> list[torch.Tensor]:
        """Per example, its choices' logits: every choice's pair (:func:`choice_pairs`), an example's choices in
        one batch; ``progress`` is updated per example."""
        tok = loaded.tokenizer
        pairs = [choice_pairs(self.spec, e) for e in examples]
        n_choices = {len(p) for p in pairs}
        if len(n_choices) > 1:
            raise XRobustError(f"examples have different numbers of choices ({sorted(n_choices)})",
                               file=self.spec.source_file, field="fields.choices")
        k = n_choices.pop() if n_choices else 0
        if k == 0:
            return []
        max_length = self.spec.max_length

        def encode(chunk: Sequence[list[tuple[str, str]]]) -> Encoded:
            flat = [pair for p in chunk for pair in p]
            enc = tok([a for a, _ in flat], [b for _, b in flat], truncation=True, max_length=max_length)
            return Encoded(dict(enc), owners=[i for i in range(len(chunk)) for _ in range(k)])

        def forward(inputs: dict) -> torch.Tensor:
            shaped = {name: t.view(-1, k, t.shape[-1]) for name, t in inputs.items()}
            return loaded.model(**shaped).logits.float()

        rows = self.engine(loaded).run(pairs, encode, forward, kind="sequence", group=k, progress=progress)
        return [row.output for row in rows]

    def score_gold(self, examples: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Batched scores for attacks: per example, the gold choice's margin (its logit minus the best other
        choice's, i.e. the log-probability ratio) and a one-element array holding whether the predicted choice
        (the arg-max, as :meth:`predict` picks it) is the gold one."""
        loaded = self.models.get(self.spec.type)
        rows = self._logits(loaded, examples)
        margins = np.zeros(len(examples), dtype=np.float64)
        correct = []
        for i, (example, row) in enumerate(zip(examples, rows, strict=True)):
            gold = int(example["label"])
            others = torch.cat([row[:gold], row[gold + 1:]])
            margins[i] = float(row[gold] - others.max()) if len(others) else 0.0
            correct.append(np.array([int(row.argmax()) == gold]))
        return margins, correct
