"""Predictors: one per task type, registered by name. A predictor turns examples into prediction records.

A prediction record is a dict with the example ``id``, the ``gold`` answer and the prediction (``pred``
and whatever else the task type's metrics read). Records are all the statistics and reports ever see.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from harness.models.loading import ModelCache, RuntimeOptions
from harness.spec.taskspec import TaskSpec

PREDICTORS: dict[str, type[Predictor]] = {}


def register(task_type: str) -> Callable[[type[Predictor]], type[Predictor]]:
    def wrap(cls: type[Predictor]) -> type[Predictor]:
        if task_type in PREDICTORS:
            raise ValueError(f"predictor for {task_type!r} registered twice")
        cls.task_type = task_type
        PREDICTORS[task_type] = cls
        return cls

    return wrap


class Predictor(ABC):
    """Base class: holds the task spec, the model cache and runtime options."""

    task_type = ""

    def __init__(self, spec: TaskSpec, models: ModelCache, options: RuntimeOptions) -> None:
        self.spec = spec
        self.models = models
        self.options = options

    @abstractmethod
    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        """Prediction records, one per example, in the order of ``examples``."""

    def progress(self, total: int, desc: str) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="ex", disable=not self.options.progress, leave=False,
                    dynamic_ncols=True)


def get_predictor(spec: TaskSpec, models: ModelCache, options: RuntimeOptions) -> Predictor:
    _import_builtin()
    if spec.type not in PREDICTORS:
        raise NotImplementedError(f"no predictor registered for task type {spec.type!r}")
    return PREDICTORS[spec.type](spec, models, options)


def _import_builtin() -> None:
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
