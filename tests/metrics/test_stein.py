"""The kernel Stein discrepancy: the Stein kernel against its definition, known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hdbench.metrics import METRICS, TruthContext, evaluate, stein
from hdbench.metrics.stein import BETA, ksd2, stein_kernel_sums
from hdbench.oracles import load_oracle
from hdbench.oracles.kinds.python_callable import PythonAcceptability


def imq(x: np.ndarray, y: np.ndarray, scale: float) -> float:
    return float((1.0 + np.sum((x - y) ** 2) / scale**2) ** BETA)


def stein_pair_by_differences(x, y, sx, sy, scale: float, step: float = 1e-4) -> float:
    """u(x, y) from its definition, every derivative of the kernel by central differences."""
    dim = len(x)
    eye = np.eye(dim) * step
    grad_x = np.array([(imq(x + e, y, scale) - imq(x - e, y, scale)) / (2 * step) for e in eye])
    grad_y = np.array([(imq(x, y + e, scale) - imq(x, y - e, scale)) / (2 * step) for e in eye])
    trace = sum(
        (
            imq(x + e, y + e, scale)
            - imq(x + e, y - e, scale)
            - imq(x - e, y + e, scale)
            + imq(x - e, y - e, scale)
        )
        / (4 * step**2)
        for e in eye
    )
    return sx @ sy * imq(x, y, scale) + sx @ grad_y + sy @ grad_x + trace


def test_the_stein_kernel_matches_its_definition(monkeypatch) -> None:
    rng = np.random.default_rng(0)
    points, scores = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    expected = sum(
        stein_pair_by_differences(points[i], points[j], scores[i], scores[j], 0.8)
        for i in range(7)
        for j in range(7)
        if i != j
    )
    assert stein_kernel_sums(points, scores, 0.8)[0].sum() == pytest.approx(expected, rel=1e-6)
    # Blocks of rows add up to the same sum, whatever their size.
    monkeypatch.setattr(stein, "BLOCK_ROWS", 2)
    assert stein_kernel_sums(points, scores, 0.8)[0].sum() == pytest.approx(expected, rel=1e-6)


@pytest.fixture(scope="module")
def ring_context() -> TruthContext:
    oracle = load_oracle("ring_of_8")
    return TruthContext.build(oracle.truth, oracle.real_data, seed=0, num_reference=200)


def test_exact_samples_score_zero_within_noise(ring_context) -> None:
    """The U-statistic is unbiased: over 8 sets of 400 exact samples its mean is 0 within 4 SE."""
    truth = ring_context.truth
    values = [
        ksd2(truth.sample(400, np.random.default_rng(seed)), ring_context) for seed in range(8)
    ]
    assert abs(np.mean(values)) < 4 * np.std(values, ddof=1) / np.sqrt(len(values))


def test_far_off_mass_costs_even_where_d_underflows(ring_context) -> None:
    """A tenth of the particles 40 length scales out, where D is 0 in floating point: the closed
    form score still pulls them back, and KSD² grows, where a score of 0 would hide them."""
    truth = ring_context.truth
    samples = truth.sample(400, np.random.default_rng(1))
    far = samples.copy()
    far[:40] += 40 * truth.length_scale * np.array([1.0, 0.0]) + 10.0
    assert np.all(truth(far[:40]) == 0.0) and np.all(np.isfinite(truth.score(far[:40])))
    assert ksd2(far, ring_context) > 100 * abs(ksd2(samples, ring_context)) + 0.1


def test_a_truth_without_a_closed_form_score_is_nan_with_its_reason() -> None:
    truth = PythonAcceptability(
        function="hdbench.oracles.examples:banana",
        dim=2,
        bounds=[[-11.0, 11.0], [-4.0, 27.0]],
        modes=[],
    )
    context = TruthContext.build(
        truth, truth.sample(50, np.random.default_rng(0)), num_reference=50
    )
    assert "declare `score` or `log_density`" in truth.score_limit()
    assert math.isnan(evaluate(truth.sample(50, np.random.default_rng(1)), context)["ksd2"])
    assert METRICS["ksd2"].note == "needs the target's score in closed form"


def test_a_declared_log_density_gives_the_score_of_the_declared_score() -> None:
    common = {
        "function": "hdbench.oracles.examples:banana",
        "dim": 2,
        "bounds": [[-11.0, 11.0], [-4.0, 27.0]],
        "modes": [],
    }
    by_score = PythonAcceptability(**common, score="hdbench.oracles.examples:banana_score")
    by_log = PythonAcceptability(**common, log_density="hdbench.oracles.examples:banana_log")
    # Far out in the tail, where D underflows to 0, both are finite and agree.
    x = np.array([[0.0, 1.0], [3.0, 2.0], [60.0, -40.0], [-80.0, 300.0]])
    assert by_score(x[2:]).max() == 0.0
    assert by_score.score_limit() is None and by_log.score_limit() is None
    np.testing.assert_allclose(by_log.score(x), by_score.score(x), rtol=1e-5, atol=1e-6)
