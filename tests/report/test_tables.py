"""The methods summary: which differences between methods exceed their standard errors."""

from __future__ import annotations

import pandas as pd

from hdbench.report.tables import methods_markdown

#: mmd2 per seed: a is clearly best, b and c are within noise of each other.
MMD2 = {"a": [0.010, 0.011, 0.012], "b": [0.050, 0.060, 0.070], "c": [0.055, 0.065, 0.075]}


def runs_table(seeds: int = 3, reference: bool = True) -> pd.DataFrame:
    rows = [
        {
            "oracle": "o",
            "method": method,
            "seed": seed,
            "status": "ok",
            "error": "",
            "mmd2": values[seed],
            "var_ratio_real": 1.0 + seed,
            "num_ratings": 100,
            "wall_time": 1.0,
            "reference": False,
        }
        for method, values in MMD2.items()
        for seed in range(seeds)
    ]
    if reference:
        rows += [
            {**rows[0], "method": "exact_score", "seed": seed, "mmd2": 0.0, "reference": True}
            for seed in range(seeds)
        ]
    rows.append({**rows[0], "method": "d", "status": "error", "error": "Boom", "mmd2": None})
    return pd.DataFrame(rows)


BRACKETS = pd.DataFrame(
    {
        "oracle": "o",
        "bracket": ["floor", "ceiling", "floor", "ceiling"],
        "metric": ["mmd2", "mmd2", "var_ratio_real", "var_ratio_real"],
        "mean": [0.4, 0.001, 60.0, 5.0],
    }
)


def table_row(summary: str, label: str) -> str:
    """The cells of a method's row (its label left out)."""
    line = next(line for line in summary.splitlines() if line.startswith(f"| {label} "))
    return line.split("|", 2)[2]


def test_the_best_and_the_separated_are_marked():
    summary = methods_markdown(runs_table(), BRACKETS)
    assert "- mmd2 ↓: a > b ≈ c" in summary
    assert "**0.011 ± 0.00058**" in table_row(summary, "a")
    assert "**" not in table_row(summary, "b") and "**" not in table_row(summary, "c")
    # An informational column (no better or worse) is neither ranked nor bolded.
    assert "- var_ratio_real" not in summary
    assert "**" not in table_row(summary, "a").split("|")[0]


def test_a_reference_method_is_labelled_and_not_ranked():
    summary = methods_markdown(runs_table(), BRACKETS)
    assert "| exact_score (reference) |" in summary
    row = table_row(summary, "exact_score")
    assert "**" not in row and "| 0 " in row
    ranking = next(line for line in summary.splitlines() if line.startswith("- mmd2"))
    assert "exact_score" not in ranking


def test_one_seed_tests_no_difference():
    summary = methods_markdown(runs_table(seeds=1, reference=False), BRACKETS)
    assert "Differences not tested: a single seed gives no standard error." in summary
    # Nothing is bold, method names included: one seed names no winner.
    assert "**" not in summary


def test_failed_runs_are_listed_and_older_tables_without_the_reference_column_work():
    runs = runs_table(reference=False).drop(columns="reference")
    summary = methods_markdown(runs, BRACKETS)
    assert "- d seed 0: error: Boom" in summary
    assert "- mmd2 ↓: a > b ≈ c" in summary


def collapse_runs(seeds: int) -> pd.DataFrame:
    """mean_true_d per seed: `collapsed` piles its samples on D's best point (0.95, far above the
    exact target's 0.6), `spread` sits near the ceiling; mmd2 agrees that `spread` is better."""
    values = {"collapsed": (0.95, 0.3), "spread": (0.62, 0.01)}
    rows = [
        {
            "oracle": "o",
            "method": method,
            "seed": seed,
            "status": "ok",
            "error": "",
            "mean_true_d": d + 0.001 * seed,
            "mmd2": mmd2 + 0.001 * seed,
            "num_ratings": 100,
            "wall_time": 1.0,
            "reference": False,
        }
        for method, (d, mmd2) in values.items()
        for seed in range(seeds)
    ]
    return pd.DataFrame(rows)


def brackets_with_ceiling(ceiling: bool) -> pd.DataFrame:
    kinds = ["floor", "ceiling"] if ceiling else ["floor"]
    means = {"floor": 0.1, "ceiling": 0.6}
    return pd.DataFrame(
        {
            "oracle": "o",
            "bracket": kinds,
            "metric": "mean_true_d",
            "mean": [means[k] for k in kinds],
        }
    )


def test_a_metric_that_rewards_collapse_is_ranked_by_its_distance_to_the_ceiling():
    summary = methods_markdown(collapse_runs(seeds=3), brackets_with_ceiling(True))
    assert "mean_true_d → ceiling" in summary and "mean_true_d ↑" not in summary
    assert "- mean_true_d → ceiling: spread > collapsed" in summary
    assert "**0.621" in table_row(summary, "spread")
    assert "**" not in table_row(summary, "collapsed")


def test_a_metric_that_rewards_collapse_is_unranked_without_a_ceiling():
    summary = methods_markdown(collapse_runs(seeds=3), brackets_with_ceiling(False))
    assert "- mean_true_d" not in summary
    assert "- mmd2 ↓: spread > collapsed" in summary
    row = table_row(summary, "spread")
    assert "0.621" in row and "**0.621" not in row


def test_the_listening_mean_rewards_collapse_too():
    from hdbench.report.tables import direction

    assert direction("listening_mean") == "ceiling"
    assert direction("mean_true_d") == "ceiling"
