"""Stimuli as sound: the oracle's renderer, a WAV per stimulus, made on demand and cached.

Only an oracle whose space can be rendered to audio can be served: today the speech space of
`vowel` oracles (`hdbench.speech`: a point → WORLD synthesis of /a/). Any other is refused.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hdbench.errors import SpecError
from hdbench.oracles import Oracle


@dataclass(frozen=True)
class SpeechRenderer:
    """Renders points (dim,) of a speech space to 16-bit WAV files."""

    space: object

    def write(self, point: np.ndarray, path: Path) -> Path:
        from hdbench.speech.audio import write_wav

        return write_wav(self.space.render(point), self.space.config.sample_rate, path)


def renderer_for(oracle: Oracle) -> SpeechRenderer:
    """The oracle's renderer; SpecError when its stimuli cannot be played."""
    space = getattr(oracle.truth, "space", None)
    if space is None:
        raise SpecError(
            f"oracle {oracle.name!r} has no renderer: its stimuli cannot be played to people "
            "(serve a study on an oracle whose space renders audio, e.g. vowel_a)"
        )
    return SpeechRenderer(space)


_rendering = threading.Lock()


def cached_wav(renderer: SpeechRenderer, point: np.ndarray, folder: Path, name: str) -> Path:
    """folder/name.wav, rendered the first time it is asked for (written atomically). One
    rendering at a time: a page's request and its session's prefetch may ask for one file."""
    path = folder / f"{name}.wav"
    if not path.exists():
        with _rendering:
            if not path.exists():
                renderer.write(point, path)
    return path
