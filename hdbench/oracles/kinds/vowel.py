"""`vowel`: a listener that judges audio. D(x) comes from the synthesised waveform, not from x.

A point of the speech space (`hdbench.speech.space`: PCA of WORLD log envelopes of a synthetic
/a/ corpus) is rendered to audio and measured on the waveform: formants F1–F3 by LPC
(`hdbench.speech.formants`, bandwidths up to 700 Hz accepted, since averaged envelopes have
broad peaks) and the spectral tilt (energy at 1–5 kHz over 0.1–1 kHz, in dB). The measurements
are mapped to an acceptability through a perceptual region of /a/:

    D = peak · exp(−½ m²),   m² = (log F − μ)ᵀ (w² Σ)⁻¹ (log F − μ) + ((T − μ_T) / (w σ_T))²,

with μ the mean of the three groups' log formants of /ɑ/ (Hillenbrand et al. 1995, the corpus's
drawing table), Σ the corpus's spread (between the groups' means, plus within a group: a shared
vocal-tract factor of sd 0.05 and 0.045 per formant, the corpus's own draws), μ_T and σ_T the
tilt of the corpus's tokens (no published table gives it), and w = `widening` > 1: listeners
accept voices beyond any corpus (the paper's point). Formants alone would leave directions of
the space that only change the tilt unbounded. A token whose formants LPC cannot find rates 0.

Rendering and measuring takes about 8 ms a point, so for dim = 2 D is rendered once on a fine
grid over the box (`grid_size`² points, cached on disk) and interpolated bilinearly in between,
for the panel and the truth alike; the exact target, its normaliser and samples come from that
grid (a cell by its mass, then the bilinear density within it, exactly). For dim 3 to 32 a grid
is out of reach: D renders every point it is asked about (a rating, a sample's mean D), and
there is no exact target: the metrics' 102,000 target samples would take 14 min of rendering
at an acceptance of 1 and hours at the 8–27 % a fitted envelope reaches for a Gaussian in 8 to
32 dimensions (`hdbench.oracles.envelope`), besides its fit's 10⁵ renders, and that for every
truth context. So `sample` and `normaliser` raise ExactSamplingError with one line, and the
metrics that need target samples are NaN. The real data are `num` tokens of the corpus
(at most its 360), drawn with the spec's real-data seed.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from tqdm import tqdm

from hdbench.files import write_atomic
from hdbench.oracles.acceptability import Acceptability, KindParams
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.speech.corpus import HILLENBRAND_1995, CorpusSpec, corpus_key, load_corpus
from hdbench.speech.formants import LPCSettings, measure_formants
from hdbench.speech.space import SpeechSpace, load_space
from hdbench.speech.world import WorldFeatures, synthesise

if TYPE_CHECKING:
    from scipy.interpolate import RegularGridInterpolator

VOWEL_VERSION = 2
#: Time to render and measure one point (0.3 s of audio), measured on a 2-core machine under
#: load: 7.5–8.7 ms in dims 2, 8 and 32 (the dimension only changes the envelope's sum).
RENDER_MS = 8.0
WITHIN_TRACT_SD, WITHIN_FORMANT_SD = 0.05, float(np.hypot(0.04, 0.02))
LPC = LPCSettings(max_bandwidth=700.0)


def spectral_tilt(waveform: np.ndarray, sample_rate: int) -> float:
    """Energy at 1–5 kHz over 0.1–1 kHz of the middle half of a waveform, in dB."""
    middle = waveform[len(waveform) // 4 : 3 * len(waveform) // 4]
    power = np.abs(np.fft.rfft(middle * np.hanning(len(middle)))) ** 2
    frequency = np.fft.rfftfreq(len(middle), 1 / sample_rate)
    low = power[(frequency > 100) & (frequency < 1000)].sum()
    high = power[(frequency > 1000) & (frequency < 5000)].sum()
    return float(10 * np.log10(high / low))


def default_cache_dir() -> Path:
    return Path(os.environ.get("HDBENCH_CACHE", "~/.cache/hdbench")).expanduser()


class VowelParams(KindParams):
    dim: int = Field(2, ge=1, le=32)
    # Upper bounds keep a spec from asking for hours of synthesis (each token or grid node is
    # rendered; the defaults take about a minute).
    num_speakers: int = Field(120, ge=3, le=2000)
    tokens_per_speaker: int = Field(3, ge=1, le=20)
    corpus_seed: int = Field(0, ge=0)
    widening: float = Field(1.5, gt=0, description="region sd over the corpus's spread")
    peak: float = Field(0.9, gt=0, le=1)
    render_seconds: float = Field(0.3, ge=0.1, le=1.0, description="length of the rated audio")
    half_width: float = Field(8.0, gt=0, description="box: ±half_width in normalised units")
    grid_size: int = Field(81, ge=11, le=321, description="grid points per axis (dim 2)")
    cache_dir: str = Field("", description="default: $HDBENCH_CACHE or ~/.cache/hdbench")


def perceptual_region() -> tuple[np.ndarray, np.ndarray]:
    """Mean (3,) and covariance (3, 3) of log F1–F3 of /ɑ/ over the corpus's speakers."""
    group_means = np.log([formants[1:4] for formants in HILLENBRAND_1995.values()])
    within = WITHIN_TRACT_SD**2 * np.ones((3, 3)) + WITHIN_FORMANT_SD**2 * np.eye(3)
    return group_means.mean(axis=0), np.cov(group_means.T, bias=True) + within


