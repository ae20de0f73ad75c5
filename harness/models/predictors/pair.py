"""Sentence-pair classification (XNLI, PAWS-X): AutoModelForSequenceClassification, labels by name."""

from __future__ import annotations

import numpy as np
import torch

from harness.models.batching import run_sorted
from harness.models.loading import match_labels
from harness.models.predictors import Predictor


class PairClassifier(Predictor):
    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        config = loaded.model.config
        mapping = match_labels(dict(config.id2label), self.spec.labels, self.spec.label_aliases,
                               self.options.label_map, task=self.spec.name, model=self.models.model_ref,
                               file=self.spec.source_file)
        columns = torch.tensor(sorted(mapping))
        names = [mapping[i] for i in sorted(mapping)]
        tok = loaded.tokenizer
        encodings = tok([e["text_a"] for e in examples], [e["text_b"] for e in examples], truncation=True,
                        max_length=self.spec.max_length)

        def forward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            logits = loaded.model(**batch).logits.float()
            return torch.softmax(logits[:, columns.to(logits.device)], dim=-1)

        with self.progress(len(examples), desc) as bar:
            probs = run_sorted(forward, dict(encodings), batch_size=self.options.batch_size,
                               pad_id=tok.pad_token_id or 0, device=loaded.device, progress=bar)
        records = []
        for example, p in zip(examples, probs, strict=True):
            records.append({"id": example["id"], "gold": example["label"], "pred": names[int(p.argmax())],
                            "probs": [round(float(x), 5) for x in p]})
        return records

    def score_gold(self, examples: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Batched scores for attacks: per example, the gold label's log-probability (softmax over the task's
        labels) and a one-element array holding whether the prediction is the gold label."""
        loaded = self.models.get(self.spec.type)
        mapping = match_labels(dict(loaded.model.config.id2label), self.spec.labels, self.spec.label_aliases,
                               self.options.label_map, task=self.spec.name, model=self.models.model_ref,
                               file=self.spec.source_file)
        columns = torch.tensor(sorted(mapping))
        index = {mapping[i]: k for k, i in enumerate(sorted(mapping))}
        tok = loaded.tokenizer
        encodings = tok([e["text_a"] for e in examples], [e["text_b"] for e in examples], truncation=True,
                        max_length=self.spec.max_length)

        def forward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            logits = loaded.model(**batch).logits.float()
            return torch.log_softmax(logits[:, columns.to(logits.device)], dim=-1)

        rows = run_sorted(forward, dict(encodings), batch_size=self.options.batch_size,
                          pad_id=tok.pad_token_id or 0, device=loaded.device)
        gold = [index[e["label"]] for e in examples]
        logprob = np.array([float(row[g]) for row, g in zip(rows, gold, strict=True)], dtype=np.float64)
        return logprob, [np.array([int(row.argmax()) == g]) for row, g in zip(rows, gold, strict=True)]
