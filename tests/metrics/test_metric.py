"""The metric registry: metadata of every column, sample checks, directions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.metrics import METRICS, metric_info
from hdbench.metrics.metric import MIN_SAMPLES, check_samples, register_metric

EXPECTED_METRICS = {
    "var_ratio_real",
    "var_ratio_target",
    "mean_true_d",
    "precision_d",
    "grid_coverage",
    "prdc_precision",
    "prdc_recall",
    "prdc_density",
    "prdc_coverage",
    "modes_captured",
    "modes_captured_strict",
    "high_quality_share",
    "mode_tv",
    "mode_mass_tv",
    "collapse_ratio",
    "mmd2",
    "mmd2_multiscale",
    "ksd2",
    "escaped_share",
    "energy_distance",
    "sliced_w2",
    "reverse_kl",
    "modes_discovered",
    "modes_discovered_strict",
    "discovery_mass",
    "discovery_coverage",
}


def test_every_family_is_registered() -> None:
    assert set(METRICS) == EXPECTED_METRICS


@pytest.mark.parametrize("name", list(METRICS))
def test_metadata_is_complete(name: str) -> None:
    metric = METRICS[name]
    assert metric.name == name
    assert metric.direction in {"higher", "lower", "one", "ceiling", "none"}
    assert metric.low < metric.high
    assert metric.description and "\n" not in metric.description
    if metric.direction == "one":
        assert metric.low <= 1.0 <= metric.high


def test_metric_info_maps_per_dim_columns_to_their_total() -> None:
    assert metric_info("var_ratio_target_d1") is METRICS["var_ratio_target"]
    assert metric_info("var_ratio_real_d12") is METRICS["var_ratio_real"]
    assert metric_info("mean_true_d") is METRICS["mean_true_d"]


@pytest.mark.parametrize("column", ["mmd2_d0", "mean_true_d0", "var_ratio_target_dx", "nope"])
def test_metric_info_rejects_unknown_columns(column: str) -> None:
    with pytest.raises(SpecError, match="unknown metric"):
        metric_info(column)


def test_per_dim_names_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="per-dimension"):
        register_metric("thing_d2", "higher", 0.0, 1.0, "a clash")
    assert "thing_d2" not in METRICS


def test_is_better_follows_the_direction() -> None:
    assert METRICS["grid_coverage"].is_better(0.6, 0.5)
    # The mean true D rewards collapse: closer to the exact target's value is better.
    assert METRICS["mean_true_d"].is_better(0.62, 0.95, ceiling=0.6)
    assert not METRICS["mean_true_d"].is_better(0.95, 0.62, ceiling=0.6)
    with pytest.raises(ValueError, match="closer to the ceiling"):
        METRICS["mean_true_d"].is_better(0.6, 0.5)
    assert METRICS["mmd2"].is_better(0.01, 0.02)
    assert METRICS["var_ratio_target"].is_better(0.9, 1.2)
    assert not METRICS["var_ratio_target"].is_better(1.2, 0.9)
    with pytest.raises(ValueError, match="informational"):
        METRICS["var_ratio_real"].is_better(1.0, 2.0)


@pytest.mark.parametrize(
    ("samples", "got"),
    [
        (np.zeros((10, 3)), r"got shape \(10, 3\)"),
        (np.zeros(10), r"got shape \(10,\)"),
        (np.zeros((MIN_SAMPLES - 1, 2)), rf"got shape \({MIN_SAMPLES - 1}, 2\)"),
        (np.full((10, 2), np.nan), "got 20 non-finite values"),
        (np.array([[0.0, math.inf]] * 10), "got 10 non-finite values"),
        ([["a", "b"]] * 10, "got an object of type list"),
    ],
)
def test_bad_samples_raise_one_line_spec_errors(samples: np.ndarray, got: str) -> None:
    with pytest.raises(SpecError, match=r"^samples: expected at least 6 finite points") as error:
        check_samples(samples, 2)
    assert "\n" not in str(error.value)
    assert "of shape (n, 2)" in str(error.value)
    assert error.match(got)


def test_good_samples_pass_as_floats() -> None:
    points = check_samples([[1, 2]] * MIN_SAMPLES, 2)
    assert points.dtype == float and points.shape == (MIN_SAMPLES, 2)
