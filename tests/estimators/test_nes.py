"""NES: known answers, unbiasedness against the closed-form smoothed gradient, trial layout.

Unbiasedness tests compare the mean of K independent estimates with its expectation and accept
a deviation of at most 4 standard errors per coordinate, the standard error being the spread of
the K estimates over √K. With 6 coordinates per test a correct estimator fails with probability
about 6 · 6·10⁻⁵; the seeds are fixed, so a run is reproducible either way.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.estimators import NESEstimator
from hdbench.oracles import Oracle, RatingBatch, collect, load_oracle
from hdbench.oracles.kinds.gaussian import GaussianAcceptability
from hdbench.protocol.trials import TrialKind

#: Fixed points of `paper_like` (D = 0.85 · N-shaped bump at (0.5, −1)) where ∇D is sizeable.
POINTS = np.array([[2.0, 0.0], [-1.5, -2.5], [0.5, 1.5]])
NUM_REPEATS = 2000  # independent estimates per point
R = 20  # HumanDiffusion's R
MAX_Z = 4.0


@cache
def oracle(name: str) -> Oracle:
    return load_oracle(name)


def smoothed_gaussian_grad(truth: GaussianAcceptability, x: np.ndarray, sigma: float) -> np.ndarray:
    """∇(D * N(0, σ²I)) at x (n, dim) → (n, dim), for D = h·exp(−½ (x−μ)ᵀ Σ⁻¹ (x−μ)).

    The convolution of two Gaussians: D_σ(x) = h √(det Σ / det Σ_σ) exp(−½ (x−μ)ᵀ Σ_σ⁻¹ (x−μ))
    with Σ_σ = Σ + σ²I, so ∇D_σ(x) = −D_σ(x) Σ_σ⁻¹ (x − μ). This is what antithetic NES with
    Δ ~ N(0, σ²I) and the 1/(2σ²R) normalisation estimates without bias (Stein's lemma).
    """
    cov = truth.cov + sigma**2 * np.eye(truth.dim)
    precision = np.linalg.inv(cov)
    offset = x - truth.mean
    height = truth.height * np.sqrt(np.linalg.det(truth.cov) / np.linalg.det(cov))
    value = height * np.exp(-0.5 * np.einsum("ni,ij,nj->n", offset, precision, offset))
    return -value[:, None] * (offset @ precision)


def estimates(
    oracle: Oracle,
    nes: NESEstimator,
    x: np.ndarray,
    kind: TrialKind,
    seed: int,
    num_repeats: int = NUM_REPEATS,
) -> np.ndarray:
    """`num_repeats` independent NES estimates at each point, through a panel of `oracle`:
    shape (num_points, num_repeats, dim). All estimates are made in one batch of trials."""
    repeated = np.repeat(x, num_repeats, axis=0)
    delta = nes.perturbations(len(repeated), x.shape[1], np.random.default_rng(seed))
    panel = oracle.panel(seed=seed)
    if kind == "paired":
        ratings = collect(panel, panel.submit(nes.paired_trials(repeated, delta)))
        differences = nes.paired_differences(ratings)
    else:
        ratings = collect(panel, panel.submit(nes.differential_trials(repeated, delta)))
        differences = nes.differential_differences(ratings)
    return nes.gradient(differences, delta).reshape(len(x), num_repeats, x.shape[1])


def mean_and_standard_error(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and its standard error over axis 1 of (num_points, num_repeats, dim)."""
    return samples.mean(axis=1), samples.std(axis=1, ddof=1) / np.sqrt(samples.shape[1])


# --- unbiasedness with the ideal listener --------------------------------------------------------


@pytest.mark.parametrize("sigma", [1.0, 0.5])
def test_nes_is_unbiased_for_the_smoothed_gradient(sigma: float) -> None:
    ideal = oracle("paper_like_ideal")
    nes = NESEstimator(sigma, R)
    mean, se = mean_and_standard_error(estimates(ideal, nes, POINTS, "paired", seed=1))
    expected = smoothed_gaussian_grad(ideal.truth, POINTS, sigma)
    np.testing.assert_array_less(np.abs(mean - expected), MAX_Z * se)


def test_the_smoothing_bias_at_sigma_1_is_real() -> None:
    """At the paper's σ = 1 the closed form predicts a bias of 25–55 standard errors per
    coordinate relative to ∇D on `paper_like`, so the mean must miss ∇D by over 4 of them:
    the test above is not passing merely because its tolerance is loose."""
    ideal = oracle("paper_like_ideal")
    nes = NESEstimator(1.0, R)
    mean, se = mean_and_standard_error(estimates(ideal, nes, POINTS, "paired", seed=1))
    predicted_bias = smoothed_gaussian_grad(ideal.truth, POINTS, 1.0) - ideal.truth.grad(POINTS)
    assert (np.abs(predicted_bias) > 20 * se).all()
    assert (np.abs(mean - ideal.truth.grad(POINTS)) > MAX_Z * se).all()


def test_with_a_small_sigma_nes_is_unbiased_for_the_exact_gradient() -> None:
    """At σ = 0.05 the smoothing bias (∝ σ²) is below half a standard error, so the estimates
    are checked against the oracle's own ∇D, independently of the closed form above."""
    ideal = oracle("paper_like_ideal")
    sigma = 0.05
    nes = NESEstimator(sigma, R)
    mean, se = mean_and_standard_error(estimates(ideal, nes, POINTS, "paired", seed=2))
    exact = ideal.truth.grad(POINTS)
    assert (np.abs(smoothed_gaussian_grad(ideal.truth, POINTS, sigma) - exact) < 0.5 * se).all()
    np.testing.assert_array_less(np.abs(mean - exact), MAX_Z * se)


def test_closed_form_smoothed_gradient_matches_monte_carlo() -> None:
    """E[∇D(x + σu)], u ~ N(0, I), averaged with the oracle's own ∇D, equals the closed form."""
    truth = oracle("paper_like_ideal").truth
    sigma, num_draws = 1.0, 100_000
    u = np.random.default_rng(3).standard_normal((len(POINTS), num_draws, truth.dim))
    grads = truth.grad((POINTS[:, None, :] + sigma * u).reshape(-1, truth.dim))
    mean, se = mean_and_standard_error(grads.reshape(len(POINTS), num_draws, truth.dim))
    expected = smoothed_gaussian_grad(truth, POINTS, sigma)
    np.testing.assert_array_less(np.abs(mean - expected), MAX_Z * se)


# --- normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [1.0, 0.5, 3.0])
def test_paper_normalisation_is_sigma_times_the_unbiased_one(sigma: float) -> None:
    rng = np.random.default_rng(4)
    unbiased = NESEstimator(sigma, 7)
    paper = NESEstimator(sigma, 7, normalisation="paper")
    delta = unbiased.perturbations(50, 3, rng)
    differences = rng.uniform(-1, 1, (50, 7))
    assert unbiased.scale == pytest.approx(1 / (2 * sigma**2 * 7), rel=1e-15)
    assert paper.scale == pytest.approx(1 / (2 * sigma * 7), rel=1e-15)
    np.testing.assert_allclose(
        paper.gradient(differences, delta),
        sigma * unbiased.gradient(differences, delta),
        rtol=1e-12,
        atol=0,
    )
    if sigma == 1.0:
        assert np.array_equal(
            paper.gradient(differences, delta), unbiased.gradient(differences, delta)
        )


def test_gradient_of_a_linear_function_with_a_balanced_design_is_exact() -> None:
    """D(x) = a + bᵀx gives ΔD_r = 2bᵀΔ_r. With Δ = ±σ√dim e_j, j = 1..dim (R = 2·dim),
    Σ_r Δ_r Δ_rᵀ = 2·dim·σ² I = Rσ² I, so ĝ = (1/(2σ²R)) Σ_r 2 Δ_r Δ_rᵀ b = b exactly."""
    sigma, dim = 0.7, 3
    b = np.array([0.3, -1.2, 2.0])
    axes = sigma * np.sqrt(dim) * np.eye(dim)
    delta = np.concatenate([axes, -axes])[None]  # (1, 2·dim, dim)
    differences = 2 * delta[0] @ b  # (R,)
    nes = NESEstimator(sigma, 2 * dim)
    np.testing.assert_allclose(nes.gradient(differences[None], delta), b[None], rtol=1e-12)


# --- differential against paired trials ----------------------------------------------------------


def test_differential_and_paired_estimates_coincide_for_the_same_perturbations() -> None:
    """With the ideal listener both trial kinds return D(x+Δ) − D(x−Δ) exactly."""
    ideal = oracle("paper_like_ideal")
    nes = NESEstimator(1.0, R)
    paired = estimates(ideal, nes, POINTS, "paired", seed=5, num_repeats=50)
    differential = estimates(ideal, nes, POINTS, "differential", seed=5, num_repeats=50)
    np.testing.assert_allclose(differential, paired, rtol=0, atol=1e-12)


def test_differential_and_paired_estimates_agree_in_expectation() -> None:
    """Independent perturbations: the two means differ by under 4 standard errors of their
    difference, √(se_paired² + se_differential²)."""
    ideal = oracle("paper_like_ideal")
    nes = NESEstimator(1.0, R)
    paired, se_paired = mean_and_standard_error(estimates(ideal, nes, POINTS, "paired", seed=6))
    differential, se_differential = mean_and_standard_error(
        estimates(ideal, nes, POINTS, "differential", seed=7)
    )
    se = np.hypot(se_paired, se_differential)
    np.testing.assert_array_less(np.abs(paired - differential), MAX_Z * se)


# --- layout of perturbations, trials and ratings -------------------------------------------------


def test_perturbations_have_the_shape_and_spread_asked_for() -> None:
    """Sample mean within 4·σ/√n of 0 and sample variance within 4·σ²√(2/(n−1)) of σ²."""
    sigma = 0.3
    nes = NESEstimator(sigma, 5)
    delta = nes.perturbations(2000, 2, np.random.default_rng(8))
    assert delta.shape == (2000, 5, 2)
    n = delta[..., 0].size
    for axis in range(2):
        values = delta[..., axis].ravel()
        assert abs(values.mean()) < MAX_Z * sigma / np.sqrt(n)
        assert abs(values.var(ddof=1) - sigma**2) < MAX_Z * sigma**2 * np.sqrt(2 / (n - 1))
    correlation = np.corrcoef(delta.reshape(-1, 2).T)[0, 1]
    assert abs(correlation) < MAX_Z / np.sqrt(n)


def test_trials_are_point_major_and_antithetic() -> None:
    nes = NESEstimator(1.0, 3)
    x = np.arange(8.0).reshape(4, 2)
    delta = nes.perturbations(4, 2, np.random.default_rng(9))
    paired = nes.paired_trials(x, delta)
    differential = nes.differential_trials(x, delta)
    assert paired.kind == "paired" and differential.kind == "differential"
    assert paired.num_trials == differential.num_trials == 12
    for i in range(4):
        for r in range(3):
            k = i * 3 + r
            np.testing.assert_array_equal(paired.stimuli[k, 0], x[i] + delta[i, r])
            np.testing.assert_array_equal(paired.stimuli[k, 1], x[i] - delta[i, r])
            # "how much more natural is b than a" with a = x − Δ, b = x + Δ
            np.testing.assert_array_equal(differential.stimuli[k, 0], x[i] - delta[i, r])
            np.testing.assert_array_equal(differential.stimuli[k, 1], x[i] + delta[i, r])


def test_paired_ratings_become_differences_and_pooled_ratings_per_point() -> None:
    nes = NESEstimator(1.0, 2)
    # Two points × two perturbations; column 0 rates x + Δ, column 1 rates x − Δ (MUSHRA scale).
    values = np.array([[90.0, 10.0], [60.0, 70.0], [0.0, 100.0], [50.0, 50.0]])
    ratings = RatingBatch("b0", "paired", values, np.zeros(4, dtype=int), 0.0, 100.0)
    np.testing.assert_allclose(nes.paired_differences(ratings), [[0.8, -0.1], [-1.0, 0.0]])
    np.testing.assert_allclose(
        nes.pooled_ratings(ratings), [[0.9, 0.1, 0.6, 0.7], [0.0, 1.0, 0.5, 0.5]]
    )
    answers = RatingBatch("b1", "differential", np.array([[0.5], [-0.25], [1.0], [0.0]]),
                          np.zeros(4, dtype=int), 0.0, 1.0)  # fmt: skip
    np.testing.assert_allclose(nes.differential_differences(answers), [[0.5, -0.25], [1.0, 0.0]])


# --- bad arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sigma": 0.0, "num_perturbations": 5}, "sigma_nes"),
        ({"sigma": -1.0, "num_perturbations": 5}, "sigma_nes"),
        ({"sigma": float("nan"), "num_perturbations": 5}, "sigma_nes"),
        ({"sigma": float("inf"), "num_perturbations": 5}, "sigma_nes"),
        ({"sigma": "1", "num_perturbations": 5}, "sigma_nes"),
        ({"sigma": 1.0, "num_perturbations": 0}, "R"),
        ({"sigma": 1.0, "num_perturbations": -3}, "R"),
        ({"sigma": 1.0, "num_perturbations": 2.5}, "R"),
        ({"sigma": 1.0, "num_perturbations": True}, "R"),
        ({"sigma": 1.0, "num_perturbations": 5, "normalisation": "sigma"}, "normalisation"),
    ],
)
def test_bad_settings_raise_a_one_line_spec_error(kwargs: dict, field: str) -> None:
    with pytest.raises(SpecError) as error:
        NESEstimator(**kwargs)
    message = str(error.value)
    assert message.startswith(f"{field}: expected")
    assert "\n" not in message


def test_mismatched_shapes_and_trial_kinds_raise_spec_errors() -> None:
    nes = NESEstimator(1.0, 4)
    x = np.zeros((3, 2))
    delta = nes.perturbations(3, 2, np.random.default_rng(10))
    with pytest.raises(SpecError, match=r"^delta: expected shape \(3, 4, 2\)"):
        nes.paired_trials(x, delta[:, :2])
    with pytest.raises(SpecError, match=r"^differences: expected shape \(3, 4\)"):
        nes.gradient(np.zeros((3, 3)), delta)
    ratings = RatingBatch("b0", "differential", np.zeros((12, 1)), np.zeros(12), 0.0, 1.0)
    with pytest.raises(SpecError, match=r"^ratings: expected a paired rating batch"):
        nes.pooled_ratings(ratings)
    odd = RatingBatch("b0", "paired", np.zeros((10, 2)), np.zeros(10), 0.0, 1.0)
    with pytest.raises(SpecError, match=r"^ratings: expected a multiple of R = 4"):
        nes.paired_differences(odd)
