"""Metrics: pure functions of (samples, truth context), scored against the exact truth.

Importing this package registers every bundled metric family in `METRICS`.
"""

from hdbench.metrics import (  # noqa: F401
    discovery,
    distances,
    escape,
    fidelity,
    grid,
    modes,
    multiscale,
    prdc,
    stein,
    variance,
)
from hdbench.metrics.context import TargetGrid, TruthContext
from hdbench.metrics.evaluate import evaluate, floor_and_ceiling
from hdbench.metrics.grid import expected_grid_coverage
from hdbench.metrics.metric import METRICS, Direction, Metric, metric_info

__all__ = [
    "METRICS",
    "Direction",
    "Metric",
    "TargetGrid",
    "TruthContext",
    "evaluate",
    "expected_grid_coverage",
    "floor_and_ceiling",
    "metric_info",
]
