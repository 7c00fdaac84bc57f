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

from hdbench.estimators.blur import (
    best_scale,
    blur_log_likelihood,
    blurred,
    leave_one_out_log_likelihood,
)
from hdbench.oracles.acceptability import Acceptability, nearest_modes

#: Blurs of the real data, in length scales of the truth.
BLUR_MULTIPLES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Exact samples that judge the candidate blurs of `truth_tuned_blur_scale`.
NUM_TUNING_SAMPLES = 2000


def resampled(points: np.ndarray, num: int, rng: np.random.Generator) -> np.ndarray:
    """`num` of the points (m, dim), drawn with replacement: shape (num, dim)."""
    return points[rng.integers(len(points), size=num)]


def kde_bandwidth(real_data: np.ndarray) -> float:
    """The KDE bandwidth that maximises the leave-one-out likelihood of the real data (m, dim),
    as the `real_kde` baseline chooses it: without the truth."""
    centres = np.unique(real_data, axis=0)
    return best_scale(lambda h: leave_one_out_log_likelihood(centres, h), centres)


def truth_tuned_blur_scale(
    truth: Acceptability, real_data: np.ndarray, rng: np.random.Generator
) -> float:
    """The blur of the real data (m, dim) that explains the truth best, as the `tuned_blur`
    reference chooses it: the scale whose blur gives NUM_TUNING_SAMPLES exact samples the highest
    mean log-density, i.e. the least KL(p_D ‖ blur). What no isotropic blur of the real data
    beats."""
    exact = truth.sample(NUM_TUNING_SAMPLES, rng)
    return best_scale(lambda h: blur_log_likelihood(exact, real_data, h), real_data)


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
