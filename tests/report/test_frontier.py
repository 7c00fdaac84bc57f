"""The cost–quality frontier: the best grid point at each budget, over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hdbench.report.sweep_figures import frontier_points, plot_frontier


def runs_table() -> pd.DataFrame:
    """Two seeds of a method at two budgets (R) and two λ, and of one that spends nothing; and
    a failed run."""
    rows = []
    for seed in (0, 1):
        for r, ratings in ((2, 1000), (4, 2000)):
            for lam, base in ((0.1, 0.05), (1.0, 0.02)):
                rows.append(
                    {
                        "method": "hd",
                        "param_R": r,
                        "param_lambda": lam,
                        "num_ratings": ratings,
                        "mmd2": base / r + 0.001 * seed,
                        "var_ratio_target": 2.0 - lam / 2,
                    }
                )
        rows.append(
            {
                "method": "control",
                "param_R": np.nan,
                "param_lambda": np.nan,
                "num_ratings": 0,
                "mmd2": 0.1 + 0.01 * seed,
                "var_ratio_target": 0.2,
            }
        )
    rows.append(
        {
            "method": "hd",
            "param_R": 8,
            "param_lambda": 1.0,
            "num_ratings": 4000,
            "mmd2": np.nan,
            "var_ratio_target": np.nan,
            "status": "error",
        }
    )
    table = pd.DataFrame(rows).assign(oracle="o", reference=False)
    return table.fillna({"status": "ok"})


def test_the_frontier_keeps_the_best_setting_at_each_budget():
    points = frontier_points(runs_table(), ["R", "lambda"], "mmd2")
    hd = points[points["method"] == "hd"].set_index("num_ratings")
    assert list(hd.index) == [1000, 2000]  # the failed run at 4,000 is not a point
    # λ = 1 is better at both budgets: mean over seeds of 0.02 / R + 0.001 · seed
    assert np.allclose(hd["mean"], [0.01 + 0.0005, 0.005 + 0.0005])
    assert np.allclose(hd["se"], 0.0005)  # sd of (0, 0.001) over √2
    control = points[points["method"] == "control"]
    assert control["num_ratings"].tolist() == [0] and np.isclose(control["mean"].item(), 0.105)


def test_closer_to_one_picks_the_ratio_nearest_one():
    points = frontier_points(runs_table(), ["R", "lambda"], "var_ratio_target")
    hd = points[points["method"] == "hd"]
    assert np.allclose(hd["mean"], 1.5)  # λ = 1 gives 1.5, λ = 0.1 gives 1.95


def test_the_frontier_figure_is_drawn(tmp_path):
    path = plot_frontier(runs_table(), ["R", "lambda"], tmp_path / "frontier.png")
    assert path is not None and path.stat().st_size > 10_000


def test_a_metric_that_rewards_collapse_is_shown_at_the_best_setting_by_mmd2():
    """mean_true_d is highest where mmd2 is worst (λ = 0.1); higher is not better, so the
    frontier shows it at the setting mmd2 picks (λ = 1)."""
    runs = runs_table()
    runs["mean_true_d"] = np.where(runs["param_lambda"] == 0.1, 0.9, 0.6)
    points = frontier_points(runs, ["R", "lambda"], "mean_true_d")
    hd = points[points["method"] == "hd"]
    assert np.allclose(hd["mean"], 0.6)
