"""Bitext retrieval (Tatoeba): pooled embeddings, cosine nearest neighbour in both directions."""

from __future__ import annotations

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


class BitextRetriever(Predictor):
    """Each source sentence's gold is its aligned target (same id); ``pred`` is the nearest target's id
    (xx→en), ``pred_rev`` the nearest source for the aligned target (en→xx)."""

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
