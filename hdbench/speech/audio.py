"""Listening to points of the speech space: WAV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.io import wavfile

from hdbench.files import write_atomic


def write_wav(waveform: np.ndarray, sample_rate: int, path: Path) -> Path:
    """16-bit PCM, peak-normalised to 0.9 of full scale, written whole or not at all."""
    peak = float(np.abs(waveform).max()) or 1.0
    pcm = np.round(waveform / peak * 0.9 * 32767).astype(np.int16)
    return write_atomic(path, lambda p: wavfile.write(p, sample_rate, pcm))
