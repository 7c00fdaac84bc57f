"""A suite end to end, at toy sizes: runs table, listening table, summary and figures."""

from __future__ import annotations

from hdbench.experiments import store
from hdbench.experiments.plan import SweepSpec
from hdbench.experiments.suite import run_suite

DIFFUSION = {"train_steps": 30, "num_steps": 200}
#: A method that asks for ratings until the budget refuses it.
OVERSPENDER = "tests.experiments.hostile_methods:NeverStops"
TOY = SweepSpec(
    name="toy",
    oracles=["paper_like", "three_bumps"],
    methods=["humandiffusion", "data_diffusion", OVERSPENDER, "humangan_truncated"],
    seeds=2,
    method_params={
        "humandiffusion": {**DIFFUSION, "R": 2},
        "data_diffusion": DIFFUSION,
        "humangan_truncated": {"pretrain_steps": 20},
    },
    budget=3000,
    num_eval_samples=40,
)


def test_suite_writes_every_row_and_reports_failures(tmp_path):
    runs = run_suite(TOY, tmp_path, n_jobs=2)
    assert len(runs) == 2 * 4 * 2 and runs["run_id"].is_unique
    # A method without a plan that spends past the budget: error rows, and the suite goes on.
    failed = runs[runs["status"] != "ok"]
    assert set(failed["method"]) == {OVERSPENDER}
    assert failed["error"].str.contains("budget").all()
    assert store.read_table(tmp_path, "runs").shape == runs.shape
    listening = store.read_table(tmp_path, "listening")
    assert set(listening["set"]) == {"real", "generated"}
    assert set(listening["method"]) == {"humandiffusion", "data_diffusion", "humangan_truncated"}
    summary = (tmp_path / "summary.md").read_text()
    assert "### three_bumps (2 seeds)" in summary and " ± " in summary
    assert f"{OVERSPENDER} seed 0: error: BudgetExceededError" in summary
    for name in ("metrics", "listening", "samples"):
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 0
    assert (tmp_path / "oracles" / "brackets.parquet").exists()
