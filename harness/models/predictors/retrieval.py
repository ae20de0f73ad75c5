"""Bitext retrieval (Tatoeba): pooled embeddings, cosine nearest neighbour in both directions.

For attacks, :meth:`BitextRetriever.score_gold` gives each source sentence's rank margin: the similarity of its
aligned target minus that of the best other target (the unit's targets, embedded once and kept on the device).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from harness.models.pooling import embed
from harness.models.predictors import Predictor

SIMILARITY_ROWS = 4096  # query rows per similarity block on the device


def nearest(src: torch.Tensor, tgt: torch.Tensor) -> tuple[list[int], list[float], list[int]]:
    """Cosine nearest neighbours on the embeddings' device, in blocks of query rows: per source row its best
    target and that similarity, per target its best source."""
    best_rows, best_values = [], []
    col_best = torch.full((tgt.shape[0],), -torch.inf, device=tgt.device)
    col_arg = torch.zeros(tgt.shape[0], dtype=torch.long, device=tgt.device)
    for start in range(0, src.shape[0], SIMILARITY_ROWS):
        sims = src[start:start + SIMILARITY_ROWS] @ tgt.T
        values, rows = sims.max(dim=1)
        best_rows.append(rows)
        best_values.append(values)
        block_best, block_arg = sims.max(dim=0)  # ties keep the earliest source, as one argmax over all rows
        better = block_best > col_best
        col_best = torch.where(better, block_best, col_best)
        col_arg = torch.where(better, block_arg + start, col_arg)
    return (torch.cat(best_rows).tolist(), torch.cat(best_values).float().tolist(), col_arg.tolist())


def rank_margins(queries: torch.Tensor, targets: torch.Tensor,
                 relevant: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per query row, on the embeddings' device in blocks of :data:`SIMILARITY_ROWS` rows: the best similarity
    of a relevant target (``relevant[i]``: target row indices) minus the best of the others (each side -1, the
    least cosine, when it has none), and whether the nearest target (the arg-max, as retrieval ranks) is
    relevant."""
    margins, hits = [], []
    for start in range(0, queries.shape[0], SIMILARITY_ROWS):
        sims = queries[start:start + SIMILARITY_ROWS] @ targets.T
        rows = [r for r, cols in enumerate(relevant[start:start + SIMILARITY_ROWS]) for _ in cols]
        cols = [c for block in relevant[start:start + SIMILARITY_ROWS] for c in block]
        mask = torch.zeros_like(sims, dtype=torch.bool)
        mask[torch.tensor(rows, dtype=torch.long, device=sims.device),
             torch.tensor(cols, dtype=torch.long, device=sims.device)] = True
        floor = torch.tensor(-1.0, device=sims.device, dtype=sims.dtype)
        best_in = torch.maximum(sims.masked_fill(~mask, -torch.inf).max(dim=1).values, floor)
        best_out = torch.maximum(sims.masked_fill(mask, -torch.inf).max(dim=1).values, floor)
        margins.append(best_in - best_out)
        hits.append(mask.gather(1, sims.max(dim=1).indices[:, None])[:, 0])
    return torch.cat(margins).double().cpu().numpy(), torch.cat(hits).cpu().numpy()


class BitextRetriever(Predictor):
    """Each source sentence's gold is its aligned target (same id); ``pred`` is the nearest target's id
    (xx→en), ``pred_rev`` the nearest source for the aligned target (en→xx)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._targets: tuple[str, dict[str, int], torch.Tensor] | None = None  # the last unit's, for attacks

    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        if not examples:
            return []
        loaded = self.models.get(self.spec.type)
        engine = self.engine(loaded)
        opts = self.spec.retrieval
        target_prefix = opts.prefix if opts.target_prefix is None else opts.target_prefix
        kwargs = dict(pooling=opts.pooling, layer=opts.layer, normalize=True, max_length=opts.max_length)
        with self.progress(2 * len(examples), desc) as bar:
            src = embed(engine, loaded.tokenizer, [opts.prefix + e["source"] for e in examples], progress=bar,
                        **kwargs)
            tgt = embed(engine, loaded.tokenizer, [target_prefix + e["target"] for e in examples], progress=bar,
                        **kwargs)
        forward, scores, backward = nearest(src, tgt)
        ids = [e["id"] for e in examples]
        return [{"id": ids[i], "gold": ids[i], "pred": ids[forward[i]], "pred_rev": ids[backward[i]],
                 "score": round(scores[i], 5)} for i in range(len(examples))]

    def _embed(self, texts: list[str], prefix: str) -> torch.Tensor:
        loaded = self.models.get(self.spec.type)
        opts = self.spec.retrieval
        return embed(self.engine(loaded), loaded.tokenizer, [prefix + t for t in texts], pooling=opts.pooling,
                     layer=opts.layer, normalize=True, max_length=opts.max_length)

    def _target_vectors(self, unit: Sequence[dict]) -> tuple[dict[str, int], torch.Tensor]:
        """Row index per example id, and the embedded targets of ``unit`` (computed once per unit, kept on the
        device)."""
        opts = self.spec.retrieval
        prefix = opts.prefix if opts.target_prefix is None else opts.target_prefix
        texts = [e["target"] for e in unit]
        key = hashlib.sha256(json.dumps([prefix, [e["id"] for e in unit], texts]).encode()).hexdigest()
        if self._targets is None or self._targets[0] != key:
            self._targets = (key, {e["id"]: i for i, e in enumerate(unit)}, self._embed(texts, prefix))
        return self._targets[1], self._targets[2]

    def score_gold(self, examples: list[dict], *, unit: Sequence[dict] | None = None) -> tuple[np.ndarray,
                                                                                               list[np.ndarray]]:
        """Batched scores for attacks: per source sentence, its rank margin among the targets of ``unit`` (the
        unit's examples; default ``examples``), see :func:`rank_margins`, and a one-element array holding
        whether its nearest target is the aligned one (``pred == gold`` xx→en)."""
        if not examples:
            return np.zeros(0), []
        index, targets = self._target_vectors(examples if unit is None else unit)
        queries = self._embed([e["source"] for e in examples], self.spec.retrieval.prefix)
        margins, hits = rank_margins(queries, targets, [[index[e["id"]]] for e in examples])
        return margins, [np.array([bool(h)]) for h in hits]
