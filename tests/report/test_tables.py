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
    """The cells of a method's row (its label, in bold, left out)."""
    line = next(line for line in summary.splitlines() if line.startswith(f"| **{label}**"))
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
    assert "| **exact_score** (reference) |" in summary
    row = table_row(summary, "exact_score")
    assert "**" not in row and "| 0 " in row
    ranking = next(line for line in summary.splitlines() if line.startswith("- mmd2"))
    assert "exact_score" not in ranking


def test_one_seed_tests_no_difference():
    summary = methods_markdown(runs_table(seeds=1, reference=False), BRACKETS)
    assert "Differences not tested: a single seed gives no standard error." in summary
    assert all("**" not in table_row(summary, m) for m in ("a", "b", "c"))


def test_failed_runs_are_listed_and_older_tables_without_the_reference_column_work():
    runs = runs_table(reference=False).drop(columns="reference")
    summary = methods_markdown(runs, BRACKETS)
    assert "- d seed 0: error: Boom" in summary
    assert "- mmd2 ↓: a > b ≈ c" in summary
