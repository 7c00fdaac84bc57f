"""The method suite that `make bench` runs, at reduced sizes."""

from __future__ import annotations

import pandas as pd

from hdbench.experiments import store
from hdbench.experiments.method_suite import run_method_suite
from hdbench.experiments.oracle_suite import bracket_oracle
from hdbench.oracles import load_oracle

DIFFUSION = {"train_steps": 50, "num_steps": 300, "num_samples": 50}
SMALL = {
    "humandiffusion": DIFFUSION,
    "data_diffusion": DIFFUSION,
    "humangan": {"num_updates": 10, "pretrain_steps": 50},
    "humangan_truncated": {"pretrain_steps": 50},
}


def test_suite_writes_a_row_and_a_folder_per_run(tmp_path):
    oracles = [load_oracle("paper_like"), load_oracle("three_bumps")]
    brackets = pd.concat([bracket_oracle(o, num_samples=50, num_repeats=2) for o in oracles])
    frame = run_method_suite(tmp_path, oracles, brackets, params=SMALL)
    table = store.read_table(tmp_path, "runs")
    assert len(table) == 8 and set(table["status"]) == {"ok"}
    assert table["run_id"].is_unique
    assert set(table["method"]) == set(SMALL)
    pd.testing.assert_frame_equal(table, frame, check_dtype=False)
    assert len(list((tmp_path / "runs").iterdir())) == 8
    assert (tmp_path / "samples.png").stat().st_size > 0
    summary = (tmp_path / "summary.md").read_text()
    assert "### three_bumps" in summary and "**humandiffusion**" in summary
    assert "modes_captured ↑" in summary and "floor (uniform)" in summary
