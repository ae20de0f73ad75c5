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
from harness.models.engine import Encoded, Row
from harness.models.loading import LoadedModel, match_labels
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
    def _tag_rows(self, loaded: LoadedModel, examples: list[dict], *, log: bool,
                  bar: object = None) -> tuple[list[str], list[Row]]:
        """Tag names in column order, and per sentence its first-subword positions (``extra``) with the
        per-subword output: log-softmax over the tags (``log``) or the arg-max tag column."""
        tok = loaded.tokenizer
        if not getattr(tok, "is_fast", False):
            raise XRobustError(f"token classification needs a fast tokenizer (word_ids); {self.models.model_ref} "
                               "has a slow one", field="--model")
        mapping = match_labels(dict(loaded.model.config.id2label), self.spec.labels, self.spec.label_aliases,
                               self.options.label_map, task=self.spec.name, model=self.models.model_ref,
                               file=self.spec.source_file)
        columns = torch.tensor(sorted(mapping))
        max_length = self.spec.max_length

        def encode(chunk: Sequence[dict]) -> Encoded:
            words = [[str(w) for w in e["tokens"]] for e in chunk]
            enc = tok(words, is_split_into_words=True, truncation=True, max_length=max_length)
            firsts = [first_subword_positions(enc.word_ids(i), len(w)) for i, w in enumerate(words)]
            return Encoded(dict(enc), extras=firsts)

        def forward(inputs: dict) -> torch.Tensor:
            logits = loaded.model(**inputs).logits
            picked = logits[..., columns.to(logits.device)]
            return torch.log_softmax(picked.float(), dim=-1) if log else picked.argmax(-1)

        rows = self.engine(loaded).run(examples, encode, forward, kind="tokens", progress=bar)
        return [mapping[i] for i in sorted(mapping)], rows

    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        with self.progress(len(examples), desc) as bar:
            names, rows = self._tag_rows(loaded, examples, log=False, bar=bar)
        records = []
        fallback = self.spec.tagging.fallback_label
        for example, row in zip(examples, rows, strict=True):
            tags, lost = words_to_tags(row.extra, row.output.long().tolist(), names, fallback)
            records.append({"id": example["id"], "gold": list(example["tags"]), "pred": tags, "lost": lost})
        return records

    def score_gold(self, examples: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Batched scores for attacks: per sentence, the sum over words of the gold tag's log-probability (first
        subword, softmax over the task's tags; words with no subword add nothing) and per word whether the
        predicted tag is gold (as :meth:`predict` tags it, fallback included)."""
        loaded = self.models.get(self.spec.type)
        names, rows = self._tag_rows(loaded, examples, log=True)
        index = {name: k for k, name in enumerate(names)}
        fallback = self.spec.tagging.fallback_label
        logprob = np.zeros(len(examples), dtype=np.float64)
        correct = []
        for n, (example, row) in enumerate(zip(examples, rows, strict=True)):
            first, scores = row.extra, row.output
            pred = scores.argmax(-1).tolist()
            ok = np.zeros(len(first), dtype=bool)
            for w, (position, tag) in enumerate(zip(first, example["tags"], strict=True)):
                gold = index.get(tag, -1)
                if position < 0 or position >= len(pred):
                    ok[w] = tag == fallback
                elif gold >= 0:
                    logprob[n] += float(scores[position, gold])
                    ok[w] = pred[position] == gold
            correct.append(ok)
        return logprob, correct
