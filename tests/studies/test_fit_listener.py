"""`hdbench ledger fit-listener`: the listener model recovered from a simulated panel's ledger."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.cli import main
from hdbench.oracles import TrialBatch, load_oracle
from hdbench.oracles.spec import ListenerSpec
from hdbench.studies.fit_listener import fit_ledger, slider_step
from hdbench.studies.ledger import Ledger

NUM_STIMULI, REPEATS = 30, 100


@pytest.fixture(scope="module")
def panel_ledger(tmp_path_factory):
    """A ledger of 3,000 absolute ratings by paper_like's simulated panel (105 listeners, noise
    0.1, bias 0.05, lapses 0.02, step 0.01): 30 stimuli spread over D, each rated 100 times, as
    hidden references are shown again and again."""
    oracle = load_oracle("paper_like")
    stimuli = np.repeat(oracle.real_data[:NUM_STIMULI] * 1.5, REPEATS, axis=0)
    batch = TrialBatch.absolute(np.random.default_rng(1).permutation(stimuli))
    panel = oracle.panel(seed=3)
    ratings = panel.poll(panel.submit(batch))
    path = tmp_path_factory.mktemp("fit") / "ledger.sqlite"
    with Ledger(path) as ledger:
        slider = oracle.listener.slider
        ledger.set_meta("slider", [slider.low, slider.high])
        batch_id = ledger.add_batch("method", 0, batch)
        ledger.add_ratings(batch_id, ratings, "simulated:paper_like")
    return path, oracle.listener


@pytest.fixture(scope="module")
def fitted(panel_ledger):
    return fit_ledger(panel_ledger[0], source="simulated")


def test_each_parameter_is_recovered_within_two_standard_errors(panel_ledger, fitted):
    """The SEs come from the observed information; at a fixed seed the estimates must fall
    within 2 of them (a correct estimator misses that by chance about 1 time in 20 per
    parameter, and the seed is fixed, so this is a check on bias, not on luck)."""
    _, listener = panel_ledger
    fit = fitted
    truth = {
        "noise_sd": listener.noise_sd,
        "bias_sd": listener.bias_sd,
        "lapse_rate": listener.lapse_rate,
    }
    for name, value in truth.items():
        estimate, se = getattr(fit, name), fit.se[name]
        assert 0 < se < value, (name, se)
        assert abs(estimate - value) < 2 * se, (name, estimate, value, se)
    assert fit.step == pytest.approx(listener.slider.step)
    assert fit.num_stimuli == NUM_STIMULI and fit.num_ratings == NUM_STIMULI * REPEATS


def test_the_table_written_is_one_an_oracle_spec_accepts(fitted, panel_ledger, tmp_path, capsys):
    import tomllib

    from hdbench.studies.fit_listener import listener_toml

    table = tomllib.loads(listener_toml(fitted))["listener"]
    spec = ListenerSpec(**table)
    assert spec.noise_sd == pytest.approx(fitted.noise_sd, abs=1e-4)
    assert spec.slider().step == pytest.approx(0.01)
    assert "noise_sd" in fitted.table() and "lapse_rate" in fitted.table()
    path, out = panel_ledger[0], tmp_path / "listener.toml"
    assert main(["ledger", "fit-listener", str(path), "--out", str(out)]) == 2
    assert "no absolute or paired ratings with source 'person'" in capsys.readouterr().err


def test_the_step_is_the_coarsest_grid_the_ratings_lie_on():
    assert slider_step(np.array([0.0, 0.25, 0.5, 1.0])) == 0.25
    assert slider_step(np.array([0.0, 0.13, 0.99])) == pytest.approx(0.01)
    assert slider_step(np.array([np.pi / 10])) == 1e-3
