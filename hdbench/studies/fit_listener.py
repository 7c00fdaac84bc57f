"""From people back to the simulation: fit the listener model to a ledger's ratings.

The model is hdbench's listener (`hdbench.oracles.listener`) in slider units [0, 1]:

    y = quantise_h(clip(lapse_λ(D_s + b_j + ε))),  ε ~ N(0, σ²),  b_j ~ N(0, τ²) per listener,

a lapse being uniform on the slider. Its likelihood is exact for the clipped, quantised model: a
rating on grid point k has probability (1 − λ)·[Φ((k h + h/2 − μ)/σ) − Φ((k h − h/2 − μ)/σ)] +
λ·h (the end points take the tails and half a step), with μ = D_s + b_j. The slider step h is
read off the ratings (the coarsest grid they all lie on). D_s, the acceptability of each
stimulus, is unknown for people and is a free parameter per stimulus; only stimuli rated at least
twice carry information on the noise (the hidden references, shown again and again, are what
identify it), so the others are left out. Each listener's bias is integrated out by 32-point
Gauss–Hermite quadrature. σ, τ and λ maximise the marginal likelihood (L-BFGS on log σ, log τ,
logit λ and D; exact gradients by torch); their standard errors come from the observed
information (the inverse Hessian, by the delta method). With S stimulus parameters and N ratings
the noise estimate is scaled by √(N / (N − S)), the usual degrees-of-freedom correction for
estimating S means (Neyman & Scott 1948 show the uncorrected one is inconsistent when ratings
per stimulus stay few). Participants flagged by screening are left out. Differential answers and
drift are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import minimize

from hdbench.errors import SpecError
from hdbench.studies.ledger import Ledger

NUM_NODES = 32


@dataclass(frozen=True)
class Ratings:
    """Ratings on the slider's grid: grid index (n,), stimulus index (n,), listener index (n,);
    `step` in slider units, `low`/`high` the slider's scale."""

    grid: np.ndarray
    stimulus: np.ndarray
    listener: np.ndarray
    step: float
    low: float
    high: float

    @property
    def num_grid(self) -> int:
        return round(1 / self.step) + 1


@dataclass(frozen=True)
class ListenerFit:
    noise_sd: float
    bias_sd: float
    lapse_rate: float
    step: float
    low: float
    high: float
    se: dict[str, float]
    num_ratings: int
    num_stimuli: int
    num_listeners: int

    def table(self) -> str:
        rows = [
            f"listener fit: {self.num_ratings:,} ratings of {self.num_stimuli} stimuli rated "
            f"twice or more, by {self.num_listeners} listeners",
            f"  {'parameter':<12} {'estimate':>9} {'se':>8}",
        ]
        for name in ("noise_sd", "bias_sd", "lapse_rate"):
            rows.append(f"  {name:<12} {getattr(self, name):>9.4f} {self.se[name]:>8.4f}")
        scale_step = self.step * (self.high - self.low)
        rows.append(f"  {'step':<12} {scale_step:>9.4g} {'(read)':>8}")
        return "\n".join(rows)


def read_ratings(ledger: Ledger, source: str) -> Ratings:
    """Absolute and paired ratings whose source starts with `source`, of stimuli rated twice or
    more, on the slider's grid; participants flagged by screening are left out."""
    low, high = ledger.meta("slider", [0.0, 1.0])
    rows = ledger.rated_stimuli(source)
    if not rows:
        raise SpecError(f"LEDGER: no absolute or paired ratings with source {source!r}")
    keys, values, raters = [], [], []
    for blob, dim, index, value, rater in rows:
        stimulus = np.frombuffer(blob, dtype=np.float64).reshape(-1, dim)[index]
        keys.append(stimulus.tobytes())
        values.append(value)
        raters.append(rater)
    _, stimulus, counts = np.unique(keys, return_inverse=True, return_counts=True)
    repeated = counts[stimulus] >= 2
    if repeated.sum() < 10:
        raise SpecError(
            "LEDGER: expected stimuli rated at least twice (hidden references), found "
            f"{int(repeated.sum())} such ratings"
        )
    unit = (np.asarray(values)[repeated] - low) / (high - low)
    step = slider_step(unit)
    _, stimulus = np.unique(stimulus[repeated], return_inverse=True)
    _, listener = np.unique(np.asarray(raters)[repeated], return_inverse=True)
    grid = np.round(unit / step).astype(int)
    return Ratings(grid, stimulus, listener, step, low, high)