@ACCEPTABILITY_KINDS.register("vowel")
class VowelAcceptability(Acceptability):
    Params = VowelParams
    description = "a point of the /a/ speech space as audio, judged by its formants and tilt"

    def __init__(self, **params) -> None:
        self.params = VowelParams(**params)
        self.dim = self.params.dim
        mean, cov = perceptual_region()
        self.region_mean = mean
        self.region_precision = np.linalg.inv(self.params.widening**2 * cov)

    @cached_property
    def corpus_spec(self) -> CorpusSpec:
        p = self.params
        return CorpusSpec(
            num_speakers=p.num_speakers, tokens_per_speaker=p.tokens_per_speaker, seed=p.corpus_seed
        )

    @property
    def cache_dir(self) -> Path:
        if self.params.cache_dir:
            return Path(self.params.cache_dir).expanduser()
        return default_cache_dir()

    @cached_property
    def space(self) -> SpeechSpace:
        return load_space(self.corpus_spec, self.cache_dir)

    @cached_property
    def tilt_statistics(self) -> tuple[float, float]:
        """Mean and sd of the spectral tilt of the corpus's tokens, in dB."""
        corpus = load_corpus(self.corpus_spec, self.cache_dir)
        tilts = [spectral_tilt(w, corpus.sample_rate) for w in corpus.waveforms]
        return float(np.mean(tilts)), float(np.std(tilts))

    def own_real_data(self, num: int, seed: int) -> np.ndarray:
        points = self.space.real_data(self.dim)
        chosen = np.random.default_rng(seed).choice(
            len(points), min(num, len(points)), replace=False
        )
        return points[np.sort(chosen)]

    @property
    def bounds(self) -> np.ndarray:
        return np.tile([-self.params.half_width, self.params.half_width], (self.dim, 1))

    # D from audio ------------------------------------------------------------------------
    def render_for_rating(self, point: np.ndarray) -> np.ndarray:
        """The middle `render_seconds` of the point's rendering, shape (num_samples,)."""
        full = self.space.features(point)
        num_frames = round(self.params.render_seconds * 1000 / self.space.config.frame_period) + 1
        start = (len(full.f0) - num_frames) // 2
        frames = slice(start, start + num_frames)
        part = WorldFeatures(full.f0[frames], full.envelope[frames], full.aperiodicity[frames])
        return synthesise(part, self.space.config)

    def rendered(self, x: np.ndarray) -> np.ndarray:
        """D of points x (n, dim), each rendered and measured: shape (n,)."""
        rate, (tilt_mean, tilt_sd) = self.space.config.sample_rate, self.tilt_statistics
        values = np.empty(len(x))
        for i, point in enumerate(x):
            # Far out, the envelope overflows and the audio is not finite: nobody accepts it.
            with np.errstate(over="ignore", invalid="ignore"):
                waveform = self.render_for_rating(point)
            if not np.isfinite(waveform).all():
                values[i] = 0.0
                continue
            formants = measure_formants(waveform, rate, num_formants=3, settings=LPC)
            if not np.isfinite(formants).all():
                values[i] = 0.0
                continue
            offset = np.log(formants) - self.region_mean
            tilt = (spectral_tilt(waveform, rate) - tilt_mean) / (self.params.widening * tilt_sd)
            distance = offset @ self.region_precision @ offset + tilt**2
            values[i] = self.params.peak * np.exp(-0.5 * distance)
        return values

    @cached_property
    def grid_values(self) -> np.ndarray:
        """D rendered at the grid's nodes (grid_size, grid_size); cached on disk."""
        params = self.params.model_dump(exclude={"cache_dir"})
        key = json.dumps(
            {"params": params, "corpus": corpus_key(self.corpus_spec), "version": VOWEL_VERSION},
            sort_keys=True,
        )
        path = self.cache_dir / f"vowel-grid-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npy"
        if path.exists():
            return np.load(path)
        axis = self._axis
        nodes = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
        rows = tqdm(
            np.array_split(nodes, len(axis)), desc="vowel: rendering D on its grid", unit="row"
        )
        values = np.concatenate([self.rendered(row) for row in rows]).reshape(len(axis), -1)
        write_atomic(path, lambda p: np.save(p, values))
        return values

    @property
    def _axis(self) -> np.ndarray:
        return np.linspace(-self.params.half_width, self.params.half_width, self.params.grid_size)

    @cached_property
    def _interpolator(self) -> RegularGridInterpolator:
        from scipy.interpolate import RegularGridInterpolator  # not when the oracles are listed

        return RegularGridInterpolator(
            (self._axis, self._axis), self.grid_values, bounds_error=False, fill_value=0.0
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.dim != 2:
            return self.rendered(x)
        return np.clip(self._interpolator(x), 0.0, 1.0)

    # The exact target -------------------------------------------------------------------
    def sampling_limit(self) -> str | None:
        if self.dim == 2:
            return None
        return (
            f"vowel (dim {self.dim}): no exact target samples or normaliser: above dim 2 every "
            f"point's D is rendered as audio (about {RENDER_MS:.0f} ms a point), so drawing the "
            "metrics' 10⁵ target samples by rejection would take hours; dim 2 has an exact "
            "target (a rendered grid)"
        )

    @cached_property
    def _cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Cell corners (num_cells, 2), masses (num_cells,), D at each cell's four nodes
        (num_cells, 4) in the order (0, 0), (1, 0), (0, 1), (1, 1), and the cell side."""
        axis, values = self._axis, self.grid_values
        nodes = np.stack(
            [values[:-1, :-1], values[1:, :-1], values[:-1, 1:], values[1:, 1:]], axis=-1
        ).reshape(-1, 4)
        side = float(axis[1] - axis[0])
        corners = np.stack(np.meshgrid(axis[:-1], axis[:-1], indexing="ij"), -1).reshape(-1, 2)
        return corners, nodes.mean(axis=1) * side**2, nodes, side

    @cached_property
    def normaliser(self) -> float:
        self._require_exact()
        return float(self._cells[1].sum())

    @cached_property
    def peak(self) -> float:
        if self.dim != 2:
            return self.params.peak
        return float(self.grid_values.max())

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """Exact samples of the bilinear D (dim 2): a cell by its mass, then within it a node
        with probability ∝ its D, then each coordinate from the linear ramp towards that node."""
        self._require_exact()
        corners, masses, nodes, side = self._cells
        cells = rng.choice(len(masses), size=num, p=masses / masses.sum())
        # Within a cell D = Σ_c v_c φ_c(s, t), each φ_c a product of two ramps (s or 1 - s)
        # integrating to ¼: a mixture of the four ramps with weights ∝ v_c. A ramp of density 2s
        # on [0, 1] is drawn as s = √U.
        weights = nodes[cells] / nodes[cells].sum(axis=1, keepdims=True)
        node = (rng.uniform(size=(num, 1)) > np.cumsum(weights, axis=1)[:, :3]).sum(axis=1)
        towards = np.stack([node % 2, node // 2], axis=1)
        ramp = np.sqrt(rng.uniform(size=(num, 2)))
        return corners[cells] + side * np.where(towards == 1, ramp, 1.0 - ramp)
