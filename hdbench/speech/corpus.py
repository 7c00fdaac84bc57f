"""A deterministic corpus of the vowel /a/, made by a source–filter synthesiser.

HumanDiffusion (Ueda et al., Interspeech 2023) works on WORLD envelopes of a recorded Japanese
/a/ corpus; hdbench cannot download one, so it synthesises speakers around published means.

Drawing table: Hillenbrand, Getty, Clark & Wheeler 1995, JASA 97(5):3099–3111, Table V, /ɑ/
("hod"), in Hz:

    group      F0    F1    F2    F3
    men       138   768  1333  2522
    women     227   936  1551  2815
    children  236  1002  1688  2950

For reference only, Peterson & Barney 1952, JASA 24:175–184, Table II, /ɑ/: men 124, 730, 1090,
2440; women 212, 850, 1220, 2810; children 256, 1030, 1370, 3170 (`PETERSON_BARNEY_1952`).

Assumptions (choices of hdbench, not citations):
- F4 means of 3500 (men), 4100 (women) and 4300 Hz (children).
- Bandwidths of 80, 90, 120 and 150 Hz for men's F1–F4, scaled by 1.1 for women and 1.25 for
  children (shorter tracts, higher F0), each varied per speaker by a log-sd of 0.15.
- Between speakers, log F0 varies with sd 0.10, and log formants with sd ≈ 0.064: a factor
  shared by all four formants (sd 0.05, the vocal tract length) times one per formant (sd 0.04).
- Voice quality per speaker, uniform over: jitter 0.5–1.5 %, shimmer 3–8 %, extra spectral tilt
  0–10 dB at 3 kHz, open quotient 0.5–0.7, aspiration 1–4 %; the same ranges for all groups.
- Per token: log F0 ± 0.03, log formants ± 0.02 (sd) and an F0 declination of 2–10 %.

Synthesis of one token (Klatt 1980, JASA 67:971–995, cascade branch): a Rosenberg (1971, JASA
49:583–590) glottal-flow pulse per period at a jittered, declining F0, with shimmer; aspiration
noise gated by the flow; Klatt & Klatt's (1990, JASA 87:820–857) tilt TL, a one-pole low-pass
down `tilt_db` at 3 kHz; a cascade of Klatt's second-order resonators; lip radiation as a first
difference; 20-ms raised-cosine onset and offset; peak normalised to `PEAK`.

Speakers take groups in turn (men, women, children, men, …). Speaker i draws from the i-th child
of SeedSequence(seed), its token j from that child's (j + 1)-th child, so adding speakers or
tokens never changes the draws of existing ones. Waveforms are cached as float64, so a corpus
loaded from disk is bit-identical to a freshly synthesised one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hdbench.errors import SpecError
from hdbench.files import write_atomic
from hdbench.rng import stable_hash

if TYPE_CHECKING:  # pandas is imported where a corpus is made or read, not with an oracle kind
    import pandas as pd

#: Bump whenever a change to this module changes the waveforms or metadata it makes.
CORPUS_VERSION = 1

GROUPS = ("men", "women", "children")
#: (F0, F1, F2, F3) in Hz: Hillenbrand et al. 1995, Table V, /ɑ/; the drawing table.
HILLENBRAND_1995 = {
    "men": (138.0, 768.0, 1333.0, 2522.0),
    "women": (227.0, 936.0, 1551.0, 2815.0),
    "children": (236.0, 1002.0, 1688.0, 2950.0),
}
#: (F0, F1, F2, F3) in Hz: Peterson & Barney 1952, Table II, /ɑ/; for comparison only.
PETERSON_BARNEY_1952 = {
    "men": (124.0, 730.0, 1090.0, 2440.0),
    "women": (212.0, 850.0, 1220.0, 2810.0),
    "children": (256.0, 1030.0, 1370.0, 3170.0),
}
ASSUMED_F4 = {"men": 3500.0, "women": 4100.0, "children": 4300.0}
MEN_BANDWIDTHS = (80.0, 90.0, 120.0, 150.0)
BANDWIDTH_SCALE = {"men": 1.0, "women": 1.1, "children": 1.25}

SPEAKER_LOG_SD = {"f0": 0.10, "tract": 0.05, "formant": 0.04, "bandwidth": 0.15}
TOKEN_LOG_SD = {"f0": 0.03, "formant": 0.02}
VOICE_RANGES = {
    "jitter": (0.005, 0.015),
    "shimmer": (0.03, 0.08),
    "tilt_db": (0.0, 10.0),
    "open_quotient": (0.5, 0.7),
    "aspiration": (0.01, 0.04),
}
DECLINATION_RANGE = (0.02, 0.10)

PEAK = 0.5
RAMP_SECONDS = 0.020
TILT_REFERENCE_HZ = 3000.0
#: Rosenberg's preferred opening:closing ratio (0.40 : 0.16 of the period).
SPEED_QUOTIENT = 2.5
#: Children's F4 reaches ≈ 5.3 kHz at +3 sd, so the corpus needs a Nyquist above that.
MIN_CORPUS_SAMPLE_RATE = 12_000

METADATA_COLUMNS = (
    "token_id",
    "speaker_id",
    "group",
    "token_index",
    "f0",
    "f1",
    "f2",
    "f3",
    "f4",
    "b1",
    "b2",
    "b3",
    "b4",
    "jitter",
    "shimmer",
    "tilt_db",
    "open_quotient",
    "aspiration",
    "declination",
)


def _check(ok: bool, field: str, expected: str, value: object) -> None:
    if not ok:
        raise SpecError(f"{field}: expected {expected}, got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


@dataclass(frozen=True)
class VoiceQuality:
    """The glottal source of one token.

    jitter and shimmer are the log-sd of period length and pulse amplitude from one period to
    the next; tilt_db is the extra attenuation at 3 kHz; open_quotient the open fraction of a
    period; aspiration the sd of flow-gated noise relative to the flow; declination the fall of
    log F0 from the start to the end of the token, centred on the token's mean F0.
    """

    jitter: float = 0.01
    shimmer: float = 0.05
    tilt_db: float = 5.0
    open_quotient: float = 0.6
    aspiration: float = 0.02
    declination: float = 0.0

    def __post_init__(self) -> None:
        for name in ("jitter", "shimmer", "tilt_db", "aspiration"):
            value = getattr(self, name)
            _check(_is_number(value) and value >= 0, name, "a number >= 0", value)
        oq = self.open_quotient
        _check(_is_number(oq) and 0 < oq < 1, "open_quotient", "a number in (0, 1)", oq)
        value = self.declination
        _check(_is_number(value) and np.isfinite(value), "declination", "a finite number", value)


def _num_samples(duration: float, sample_rate: int) -> int:
    return round(duration * sample_rate)


def _f0_at(time: float, f0: float, voice: VoiceQuality, duration: float) -> float:
    return f0 * np.exp(voice.declination * (0.5 - time / duration))


def _glottal_epochs(
    f0: float, voice: VoiceQuality, duration: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onsets, lengths (s) and amplitudes of the periods covering the token, each (num_periods,).

    Each period is 1/F0 at its onset times a log-normal jitter factor, so F0 follows the
    declining contour but every period wanders independently, as jitter measures do.
    """
    onsets, periods = [], []
    time = 0.0
    while time < duration:
        period = np.exp(voice.jitter * rng.standard_normal()) / _f0_at(time, f0, voice, duration)
        onsets.append(time)
        periods.append(period)
        time += period
    amplitudes = np.exp(voice.shimmer * rng.standard_normal(len(onsets)))
    return np.array(onsets), np.array(periods), amplitudes


