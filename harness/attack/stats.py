"""Statistics of adversarial units: how much the inputs changed and how often the attack succeeded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from perturbations.stats import StatsAccumulator, text_change, tokens_change


def flipped(clean: np.ndarray, now: np.ndarray) -> bool:
    """True if a label (tag) that was correct on the clean input is wrong now."""
    return bool(np.any(clean & ~now))


def success_stats(clean_correct: Sequence[np.ndarray], final_correct: Sequence[np.ndarray],
                  edits: Sequence[int]) -> dict[str, Any]:
    """Success among the examples correct on the clean input (token tasks: with a correct tag), judged on the
    final predictions (``final_correct``, the task type's judge of each record: a correct label, tag, choice,
    target or answer became wrong), and edited words per attacked / successful example."""
    attacked = [i for i, c in enumerate(clean_correct) if c.any()]
    hits = [i for i in attacked if flipped(clean_correct[i], final_correct[i])]

    def mean(rows: list[int]) -> float:
        return round(float(np.mean([edits[i] for i in rows])), 4) if rows else 0.0

    return {"n_attacked": len(attacked), "n_success": len(hits),
            "success_rate": round(len(hits) / len(attacked), 4) if attacked else 0.0,
            "mean_edited_words": mean(attacked), "mean_edited_words_success": mean(hits)}


def change_stats(clean: Sequence[dict], adversarial: Sequence[dict], fields: Sequence[str], token_task: bool,
                 families: dict[str, int]) -> dict[str, Any]:
    """The random conditions' change statistics (:class:`perturbations.ChangeStats`) of adversarial inputs;
    ``steps`` lists the edits per family."""
    acc = StatsAccumulator()
    for before, after in zip(clean, adversarial, strict=True):
        parts = []
        for name in fields:
            a, b = before[name], after[name]
            if isinstance(a, str):
                parts.append(text_change(a, b))
            elif token_task:
                parts.append(tokens_change(list(a), list(b)))
            else:
                parts += [text_change(x, y) for x, y in zip(a, b, strict=True)]
        acc.add_example(parts, any(before[n] != after[n] for n in fields))
    return acc.finish([{"name": name, "edited": n} for name, n in families.items()]).to_dict()
