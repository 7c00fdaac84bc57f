"""evaluate: which columns appear for which oracle; floor_and_ceiling: each metric's bracket."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hdbench.errors import SpecError
from hdbench.metrics import METRICS, evaluate, floor_and_ceiling, metric_info
from hdbench.metrics.discovery import modes_without_real_data
from hdbench.metrics.evaluate import BRACKET_COLUMNS

MODE_METRICS = {
    "modes_captured",
    "modes_captured_strict",
    "high_quality_share",
    "mode_tv",
    "mode_mass_tv",
}
GRID_METRICS = {"grid_coverage", "reverse_kl"}
DISCOVERY_MODE_METRICS = {"modes_discovered", "modes_discovered_strict"}
DISCOVERY_GRID_METRICS = {"discovery_mass", "discovery_coverage"}
PER_DIM = {"var_ratio_real", "var_ratio_target"}

#: Metrics with a direction that the floor does not fail, and why (tested in their own module).
NOT_BRACKETED = {
    # k-NN recall is fooled by spread-out samples: uniform samples over the box have large
    # k-NN balls that swallow the target (Naeem et al. 2020); see test_prdc.py.
    "prdc_recall",
}


def inapplicable(dim: int, has_modes: bool, discovers: bool) -> set[str]:
    missing = (set() if has_modes else MODE_METRICS) | (set() if dim == 2 else GRID_METRICS)
    missing |= set() if discovers and has_modes else DISCOVERY_MODE_METRICS
    return missing | (set() if discovers and dim == 2 else DISCOVERY_GRID_METRICS)


@pytest.mark.parametrize(
    ("oracle", "dim", "has_modes", "discovers"),
    [
        ("gaussian", 2, True, False),
        ("ring_of_8", 2, True, False),
        ("ring", 2, False, False),
        ("gaussian_3d", 3, True, False),
        # Real data on one of three bumps: the discovery metrics appear.
        ("three_bumps_discover", 2, True, True),
    ],
)
def test_every_column_appears_and_inapplicable_ones_are_nan(
    contexts, oracle: str, dim: int, has_modes: bool, discovers: bool
) -> None:
    context = contexts(oracle)
    scores = evaluate(context.truth.sample(200, np.random.default_rng(0)), context)
    per_dim = {f"{name}_d{axis}" for name in PER_DIM for axis in range(dim)}
    assert set(scores) == set(METRICS) | per_dim
    missing = inapplicable(dim, has_modes, discovers)
    assert {column for column, value in scores.items() if np.isnan(value)} == missing
    assert all(isinstance(value, float) for value in scores.values())
    for column in scores:
        assert metric_info(column).name in METRICS
    for name in missing:
        assert METRICS[name].note in {
            "2-D only",
            "needs the target's modes",
            "needs the target's modes and exact samples",
            "needs modes without real data",
            "2-D, with target mass far from the real data",
        }


@pytest.mark.parametrize(
    "samples",
    [np.zeros((50, 3)), np.zeros(50), np.zeros((3, 2)), np.full((50, 2), np.inf)],
    ids=["wrong-dim", "flat", "too-few", "infinite"],
)
def test_bad_samples_raise_spec_error(contexts, samples: np.ndarray) -> None:
    with pytest.raises(SpecError, match=r"^samples: expected at least 6 finite points of shape"):
        evaluate(samples, contexts("gaussian"))


def test_floor_and_ceiling_is_a_tidy_reproducible_table(contexts) -> None:
    context = contexts("three_bumps")
    table = floor_and_ceiling(context, num_samples=100, num_repeats=3, seed=7)
    assert list(table.columns) == BRACKET_COLUMNS
    scores = evaluate(context.truth.sample(100, np.random.default_rng(0)), context)
    for bracket in ("floor", "ceiling"):
        assert sorted(table.loc[table.bracket == bracket, "metric"]) == sorted(scores)
    # NaN exactly where a metric does not apply (here: nothing to discover, the real data
    # being exact target samples).
    applies = table["metric"].map(lambda column: metric_info(column).applies(context))
    assert set(table.loc[~applies, "metric"]) == DISCOVERY_MODE_METRICS | DISCOVERY_GRID_METRICS
    assert table.loc[~applies, ["mean", "sd"]].isna().all().all()
    assert not table.loc[applies, ["mean", "sd"]].isna().any().any()
    assert (table.loc[applies, "sd"] >= 0).all()
    assert (table["num_samples"] == 100).all() and (table["num_repeats"] == 3).all()
    pd.testing.assert_frame_equal(table, floor_and_ceiling(context, 100, 3, seed=7))
    assert not table.equals(floor_and_ceiling(context, 100, 3, seed=8))


def test_floor_and_ceiling_rejects_bad_sizes(contexts) -> None:
    with pytest.raises(SpecError, match=r"^num_repeats: expected at least 2"):
        floor_and_ceiling(contexts("gaussian"), 100, num_repeats=1)
    with pytest.raises(SpecError, match=r"^num_samples: expected at least 6"):
        floor_and_ceiling(contexts("gaussian"), 5)


def best_attainable(column: str, num_modes: int, num_unvisited: int) -> float | None:
    """The best value a metric can take, which both brackets may reach; None otherwise.
    `num_unvisited` is the number of modes without real data."""
    counts = {
        "modes_captured": num_modes,
        "modes_captured_strict": num_modes,
        "modes_discovered": num_unvisited,
        "modes_discovered_strict": num_unvisited,
        # Uniform samples over the box stay inside the box widened 1.5×, as exact samples do.
        "escaped_share": 0.0,
    }
    return counts.get(column, 0.0 if column == "mode_tv" and num_modes == 1 else None)


def badness(direction: str, value: float, ceiling: float) -> float:
    """How far a value is from ideal in its direction (for "ceiling", from the exact target's
    value `ceiling`): larger is worse."""
    return {
        "higher": -value,
        "lower": value,
        "one": abs(value - 1.0),
        "ceiling": abs(value - ceiling),
    }[direction]


@pytest.mark.parametrize(
    ("oracle", "num_samples", "num_repeats"),
    [
        ("gaussian", 500, 5),
        ("three_bumps", 500, 5),
        # Few samples, so that uniform samples miss some of the 25 modes; many repeats, because
        # the two brackets' mode TVs are then close.
        ("grid_5x5", 100, 20),
        ("plateau", 500, 5),
        ("ring", 500, 5),
        ("banana", 500, 5),
        ("gaussian_3d", 500, 5),
        ("three_bumps_discover", 500, 5),
    ],
)
def test_floor_is_worse_than_ceiling(
    contexts, oracle: str, num_samples: int, num_repeats: int
) -> None:
    context = contexts(oracle)
    table = floor_and_ceiling(context, num_samples, num_repeats=num_repeats, seed=0)
    wide = table.pivot(index="metric", columns="bracket", values=["mean", "sd"])
    num_modes = len(context.truth.modes)
    num_unvisited = int(modes_without_real_data(context).sum()) if num_modes else 0
    checked = 0
    for column, row in wide.iterrows():
        metric = metric_info(column)
        if metric.direction == "none" or metric.name in NOT_BRACKETED:
            continue
        if not metric.applies(context):
            assert row["mean"].isna().all(), column
            continue
        checked += 1
        floor, ceiling = row["mean", "floor"], row["mean", "ceiling"]
        if floor == ceiling:
            # Only a mode count (or a one-mode TV) both brackets saturate may tie, at its best.
            assert best_attainable(column, num_modes, num_unvisited) == ceiling, column
            continue
        assert metric.is_better(ceiling, floor, ceiling=ceiling), (column, floor, ceiling)
        # ... by more than the noise of the two means.
        noise = np.sqrt((row["sd", "floor"] ** 2 + row["sd", "ceiling"] ** 2) / num_repeats)
        kind = metric.direction
        gap = badness(kind, floor, ceiling) - badness(kind, ceiling, ceiling)
        assert gap > 2 * noise, (column, gap, noise)
    assert checked >= 12
