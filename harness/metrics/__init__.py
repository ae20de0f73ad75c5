"""Metrics: per-example sufficient statistics plus a batched aggregate of their sums (:mod:`.base`, the
aggregates in :mod:`.aggregates`); one module per family.

Importing the package registers every built-in metric in :data:`METRICS`.
"""

from harness.metrics import ranking, squad, tags  # noqa: F401  (register on import)
from harness.metrics.base import METRICS, Metric, Records, metric_table, register

__all__ = ["METRICS", "Metric", "Records", "metric_table", "register"]
