"""HumanGAN: its gradient, its collapse, its trajectory and what it spends."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.estimators.nes import NESEstimator
from hdbench.experiments.run import RunSpec, execute
from hdbench.methods.surrogate import SurrogatePanel
from hdbench.oracles import SCALES, TrialBatch, collect, load_oracle
from hdbench.oracles.catalog import BUNDLED_DIR


def test_differential_nes_points_uphill_on_d():
    """With the noisy default listener, ĝ · ∇D > 0 on average over points and trials."""
    oracle = load_oracle("paper_like")
    rng = np.random.default_rng(0)
    x = oracle.truth.mean + rng.normal(0, 2.0, (400, 2))
    nes = NESEstimator(1.0, 5)
    panel = oracle.panel(seed=0)
    inner = []
    for _ in range(5):
        delta = nes.perturbations(len(x), 2, rng)
        answers = collect(panel, panel.submit(nes.differential_trials(x, delta)))
        estimate = nes.gradient(nes.differential_differences(answers), delta)
        inner.append(np.einsum("nd,nd->n", estimate, oracle.truth.grad(x)))
    inner = np.concatenate(inner)
    assert inner.mean() > 4 * inner.std(ddof=1) / np.sqrt(len(inner))


@pytest.fixture(scope="module")
def three_bumps_ideal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracles")
    spec = (BUNDLED_DIR / "three_bumps.toml").read_text() + "\n[listener]\nideal = true\n"
    (folder / "three_bumps_ideal.toml").write_text(spec)
    return load_oracle(folder / "three_bumps_ideal.toml")


def test_without_truncation_it_collapses_onto_the_highest_bump(three_bumps_ideal):
    oracle = three_bumps_ideal
    result = execute(RunSpec(oracle=oracle.name, method="humangan"), oracle, raise_errors=True)
    highest = oracle.truth.modes[0]  # peak 0.9, the highest of the three
    offsets = result.samples - highest.location
    mahalanobis = np.einsum("ni,ij,nj->n", offsets, np.linalg.inv(highest.cov), offsets)
    assert np.all(mahalanobis <= 9.0)  # every sample within 3 sd of the highest bump
    assert result.row["modes_captured"] == 1.0
    assert result.row["collapse_ratio"] < 0.05


def test_truncated_run_keeps_its_spread():
    result = execute(RunSpec(oracle="three_bumps", method="humangan_truncated"), raise_errors=True)
    converged = execute(RunSpec(oracle="three_bumps", method="humangan"), raise_errors=True)
    assert result.row["collapse_ratio"] > 10 * converged.row["collapse_ratio"]


def test_trajectory_is_recorded_per_update_and_seeded():
    spec = RunSpec(oracle="ring_of_8", method="humangan", params={"num_updates": 12}, seed=3)
    first, second = execute(spec, raise_errors=True), execute(spec, raise_errors=True)
    assert first.trace["step"].tolist() == list(range(13))
    assert {"mmd2", "collapse_ratio", "modes_captured", "mean_true_d"} <= set(first.trace.columns)
    np.testing.assert_array_equal(first.trace.to_numpy(), second.trace.to_numpy())
    np.testing.assert_array_equal(first.samples, second.samples)


@pytest.mark.parametrize("num_updates", [0, 3, 7])
def test_panel_discriminator_spends_updates_times_n_times_r(num_updates):
    params = {"num_updates": num_updates, "num_latent": 50, "R": 4}
    row = execute(RunSpec(oracle="paper_like", method="humangan", params=params)).row
    assert row["num_ratings"] == num_updates * 50 * 4


def test_surrogate_discriminator_spends_no_ratings():
    rows = [
        execute(
            RunSpec(
                oracle="paper_like",
                method="humangan",
                params={"discriminator": "surrogate", "num_updates": n},
            )
        ).row
        for n in (1, 6)
    ]
    # Only the score network the surrogate comes from was paid for: HumanDiffusion's 12,000.
    assert rows[0]["num_ratings"] == rows[1]["num_ratings"] == 100 * 3 * 20 * 2
    surrogate = SurrogatePanel(lambda x: np.full(len(x), 0.5), 2, SCALES["mushra"])
    answers = collect(
        surrogate, surrogate.submit(TrialBatch.paired(np.zeros((4, 2)), np.ones((4, 2))))
    )
    assert surrogate.num_ratings_spent == 0 and surrogate.num_queries == 8
    np.testing.assert_array_equal(answers.values, 50.0)


def test_original_architecture_and_restart_initialisation_run():
    params = {"architecture": "humangan", "initialisation": "restart", "num_updates": 4}
    row = execute(RunSpec(oracle="paper_like", method="humangan", params=params)).row
    assert row["status"] == "ok"
    # Each initialisation the panel judged cost N ratings, on top of the updates.
    assert (row["num_ratings"] - 4 * 100 * 5) % 100 == 0 and row["num_ratings"] > 4 * 100 * 5
