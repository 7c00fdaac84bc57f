"""Tables say why a metric is missing for an oracle, from the metric registry's note."""

from __future__ import annotations

import math

import pandas as pd

from hdbench.report.tables import brackets_markdown, methods_markdown


def test_methods_table_marks_grid_coverage_2d_only_above_dim_2() -> None:
    runs = pd.DataFrame(
        {
            "oracle": "gauss_d8",
            "method": ["humandiffusion", "humandiffusion"],
            "seed": [0, 1],
            "status": "ok",
            "mmd2": [0.02, 0.03],
            "grid_coverage": math.nan,
            "modes_captured": [1.0, 1.0],
            "num_ratings": 12_000,
            "wall_time": 3.0,
        }
    )
    brackets = pd.DataFrame(
        {
            "oracle": "gauss_d8",
            "bracket": ["floor", "ceiling", "floor", "ceiling"],
            "metric": ["mmd2", "mmd2", "grid_coverage", "grid_coverage"],
            "mean": [0.5, 0.001, math.nan, math.nan],
            "sd": 0.0,
        }
    )
    table = methods_markdown(runs, brackets)
    row = next(line for line in table.splitlines() if "**humandiffusion**" in line)
    assert "— (2-D only)" in row and "0.025" in row
    assert "nan" not in table
    section = brackets_markdown(brackets)
    assert "— (2-D only)" in section and "nan" not in section
