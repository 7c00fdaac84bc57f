"""The metric registry: every metric with its metadata, and the checks shared by all of them.

A metric is a pure function of (samples of shape (n, dim), a `TruthContext`) returning one float.
Families that also break their value down per dimension give a second function returning shape
(dim,); `evaluate` writes those as extra columns `<name>_d<i>`, and `metric_info` maps each such
column back to its metric, so every output column has its metadata.

`evaluate` checks the samples (`check_samples`) once; a metric's own function assumes valid input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hdbench.errors import SpecError
from hdbench.metrics.context import TruthContext
from hdbench.protocol import MIN_SAMPLES
from hdbench.registry import Registry

#: "higher"/"lower": larger/smaller is better; "one": closer to 1 is better; "ceiling": closer
#: to the exact target's value is better (a metric that a collapse onto the best point would
#: maximise, e.g. the mean true D: higher alone is not better); "none": an informational column
#: with no better or worse (e.g. the variance ratio to the real data).
Direction = Literal["higher", "lower", "one", "ceiling", "none"]

MetricFn = Callable[[np.ndarray, TruthContext], float]
PerDimFn = Callable[[np.ndarray, TruthContext], np.ndarray]
Predicate = Callable[[TruthContext], bool]


_PER_DIM_COLUMN = re.compile(r"^(?P<name>.+)_d(?P<axis>\d+)$")


@dataclass(frozen=True)
class Scope:
    """Where a metric applies: a test on the context and, where it fails, why, in a few words
    that tables print beside the NaN the metric is then given (e.g. "2-D only")."""

    note: str
    test: Predicate

    def __call__(self, context: TruthContext) -> bool:
        return self.test(context)


#: Applies to every oracle.
always = Scope("", lambda context: True)
#: Applies when the truth lists distinct modes.
has_modes = Scope("needs the target's modes", lambda context: len(context.truth.modes) > 0)
#: Applies in dim 2, where the context holds a grid over the box.
is_planar = Scope("2-D only", lambda context: context.grid is not None)
#: Applies when the truth can draw exact target samples (the context holds a reference).
has_target_samples = Scope(
    "needs exact target samples", lambda context: context.reference is not None
)


@dataclass(frozen=True)
class Metric:
    """One registered metric and its metadata.

    `fn(samples, context)` takes samples of shape (n, dim) and returns a float in [low, high];
    `per_dim_fn`, when given, returns shape (dim,) with the same direction and range. Where
    `applies` fails the metric is NaN, and `note` says why.
    """

    name: str
    direction: Direction
    low: float
    high: float
    description: str
    fn: MetricFn
    applies: Scope = always
    per_dim_fn: PerDimFn | None = None

    @property
    def note(self) -> str:
        """Why the metric may be NaN for an oracle ("2-D only"), or "" when it always applies."""
        return self.applies.note

    def is_better(self, value: float, other: float, ceiling: float | None = None) -> bool:
        """Whether `value` is strictly better than `other` in this metric's direction (for
        "ceiling", closer to `ceiling`, the exact target's value, which it then needs)."""
        if self.direction == "ceiling":
            if ceiling is None or ceiling != ceiling:
                raise ValueError(f"metric {self.name!r}: better means closer to the ceiling")
            return abs(value - ceiling) < abs(other - ceiling)
        if self.direction == "higher":
            return value > other
        if self.direction == "lower":
            return value < other
        if self.direction == "one":
            return abs(value - 1.0) < abs(other - 1.0)
        raise ValueError(f"metric {self.name!r} is informational: no value is better")


METRICS: Registry[Metric] = Registry("metric")


def register_metric(
    name: str,
    direction: Direction,
    low: float,
    high: float,
    description: str,
    applies: Scope = always,
    per_dim_fn: PerDimFn | None = None,
) -> Callable[[MetricFn], MetricFn]:
    """Decorator: register the decorated function as metric `name`; returns it unchanged."""
    if _PER_DIM_COLUMN.match(name):
        raise ValueError(f"metric {name!r}: names ending in _d<digits> are per-dimension columns")
    if not low < high or math.isnan(low) or math.isnan(high):
        raise ValueError(f"metric {name!r}: expected low < high, got [{low}, {high}]")

    def add(fn: MetricFn) -> MetricFn:
        METRICS.add(name, Metric(name, direction, low, high, description, fn, applies, per_dim_fn))
        return fn

    return add


def metric_info(column: str) -> Metric:
    """The metric behind an output column: `name` itself, or `name_d<i>` of a per-dim metric."""
    if column in METRICS:
        return METRICS[column]
    match = _PER_DIM_COLUMN.match(column)
    if match and match["name"] in METRICS and METRICS[match["name"]].per_dim_fn is not None:
        return METRICS[match["name"]]
    return METRICS[column]  # raises SpecError listing the known metrics


def check_samples(samples: np.ndarray, dim: int) -> np.ndarray:
    """Samples as a float array of shape (n, dim) with n ≥ MIN_SAMPLES; SpecError otherwise."""
    expected = f"samples: expected at least {MIN_SAMPLES} finite points of shape (n, {dim})"
    try:
        points = np.asarray(samples, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(f"{expected}, got an object of type {type(samples).__name__}") from None
    if points.ndim != 2 or points.shape[1] != dim or len(points) < MIN_SAMPLES:
        raise SpecError(f"{expected}, got shape {points.shape}")
    num_bad = int(np.size(points) - np.isfinite(points).sum())
    if num_bad:
        raise SpecError(f"{expected}, got {num_bad} non-finite values")
    return points
