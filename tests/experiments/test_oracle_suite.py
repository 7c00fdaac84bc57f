"""The oracle suite that `make bench` runs."""

from __future__ import annotations

import pandas as pd

from hdbench.experiments import store
from hdbench.experiments.oracle_suite import bracket_oracle, run_oracle_suite
from hdbench.oracles import find_specs, load_all, load_oracle
from hdbench.report.tables import direction


def test_brackets_put_the_floor_below_the_ceiling():
    frame = bracket_oracle(load_oracle("paper_like"), num_samples=100, num_repeats=3)
    means = frame.pivot(index="metric", columns="bracket", values="mean")
    assert set(means.columns) == {"floor", "real_data", "ceiling"}
    assert means.loc["mmd2", "floor"] > means.loc["mmd2", "ceiling"]
    assert means.loc["listening_mean", "floor"] < means.loc["listening_mean", "ceiling"]
    # The real data are narrower than the acceptable region, as in the paper.
    assert means.loc["var_ratio_target", "real_data"] < 0.5
    assert frame["fingerprint"].nunique() == 1


def test_suite_writes_a_table_a_summary_and_a_figure_per_oracle(tmp_path):
    # Small sets: this checks what is written, not the brackets' values (tested above).
    frame = run_oracle_suite(tmp_path, load_all(), num_samples=100)
    folder = tmp_path / "oracles"
    names = set(find_specs())
    assert {p.stem for p in folder.glob("*.png")} == names
    table = store.read_table(folder, "brackets")
    pd.testing.assert_frame_equal(table, frame)
    assert set(table["oracle"]) == names
    summary = (folder / "summary.md").read_text()
    assert all(f"### {name}" in summary for name in names)
    assert "mmd2 ↓" in summary and "prdc_recall ↑" in summary


def test_every_column_has_a_direction():
    frame = bracket_oracle(load_oracle("three_bumps"), num_samples=50, num_repeats=2)
    kinds = {"higher", "lower", "one", "ceiling", "none"}
    assert {direction(column) for column in frame["metric"]} <= kinds
    assert direction("listening_mean") == "ceiling"  # a collapse onto D's best point maximises it
