"""Token classification (UD-POS, PAN-X): AutoModelForTokenClassification, one label per word.

Words are fed pre-split (``is_split_into_words=True``); the fast tokenizer's ``word_ids()`` maps subwords
back to words and the FIRST subword of each word carries its label. Words with no subword in the window
(cut off by ``max_length``, or dropped by the tokenizer) get ``tagging.fallback_label`` and are counted
in the record's ``lost``. Model outputs are matched to the task's tag names via ``config.id2label``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from harness.errors import XRobustError
from harness.models.batching import run_sorted
from harness.models.loading import match_labels
from harness.models.predictors import Predictor


def first_subword_positions(word_ids: Sequence[int | None], n_words: int) -> list[int]:
    """Per word, the index of its first subword, or -1 when no subword of it survived."""
    first = [-1] * n_words
    for position, word in enumerate(word_ids):
        if word is not None and word < n_words and first[word] < 0:
            first[word] = position
    return first


def words_to_tags(first: Sequence[int], token_preds: Sequence[int], names: Sequence[str],
                  fallback: str) -> tuple[list[str], int]:
    """Word tags from per-subword predicted column indices; (tags, number of words that fell back)."""
    tags, lost = [], 0
    for position in first:
        if position < 0 or position >= len(token_preds):
            tags.append(fallback)
            lost += 1
        else:
            tags.append(names[int(token_preds[position])])
    return tags, lost


class TokenTagger(Predictor):
    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        tok = loaded.tokenizer
        if not getattr(tok, "is_fast", False):
            raise XRobustError(f"token classification needs a fast tokenizer (word_ids); {self.models.model_ref} "
                               "has a slow one", field="--model")
        mapping = match_labels(dict(loaded.model.config.id2label), self.spec.labels, self.spec.label_aliases,
                               self.options.label_map, task=self.spec.name, model=self.models.model_ref,
                               file=self.spec.source_file)
        columns = torch.tensor(sorted(mapping))
        names = [mapping[i] for i in sorted(mapping)]
        words = [[str(w) for w in e["tokens"]] for e in examples]
        encodings = tok(words, is_split_into_words=True, truncation=True, max_length=self.spec.max_length)
        firsts = [first_subword_positions(encodings.word_ids(i), len(w)) for i, w in enumerate(words)]

        def forward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            logits = loaded.model(**batch).logits
            return logits[..., columns.to(logits.device)].argmax(-1)

        with self.progress(len(examples), desc) as bar:
            preds = run_sorted(forward, dict(encodings), batch_size=self.options.batch_size,
                               pad_id=tok.pad_token_id or 0, device=loaded.device, progress=bar)
        records = []
        fallback = self.spec.tagging.fallback_label
        for example, first, row in zip(examples, firsts, preds, strict=True):
            tags, lost = words_to_tags(first, row.long().tolist(), names, fallback)
            records.append({"id": example["id"], "gold": list(example["tags"]), "pred": tags, "lost": lost})
        return records

    def score_gold(self, examples: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Batched scores for attacks: per sentence, the sum over words of the gold tag's log-probability (first
        subword, softmax over the task's tags; words with no subword add nothing) and per word whether the
        predicted tag is gold (as :meth:`predict` tags it, fallback included)."""
        loaded = self.models.get(self.spec.type)
        tok = loaded.tokenizer
        mapping = match_labels(dict(loaded.model.config.id2label), self.spec.labels, self.spec.label_aliases,
                               self.options.label_map, task=self.spec.name, model=self.models.model_ref,
                               file=self.spec.source_file)
        columns = torch.tensor(sorted(mapping))
        index = {mapping[i]: k for k, i in enumerate(sorted(mapping))}
        words = [[str(w) for w in e["tokens"]] for e in examples]
        encodings = tok(words, is_split_into_words=True, truncation=True, max_length=self.spec.max_length)
        firsts = [first_subword_positions(encodings.word_ids(i), len(w)) for i, w in enumerate(words)]

        def forward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            logits = loaded.model(**batch).logits.float()
            return torch.log_softmax(logits[..., columns.to(logits.device)], dim=-1)

        rows = run_sorted(forward, dict(encodings), batch_size=self.options.batch_size,
                          pad_id=tok.pad_token_id or 0, device=loaded.device)
        fallback = self.spec.tagging.fallback_label
        logprob = np.zeros(len(examples), dtype=np.float64)
        correct = []
        for n, (example, first, row) in enumerate(zip(examples, firsts, rows, strict=True)):
            pred = row.argmax(-1).tolist()
            ok = np.zeros(len(first), dtype=bool)
            for w, (position, tag) in enumerate(zip(first, example["tags"], strict=True)):
                gold = index.get(tag, -1)
                if position < 0 or position >= len(pred):
                    ok[w] = tag == fallback
                elif gold >= 0:
                    logprob[n] += float(row[position, gold])
                    ok[w] = pred[position] == gold
            correct.append(ok)
        return logprob, correct
