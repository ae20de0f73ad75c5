"""Retrieval from a candidate pool (LAReQA, Mewsli-X): embed queries and candidates with
:func:`harness.models.pooling.embed` (settings from the task's ``retrieval`` section: pooling, layer, prefixes,
normalization, max_length, top_k) and rank the pool by cosine similarity.

Records keep the ``top_k`` ids (``ranked``), the relevant ids (``gold``) and the best id (``pred``), so
mAP@k is computed from records alone. Pool embeddings are computed once per pool and reused for every
language of the task.

For attacks, :meth:`PoolRetriever.score_gold` gives each query's rank margin: the best similarity of a relevant
candidate minus that of the best other candidate (:func:`harness.models.predictors.retrieval.rank_margins`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from harness.data.candidates import candidate_pool
from harness.models.pooling import embed
from harness.models.predictors import Predictor
from harness.models.predictors.retrieval import SIMILARITY_ROWS, rank_margins


class PoolRetriever(Predictor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool_vectors: dict[str, tuple[list[str], torch.Tensor]] = {}

    def _embed(self, texts: list[str], prefix: str, bar: Any) -> torch.Tensor:
        loaded = self.models.get(self.spec.type)  # the bare encoder (AutoModel), shared with Tatoeba
        opts = self.spec.retrieval
        return embed(self.engine(loaded), loaded.tokenizer, [prefix + t for t in texts], pooling=opts.pooling,
                     layer=opts.layer, normalize=True, max_length=opts.max_length, progress=bar)

    def _pool(self, key: str) -> tuple[list[str], torch.Tensor]:
        if key not in self._pool_vectors:
            pool = candidate_pool(self.spec, key)
            opts = self.spec.retrieval
            prefix = opts.prefix if opts.target_prefix is None else opts.target_prefix
            with self.progress(len(pool), "candidate pool") as bar:
                vectors = self._embed([c["text"] for c in pool], prefix, bar)
            self._pool_vectors[key] = ([c["id"] for c in pool], vectors)
        return self._pool_vectors[key]

    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        if not examples:
            return []
        ids, pool = self._pool(examples[0]["pool"])
        template = self.spec.candidates.query_template
        texts = [template.format(query=e["query"], context=e.get("context", "")) for e in examples]
        with self.progress(len(examples), desc) as bar:
            queries = self._embed(texts, self.spec.retrieval.prefix, bar)
        k = min(self.spec.retrieval.top_k, len(ids))
        indices, values = top_k(queries, pool, k)
        records = []
        for row, example in enumerate(examples):
            ranked = [ids[j] for j in indices[row]]
            records.append({"id": example["id"], "gold": list(example["positives"]),
                            "pred": ranked[0] if ranked else None, "ranked": ranked,
                            "score": round(values[row][0], 5) if ranked else None})
        return records

    def score_gold(self, examples: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Batched scores for attacks: per query, its rank margin in the pool (relevant: ``positives``) and a
        one-element array holding whether the best candidate is relevant (``pred`` among ``gold``)."""
        if not examples:
            return np.zeros(0), []
        ids, pool = self._pool(examples[0]["pool"])
        template = self.spec.candidates.query_template
        texts = [template.format(query=e["query"], context=e.get("context", "")) for e in examples]
        queries = self._embed(texts, self.spec.retrieval.prefix, None)
        position = {cid: j for j, cid in enumerate(ids)}
        relevant = [[position[p] for p in e["positives"] if p in position] for e in examples]
        margins, hits = rank_margins(queries, pool, relevant)
        return margins, [np.array([bool(h)]) for h in hits]


def top_k(queries: torch.Tensor, pool: torch.Tensor, k: int) -> tuple[list[list[int]], list[list[float]]]:
    """Per query, the ``k`` most similar pool rows and their similarities, computed on the embeddings' device
    in blocks of :data:`SIMILARITY_ROWS` queries; only the winners move to the host."""
    if k == 0:
        return [[] for _ in range(queries.shape[0])], [[] for _ in range(queries.shape[0])]
    indices, values = [], []
    for start in range(0, queries.shape[0], SIMILARITY_ROWS):
        top = torch.topk(queries[start:start + SIMILARITY_ROWS] @ pool.T, k=k, dim=1)
        indices.append(top.indices)
        values.append(top.values)
    return torch.cat(indices).tolist(), torch.cat(values).float().tolist()
