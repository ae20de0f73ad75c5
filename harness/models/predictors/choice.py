"""Multiple choice (XCOPA): AutoModelForMultipleChoice scores every (premise + connective, choice) pair.

Each choice becomes one sequence pair built from ``choice.first`` and ``choice.second`` templates with
``{premise}``, ``{connective}`` (``choice.connectives`` looked up by the example's ``question``, e.g.
cause → "because", effect → "so") and ``{choice}``. Batches hold whole examples (all their choices),
length-sorted by an example's longest choice.
"""

from __future__ import annotations

import torch

from harness.errors import XRobustError
from harness.models.batching import collate, length_sorted_batches
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
        tok = loaded.tokenizer
        pairs = [choice_pairs(self.spec, e) for e in examples]
        n_choices = {len(p) for p in pairs}
        if len(n_choices) > 1:
            raise XRobustError(f"examples have different numbers of choices ({sorted(n_choices)})",
                               file=self.spec.source_file, field="fields.choices")
        k = n_choices.pop() if n_choices else 0
        flat = [pair for p in pairs for pair in p]
        enc = dict(tok([a for a, _ in flat], [b for _, b in flat], truncation=True, max_length=self.spec.max_length))
        lengths = [max(len(enc["input_ids"][i * k + j]) for j in range(k)) for i in range(len(examples))]
        scores: list[torch.Tensor | None] = [None] * len(examples)
        with self.progress(len(examples), desc) as bar:
            for indices in length_sorted_batches(lengths, self.options.batch_size):
                rows = [i * k + j for i in indices for j in range(k)]
                batch = collate(enc, rows, tok.pad_token_id or 0, loaded.device)
                batch = {name: t.view(len(indices), k, -1) for name, t in batch.items()}
                with torch.inference_mode():
                    logits = loaded.model(**batch).logits.float().cpu()
                for row, i in enumerate(indices):
                    scores[i] = logits[row]
                bar.update(len(indices))
        records = []
        for example, logit in zip(examples, scores, strict=True):
            probs = torch.softmax(logit, dim=-1)
            records.append({"id": example["id"], "gold": int(example["label"]), "pred": int(probs.argmax()),
                            "probs": [round(float(p), 5) for p in probs]})
        return records
