"""The simulated panel: pairs, budget, seeds, drift, the asynchronous protocol."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hdbench.errors import BudgetExceededError, RatingsNotReadyError, StimulusError
from hdbench.oracles import ListenerModel, SimulatedPanel, Slider, TrialBatch, collect, load_oracle

ORACLE = load_oracle("paper_like")


def make_panel(listener: ListenerModel, seed: int = 0, num_listeners: int = 105, budget=None):
    truth = ORACLE.truth
    rng = np.random.default_rng(seed)
    return SimulatedPanel(truth, truth.dim, listener, num_listeners, rng, budget)


def ask(panel, batch):
    return collect(panel, panel.submit(batch))


def test_pair_shares_the_listeners_bias_which_cancels_in_the_difference():
    listener = ListenerModel(noise_sd=0, bias_sd=0.05, lapse_rate=0, slider=Slider(0, 1, 0))
    panel = make_panel(listener)
    rng = np.random.default_rng(1)
    # Points where D lies in about [0.5, 0.85], away from both ends of the slider.
    a = ORACLE.truth.mean + rng.normal(0, 0.5, (500, 2))
    b = ORACLE.truth.mean + rng.normal(0, 0.5, (500, 2))
    ratings = ask(panel, TrialBatch.paired(a, b)).values
    truth_a, truth_b = ORACLE.truth(a), ORACLE.truth(b)
    assert np.all((ratings > 0) & (ratings < 1))
    assert np.abs(ratings[:, 0] - truth_a).max() > 0.03  # each rating is biased ...
    np.testing.assert_allclose(ratings[:, 0] - ratings[:, 1], truth_a - truth_b, atol=1e-12)


def test_differential_answers_estimate_the_difference_of_d():
    panel = make_panel(ListenerModel(ideal=True))
    a, b = ORACLE.real_data, ORACLE.real_data + 0.5
    answers = ask(panel, TrialBatch.differential(a, b))
    np.testing.assert_allclose(answers.values[:, 0], ORACLE.truth(b) - ORACLE.truth(a))
    assert answers.num_ratings == len(a)


def test_same_seed_same_ratings_other_seed_other_ratings():
    batch = TrialBatch.paired(ORACLE.real_data, ORACLE.real_data[::-1])
    first = ask(ORACLE.panel(seed=3), batch).values
    np.testing.assert_array_equal(first, ask(ORACLE.panel(seed=3), batch).values)
    assert not np.array_equal(first, ask(ORACLE.panel(seed=4), batch).values)


def test_overspending_request_raises_and_changes_nothing():
    panel = ORACLE.panel(seed=5, budget=250)
    fresh = ORACLE.panel(seed=5, budget=250)
    ask(panel, TrialBatch.absolute(ORACLE.real_data))
    ask(fresh, TrialBatch.absolute(ORACLE.real_data))
    too_big = TrialBatch.paired(ORACLE.real_data, ORACLE.real_data)  # 200 ratings > 150 left
    with pytest.raises(BudgetExceededError, match="budget"):
        panel.submit(too_big)
    assert panel.num_ratings_spent == 100
    # No random number was drawn either: the next batch is rated as on an untouched panel.
    small = TrialBatch.absolute(ORACLE.real_data[:50])
    np.testing.assert_array_equal(ask(panel, small).values, ask(fresh, small).values)
    assert panel.num_ratings_spent == 150


def test_every_rating_is_counted():
    panel = ORACLE.panel(seed=0)
    ask(panel, TrialBatch.absolute(ORACLE.real_data[:10]))
    ask(panel, TrialBatch.paired(ORACLE.real_data[:7], ORACLE.real_data[:7]))
    ask(panel, TrialBatch.differential(ORACLE.real_data[:5], ORACLE.real_data[:5]))
    assert panel.num_ratings_spent == 10 + 14 + 5


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_stimulus_is_refused(bad):
    x = ORACLE.real_data.copy()
    x[7, 1] = bad
    panel = ORACLE.panel(seed=0)
    with pytest.raises(StimulusError, match="trial 7"):
        panel.submit(TrialBatch.absolute(x))
    assert panel.num_ratings_spent == 0


def test_wrong_dimension_is_refused():
    with pytest.raises(StimulusError, match="dimension 2"):
        ORACLE.panel(seed=0).submit(TrialBatch.absolute(np.zeros((4, 3))))
    with pytest.raises(StimulusError, match="one shape"):
        TrialBatch.paired(np.zeros((4, 2)), np.zeros((5, 2)))


def test_far_from_the_acceptable_region_ratings_sit_at_the_bottom_and_the_gradient_vanishes():
    """Fig. 4 of Ueda et al.: far away, x + Δ and x − Δ sound equally bad."""
    panel = ORACLE.panel(seed=0)
    rng = np.random.default_rng(2)
    far = np.array([40.0, -30.0]) + rng.normal(0, 1, (5000, 2))
    delta = rng.normal(0, 1, (5000, 2))
    ratings = ask(panel, TrialBatch.paired(far + delta, far - delta)).values
    # D ≈ 0: about half the answers (bias + noise < 0) are clipped to the bottom of the slider.
    assert (ratings == 0).mean() > 0.45
    assert ratings.mean() < 0.1
    nes = ((ratings[:, 0] - ratings[:, 1])[:, None] * delta).mean(axis=0) / 2
    # Only lapses and noise remain: the estimate is zero within its standard error.
    stderr = ((ratings[:, 0] - ratings[:, 1])[:, None] * delta).std(axis=0) / 2 / np.sqrt(5000)
    assert np.all(np.abs(nes) < 4 * stderr + 1e-12)


def test_drift_is_a_random_walk_that_carries_over_batches():
    listener = ListenerModel(
        noise_sd=0, bias_sd=0, lapse_rate=0, drift_sd=0.01, slider=Slider(0, 1, 0)
    )
    panel = make_panel(listener, num_listeners=1)
    x = np.tile(ORACLE.truth.mean, (400, 1))
    first = ask(panel, TrialBatch.absolute(x)).values[:, 0]
    second = ask(panel, TrialBatch.absolute(x[:1])).values[:, 0]
    steps = np.diff(np.r_[ORACLE.truth.peak, first, second])
    # 401 steps of N(0, 0.01²): their sd is within 4 standard errors of 0.01.
    assert abs(steps.std() - 0.01) < 4 * 0.01 / np.sqrt(2 * len(steps))
    assert abs(second[0] - first[-1]) < 0.05


def test_ratings_come_back_through_poll_and_records_are_plain():
    panel = ORACLE.panel(seed=0)
    batch = TrialBatch.paired(ORACLE.real_data[:3], ORACLE.real_data[:3] + 1)
    assert panel.poll("b99") is None
    with pytest.raises(RatingsNotReadyError):
        collect(panel, "b99")
    batch_id = panel.submit(batch)
    assert panel.poll(batch_id).values.shape == (3, 2)
    records = json.loads(json.dumps(batch.to_records(batch_id)))
    assert records[2]["trial_id"] == f"{batch_id}-2"
    assert records[0]["kind"] == "paired" and len(records[0]["stimuli"]) == 2


def test_mushra_ratings_normalise_back_to_the_unit_interval():
    from hdbench.oracles import SCALES

    panel = make_panel(ListenerModel(slider=SCALES["mushra"]))
    ratings = ask(panel, TrialBatch.absolute(ORACLE.real_data))
    assert ratings.values.max() > 1
    assert np.all((ratings.normalised() >= 0) & (ratings.normalised() <= 1))
