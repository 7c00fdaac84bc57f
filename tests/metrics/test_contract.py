"""Contract of every registered metric: a finite float within its declared range.

Parametrised over the registry, so a metric is held to the contract the moment it is registered.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hdbench.metrics import METRICS, TruthContext, evaluate, metric_info
from hdbench.metrics.metric import MIN_SAMPLES

KINDS = [
    "gaussian",
    "ring_of_8",
    "plateau",
    "ring",
    "banana",
    "gaussian_3d",
    "plateau_8d",
    "gaussian_32d",
    "ring_of_8_discover",
]


@pytest.fixture(scope="module", params=KINDS)
def exact_case(request, contexts) -> tuple[TruthContext, np.ndarray, dict[str, float]]:
    """A context, 400 exact target samples of shape (400, dim), and their scores."""
    context = contexts(request.param)
    samples = context.truth.sample(400, np.random.default_rng(0))
    return context, samples, evaluate(samples, context)


def assert_in_range(column: str, value: float) -> None:
    metric = metric_info(column)
    assert isinstance(value, float) and np.isfinite(value), (column, value)
    assert metric.low <= value <= metric.high, (column, value, metric.low, metric.high)


@pytest.mark.parametrize("name", list(METRICS))
def test_metric_on_exact_samples(exact_case, name: str) -> None:
    context, samples, scores = exact_case
    metric = METRICS[name]
    per_dim_columns = (
        {f"{name}_d{axis}" for axis in range(context.dim)} if metric.per_dim_fn else set()
    )
    if not metric.applies(context):
        # Inapplicable: NaN, with the registry saying why; never a crash.
        assert metric.note
        assert np.isnan(scores[name]) and all(np.isnan(scores[c]) for c in per_dim_columns)
        return
    value = metric.fn(samples, context)
    assert_in_range(name, value)
    assert scores[name] == value
    if metric.per_dim_fn is not None:
        per_dim = metric.per_dim_fn(samples, context)
        assert per_dim.shape == (context.dim,)
        assert per_dim_columns <= set(scores)
        for axis, axis_value in enumerate(per_dim):
            assert_in_range(f"{name}_d{axis}", float(axis_value))
    if name.startswith(("modes_captured", "modes_discovered")):
        assert value <= len(context.truth.modes)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    oracle=st.sampled_from(["gaussian", "ring"]),
    samples=st.integers(MIN_SAMPLES, 30).flatmap(
        lambda n: arrays(float, (n, 2), elements=st.floats(-30.0, 30.0, width=32))
    ),
)
def test_any_finite_point_set_scores_within_range(contexts, oracle: str, samples) -> None:
    # Point masses, duplicates, lines and points outside the box included: never NaN or inf,
    # except where a metric does not apply (the ring has no modes).
    context = contexts(oracle)
    for column, value in evaluate(samples, context).items():
        if metric_info(column).applies(context):
            assert_in_range(column, value)
        else:
            assert np.isnan(value)
