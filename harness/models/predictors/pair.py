"""Sentence-pair classification (XNLI, PAWS-X): AutoModelForSequenceClassification, labels by name."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from harness.models.engine import Encoded
from harness.models.loading import LoadedModel, match_labels
from harness.models.predictors import Predictor


class PairClassifier(Predictor):
    def _columns(self, loaded: LoadedModel) -> tuple[torch.Tensor, list[str]]:
        """The model output columns of the task's labels, and their names, in column order."""
        mapping = match_labels(dict(loaded.model.config.id2label), self.spec.labels, self.spec.label_aliases,
                               self.options.label_map, task=self.spec.name, model=self.models.model_ref,
                               file=self.spec.source_file)
        return torch.tensor(sorted(mapping)), [mapping[i] for i in sorted(mapping)]

    def _scores(self, loaded: LoadedModel, examples: list[dict], *, log: bool, bar: object = None) -> list[torch.Tensor]:
        """Per example, the (log-)softmax over the task's labels."""
        columns, _ = self._columns(loaded)
        tok, max_length = loaded.tokenizer, self.spec.max_length
        normalise = torch.log_softmax if log else torch.softmax

        def encode(chunk: Sequence[dict]) -> Encoded:
            enc = tok([e["text_a"] for e in chunk], [e["text_b"] for e in chunk], truncation=True,
                      max_length=max_length)
            return Encoded(dict(enc))

        def forward(inputs: dict) -> torch.Tensor:
            logits = loaded.model(**inputs).logits.float()
            return normalise(logits[:, columns.to(logits.device)], dim=-1)

        rows = self.engine(loaded).run(examples, encode, forward, kind="sequence", progress=bar)
        return [row.output for row in rows]

    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        _, names = self._columns(loaded)
        with self.progress(len(examples), desc) as bar:
            probs = self._scores(loaded, examples, log=False, bar=bar)
        return [{"id": example["id"], "gold": example["label"], "pred": names[int(p.argmax())],
                 "probs": [round(float(x), 5) for x in p]} for example, p in zip(examples, probs, strict=True)]

    def score_gold(self, examples: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Batched scores for attacks: per example, the gold label's log-probability (softmax over the task's
        labels) and a one-element array holding whether the prediction is the gold label."""
        loaded = self.models.get(self.spec.type)
        _, names = self._columns(loaded)
        index = {name: k for k, name in enumerate(names)}
        rows = self._scores(loaded, examples, log=True)
        gold = [index[e["label"]] for e in examples]
        logprob = np.array([float(row[g]) for row, g in zip(rows, gold, strict=True)], dtype=np.float64)
        return logprob, [np.array([int(row.argmax()) == g]) for row, g in zip(rows, gold, strict=True)]
