"""Metrics in 8 and 32 dimensions: the truth context builds, PRDC and the mode metrics score
exact samples as they should, grid metrics are NaN with their "2-D only" note, and a truth with
no exact target (the vowel space above dim 2) leaves NaN where target samples are needed."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.stats import chi2

from hdbench.metrics import METRICS, TruthContext, evaluate, floor_and_ceiling
from hdbench.metrics.modes import HIGH_QUALITY_MASS, high_quality_radius
from hdbench.oracles.acceptability import Acceptability
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.kinds.gaussian import GaussianAcceptability

NUM = 1_000
#: Metrics that need exact target samples.
TARGET_METRICS = {
    "var_ratio_target",
    "collapse_ratio",
    "mmd2",
    "mmd2_multiscale",
    "energy_distance",
    "sliced_w2",
    "prdc_precision",
    "prdc_recall",
    "prdc_density",
    "prdc_coverage",
}


def ring_of_8(dim: int) -> Acceptability:
    cls = ACCEPTABILITY_KINDS["mixture"]
    return cls.from_params(cls.Params(ring={"dim": dim, "num_bumps": 8, "radius": 4.0, "sd": 0.5}))


@cache
def context_of(dim: int) -> TruthContext:
    truth = ring_of_8(dim)
    return TruthContext.build(truth, truth.sample(300, np.random.default_rng(1)), seed=0)


@pytest.mark.parametrize("dim", [8, 32])
def test_exact_samples_score_as_exact_in_high_dimensions(dim: int) -> None:
    context = context_of(dim)
    assert context.reference.shape == (2000, dim) and context.grid is None
    scores = evaluate(context.truth.sample(NUM, np.random.default_rng(2)), context)
    assert np.isnan(scores["grid_coverage"]) and np.isnan(scores["reverse_kl"])
    assert scores["modes_captured"] == scores["modes_captured_strict"] == 8
    # The share within the χ² radius is a binomial proportion with p = HIGH_QUALITY_MASS.
    se = np.sqrt(HIGH_QUALITY_MASS * (1 - HIGH_QUALITY_MASS) / NUM)
    assert abs(scores["high_quality_share"] - HIGH_QUALITY_MASS) < 4 * se
    # Mode shares: a multinomial over 8 equal modes; TV of 1,000 draws is about 0.05.
    assert scores["mode_tv"] < 0.1
    # PRDC density is 1 in expectation for exact samples (Naeem et al. 2020); the spread of the
    # mean over 1,000 samples of k-NN ball counts is a few percent.
    assert abs(scores["prdc_density"] - 1.0) < 0.15
    # Coverage of exact samples: 1 - Π_{i=1..k} (N - i) / (N + M - i) (Naeem et al. 2020), for
    # N = 2,000 reference points and M = 1,000 samples about 0.87; 4 binomial sds of N points.
    num_ref, k = len(context.reference), context.num_neighbours
    expected = 1 - np.prod([(num_ref - i) / (num_ref + NUM - i) for i in range(1, k + 1)])
    assert abs(scores["prdc_coverage"] - expected) < 4 * np.sqrt(
        expected * (1 - expected) / num_ref
    )
    assert abs(scores["var_ratio_target"] - 1.0) < 0.1
    assert abs(scores["mmd2"]) < 0.01


@pytest.mark.parametrize("dim", [8, 32])
def test_the_floor_is_worse_than_the_ceiling_in_high_dimensions(dim: int) -> None:
    table = floor_and_ceiling(context_of(dim), num_samples=300, num_repeats=2, seed=0)
    means = table.pivot(index="metric", columns="bracket", values="mean")
    for name in ("prdc_precision", "prdc_coverage", "modes_captured", "high_quality_share"):
        assert means.loc[name, "ceiling"] > means.loc[name, "floor"]
    assert means.loc["mmd2", "ceiling"] < means.loc["mmd2", "floor"]


def test_high_quality_radius_holds_its_mass_in_every_dimension() -> None:
    assert high_quality_radius(2) == pytest.approx(3.0)
    for dim in (1, 8, 32):
        assert chi2.cdf(high_quality_radius(dim) ** 2, df=dim) == pytest.approx(HIGH_QUALITY_MASS)


def test_registry_says_why_a_metric_may_be_nan() -> None:
    assert METRICS["grid_coverage"].note == METRICS["reverse_kl"].note == "2-D only"
    assert METRICS["modes_captured"].note == "needs the target's modes"
    for name in TARGET_METRICS:
        assert METRICS[name].note == "needs exact target samples"
    assert METRICS["mean_true_d"].note == ""


class NoExactTarget(GaussianAcceptability):
    """A Gaussian that claims, as the vowel space does above dim 2, to have no exact target."""

    def sampling_limit(self) -> str | None:
        return "test (dim 8): no exact target"


def test_a_truth_without_exact_target_gets_nan_where_target_samples_are_needed() -> None:
    truth = NoExactTarget(mean=[0.0] * 8, cov=np.eye(8).tolist(), peak=0.9)
    real = np.random.default_rng(0).standard_normal((100, 8))
    context = TruthContext.build(truth, real)
    assert context.reference is None and context.sampling_limit == "test (dim 8): no exact target"
    scores = evaluate(real, context)
    assert {name for name in METRICS if np.isnan(scores[name])} == TARGET_METRICS | {
        "mode_mass_tv",
        "grid_coverage",
        "reverse_kl",
        # The real data hold the one mode, and there is no grid above 2-D: nothing to discover.
        "modes_discovered",
        "modes_discovered_strict",
        "discovery_mass",
        "discovery_coverage",
    }
    assert 0 < scores["mean_true_d"] < 0.9 and np.isfinite(scores["var_ratio_real"])
    table = floor_and_ceiling(context, num_samples=50, num_repeats=2)
    assert set(table["bracket"]) == {"floor"}


def test_the_vowel_space_in_8_dimensions_is_scored_by_d_alone() -> None:
    pytest.importorskip("pyworld", reason="the speech extra is not installed")
    cls = ACCEPTABILITY_KINDS["vowel"]
    truth = cls.from_params(cls.Params(dim=8))
    real = truth.own_real_data(40, seed=0)
    context = TruthContext.build(truth, real)
    assert "vowel (dim 8): no exact target" in context.sampling_limit
    scores = evaluate(real, context)
    assert np.isnan(scores["mmd2"]) and np.isnan(scores["prdc_coverage"])
    # Corpus tokens are rated well above the box's floor, as in dim 2.
    assert scores["mean_true_d"] > 0.3