def rosenberg_pulse(phase: np.ndarray, open_quotient: float) -> np.ndarray:
    """Rosenberg's (1971) type-B glottal flow at phases in [0, 1) of a period, same shape.

    A raised-cosine opening and a quarter-cosine closing that meet at a peak of 1, then a closed
    phase; the flow's slope jumps at closure, so its spectrum falls at −12 dB/octave.
    """
    opening = open_quotient * SPEED_QUOTIENT / (1 + SPEED_QUOTIENT)
    closing = open_quotient - opening
    rise = 0.5 * (1 - np.cos(np.pi * phase / opening))
    fall = np.cos(0.5 * np.pi * (phase - opening) / closing)
    return np.where(phase <= opening, rise, np.where(phase <= open_quotient, fall, 0.0))


def _glottal_flow(
    f0: float, voice: VoiceQuality, sample_rate: int, duration: float, rng: np.random.Generator
) -> np.ndarray:
    """Glottal flow (num_samples,) with aspiration; pulses are sampled at their exact onsets."""
    onsets, periods, amplitudes = _glottal_epochs(f0, voice, duration, rng)
    times = np.arange(_num_samples(duration, sample_rate)) / sample_rate
    period = np.searchsorted(onsets, times, side="right") - 1
    phase = (times - onsets[period]) / periods[period]
    flow = amplitudes[period] * rosenberg_pulse(phase, voice.open_quotient)
    # Turbulence at the glottis needs airflow, so the noise is gated by the flow itself.
    return flow * (1 + voice.aspiration * rng.standard_normal(len(flow)))


