"""A suite end to end, at toy sizes: runs table, listening table, summary and figures."""

from __future__ import annotations

from hdbench.experiments import store
from hdbench.experiments.plan import SweepSpec
from hdbench.experiments.suite import run_suite

DIFFUSION = {"train_steps": 30, "num_steps": 200}
TOY = SweepSpec(
    name="toy",
    oracles=["paper_like", "three_bumps"],
    methods=["humandiffusion", "data_diffusion", "humangan", "humangan_truncated"],
    seeds=2,
    method_params={
        "humandiffusion": {**DIFFUSION, "R": 2},
        "data_diffusion": DIFFUSION,
        # Restarts that never reach a mean rating of 1 (D peaks at 0.85 and 0.9): it plans one
        # try and 5 updates, 100 × (1 + 5 × 5) = 2,600 ratings, but 20 tries spend 2,000 more.
        "humangan": {
            "num_updates": 5,
            "pretrain_steps": 20,
            "initialisation": "restart",
            "restart_threshold": 1.0,
        },
        "humangan_truncated": {"pretrain_steps": 20},
    },
    budget=3000,
    num_eval_samples=40,
)


def test_suite_writes_every_row_and_reports_failures(tmp_path):
    runs = run_suite(TOY, tmp_path, n_jobs=2)
    assert len(runs) == 2 * 4 * 2 and runs["run_id"].is_unique
    # humangan's plan fits the budget, what it spends does not: error rows, and the suite goes on.
    failed = runs[runs["status"] != "ok"]
    assert set(failed["method"]) == {"humangan"}
    assert failed["error"].str.contains("budget").all()
    assert store.read_table(tmp_path, "runs").shape == runs.shape
    listening = store.read_table(tmp_path, "listening")
    assert set(listening["set"]) == {"real", "generated"}
    assert set(listening["method"]) == {"humandiffusion", "data_diffusion", "humangan_truncated"}
    summary = (tmp_path / "summary.md").read_text()
    assert "### three_bumps (2 seeds)" in summary and " ± " in summary
    assert "humangan seed 0: error: BudgetExceededError" in summary
    for name in ("metrics", "listening", "samples"):
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 0
    assert (tmp_path / "oracles" / "brackets.parquet").exists()
