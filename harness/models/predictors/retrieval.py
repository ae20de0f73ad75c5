"""Bitext retrieval (Tatoeba): pooled embeddings, cosine nearest neighbour in both directions."""

from __future__ import annotations

import torch

from harness.models.pooling import embed
from harness.models.predictors import Predictor


class BitextRetriever(Predictor):
    """Each source sentence's gold is its aligned target (same id); ``pred`` is the nearest target's id
    (xx→en), ``pred_rev`` the nearest source for the aligned target (en→xx)."""

    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        opts = self.spec.retrieval
        target_prefix = opts.prefix if opts.target_prefix is None else opts.target_prefix
        kwargs = dict(pooling=opts.pooling, layer=opts.layer, normalize=opts.normalize,
                      max_length=opts.max_length, batch_size=self.options.batch_size, device=loaded.device)
        with self.progress(2 * len(examples), desc) as bar:
            src = embed(loaded.model, loaded.tokenizer, [opts.prefix + e["source"] for e in examples],
                        progress=bar, **kwargs)
            tgt = embed(loaded.model, loaded.tokenizer, [target_prefix + e["target"] for e in examples],
                        progress=bar, **kwargs)
        if not opts.normalize:
            src = torch.nn.functional.normalize(src, dim=-1)
            tgt = torch.nn.functional.normalize(tgt, dim=-1)
        sims = src @ tgt.T
        forward = sims.argmax(dim=1).tolist()
        backward = sims.argmax(dim=0).tolist()
        ids = [e["id"] for e in examples]
        return [{"id": ids[i], "gold": ids[i], "pred": ids[forward[i]], "pred_rev": ids[backward[i]],
                 "score": round(float(sims[i, forward[i]]), 5)} for i in range(len(examples))]
