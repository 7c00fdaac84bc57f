"""The one module that calls WORLD (Morise, Yokomori & Ozawa 2016, IEICE Trans. E99-D:1877), via
pyworld: F0 by DIO refined by StoneMask, the spectral envelope by CheapTrick, aperiodicity by D4C,
and synthesis. pyworld wants float64, C-contiguous arrays; every conversion happens here.

pyworld is compiled from source and lives in the optional `speech` extra; without it the speech
commands stop with one line saying which extra to install.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from hdbench.errors import SpecError


def pyworld() -> ModuleType:
    """The pyworld module, or a one-line error naming the extra that provides it."""
    try:
        with warnings.catch_warnings():
            # pyworld imports pkg_resources, which warns on import; setuptools<82 keeps it.
            warnings.simplefilter("ignore")
            import pyworld as module
    except ImportError:
        raise SpecError(
            "speech: pyworld is not installed; install the speech extra: pip install "
            "'hdbench[speech]' (make test and make bench install it)"
        ) from None
    return module


@dataclass(frozen=True)
class WorldConfig:
    """Analysis settings. The FFT size follows from the lowest F0 so that CheapTrick's window
    (three periods of f0_floor) fits: 1024 points at 16 kHz for a floor of 60 Hz."""

    sample_rate: int = 16_000
    frame_period: float = 5.0
    f0_floor: float = 60.0
    f0_ceil: float = 500.0

    @property
    def fft_size(self) -> int:
        return int(pyworld().get_cheaptrick_fft_size(self.sample_rate, self.f0_floor))


@dataclass(frozen=True)
class WorldFeatures:
    """F0 (num_frames,), spectral envelope and aperiodicity (num_frames, fft_size // 2 + 1)."""

    f0: np.ndarray
    envelope: np.ndarray
    aperiodicity: np.ndarray


def _c64(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def analyse(waveform: np.ndarray, config: WorldConfig) -> WorldFeatures:
    """WORLD features of a mono waveform of shape (num_samples,)."""
    world, x, fs = pyworld(), _c64(waveform), config.sample_rate
    if x.ndim != 1 or not np.isfinite(x).all():
        raise SpecError(f"waveform: expected finite samples of shape (n,), got {x.shape}")
    f0, times = world.dio(
        x, fs, f0_floor=config.f0_floor, f0_ceil=config.f0_ceil, frame_period=config.frame_period
    )
    f0 = world.stonemask(x, f0, times, fs)
    envelope = world.cheaptrick(
        x, f0, times, fs, f0_floor=config.f0_floor, fft_size=config.fft_size
    )
    aperiodicity = world.d4c(x, f0, times, fs, fft_size=config.fft_size)
    return WorldFeatures(f0, envelope, aperiodicity)


def synthesise(features: WorldFeatures, config: WorldConfig) -> np.ndarray:
    """A waveform (num_samples,) from WORLD features; the same features give the same bytes."""
    return pyworld().synthesize(
        _c64(features.f0),
        _c64(features.envelope),
        _c64(features.aperiodicity),
        config.sample_rate,
        config.frame_period,
    )


def steady_log_envelope(
    features: WorldFeatures, steady: tuple[float, float] = (0.2, 0.8)
) -> np.ndarray:
    """Time-averaged natural-log spectral envelope over the voiced frames of the steady part
    (fractions of the token's length), shape (fft_size // 2 + 1,)."""
    num_frames = len(features.f0)
    frames = np.arange(int(steady[0] * num_frames), int(steady[1] * num_frames))
    voiced = frames[features.f0[frames] > 0]
    if len(voiced) == 0:
        raise SpecError("waveform: expected a voiced steady part, found no voiced frame")
    return np.log(features.envelope[voiced]).mean(axis=0)
