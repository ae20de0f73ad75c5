"""Model selection on the source-language dev set, as XTREME does: every ``eval_steps`` optimizer steps (and
after the last) the model being trained is scored on the dev examples with the task's ranked metric, through
the same predictor ``xrobust run`` uses; the best-scoring weights are restored at the end and the card records
which step they are from.

The dev examples are the task's dev split in the training language (``--dev-split``, default the task's
``splits.dev`` or ``validation``), or, for tasks without one, the last ``--dev-holdout N`` examples of the
training split, which are then left out of training.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.errors import XRobustError
from harness.metrics import METRICS
from harness.models.loading import LoadedModel, RuntimeOptions, head_class
from harness.spec.taskspec import TaskSpec

log = logging.getLogger(__name__)

SELECT_ON = ("last", "dev")


@dataclass
class DevSet:
    """The examples selection scores on, and what the card records about them."""

    examples: list[dict]
    split: str
    languages: list[str]
    holdout: int = 0

    def card(self) -> dict[str, Any]:
        digest = hashlib.sha256("".join(f"{e.get('_lang', '')}/{self.split}/{e['id']}\n"
                                        for e in self.examples).encode()).hexdigest()
        return {"split": self.split, "languages": self.languages, "n": len(self.examples),
                "holdout": self.holdout, "ids_sha256": digest}


class _InMemory:
    """What a predictor reads of a :class:`~harness.models.loading.ModelCache` (``get``, ``model_ref``), for the
    model being trained: nothing is loaded from disk."""

    model_ref = "the model being trained"

    def __init__(self, model: Any, tok: Any, device: str) -> None:
        self._model, self._tok, self._device = model, tok, device

    def tokenizer(self) -> Any:
        return self._tok

    def get(self, task_type: str, **kwargs: Any) -> LoadedModel:
        return LoadedModel(self._model, self._tok, self._device, head_class(task_type), None)


def dev_score(model: Any, tok: Any, spec: TaskSpec, examples: list[dict]) -> float:
    """The ranked metric of ``model`` (in eval mode meanwhile) on ``examples``."""
    from harness.models.predictors import get_predictor

    device = str(next(model.parameters()).device)
    was_training = model.training
    model.eval()
    try:
        models: Any = _InMemory(model, tok, device)
        records = get_predictor(spec, models, RuntimeOptions(device=device, dtype="float32", progress=False)).predict(
            [{k: v for k, v in e.items() if not k.startswith("_")} for e in examples])
    finally:
        model.train(was_training)
    metric = METRICS[spec.ranked_metric]
    stats = metric.stats(records)
    return float(np.asarray(metric.aggregate(stats.sum(axis=0), len(records))))


@dataclass
class Selector:
    """Keeps the best dev-scoring weights seen during training."""

    spec: TaskSpec
    tok: Any
    dev: DevSet
    eval_steps: int
    history: list[dict[str, float]] = field(default_factory=list)
    best_step: int = -1
    best_score: float = -np.inf
    _best_state: dict[str, Any] | None = None

    def evaluate(self, model: Any, step: int) -> None:
        if any(h["step"] == step for h in self.history):
            return
        score = dev_score(model, self.tok, self.spec, self.dev.examples)
        self.history.append({"step": step, "score": round(score, 4)})
        log.info("step %d: dev %s %.2f", step, self.spec.ranked_metric, score)
        if score > self.best_score:
            self.best_step, self.best_score = step, score
            self._best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}

    def restore(self, model: Any) -> None:
        if self._best_state is not None:
            model.load_state_dict(self._best_state)
            self._best_state = None

    def card(self, final_step: int) -> dict[str, Any]:
        return {"select_on": "dev", "eval_steps": self.eval_steps, "metric": self.spec.ranked_metric,
                "dev": self.dev.card(), "history": self.history, "best_step": self.best_step,
                "best_score": round(self.best_score, 4), "final_step": final_step}

    def callback(self) -> Any:
        """A transformers ``TrainerCallback`` that scores every ``eval_steps`` steps and restores the best."""
        from transformers import TrainerCallback

        selector = self

        class _Select(TrainerCallback):
            def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
                if state.global_step % selector.eval_steps == 0:
                    selector.evaluate(model, state.global_step)

            def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
                selector.evaluate(model, state.global_step)
                selector.restore(model)

        return _Select()


def check_selection(select_on: str, eval_steps: int | None) -> None:
    """One-line errors for selection flags that do not fit together."""
    if select_on not in SELECT_ON:
        raise XRobustError(f"must be one of {', '.join(SELECT_ON)}, got {select_on!r}", field="--select-on")
    if select_on == "dev" and not eval_steps:
        raise XRobustError("--select-on dev needs --eval-steps N", field="--eval-steps")
    if eval_steps is not None and eval_steps < 1:
        raise XRobustError("must be at least 1", field="--eval-steps")
    if select_on == "last" and eval_steps:
        raise XRobustError("--eval-steps only applies with --select-on dev", field="--eval-steps")
