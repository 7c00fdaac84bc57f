"""The paper's data space: principal components of WORLD log spectral envelopes of /a/.

Ueda et al. 2023 (§3.5, §4.1) take the time-averaged log spectral envelope of each token, do PCA,
keep the first two components and normalise them to zero mean and unit variance; a point goes
back to sound by de-normalising, inverting the PCA with the remaining components at their mean,
and WORLD synthesis of one second with the corpus's average F0 contour and aperiodicity.
Up to `MAX_DIM` components are kept, for scaling studies; the space is cached on disk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hdbench.errors import SpecError
from hdbench.files import write_atomic
from hdbench.speech.corpus import Corpus, CorpusSpec, corpus_key, load_corpus
from hdbench.speech.world import (
    WorldConfig,
    WorldFeatures,
    analyse,
    steady_log_envelope,
    synthesise,
)

MAX_DIM = 32
SPACE_VERSION = 1


@dataclass(frozen=True)
class SpeechSpace:
    """PCA of log envelopes and what rendering needs.

    mean_envelope (num_bins,); components (MAX_DIM, num_bins), orthonormal rows; scales
    (MAX_DIM,), the sd of each component's scores; points (num_tokens, MAX_DIM), normalised;
    f0_contour (num_frames,); aperiodicity (num_frames, num_bins).
    """

    config: WorldConfig
    mean_envelope: np.ndarray
    components: np.ndarray
    scales: np.ndarray
    points: np.ndarray
    f0_contour: np.ndarray
    aperiodicity: np.ndarray

    def real_data(self, dim: int = 2) -> np.ndarray:
        """The corpus as points of the `dim`-dimensional space, shape (num_tokens, dim)."""
        self._check_dim(dim)
        return self.points[:, :dim]

    def project(self, log_envelopes: np.ndarray, dim: int = 2) -> np.ndarray:
        """Normalised coordinates (n, dim) of log envelopes (n, num_bins)."""
        scores = (log_envelopes - self.mean_envelope) @ self.components[:dim].T
        return scores / self.scales[:dim]

    def envelope(self, x: np.ndarray) -> np.ndarray:
        """Log envelopes (n, num_bins) of points x (n, dim), other components at their mean."""
        dim = x.shape[1]
        self._check_dim(dim)
        return self.mean_envelope + (x * self.scales[:dim]) @ self.components[:dim]

    def features(self, point: np.ndarray) -> WorldFeatures:
        """WORLD features rendering one point (dim,): its envelope on every frame."""
        point = np.asarray(point, dtype=float)
        if point.ndim != 1 or not np.isfinite(point).all():
            raise SpecError(f"point: expected finite coordinates of shape (dim,), got {point}")
        log_envelope = self.envelope(point[None])[0]
        frames = np.tile(np.exp(log_envelope), (len(self.f0_contour), 1))
        return WorldFeatures(self.f0_contour, frames, self.aperiodicity)

    def render(self, point: np.ndarray) -> np.ndarray:
        """Speech (num_samples,) for a point of the space, as long as the corpus's tokens."""
        num_samples = round(
            (len(self.f0_contour) - 1) * self.config.frame_period * self.config.sample_rate / 1000
        )
        return synthesise(self.features(point), self.config)[:num_samples]

    def _check_dim(self, dim: int) -> None:
        if not 1 <= dim <= MAX_DIM:
            raise SpecError(f"dim: expected 1 to {MAX_DIM}, got {dim}")


def build_space(corpus: Corpus, config: WorldConfig) -> SpeechSpace:
    """Analyse every token with WORLD, then PCA of their steady log envelopes."""
    tokens = tqdm(corpus.waveforms, desc="speech space: WORLD analysis", unit="token")
    features = [analyse(waveform, config) for waveform in tokens]
    log_envelopes = np.stack([steady_log_envelope(f) for f in features])
    mean = log_envelopes.mean(axis=0)
    _, singular, directions = np.linalg.svd(log_envelopes - mean, full_matrices=False)
    num = min(MAX_DIM, len(singular))
    components = directions[:num]
    scores = (log_envelopes - mean) @ components.T
    scales = scores.std(axis=0)
    f0 = np.stack([f.f0 for f in features])
    voiced = f0 > 0
    f0_contour = np.where(
        voiced.any(axis=0), (f0 * voiced).sum(axis=0) / np.maximum(voiced.sum(axis=0), 1), 0.0
    )
    aperiodicity = np.mean([f.aperiodicity for f in features], axis=0)
    return SpeechSpace(config, mean, components, scales, scores / scales, f0_contour, aperiodicity)


def space_key(corpus_key: str, config: WorldConfig) -> str:
    text = json.dumps(
        {"corpus": corpus_key, "world": asdict(config), "version": SPACE_VERSION}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def save_space(space: SpeechSpace, path: Path) -> Path:
    arrays = {k: v for k, v in space.__dict__.items() if isinstance(v, np.ndarray)}
    config = json.dumps(asdict(space.config))
    return write_atomic(path, lambda p: np.savez(p, config=config, **arrays))


def read_space(path: Path) -> SpeechSpace:
    with np.load(path) as stored:
        config = WorldConfig(**json.loads(str(stored["config"])))
        arrays = {k: stored[k] for k in stored.files if k != "config"}
    return SpeechSpace(config=config, **arrays)


def load_space(
    spec: CorpusSpec, cache_dir: Path | str, config: WorldConfig | None = None
) -> SpeechSpace:
    """The space of the corpus `spec`, from `cache_dir` when current, else built and stored."""
    config = config or WorldConfig(sample_rate=spec.sample_rate)
    path = Path(cache_dir) / f"space-{space_key(corpus_key(spec), config)}.npz"
    if path.exists():
        return read_space(path)
    space = build_space(load_corpus(spec, cache_dir), config)
    save_space(space, path)
    return space
