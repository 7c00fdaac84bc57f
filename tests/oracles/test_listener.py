"""Property tests of the listener's steps: ratings stay on the slider and on its grid."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hdbench.oracles.listener import SCALES, ListenerModel, Slider, quantise

unit_values = arrays(np.float64, st.integers(1, 50), elements=st.floats(0.0, 1.0))
shifts = st.floats(-2.0, 2.0)
scales = st.sampled_from(sorted(SCALES))
listeners = st.builds(
    ListenerModel,
    noise_sd=st.floats(0.0, 1.0),
    bias_sd=st.floats(0.0, 0.5),
    lapse_rate=st.floats(0.0, 1.0),
    drift_sd=st.just(0.0),
    slider=scales.map(SCALES.__getitem__),
    differential_step=st.sampled_from([0.01, 0.25, 0.5]),
)


def on_grid(values: np.ndarray, low: float, step: float) -> bool:
    k = (values - low) / step
    return bool(np.allclose(k, np.round(k), atol=1e-9))


@settings(max_examples=200, deadline=None)
@given(listener=listeners, d=unit_values, shift=shifts, seed=st.integers(0, 2**32 - 1))
def test_ratings_lie_on_the_slider_and_its_grid(listener, d, shift, seed):
    ratings = listener.rate(d, np.float64(shift), np.random.default_rng(seed))
    slider = listener.slider
    assert ratings.shape == d.shape
    assert np.all((ratings >= slider.low) & (ratings <= slider.high))
    assert on_grid(ratings, slider.low, slider.step)


@settings(max_examples=200, deadline=None)
@given(listener=listeners, a=unit_values, seed=st.integers(0, 2**32 - 1))
def test_differential_answers_lie_in_minus_one_one_on_their_grid(listener, a, seed):
    b = a[::-1].copy()
    answers = listener.rate_difference(a, b, np.random.default_rng(seed))
    assert np.all((answers >= -1) & (answers <= 1))
    assert on_grid(answers, -1.0, listener.differential_step)


@settings(max_examples=100, deadline=None)
@given(d=unit_values, scale=scales)
def test_a_perfect_listener_only_quantises(d, scale):
    slider = SCALES[scale]
    perfect = ListenerModel(noise_sd=0, bias_sd=0, lapse_rate=0, slider=slider)
    ratings = perfect.rate(d, np.float64(0.0), np.random.default_rng(0))
    assert np.all(np.abs(ratings - slider.to_scale(d)) <= slider.step / 2 + 1e-9)


@given(d=unit_values, shift=shifts)
def test_ideal_listener_answers_d_exactly(d, shift):
    ideal = ListenerModel(ideal=True)
    np.testing.assert_array_equal(ideal.rate(d, np.float64(shift), np.random.default_rng(0)), d)
    np.testing.assert_array_equal(ideal.rate_difference(d, d[::-1], None), d[::-1] - d)


def test_quantise_rounds_to_nearest_step_and_keeps_the_ends():
    values = np.array([0.0, 0.004, 0.006, 0.995, 1.0])
    np.testing.assert_allclose(quantise(values, 0.0, 1.0, 0.01), [0.0, 0.0, 0.01, 1.0, 1.0])
    five = Slider(1.0, 5.0, 1.0)
    np.testing.assert_allclose(
        quantise(np.array([1.4, 2.6, 5.0]), five.low, five.high, 1.0), [1, 3, 5]
    )


def test_lapses_spread_answers_over_the_slider():
    always = ListenerModel(noise_sd=0, bias_sd=0, lapse_rate=1.0)
    ratings = always.rate(np.full(20_000, 0.9), np.float64(0.0), np.random.default_rng(1))
    # Uniform on [0, 1]: mean 1/2 with standard error 1/√(12 n).
    assert abs(ratings.mean() - 0.5) < 4 / np.sqrt(12 * 20_000)
