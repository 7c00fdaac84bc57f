"""Mode collapse: known answers on a Gaussian and on a ring of eight modes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from hdbench.metrics import METRICS, TruthContext, evaluate
from hdbench.metrics.modes import (
    collapse_ratio,
    high_quality_share,
    mode_tv,
    modes_captured,
    modes_captured_strict,
    nearest_modes,
)
from hdbench.oracles.kinds.mixture import MixtureAcceptability, MixtureParams

MODE_METRICS = ["modes_captured", "modes_captured_strict", "high_quality_share", "mode_tv"]


def on_modes(context: TruthContext, counts: dict[int, int], sd: float = 0.1) -> np.ndarray:
    """counts[k] samples within a small spread of mode k: shape (sum of counts, dim)."""
    rng = np.random.default_rng(0)
    modes = context.truth.modes
    return np.concatenate(
        [
            modes[k].location + sd * rng.standard_normal((num, context.dim))
            for k, num in counts.items()
        ]
    )


def test_a_point_mass_captures_one_mode_and_has_collapsed(contexts) -> None:
    context = contexts("gaussian")
    point_mass = np.tile(context.truth.mean, (200, 1))
    assert modes_captured(point_mass, context) == 1.0
    assert high_quality_share(point_mass, context) == 1.0
    assert mode_tv(point_mass, context) == 0.0
    assert collapse_ratio(point_mass, context) == pytest.approx(0.0, abs=1e-12)


def test_collapse_onto_a_line_is_caught(contexts) -> None:
    context = contexts("gaussian")
    t = np.random.default_rng(1).normal(size=(500, 1)) * 3.0
    line = t * np.array([[1.0, 0.5]])
    assert collapse_ratio(line, context) == pytest.approx(0.0, abs=1e-6)
    # The trace does not see it: this line spreads as much as the target.
    assert evaluate(line, context)["var_ratio_target"] > 0.5


def test_three_of_eight_ring_modes(contexts) -> None:
    context = contexts("ring_of_8")
    samples = on_modes(context, {0: 100, 3: 100, 5: 100})
    assert modes_captured(samples, context) == 3.0
    assert modes_captured_strict(samples, context) == 3.0
    assert high_quality_share(samples, context) == 1.0
    # Shares 1/3 on three modes against 1/8 on eight: ½ (3 (1/3 - 1/8) + 5 / 8) = 0.625.
    assert mode_tv(samples, context) == pytest.approx(0.625)


def test_a_stray_sample_captures_a_mode_but_not_strictly(contexts) -> None:
    context = contexts("ring_of_8")
    # Mode 6 holds 1 of 301 high-quality samples, below a quarter of its fair share (1/32).
    samples = on_modes(context, {0: 100, 1: 100, 2: 100, 6: 1})
    assert modes_captured(samples, context) == 4.0
    assert modes_captured_strict(samples, context) == 3.0
    # With 10 of 310 (above 1/32) it counts.
    samples = on_modes(context, {0: 100, 1: 100, 2: 100, 6: 10})
    assert modes_captured_strict(samples, context) == 4.0


def test_strict_capture_weighs_modes_by_their_mass(contexts) -> None:
    context = contexts("three_bumps")
    heavy, middle, light = np.argsort([-mode.mass for mode in context.truth.modes])
    # Masses ≈ 0.49, 0.32, 0.19: a 10 % share is below a quarter of the heaviest mode's fair
    # share (≈ 12 %) but above the lightest's (≈ 5 %).
    samples = on_modes(context, {heavy: 10, middle: 80, light: 10})
    assert modes_captured(samples, context) == 3.0
    assert modes_captured_strict(samples, context) == 2.0
    samples = on_modes(context, {heavy: 80, middle: 10, light: 10})
    assert modes_captured_strict(samples, context) == 3.0


def test_no_high_quality_sample(contexts) -> None:
    context = contexts("ring_of_8")
    centre = np.zeros((50, 2))  # 8 mode sds away from every mode of the ring
    assert modes_captured(centre, context) == 0.0
    assert modes_captured_strict(centre, context) == 0.0
    assert high_quality_share(centre, context) == 0.0
    assert mode_tv(centre, context) == 1.0


def test_nearest_mode_is_by_mahalanobis_distance() -> None:
    bumps = [{"mean": [0.0, 0.0], "sd": 0.1}, {"mean": [3.0, 0.0], "sd": 2.0}]
    truth = MixtureAcceptability.from_params(MixtureParams.model_validate({"bumps": bumps}))
    context = TruthContext.build(
        truth, truth.sample(10, np.random.default_rng(0)), num_reference=50
    )
    # Euclidean: 1 from the narrow mode, 2 from the wide one; Mahalanobis: 10 against 1.
    nearest, distance = nearest_modes(np.array([[1.0, 0.0]]), context)
    assert nearest.tolist() == [1]
    assert distance == pytest.approx([1.0])


def test_exact_samples_are_high_quality_at_the_chi_square_rate(contexts) -> None:
    # One Gaussian mode: the squared Mahalanobis distance is χ²₂, and P(χ²₂ ≤ 9) = 1 - e^{-4.5}.
    context = contexts("gaussian")
    num = 20_000
    samples = context.truth.sample(num, np.random.default_rng(5))
    expected = chi2.cdf(9.0, df=2)
    assert abs(high_quality_share(samples, context) - expected) <= 4 * np.sqrt(
        expected * (1 - expected) / num
    )
    assert modes_captured(samples, context) == 1.0


def test_exact_samples_have_collapse_ratio_one(contexts) -> None:
    context = contexts("three_bumps")
    ratios = np.array(
        [
            collapse_ratio(context.truth.sample(1000, np.random.default_rng(seed)), context)
            for seed in range(20)
        ]
    )
    assert abs(ratios.mean() - 1.0) <= 4 * ratios.std(ddof=1) * np.sqrt(1 / 20 + 1000 / 100_000)


@pytest.mark.parametrize("oracle", ["plateau", "ring", "banana"])
def test_mode_metrics_are_nan_without_modes(contexts, oracle: str) -> None:
    context = contexts(oracle)
    scores = evaluate(context.truth.sample(100, np.random.default_rng(0)), context)
    assert all(np.isnan(scores[name]) for name in MODE_METRICS)
    assert np.isfinite(scores["collapse_ratio"])


def test_mode_mass_tv_counts_mass_between_the_modes(contexts) -> None:
    """Exact samples score near 0; moving a fifth of them off every mode (to the ring's centre)
    costs a fifth, which `mode_tv`, over high-quality samples only, does not see."""
    context = contexts("ring_of_8")
    exact = context.truth.sample(2000, np.random.default_rng(3))
    assert METRICS["mode_mass_tv"].fn(exact, context) < 0.05
    between = exact.copy()
    between[:400] = 0.0
    assert METRICS["mode_mass_tv"].fn(between, context) == pytest.approx(0.2, abs=0.05)
    assert METRICS["mode_tv"].fn(between, context) < 0.05
