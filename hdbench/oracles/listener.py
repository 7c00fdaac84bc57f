"""The listener model: what a synthetic person does with the true acceptability of a stimulus.

    rating = quantise(clip(lapse(D(x) + bias + drift + noise)))

Each step is a pure function of (values, rng); they work in normalised units, where the slider
runs over [0, 1], and the result is mapped onto the slider's own scale at the end. The bias
(one per listener, drawn once per panel) and the drift (a slow random walk of each listener's
standard over a session) shift every rating a listener gives. In a differential trial the
listener's bias and drift cancel, since both stimuli are judged by the same person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hdbench.protocol.slider import SCALES, Slider


def add_noise(values: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Independent N(0, sd²) noise on every rating."""
    return values + sd * rng.standard_normal(values.shape) if sd > 0 else values


def lapse(
    values: np.ndarray, rate: float, low: float, high: float, rng: np.random.Generator
) -> np.ndarray:
    """With probability `rate`, an inattentive answer: uniform on [low, high]."""
    if rate <= 0:
        return values
    inattentive = rng.random(values.shape) < rate
    return np.where(inattentive, rng.uniform(low, high, values.shape), values)


def clip(values: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip(values, low, high)


def quantise(values: np.ndarray, low: float, high: float, step: float) -> np.ndarray:
    """Snap to the grid low + k·step; a continuous scale (step 0) is left alone."""
    if step <= 0:
        return values
    return np.clip(low + np.round((values - low) / step) * step, low, high)


@dataclass(frozen=True)
class ListenerModel:
    """How one listener turns true acceptability into answers.

    `ideal` switches every imperfection off (no bias, noise, lapses, drift, clipping or
    quantisation): answers are D itself on the slider's scale, for ablations.
    """

    noise_sd: float = 0.1
    bias_sd: float = 0.05
    lapse_rate: float = 0.02
    drift_sd: float = 0.0
    slider: Slider = SCALES["slider"]
    differential_step: float = 0.01
    ideal: bool = False

    def rate(self, d: np.ndarray, shift: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Absolute ratings on the slider for true values d (any shape) and the listener's
        bias plus drift `shift`, broadcastable to d."""
        if self.ideal:
            return self.slider.to_scale(d)
        unit = lapse(add_noise(d + shift, self.noise_sd, rng), self.lapse_rate, 0.0, 1.0, rng)
        scaled = self.slider.to_scale(clip(unit, 0.0, 1.0))
        return quantise(scaled, self.slider.low, self.slider.high, self.slider.step)

    def rate_difference(
        self, d_a: np.ndarray, d_b: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Answers in [-1, 1] to "how much more natural is b than a"; the bias cancels."""
        if self.ideal:
            return d_b - d_a
        perceived = add_noise(np.stack([d_a, d_b]), self.noise_sd, rng)
        difference = lapse(perceived[1] - perceived[0], self.lapse_rate, -1.0, 1.0, rng)
        return quantise(clip(difference, -1.0, 1.0), -1.0, 1.0, self.differential_step)
