"""Exact samples of p_D ∝ D · 1_box for a D known only as a function: rejection from a fitted
envelope.

Rejection from the box (accept x ~ U(box) with probability D(x)) is exact but its acceptance is
∫D / vol(box), which falls geometrically with the dimension (about 10⁻²² for a Gaussian in a
±6 sd box in 32 dimensions), and is 0 when D's mass lies outside the box. Instead:

1. **Fit** a proposal q, a mixture of multivariate Student-t laws (ν = 5), to p_D by adaptive
   importance sampling: mixture population Monte Carlo (Cappé, Douc, Guillin, Marin & Robert,
   "Adaptive importance sampling in general mixture classes", Stat. Comput. 2008: weights,
   locations and scales re-estimated from the weighted draws and each component's
   responsibility), with the weights w = D · 1_box / q tempered to w^β, β ≤ 1 the largest power
   that keeps an effective sample size of half the draws, so that a broad start is never
   collapsed onto one lucky point. Components start at the kind's listed modes, else at the box.
2. **Bound** the ratio: M = `MARGIN` × max D/q over `NUM_PILOT` fresh draws, for the fitted
   scales widened by each of `WIDENINGS`; the widening with the best acceptance ∫D / M is kept.
3. **Reject**: draw x ~ q, keep it when x is in the box and U < D(x) / (M q(x)). When
   D ≤ M q on the box the kept points are exact draws from p_D, whatever q is (Devroye,
   "Non-Uniform Random Variate Generation", 1986, §II.3), at an acceptance rate ∫D / M.

Why the bound holds: on the box, D ≤ 1 and q > 0, so sup D/q is finite; the t's polynomial tails
dominate any D with Gaussian or lighter tails, so the supremum sits in the bulk where the pilot
draws are (for a Gaussian target in 32 dimensions and a t at its covariance, sup p/q is
attained within 1 sd of the mean). It is also checked, not assumed: every proposal's ratio is
compared with M, and a proposal above it raises M to `MARGIN` × its ratio and restarts the draw,
discarding what was kept. The samples returned thus come from a run in which the bound held at
every one of its proposals; what stays unchecked is a region no proposal visited.

The normaliser is the importance-sampling estimate Ẑ = mean(D · 1_box / q) over the pilot draws,
reported with its standard error and effective sample size (`EnvelopeDiagnostics`).

Nothing loops without end: a draw stops after `MAX_PROPOSALS` proposals with one line giving the
acceptance rate and what to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hdbench.errors import ExactSamplingError
from hdbench.lazy import lazy_import

special = lazy_import("scipy.special")

#: Degrees of freedom of the t components: heavy tails, so that D / q stays bounded far out.
DEGREES_OF_FREEDOM = 5.0
#: Draws per tempered adaptation step, the most steps, and the steps at β = 1 that end the fit.
NUM_FIT_DRAWS = 4_000
MAX_FIT_STEPS = 60
NUM_POLISH_STEPS = 3
#: β counts as stalled when it rose by under 5 % over this many steps.
STALL_STEPS = 3
#: Fresh draws that set the bound M and estimate the normaliser.
NUM_PILOT = 20_000
#: M is this many times the largest ratio seen: a safety factor that halves the acceptance.
MARGIN = 2.0
#: A draw gives up after this many proposals (D evaluated at most this often).
MAX_PROPOSALS = 20_000_000
#: Largest batch of proposals evaluated at once (memory: batch × dim floats).
MAX_BATCH = 200_000
#: Share of the draws' effective sample size kept while tempering.
ESS_SHARE = 0.5
#: Widenings of the fitted scales tried for the envelope (sd multipliers).
WIDENINGS = (1.0, 1.1, 1.25, 1.5, 2.0)
#: Components the fit starts from when the kind lists no modes.
NUM_START_COMPONENTS = 8
#: Components whose weight falls below this are dropped.
MIN_COMPONENT_WEIGHT = 1e-3

DensityFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class StudentMixture:
    """A mixture of multivariate t laws: weights (k,), locations (k, dim), scales (k, dim, dim)."""

    weights: np.ndarray
    locations: np.ndarray
    scales: np.ndarray
    nu: float = DEGREES_OF_FREEDOM
    widening: float = 1.0

    def widened(self, factor: float) -> StudentMixture:
        """The same mixture with every scale's standard deviations times `factor`."""
        return StudentMixture(
            self.weights, self.locations, self.scales * factor**2, self.nu, self.widening * factor
        )

    @property
    def dim(self) -> int:
        return self.locations.shape[1]

    def draw(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """num points of shape (num, dim)."""
        component = rng.choice(len(self.weights), size=num, p=self.weights)
        normal = rng.standard_normal((num, self.dim))
        stretch = np.sqrt(self.nu / rng.chisquare(self.nu, size=num))
        points = np.empty((num, self.dim))
        for k, chol in enumerate(np.linalg.cholesky(self.scales)):
            mine = component == k
            points[mine] = self.locations[k] + stretch[mine, None] * (normal[mine] @ chol.T)
        return points

    def component_log_densities(self, x: np.ndarray) -> np.ndarray:
        """log q_k(x) for x (n, dim): shape (n, k)."""
        dim, nu = self.dim, self.nu
        chols = np.linalg.cholesky(self.scales)
        columns = []
        for location, chol in zip(self.locations, chols, strict=True):
            whitened = np.linalg.solve(chol, (x - location).T)
            squared = np.einsum("in,in->n", whitened, whitened)
            log_det = 2 * np.log(np.diag(chol)).sum()
            columns.append(
                special.gammaln((nu + dim) / 2)
                - special.gammaln(nu / 2)
                - 0.5 * dim * np.log(nu * np.pi)
                - 0.5 * log_det
                - 0.5 * (nu + dim) * np.log1p(squared / nu)
            )
        return np.stack(columns, axis=1)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log q(x) for x (n, dim): shape (n,)."""
        return special.logsumexp(self.component_log_densities(x) + np.log(self.weights), axis=1)


@dataclass(frozen=True)
class Pilot:
    """Draws of a proposal: D at them (n,), log q (n,), and weights D · 1_box / q (n,)."""

    proposal: StudentMixture
    values: np.ndarray
    log_q: np.ndarray
    weights: np.ndarray

    @property
    def proposal_widening(self) -> float:
        return self.proposal.widening

    @property
    def acceptance(self) -> float:
        """Estimated acceptance mean(w) / max(w) of rejection with this proposal (margin 1)."""
        top = self.weights.max()
        return float(self.weights.mean() / top) if top > 0 else 0.0


@dataclass(frozen=True)
class EnvelopeDiagnostics:
    """How well the envelope fits: the normaliser ∫_box D with its standard error, the pilot's
    effective sample size (out of `NUM_PILOT`), the expected acceptance rate ∫D / M, the share of
    D's mass that the pilot saw outside the box, the widening chosen and the fit steps taken."""

    normaliser: float
    normaliser_se: float
    effective_sample_size: float
    acceptance: float
    outside_share: float
    widening: float
    num_fit_steps: int

    def describe(self) -> str:
        return (
            f"∫D = {self.normaliser:.4g} ± {self.normaliser_se:.2g} (importance sampling, "
            f"ESS {self.effective_sample_size:,.0f} of {NUM_PILOT:,}), rejection acceptance "
            f"{self.acceptance:.2%}"
        )


class EnvelopeSampler:
    """Rejection sampler of p_D ∝ D · 1_box from a fitted t-mixture envelope (module docstring).

    `density_fn` maps points (n, dim) to D (n,) in [0, 1]; `bounds` has shape (dim, 2); `starts`
    are (location (dim,), covariance (dim, dim)) pairs to start the fit from (e.g. the modes);
    `name` prefixes error messages. Fitting draws from `rng`; sampling from the caller's.
    """

    def __init__(
        self,
        density_fn: DensityFn,
        bounds: np.ndarray,
        starts: list[tuple[np.ndarray, np.ndarray]],
        name: str,
        rng: np.random.Generator,
    ) -> None:
        self.density_fn, self.bounds, self.name = density_fn, np.asarray(bounds, float), name
        self.dim = len(self.bounds)
        fitted, num_steps = self._fit(self._start(starts, rng), rng)
        # Widen the fit where that pays: the acceptance ∫D / M estimated on fresh pilot draws
        # for each widening, the best kept (a curved p_D needs wider components at its tips).
        pilots = [self._pilot(fitted.widened(widening), rng) for widening in WIDENINGS]
        best = max(pilots, key=lambda pilot: pilot.acceptance)
        if best.weights.max() <= 0.0:
            raise ExactSamplingError(self._zero_message(NUM_PILOT))
        self.proposal = best.proposal
        self.bound = MARGIN * float(best.weights.max())
        normaliser = float(best.weights.mean())
        outside = float((best.values * np.exp(-best.log_q)).mean()) - normaliser
        self.diagnostics = EnvelopeDiagnostics(
            normaliser=normaliser,
            normaliser_se=float(best.weights.std(ddof=1) / np.sqrt(NUM_PILOT)),
            effective_sample_size=float(best.weights.sum() ** 2 / (best.weights**2).sum()),
            acceptance=normaliser / self.bound,
            outside_share=outside / (outside + normaliser),
            widening=best.proposal_widening,
            num_fit_steps=num_steps,
        )

    def _pilot(self, proposal: StudentMixture, rng: np.random.Generator) -> Pilot:
        """`NUM_PILOT` draws of `proposal` with D at each of them (inside and outside the box)."""
        x = proposal.draw(NUM_PILOT, rng)
        values, log_q = self.density_fn(x), proposal.log_density(x)
        weights = np.where(self._inside(x), values, 0.0) * np.exp(-log_q)
        return Pilot(proposal, values, log_q, weights)

    def _start(
        self, starts: list[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator
    ) -> StudentMixture:
        """The given starts, or `NUM_START_COMPONENTS` broad components at random points of the
        box's middle half: several, so that the fit can bend to a curved or multimodal p_D."""
        if not starts:
            lo, hi = self.bounds.T
            centres = rng.uniform(
                0.75 * lo + 0.25 * hi, 0.25 * lo + 0.75 * hi, (NUM_START_COMPONENTS, self.dim)
            )
            starts = [(c, np.diag((0.25 * (hi - lo)) ** 2)) for c in centres]
        k = len(starts)
        return StudentMixture(
            np.full(k, 1.0 / k),
            np.stack([np.asarray(loc, float) for loc, _ in starts]),
            np.stack([np.asarray(cov, float) for _, cov in starts]),
        )

    def _inside(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds.T
        return np.all((x >= lo) & (x <= hi), axis=1)

    def _log_weights(self, x: np.ndarray, proposal: StudentMixture) -> np.ndarray:
        """log(D · 1_box / q) at proposals x (n, dim): shape (n,), -inf where D = 0 or outside;
        D is evaluated inside the box only."""
        inside = self._inside(x)
        values = np.zeros(len(x))
        values[inside] = self.density_fn(x[inside])
        with np.errstate(divide="ignore"):
            return np.log(values) - proposal.log_density(x)

    def _fit(
        self, proposal: StudentMixture, rng: np.random.Generator
    ) -> tuple[StudentMixture, int]:
        """Tempered mixture population Monte Carlo until β = 1, then `NUM_POLISH_STEPS` steps
        at β = 1 on `NUM_PILOT` draws each; returns the proposal and the steps taken.

        β jumps to 1 when it stalls (t laws match a Gaussian p_D only so well: in 32 dimensions
        the draws' effective size never reaches half of them, and β settles near 0.7).
        """
        powers: list[float] = []
        num_polished = 0
        for _ in range(MAX_FIT_STEPS):
            polishing = num_polished > 0
            num_draws = NUM_PILOT if polishing else NUM_FIT_DRAWS
            x = proposal.draw(num_draws, rng)
            log_w = self._log_weights(x, proposal)
            finite = np.isfinite(log_w)
            if not finite.any():
                raise ExactSamplingError(self._zero_message(num_draws))
            powers.append(1.0 if polishing else tempering_power(log_w, ESS_SHARE * num_draws))
            stalled = len(powers) > STALL_STEPS and powers[-1] <= 1.05 * powers[-1 - STALL_STEPS]
            beta = 1.0 if stalled else powers[-1]
            tempered = np.full(num_draws, -np.inf)
            tempered[finite] = beta * log_w[finite]
            proposal = refit(proposal, x, special.softmax(tempered))
            num_polished += beta >= 1.0
            if num_polished > NUM_POLISH_STEPS:
                break
        return proposal, len(powers)

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """num exact draws from p_D of shape (num, dim); ExactSamplingError past MAX_PROPOSALS.

        Every call starts from the fitted bound, so the same generator state gives the same
        samples whatever was drawn before.
        """
        bound = self.bound
        kept: list[np.ndarray] = []
        num_kept = num_proposals = 0
        while num_kept < num:
            if num_proposals >= MAX_PROPOSALS:
                raise ExactSamplingError(self._exhausted_message(num, num_kept, num_proposals))
            acceptance = max(self.diagnostics.normaliser / bound, 1e-9)
            wanted = 1.2 * (num - num_kept) / acceptance + 64
            batch = int(min(MAX_BATCH, MAX_PROPOSALS - num_proposals, wanted))
            x = self.proposal.draw(batch, rng)
            ratio = np.exp(self._log_weights(x, self.proposal)) / bound
            num_proposals += batch
            if ratio.max() > 1.0:
                # The envelope fails at this point: raise it and start again, keeping nothing
                # drawn under the old bound, which under-sampled this point's neighbourhood.
                bound *= MARGIN * float(ratio.max())
                kept, num_kept = [], 0
                continue
            accepted = x[rng.uniform(size=batch) < ratio]
            kept.append(accepted)
            num_kept += len(accepted)
        return np.concatenate(kept)[:num]

    def _zero_message(self, num_draws: int) -> str:
        return (
            f"{self.name}: D is 0 at all {num_draws:,} points drawn in its bounds, so p_D cannot "
            "be sampled; expected bounds (and modes) around where D is positive"
        )

    def _exhausted_message(self, num: int, num_kept: int, num_proposals: int) -> str:
        rate = num_kept / max(num_proposals, 1)
        return (
            f"{self.name}: exact sampling stopped after {num_proposals:,} proposals with "
            f"{num_kept:,} of {num:,} samples (acceptance {rate:.2e}); give modes near D's mass "
            "or tighter bounds, or ask for fewer samples"
        )


def effective_size(log_weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of weights given by their logs (n,)."""
    finite = log_weights[np.isfinite(log_weights)]
    if len(finite) == 0:
        return 0.0
    return float(np.exp(2 * special.logsumexp(finite) - special.logsumexp(2 * finite)))


def tempering_power(log_weights: np.ndarray, target: float) -> float:
    """Largest β in [0, 1] with effective_size(β · log w) ≥ target (bisection), or 1; the
    effective size ignores the -inf entries (points where D = 0), whatever β."""
    if effective_size(log_weights) >= target:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = 0.5 * (low + high)
        if effective_size(middle * log_weights) >= target:
            low = middle
        else:
            high = middle
    return low


def refit(proposal: StudentMixture, x: np.ndarray, weights: np.ndarray) -> StudentMixture:
    """One M-PMC step (Cappé et al. 2008): each component's weight, location and scale from the
    normalised weights (n,) of the draws x (n, dim), shared out by responsibility. The scale is
    the weighted covariance itself, so each t (covariance ν/(ν-2) × scale) is wider than p_D."""
    log_parts = proposal.component_log_densities(x) + np.log(proposal.weights)
    responsibility = weights[:, None] * special.softmax(log_parts, axis=1)
    mass = responsibility.sum(axis=0)
    keep = mass >= MIN_COMPONENT_WEIGHT
    responsibility, mass = responsibility[:, keep], mass[keep]
    locations = (responsibility.T @ x) / mass[:, None]
    scales = []
    for k, location in enumerate(locations):
        centred = x - location
        cov = (responsibility[:, k, None] * centred).T @ centred / mass[k]
        # A ridge keeps the scale invertible when few draws carry the weight.
        ridge = 1e-6 * np.trace(cov) / len(location) + 1e-12
        scales.append(cov + ridge * np.eye(len(location)))
    return StudentMixture(mass / mass.sum(), locations, np.stack(scales), proposal.nu)
