"""Predictors: one per task type (its ``predictor``). A predictor turns examples into prediction records.

A prediction record is a dict with the example ``id``, the ``gold`` answer and the prediction (``pred``
and whatever else the task type's metrics read). Records are all the statistics and reports ever see.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any

from harness import tasktypes
from harness.models.engine import Engine
from harness.models.inference import resolve
from harness.models.loading import LoadedModel, ModelCache, RuntimeOptions
from harness.spec.taskspec import TaskSpec


class Predictor(ABC):
    """Base class: holds the task spec, the model cache and runtime options."""

    def __init__(self, spec: TaskSpec, models: ModelCache, options: RuntimeOptions) -> None:
        self.spec = spec
        self.models = models
        self.options = options

    @abstractmethod
    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        """Prediction records, one per example, in the order of ``examples``."""

    def engine(self, loaded: LoadedModel) -> Engine:
        """The inference loop for ``loaded``: its resolved settings, with this predictor's batch limits."""
        settings = loaded.inference or replace(resolve(self.options), device=loaded.device)
        limits = {"batch_size": self.options.batch_size, "max_tokens": self.options.max_tokens}
        settings = replace(settings, **{k: v for k, v in limits.items() if v is not None})
        return Engine(loaded.model, settings, pad_id=getattr(loaded.tokenizer, "pad_token_id", None) or 0)

    def progress(self, total: int, desc: str) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="ex", disable=not self.options.progress, leave=False,
                    dynamic_ncols=True)


def get_predictor(spec: TaskSpec, models: ModelCache, options: RuntimeOptions) -> Predictor:
    """The predictor of ``spec``'s task type, for ``spec``."""
    ref = tasktypes.get(spec.type).predictor
    if ref is None:
        raise NotImplementedError(f"no predictor registered for task type {spec.type!r}")
    return tasktypes.resolve(ref)(spec, models, options)
