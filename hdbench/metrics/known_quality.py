"""Sample sets of known quality, against which a metric's ranking is checked.

Each set fails in a known way and draws only on the truth and the real data, never on a method:

- `real_blur_<c>`: the real data resampled and blurred by N(0, (c ℓ)² I), c in `BLUR_MULTIPLES`,
  ℓ the truth's `length_scale` (spreading);
- `real_blur_tuned`: the same at the truth-tuned scale (`truth_tuned_blur_scale`), the blur that
  explains exact samples best, so the best any blur of the real data can do;
- `real_data`: the real data resampled (sharp, but dropping what they miss);
- `real_kde`: a Gaussian KDE of the real data, its bandwidth chosen by the real data alone
  (`kde_bandwidth`, leave-one-out likelihood);
- `wrong_weights` (truths with ≥ 2 modes): exact samples with the heaviest mode's mass moved to
  the others in proportion to theirs;
- `exact_blur`: exact samples blurred by one length scale.

Exact samples of the same size are the yardstick: every set is worse than them by construction.
The functions take any truth with exact samples, generated ones included.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from hdbench.oracles.acceptability import Acceptability, nearest_modes

#: Blurs of the real data, in length scales of the truth.
BLUR_MULTIPLES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Candidate bandwidths of the blurs tuned on the truth or on the real data, geometric, in units
#: of the real data's overall sd: from a hundredth to four times it.
CANDIDATE_BANDWIDTHS = np.geomspace(0.01, 4.0, 40)
#: Exact samples that judge the candidate blurs of `truth_tuned_blur_scale`.
NUM_TUNING_SAMPLES = 2000


def resampled(points: np.ndarray, num: int, rng: np.random.Generator) -> np.ndarray:
    """`num` of the points (m, dim), drawn with replacement: shape (num, dim)."""
    return points[rng.integers(len(points), size=num)]


def blurred(points: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """points (n, dim) + N(0, scale² I): shape (n, dim)."""
    return points + scale * rng.standard_normal(points.shape)


def kde_log_likelihood(
    centres: np.ndarray, points: np.ndarray, bandwidths: np.ndarray
) -> np.ndarray:
    """Mean log-density of points (n, dim) under the Gaussian KDE of centres (m, dim), for each
    bandwidth (b,): shape (b,). Computed in log space, so far points cost a finite amount."""
    dim = centres.shape[1]
    squared = (
        np.sum(points**2, axis=1)[:, None]
        + np.sum(centres**2, axis=1)[None]
        - 2 * points @ centres.T
    )
    squared = np.maximum(squared, 0.0)
    scores = []
    for h in bandwidths:
        log_kernel = -squared / (2 * h**2) - dim * np.log(h) - 0.5 * dim * np.log(2 * np.pi)
        scores.append(np.mean(logsumexp(log_kernel, axis=1) - np.log(len(centres))))
    return np.asarray(scores)


def candidate_bandwidths(real_data: np.ndarray) -> np.ndarray:
    """CANDIDATE_BANDWIDTHS times the real data's root mean variance: shape (40,)."""
    return CANDIDATE_BANDWIDTHS * float(np.sqrt(np.mean(np.var(real_data, axis=0))))


def kde_bandwidth(real_data: np.ndarray) -> float:
    """The KDE bandwidth that maximises the leave-one-out likelihood of the real data (m, dim)
    among `candidate_bandwidths`: chosen without the truth."""
    dim = real_data.shape[1]
    candidates = candidate_bandwidths(real_data)
    squared = np.sum((real_data[:, None] - real_data[None]) ** 2, axis=-1)
    np.fill_diagonal(squared, np.inf)
    scores = [
        np.mean(logsumexp(-squared / (2 * h**2), axis=1)) - dim * np.log(h) for h in candidates
    ]
    return float(candidates[int(np.argmax(scores))])


def truth_tuned_blur_scale(
    truth: Acceptability, real_data: np.ndarray, rng: np.random.Generator
) -> float:
    """The blur of the real data (m, dim) that explains the truth best: the bandwidth among
    `candidate_bandwidths` whose KDE gives NUM_TUNING_SAMPLES exact samples the highest mean
    log-density, i.e. the least KL(p_D ‖ blur). What no isotropic blur of the real data beats."""
    exact = truth.sample(NUM_TUNING_SAMPLES, rng)
    candidates = candidate_bandwidths(real_data)
    return float(candidates[int(np.argmax(kde_log_likelihood(real_data, exact, candidates)))])


def heaviest_mode_moved(truth: Acceptability, num: int, rng: np.random.Generator) -> np.ndarray:
    """`num` exact samples whose nearest mode is not the heaviest: the heaviest mode's mass
    moved to the others in proportion to theirs; shape (num, dim). Needs ≥ 2 modes."""
    modes = truth.modes
    if len(modes) < 2:
        raise ValueError(f"{truth.label}: expected at least 2 modes, got {len(modes)}")
    heaviest = int(np.argmax([mode.mass for mode in modes]))
    kept: list[np.ndarray] = []
    while sum(len(k) for k in kept) < num:
        draw = truth.sample(2 * num, rng)
        kept.append(draw[nearest_modes(draw, modes)[0] != heaviest])
    return np.concatenate(kept)[:num]


def known_quality_sets(
    truth: Acceptability, real_data: np.ndarray, num: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Every set of the module docstring that applies to the truth, each of shape (num, dim)."""
    scale = truth.length_scale
    sets = {
        f"real_blur_{multiple:g}": blurred(resampled(real_data, num, rng), multiple * scale, rng)
        for multiple in BLUR_MULTIPLES
    }
    tuned = truth_tuned_blur_scale(truth, real_data, rng)
    sets["real_blur_tuned"] = blurred(resampled(real_data, num, rng), tuned, rng)
    sets["real_data"] = resampled(real_data, num, rng)
    sets["real_kde"] = blurred(resampled(real_data, num, rng), kde_bandwidth(real_data), rng)
    if len(truth.modes) >= 2:
        sets["wrong_weights"] = heaviest_mode_moved(truth, num, rng)
    sets["exact_blur"] = blurred(truth.sample(num, rng), scale, rng)
    return sets