def slider_step(unit: np.ndarray) -> float:
    """The coarsest grid 1/K (K ≤ 1000) that every value in [0, 1] lies on; 1/1000 (a fine
    binning of a continuous slider) when none does."""
    for num_steps in range(1, 1001):
        scaled = unit * num_steps
        if np.abs(scaled - np.round(scaled)).max() < 1e-9 * num_steps:
            return 1.0 / num_steps
    return 1e-3


def negative_log_likelihood(theta: torch.Tensor, ratings: Ratings) -> torch.Tensor:
    """−log L of θ = (log σ, log τ, logit λ, D_1 … D_S) for the clipped, quantised model."""
    sigma, tau, lapse = theta[0].exp(), theta[1].exp(), torch.sigmoid(theta[2])
    d = theta[3:]
    nodes, weights = np.polynomial.hermite.hermgauss(NUM_NODES)
    bias = np.sqrt(2.0) * tau * torch.as_tensor(nodes)  # (Q,)
    log_w = torch.as_tensor(np.log(weights / np.sqrt(np.pi)))
    h = ratings.step
    k = torch.as_tensor(ratings.grid, dtype=torch.float64)[:, None]
    mu = d[torch.as_tensor(ratings.stimulus)][:, None] + bias[None, :]  # (n, Q)
    # The end points take the tails; far finite bounds (not ±inf) keep the gradients finite.
    upper = torch.where(k >= ratings.num_grid - 1, 1e3, k * h + h / 2)
    lower = torch.where(k <= 0, -1e3, k * h - h / 2)
    normal = torch.special.ndtr((upper - mu) / sigma) - torch.special.ndtr((lower - mu) / sigma)
    uniform = torch.where((k <= 0) | (k >= ratings.num_grid - 1), h / 2, h)
    log_p = torch.log((1 - lapse) * normal.clamp_min(1e-300) + lapse * uniform)
    per_listener = torch.zeros(int(ratings.listener.max()) + 1, NUM_NODES, dtype=torch.float64)
    per_listener = per_listener.index_add(0, torch.as_tensor(ratings.listener), log_p)
    return -torch.logsumexp(per_listener + log_w, dim=1).sum()


def fit_listener(ratings: Ratings) -> ListenerFit:
    """Maximum likelihood of (σ, τ, λ) with D per stimulus; standard errors from the Hessian."""
    num_stimuli = int(ratings.stimulus.max()) + 1
    means = np.bincount(ratings.stimulus, ratings.grid * ratings.step) / np.bincount(
        ratings.stimulus
    )
    start = np.concatenate([[np.log(0.1), np.log(0.05), -3.0], means])

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        theta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        value = negative_log_likelihood(theta, ratings)
        value.backward()
        return float(value.detach()), theta.grad.numpy().copy()

    result = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    theta = torch.tensor(result.x, dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(
        lambda t: negative_log_likelihood(t, ratings), theta
    ).numpy()
    covariance = np.linalg.pinv(hessian)
    se_theta = np.sqrt(np.clip(np.diag(covariance)[:3], 0, None))
    num = len(ratings.grid)
    correction = np.sqrt(num / (num - num_stimuli))
    sigma, tau = np.exp(result.x[0]) * correction, np.exp(result.x[1])
    lapse = 1 / (1 + np.exp(-result.x[2]))
    se = {
        "noise_sd": float(sigma * se_theta[0]),
        "bias_sd": float(tau * se_theta[1]),
        "lapse_rate": float(lapse * (1 - lapse) * se_theta[2]),
    }
    return ListenerFit(
        float(sigma),
        float(tau),
        float(lapse),
        ratings.step,
        ratings.low,
        ratings.high,
        se,
        num,
        num_stimuli,
        int(ratings.listener.max()) + 1,
    )


def fit_ledger(path: Path, source: str = "person") -> ListenerFit:
    with Ledger(path, create=False) as ledger:
        ratings = read_ratings(ledger, source)
    return fit_listener(ratings)


def listener_toml(fit: ListenerFit) -> str:
    """The `[listener]` table of an oracle spec, with the standard errors as comments."""
    step = fit.step * (fit.high - fit.low)
    return (
        f"# fitted by hdbench ledger fit-listener: {fit.num_ratings} ratings, "
        f"{fit.num_stimuli} stimuli, {fit.num_listeners} listeners\n"
        "[listener]\n"
        f"noise_sd = {fit.noise_sd:.4f}  # se {fit.se['noise_sd']:.4f}\n"
        f"bias_sd = {fit.bias_sd:.4f}  # se {fit.se['bias_sd']:.4f}\n"
        f"lapse_rate = {fit.lapse_rate:.4f}  # se {fit.se['lapse_rate']:.4f}\n"
        f"scale = {{ low = {fit.low:g}, high = {fit.high:g}, step = {step:.6g} }}\n"
    )