def _tilt(source: np.ndarray, tilt_db: float, sample_rate: int) -> np.ndarray:
    """Klatt's TL on a source (num_samples,): a unity-DC one-pole low-pass, −tilt_db at 3 kHz."""
    from scipy import signal  # here: importing scipy.signal costs more than loading an oracle

    if tilt_db == 0:  # no tilt is no filter; the pole formula below would divide 0 by 0
        return source
    gain2 = 10 ** (-tilt_db / 10)
    cos_w = np.cos(2 * np.pi * TILT_REFERENCE_HZ / sample_rate)
    # |(1 − a) / (1 − a e^{−iω})|² = gain² is a quadratic in the pole a; take its root in [0, 1).
    half_b = 1 - gain2 * cos_w
    pole = (half_b - np.sqrt(half_b**2 - (1 - gain2) ** 2)) / (1 - gain2)
    return signal.lfilter([1 - pole], [1, -pole], source)


def formant_sections(formants: np.ndarray, bandwidths: np.ndarray, sample_rate: int) -> np.ndarray:
    """Klatt's (1980) unity-DC-gain digital resonators as second-order sections (num_formants, 6).

    y[n] = A x[n] + B y[n−1] + C y[n−2], C = −exp(−2πBW·T), B = 2 exp(−πBW·T) cos(2πF·T),
    A = 1 − B − C.
    """
    step = 1 / sample_rate
    c = -np.exp(-2 * np.pi * bandwidths * step)
    b = 2 * np.exp(-np.pi * bandwidths * step) * np.cos(2 * np.pi * formants * step)
    zeros = np.zeros_like(c)
    return np.column_stack([1 - b - c, zeros, zeros, np.ones_like(c), -b, -c])


