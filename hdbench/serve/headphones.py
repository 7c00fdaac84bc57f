"""The headphone check of Woods, Siegel, Traer & McDermott (2017), "Headphone screening to
facilitate web-based auditory experiments", Atten. Percept. Psychophys. 79: 2064–2072.

Each trial plays three 200 Hz tones, 1 s each with 100 ms cosine ramps and 0.5 s apart; one is
6 dB quieter than the others and one is played in antiphase (the right channel the negative of
the left). The listener says which tone was quietest. Over headphones the quiet tone is plain;
over loudspeakers the antiphase tone partly cancels in the air and sounds quietest, so a
listener without headphones picks it. Woods et al. pass a listener with at least 5 of 6 right;
guessing passes with probability 13/729 ≈ 1.8 %.

The order of the three tones in every trial is drawn from a generator seeded by the study's
secret and the participant's id, so the server knows each participant's answers without storing
them and a participant cannot read them off the page.
"""

from __future__ import annotations

import hashlib
import hmac
import io

import numpy as np

SAMPLE_RATE = 16_000  # Hz
FREQUENCY = 200.0  # Hz
TONE_SECONDS, RAMP_SECONDS, GAP_SECONDS = 1.0, 0.1, 0.5
QUIET_DB = -6.0
NORMAL, QUIET, ANTIPHASE = "normal", "quiet", "antiphase"
NUM_TRIALS, NUM_TO_PASS = 6, 5


def trial_orders(secret: bytes, participant_id: str, num_trials: int = NUM_TRIALS) -> list:
    """Per trial, the order of its three tones, e.g. ["antiphase", "normal", "quiet"]."""
    digest = hmac.new(secret, f"headphones:{participant_id}".encode(), hashlib.sha256).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    return [[(NORMAL, QUIET, ANTIPHASE)[i] for i in rng.permutation(3)] for _ in range(num_trials)]


def answer_key(secret: bytes, participant_id: str, num_trials: int = NUM_TRIALS) -> list[int]:
    """The right answer of each trial: the position (0, 1, 2) of the quiet tone."""
    return [order.index(QUIET) for order in trial_orders(secret, participant_id, num_trials)]


def num_correct(key: list[int], answers: object) -> int | None:
    """How many answers match the key; None when `answers` is not one choice 0–2 per trial."""
    if not isinstance(answers, list) or len(answers) != len(key):
        return None
    if not all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a <= 2 for a in answers):
        return None
    return sum(a == k for a, k in zip(answers, key, strict=True))


def tone(kind: str) -> np.ndarray:
    """One tone (num_samples, 2): left and right channels, full scale 1."""
    t = np.arange(round(TONE_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    ramp = round(RAMP_SECONDS * SAMPLE_RATE)
    envelope = np.ones_like(t)
    envelope[:ramp] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    envelope[-ramp:] = envelope[:ramp][::-1]
    left = np.sin(2 * np.pi * FREQUENCY * t) * envelope
    if kind == QUIET:
        left = left * 10 ** (QUIET_DB / 20)
    right = -left if kind == ANTIPHASE else left
    return np.stack([left, right], axis=1)


def trial_wav(order: list[str]) -> bytes:
    """A trial's three tones with gaps, as a stereo 16-bit WAV file's bytes."""
    from scipy.io import wavfile

    gap = np.zeros((round(GAP_SECONDS * SAMPLE_RATE), 2))
    parts = [tone(order[0]), gap, tone(order[1]), gap, tone(order[2])]
    pcm = np.round(np.concatenate(parts) * 0.5 * 32767).astype(np.int16)
    buffer = io.BytesIO()
    wavfile.write(buffer, SAMPLE_RATE, pcm)
    return buffer.getvalue()
