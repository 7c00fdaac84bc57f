"""Score a sample set with every applicable metric, and bracket the scores by a floor and a ceiling.

The floor is uniform samples over the truth's box, the ceiling exact target samples of the same
size, so a reader sees what "good" means on each oracle. Not every metric is bracketed the
expected way round: k-NN recall (`prdc_recall`) scores uniform samples at least as well as exact
ones, because spread-out samples have large k-NN balls (see `hdbench.metrics.prdc`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hdbench.errors import SpecError
from hdbench.metrics.context import TruthContext
from hdbench.metrics.metric import METRICS, MIN_SAMPLES, check_samples
from hdbench.rng import named_generator

#: Column order of `floor_and_ceiling`'s table.
BRACKET_COLUMNS = ["bracket", "metric", "mean", "sd", "num_samples", "num_repeats"]


def evaluate(samples: np.ndarray, context: TruthContext) -> dict[str, float]:
    """Every metric on samples of shape (n, dim): {column: value}.

    A metric that does not apply (mode metrics without modes, grid metrics outside dim 2,
    distances to target samples a kind cannot draw) is NaN; its registry entry's `note` says
    why. Per-dimension metrics add columns `<name>_d<i>` right after their total.
    """
    points = check_samples(samples, context.dim)
    scores: dict[str, float] = {}
    for name, metric in METRICS.items():
        applies = metric.applies(context)
        scores[name] = float(metric.fn(points, context)) if applies else math.nan
        if metric.per_dim_fn is not None:
            values = metric.per_dim_fn(points, context) if applies else [math.nan] * context.dim
            for axis, value in enumerate(values):
                scores[f"{name}_d{axis}"] = float(value)
    return scores


def uniform_box_samples(context: TruthContext, num: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform samples over the truth's box: shape (num, dim)."""
    lo, hi = context.truth.bounds.T
    return rng.uniform(lo, hi, (num, context.dim))


def floor_and_ceiling(
    context: TruthContext, num_samples: int, num_repeats: int = 5, seed: int = 0
) -> pd.DataFrame:
    """Scores of uniform box samples (floor) and exact target samples (ceiling) of size n.

    Tidy table, one row per (bracket, metric column): columns `BRACKET_COLUMNS`, with the mean
    and the standard deviation (ddof = 1) over `num_repeats` independent sample sets. A truth
    with no exact target (`context.sampling_limit`) has no ceiling rows.
    """
    if num_samples < MIN_SAMPLES:
        raise SpecError(f"num_samples: expected at least {MIN_SAMPLES}, got {num_samples}")
    if num_repeats < 2:
        raise SpecError(f"num_repeats: expected at least 2 (for an sd), got {num_repeats}")
    draws = {"floor": lambda rng: uniform_box_samples(context, num_samples, rng)}
    if context.sampling_limit is None:
        draws["ceiling"] = lambda rng: context.truth.sample(num_samples, rng)
    rows = []
    for bracket, draw in draws.items():
        scores = pd.DataFrame(
            [
                evaluate(draw(named_generator(seed, "metrics", bracket, str(repeat))), context)
                for repeat in range(num_repeats)
            ]
        )
        for column in scores.columns:
            values = scores[column].to_numpy()
            rows.append(
                (bracket, column, values.mean(), values.std(ddof=1), num_samples, num_repeats)
            )
    return pd.DataFrame(rows, columns=BRACKET_COLUMNS)