def _raised_cosine_ramps(num_samples: int, sample_rate: int) -> np.ndarray:
    """Gain (num_samples,): raised-cosine onset and offset of RAMP_SECONDS, 1 in between."""
    num_ramp = min(_num_samples(RAMP_SECONDS, sample_rate), num_samples // 2)
    ramp = 0.5 * (1 - np.cos(np.pi * np.arange(num_ramp) / num_ramp))
    gain = np.ones(num_samples)
    gain[:num_ramp] = ramp
    gain[num_samples - num_ramp :] = ramp[::-1]
    return gain


def _check_vowel(
    f0: float,
    formants: np.ndarray,
    bandwidths: np.ndarray,
    sample_rate: int,
    duration: float,
) -> None:
    _check(
        _is_int(sample_rate) and sample_rate >= 8000, "sample_rate", "an int >= 8000", sample_rate
    )
    _check(_is_number(duration) and duration > 0, "duration", "a number > 0 s", duration)
    _check(_is_number(f0) and 0 < f0 < sample_rate / 2, "f0", "a number in (0, Nyquist)", f0)
    nyquist = sample_rate / 2
    ok = formants.ndim == 1 and len(formants) >= 1 and np.isfinite(formants).all()
    ok = ok and bool(np.all(formants > 0) and np.all(formants < nyquist))
    _check(ok, "formants", f"a 1-d sequence of Hz in (0, {nyquist:g})", formants.tolist())
    ok = bandwidths.shape == formants.shape and bool(np.all(bandwidths > 0))
    _check(ok, "bandwidths", f"{len(formants)} positive Hz values", bandwidths.tolist())


def synthesise_vowel(
    f0: float,
    formants: Sequence[float] | np.ndarray,
    bandwidths: Sequence[float] | np.ndarray,
    voice: VoiceQuality,
    sample_rate: int,
    duration: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """One vowel token, float64 of shape (round(duration · sample_rate),), peak `PEAK`.

    f0 is the mean F0 (Hz); formants and bandwidths (num_formants,) in Hz; rng drives jitter,
    shimmer and aspiration. sample_rate must be at least 8 kHz so the tilt's 3-kHz reference
    lies below Nyquist.
    """
    from scipy import signal  # here: importing scipy.signal costs more than loading an oracle

    formants = np.asarray(formants, dtype=float)
    bandwidths = np.asarray(bandwidths, dtype=float)
    _check_vowel(f0, formants, bandwidths, sample_rate, duration)
    source = _tilt(_glottal_flow(f0, voice, sample_rate, duration, rng), voice.tilt_db, sample_rate)
    tract = signal.sosfilt(formant_sections(formants, bandwidths, sample_rate), source)
    speech = np.diff(tract, prepend=0.0) * _raised_cosine_ramps(len(tract), sample_rate)
    return PEAK * speech / np.max(np.abs(speech))


@dataclass(frozen=True)
class CorpusSpec:
    """What to synthesise: `num_speakers` (≥ 3, groups in turn) × `tokens_per_speaker`."""

    num_speakers: int = 120
    tokens_per_speaker: int = 3
    sample_rate: int = 16_000
    duration: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        num = self.num_speakers
        _check(_is_int(num) and num >= 3, "num_speakers", "an int >= 3", num)
        num = self.tokens_per_speaker
        _check(_is_int(num) and num >= 1, "tokens_per_speaker", "an int >= 1", num)
        rate = self.sample_rate
        ok = _is_int(rate) and rate >= MIN_CORPUS_SAMPLE_RATE
        _check(ok, "sample_rate", f"an int >= {MIN_CORPUS_SAMPLE_RATE}", rate)
        ok = _is_number(self.duration) and self.duration >= 2 * RAMP_SECONDS
        _check(ok, "duration", f"a number >= {2 * RAMP_SECONDS:g} s", self.duration)
        _check(_is_int(self.seed) and self.seed >= 0, "seed", "an int >= 0", self.seed)
        # Canonical types, so that equal specs (1 and 1.0, int and np.int64) share a cache key.
        for name in ("num_speakers", "tokens_per_speaker", "sample_rate", "seed"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "duration", float(self.duration))


@dataclass(frozen=True)
class Speaker:
    """One speaker's mean F0, formants and bandwidths (4,) in Hz, and voice quality."""

    speaker_id: int
    group: str
    f0: float
    formants: tuple[float, ...]
    bandwidths: tuple[float, ...]
    voice: VoiceQuality


def draw_speaker(speaker_id: int, rng: np.random.Generator) -> Speaker:
    """Speaker `speaker_id`, in group GROUPS[speaker_id % 3], drawn around the group's means."""
    group = GROUPS[speaker_id % len(GROUPS)]
    f0_mean, *formant_means = HILLENBRAND_1995[group]
    means = np.array([*formant_means, ASSUMED_F4[group]])
    log_scale = SPEAKER_LOG_SD["tract"] * rng.standard_normal()
    log_scale = log_scale + SPEAKER_LOG_SD["formant"] * rng.standard_normal(len(means))
    base = np.array(MEN_BANDWIDTHS) * BANDWIDTH_SCALE[group]
    bandwidths = base * np.exp(SPEAKER_LOG_SD["bandwidth"] * rng.standard_normal(len(base)))
    voice = VoiceQuality(**{k: float(rng.uniform(*r)) for k, r in VOICE_RANGES.items()})
    return Speaker(
        speaker_id=speaker_id,
        group=group,
        f0=float(f0_mean * np.exp(SPEAKER_LOG_SD["f0"] * rng.standard_normal())),
        formants=tuple((means * np.exp(log_scale)).tolist()),
        bandwidths=tuple(bandwidths.tolist()),
        voice=voice,
    )


def _token(
    speaker: Speaker, token_index: int, spec: CorpusSpec, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, object]]:
    """One token of `speaker`: waveform (num_samples,) and its metadata row (no token_id)."""
    f0 = speaker.f0 * np.exp(TOKEN_LOG_SD["f0"] * rng.standard_normal())
    formants = np.array(speaker.formants)
    formants = formants * np.exp(TOKEN_LOG_SD["formant"] * rng.standard_normal(len(formants)))
    voice = dataclasses.replace(speaker.voice, declination=float(rng.uniform(*DECLINATION_RANGE)))
    waveform = synthesise_vowel(
        f0, formants, speaker.bandwidths, voice, spec.sample_rate, spec.duration, rng
    )
    row = {"speaker_id": speaker.speaker_id, "group": speaker.group, "token_index": token_index}
    row |= {"f0": float(f0)} | {f"f{k + 1}": float(f) for k, f in enumerate(formants)}
    row |= {f"b{k + 1}": b for k, b in enumerate(speaker.bandwidths)}
    return waveform, row | dataclasses.asdict(voice)


@dataclass(frozen=True, eq=False)
class Corpus:
    """Waveforms (num_tokens, num_samples) float64 and metadata, one row per token, in order."""

    spec: CorpusSpec
    waveforms: np.ndarray
    metadata: pd.DataFrame

    @property
    def sample_rate(self) -> int:
        return self.spec.sample_rate


def synthesise_corpus(spec: CorpusSpec) -> Corpus:
    """Every token of `spec`, speaker-major (token k = speaker · tokens_per_speaker + index)."""
    waveforms, rows = [], []
    for speaker_id, speaker_seed in enumerate(
        np.random.SeedSequence(spec.seed).spawn(spec.num_speakers)
    ):
        voice_seed, *token_seeds = speaker_seed.spawn(1 + spec.tokens_per_speaker)
        speaker = draw_speaker(speaker_id, np.random.default_rng(voice_seed))
        for token_index, token_seed in enumerate(token_seeds):
            waveform, row = _token(speaker, token_index, spec, np.random.default_rng(token_seed))
            waveforms.append(waveform)
            rows.append({"token_id": len(rows)} | row)
    import pandas as pd

    metadata = pd.DataFrame(rows, columns=list(METADATA_COLUMNS))
    return Corpus(spec, np.stack(waveforms), metadata)


def corpus_key(spec: CorpusSpec) -> str:
    """Short hash of the spec's fields and CORPUS_VERSION; names the cache files."""
    fields = dataclasses.asdict(spec) | {"corpus_version": CORPUS_VERSION}
    return stable_hash(json.dumps(fields, sort_keys=True))


def _save_waveforms(path: Path, waveforms: np.ndarray) -> None:
    # Through a handle: given a file name, np.savez would append ".npz" to the temporary name.
    with path.open("wb") as handle:
        np.savez(handle, waveforms=waveforms)


def load_corpus(spec: CorpusSpec, cache_dir: Path | str) -> Corpus:
    """The corpus of `spec` from cache_dir/corpus-<key>.{npz,parquet}, synthesised on a miss.

    The .npz is written last, so its presence marks a complete entry.
    """
    cache_dir = Path(cache_dir)
    stem = f"corpus-{corpus_key(spec)}"
    waveforms_path, metadata_path = cache_dir / f"{stem}.npz", cache_dir / f"{stem}.parquet"
    if waveforms_path.exists() and metadata_path.exists():
        import pandas as pd

        with np.load(waveforms_path) as stored:
            return Corpus(spec, stored["waveforms"], pd.read_parquet(metadata_path))
    corpus = synthesise_corpus(spec)
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(metadata_path, lambda p: corpus.metadata.to_parquet(p, index=False))
    write_atomic(waveforms_path, lambda p: _save_waveforms(p, corpus.waveforms))
    return corpus
