"""Tables say why a metric is missing for an oracle, from the metric registry's note."""

from __future__ import annotations

import math

import pandas as pd
import pytest

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
    row = next(line for line in table.splitlines() if line.startswith("| humandiffusion "))
    assert "— (2-D only)" in row and "0.025" in row
    assert "nan" not in table
    section = brackets_markdown(brackets)
    assert "— (2-D only)" in section and "nan" not in section


def test_an_oracle_without_exact_target_is_drawn_with_its_real_data(tmp_path) -> None:
    pytest.importorskip("pyworld", reason="the speech extra is not installed")
    from hdbench.oracles import Oracle
    from hdbench.oracles.spec import OracleSpec
    from hdbench.report.oracle_figure import plot_oracle
    from hdbench.validation import validate

    spec = {
        "name": "vowel_d8",
        "description": "the speech space at 8 components",
        "acceptability": {"kind": "vowel", "dim": 8},
        "real_data": {"num": 50},
    }
    oracle = Oracle.from_spec(validate(OracleSpec, spec, "test"))
    assert oracle.truth.sampling_limit() is not None
    path = plot_oracle(oracle, tmp_path / "vowel_d8.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
