"""The LPC formant tracker: known answers on synthetic vowels, frame layout, silence, bad input.

Tolerances. Over 20 seeds of these two vowels the tracker's worst errors were 2 % (F0 120 Hz) and
3.3 % (F0 220 Hz, F1 pulled towards the 4th harmonic at 880 Hz). The bounds, 5 % for the low
voice and 8 % for F1 / 5 % for F2–F3 of the high voice, leave room for that harmonic bias while
still failing a tracker that picks a wrong pole (an error of hundreds of Hz).
"""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.speech.corpus import VoiceQuality, synthesise_vowel
from hdbench.speech.formants import LPCSettings, measure_formants, track_formants

SAMPLE_RATE = 16_000


def vowel(f0: float, formants: tuple[float, ...], bandwidths: tuple[float, ...]) -> np.ndarray:
    """One second of a modal-voice vowel (16000,), seed 0."""
    rng = np.random.default_rng(0)
    return synthesise_vowel(f0, formants, bandwidths, VoiceQuality(), SAMPLE_RATE, 1.0, rng)


LOW = vowel(120.0, (700.0, 1200.0, 2600.0, 3500.0), (80.0, 90.0, 120.0, 150.0))
HIGH = vowel(220.0, (850.0, 1500.0, 2800.0, 4000.0), (90.0, 100.0, 130.0, 165.0))


def test_low_voice_formants_within_5_percent() -> None:
    measured = measure_formants(LOW, SAMPLE_RATE)
    assert measured.shape == (3,)
    np.testing.assert_allclose(measured, [700.0, 1200.0, 2600.0], rtol=0.05)


def test_high_voice_formants_within_harmonic_bias() -> None:
    measured = measure_formants(HIGH, SAMPLE_RATE)
    np.testing.assert_allclose(measured[0], 850.0, rtol=0.08)
    np.testing.assert_allclose(measured[1:], [1500.0, 2800.0], rtol=0.05)


def test_track_covers_the_steady_segment() -> None:
    track = track_formants(LOW, SAMPLE_RATE, num_formants=2)
    # 0.3–0.7 s is 6400 samples: (6400 − 400) // 160 + 1 = 38 frames of 25 ms every 10 ms.
    assert track.times.shape == (38,)
    assert track.frequencies.shape == track.bandwidths.shape == (38, 2)
    assert 0.3 < track.times[0] < track.times[-1] < 0.7
    assert ((track.bandwidths > 0) & (track.bandwidths < 400)).all()


def test_silent_frames_are_skipped() -> None:
    half_silent = HIGH.copy()
    half_silent[: SAMPLE_RATE // 2] = 0.0
    track = track_formants(half_silent, SAMPLE_RATE)
    # Kept: the 20 frames (of 38) whose 25-ms window reaches past the silence, ending at 0.5 s.
    assert len(track.times) == 20
    assert (track.times + 0.0125 > 0.5).all()
    np.testing.assert_allclose(
        measure_formants(half_silent, SAMPLE_RATE), measure_formants(HIGH, SAMPLE_RATE), rtol=0.02
    )


def test_missing_formants_are_nan() -> None:
    # The default LPC order (14) has 7 pole pairs, so an eighth formant cannot exist.
    assert np.isnan(measure_formants(LOW, SAMPLE_RATE, num_formants=8)[-1])


def _assert_one_line_naming(error: pytest.ExceptionInfo[SpecError], field: str) -> None:
    message = str(error.value)
    assert message.startswith(f"{field}: expected ")
    assert "\n" not in message


@pytest.mark.parametrize(
    "waveform",
    [
        np.zeros(SAMPLE_RATE),
        np.where(np.arange(SAMPLE_RATE) == 7000, np.nan, LOW),
        np.where(np.arange(SAMPLE_RATE) == 9, np.inf, LOW),
        np.stack([LOW, LOW]),
        LOW[:200],
    ],
    ids=["silence", "nan", "inf", "two_dimensional", "too_short"],
)
def test_bad_waveform_raises_one_line(waveform: np.ndarray) -> None:
    with pytest.raises(SpecError) as error:
        measure_formants(waveform, SAMPLE_RATE)
    _assert_one_line_naming(error, "waveform")


@pytest.mark.parametrize(
    ("field", "value"), [("sample_rate", 0), ("sample_rate", 16000.0), ("num_formants", 0)]
)
def test_bad_argument_raises_one_line(field: str, value: object) -> None:
    arguments = {"sample_rate": SAMPLE_RATE, "num_formants": 3} | {field: value}
    with pytest.raises(SpecError) as error:
        measure_formants(LOW, **arguments)
    _assert_one_line_naming(error, field)


@pytest.mark.parametrize(
    ("field", "value"),
    [("segment", (0.7, 0.3)), ("frame", 0.0), ("hop", 0.0), ("lpc_order", 1)],
)
def test_bad_settings_raise_one_line(field: str, value: object) -> None:
    with pytest.raises(SpecError) as error:
        LPCSettings(**{field: value})
    _assert_one_line_naming(error, field)
