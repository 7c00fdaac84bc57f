"""Listening to points of the speech space: one WAV a point, and spectrograms of the first."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hdbench.files import save_figure
from hdbench.lazy import lazy_import
from hdbench.report.style import plt
from hdbench.speech.audio import write_wav
from hdbench.speech.space import SpeechSpace

signal = lazy_import("scipy.signal")


def render_points(space: SpeechSpace, points: np.ndarray, folder: Path) -> list[Path]:
    """One WAV per point (n, dim): folder/sample_000.wav, …; and folder/spectrograms.png of the
    first four."""
    waveforms = [space.render(point) for point in points]
    paths = [
        write_wav(w, space.config.sample_rate, folder / f"sample_{i:03d}.wav")
        for i, w in enumerate(waveforms)
    ]
    plot_spectrograms(waveforms, space.config.sample_rate, points, folder / "spectrograms.png")
    return paths


def plot_spectrograms(
    waveforms: list[np.ndarray], sample_rate: int, points: np.ndarray, path: Path
) -> Path:
    """Wide-band spectrograms (5-ms windows, so formants show as bands), one panel a waveform,
    five to a row."""
    columns = min(len(waveforms), 5)
    rows = -(-len(waveforms) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False, sharey=True
    )
    for ax in axes.flat[len(waveforms) :]:
        ax.set_visible(False)
    for ax, waveform, point in zip(axes.flat, waveforms, points, strict=False):
        frequency, time, power = signal.spectrogram(
            waveform, sample_rate, nperseg=80, noverlap=60, nfft=512
        )
        ax.pcolormesh(
            time,
            frequency / 1000,
            10 * np.log10(power + 1e-12),
            cmap="magma",
            shading="auto",
            vmin=None,
        )
        ax.set_ylim(0, 5)
        ax.set_xlabel("time (s)")
        ax.set_title(f"x = ({', '.join(f'{v:.2f}' for v in point)})", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("frequency (kHz)")
    fig.tight_layout()
    return save_figure(fig, path)
