"""WORLD analysis and synthesis, and the PCA space of the synthetic /a/ corpus."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

pytest.importorskip("pyworld", reason="the speech extra is not installed")

from hdbench.errors import SpecError
from hdbench.speech import world
from hdbench.speech.corpus import CorpusSpec, load_corpus
from hdbench.speech.space import load_space
from hdbench.speech.world import analyse, steady_log_envelope, synthesise

SPEC = CorpusSpec(num_speakers=24, tokens_per_speaker=1, seed=0)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def space(cache):
    return load_space(SPEC, cache)


def log_spectral_distance_db(a: np.ndarray, b: np.ndarray) -> float:
    """RMS over frequency of 10·log10 of the power ratio of two natural-log envelopes."""
    return float(np.sqrt(np.mean((10 * np.log10(np.e) * (a - b)) ** 2)))


def test_world_round_trip_stays_within_four_db(cache, space):
    """Analysis → synthesis → analysis of corpus tokens: measured 2.9 dB on the first token;
    the bound leaves room for the spread over tokens (4 dB is still a faint change)."""
    corpus = load_corpus(SPEC, cache)
    for waveform in corpus.waveforms[:6]:
        original = analyse(waveform, space.config)
        again = analyse(synthesise(original, space.config), space.config)
        distance = log_spectral_distance_db(
            steady_log_envelope(original), steady_log_envelope(again)
        )
        assert distance < 4.0


def test_the_space_is_normalised_and_ordered(space):
    points = space.real_data(2)
    np.testing.assert_allclose(points.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(points.std(axis=0), 1.0, atol=1e-9)
    assert np.all(np.diff(space.scales) <= 1e-9)  # components by decreasing variance
    np.testing.assert_allclose(
        space.components @ space.components.T, np.eye(len(space.scales)), atol=1e-9
    )


def test_rendering_then_analysing_lands_near_the_point(space):
    """x → envelope → WORLD synthesis with the average voice → analysis → projection, over a
    5 × 5 grid on [−2, 2]² (where the real data lie). The round trip alters an envelope by about
    3 dB (above); through the PCA that was 0.25 normalised units at the median and 0.53 at worst,
    in the grid's corners, where the envelope is furthest from the average voice. Bounds: a
    median below 0.35 and every point below 0.6, a fraction of the corpus's unit spread."""
    errors = []
    for x in np.stack(np.meshgrid(*[np.linspace(-2, 2, 5)] * 2), axis=-1).reshape(-1, 2):
        waveform = space.render(x)
        back = space.project(steady_log_envelope(analyse(waveform, space.config))[None], 2)[0]
        errors.append(np.linalg.norm(back - x))
    assert np.median(errors) < 0.35
    assert max(errors) < 0.6


def test_rendering_the_same_point_twice_gives_the_same_bytes(space):
    x = np.array([0.3, -0.7])
    first, second = space.render(x), space.render(x)
    assert first.tobytes() == second.tobytes()
    assert len(first) == SPEC.sample_rate  # one second


@pytest.mark.parametrize("bad", [[np.nan, 0.0], [0.0, np.inf]])
def test_a_non_finite_point_is_refused_in_one_line(space, bad):
    with pytest.raises(SpecError, match="point: expected finite coordinates") as error:
        space.render(np.array(bad))
    assert "\n" not in str(error.value)


def test_the_fft_suits_the_lowest_f0(cache, space):
    """CheapTrick's window spans three periods of f0_floor; the FFT must hold it, and the floor
    must lie below every voice of the corpus (the lowest are men's)."""
    config = space.config
    assert config.fft_size >= 3 * config.sample_rate / config.f0_floor
    lowest = load_corpus(SPEC, cache).metadata["f0"].min()
    assert config.f0_floor < 0.75 * lowest


def test_the_space_is_cached(cache, space, monkeypatch):
    import hdbench.speech.space as module

    monkeypatch.setattr(module, "build_space", lambda *a: pytest.fail("rebuilt"))
    again = load_space(SPEC, cache)
    np.testing.assert_array_equal(again.points, space.points)


def test_missing_pyworld_is_one_line(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "pyworld":
            raise ImportError("no pyworld")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(
        SpecError, match=r"install the speech extra: pip install 'hdbench\[speech\]'"
    ):
        world.pyworld()
