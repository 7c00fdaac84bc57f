"""Acceptability functions: the known truth D(x) ∈ [0, 1] behind a simulated panel.

D(x) is the probability that a listener accepts stimulus x as natural. Its normalised form
p_D(x) = D(x) / ∫D is the human-acceptable distribution that HumanDiffusion learns
(Ueda et al., Interspeech 2023, §3.1); its score is ∇log p_D = ∇log D.

Only metrics and plots see these objects; methods see the ratings of their own trials.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, wraps
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from hdbench.errors import ExactSamplingError, SpecError
from hdbench.oracles.envelope import EnvelopeSampler
from hdbench.rng import named_generator

#: Densities below this are treated as zero when a log is needed.
LOG_FLOOR = 1e-300
#: Share of a Gaussian mode's own mass within the radius at which a point belongs to its nearest
#: mode: VEEGAN's 3 sd in 2-D (Srivastava et al. 2017), P(χ²₂ ≤ 9) = 1 - e^{-4.5} ≈ 98.9 %, kept
#: in every dimension. Shared by the mode metrics ("high quality") and the real data drawn from
#: chosen modes.
HIGH_QUALITY_MASS = float(-np.expm1(-4.5))
#: Antithetic pairs of fixed normal draws behind the quasi-Monte Carlo smoothed score.
NUM_SMOOTHING_PAIRS = 512
#: Exact samples, and the rank of the neighbour, behind the generic `length_scale`: the median
#: distance to the 50th of 1,000 nearest, the radius of a ball holding about 5 % of the mass.
#: On the bundled oracles with a scale of their own (component sd, profile width) it lands at
#: 0.46–3.4 times that scale, 1.2 times in the geometric mean (tests/oracles/test_length_scale.py).
LENGTH_SCALE_SAMPLES = 1000
LENGTH_SCALE_NEIGHBOUR = 50


@dataclass(frozen=True)
class Mode:
    """One mode of p_D: its location (dim,), spread (dim, dim) and share of the mass."""

    location: np.ndarray
    cov: np.ndarray
    mass: float


def high_quality_radius(dim: int) -> float:
    """Mahalanobis radius holding `HIGH_QUALITY_MASS` of a Gaussian mode in `dim` dimensions:
    3 in 2-D, 4.45 in 8-D, 7.28 in 32-D (a fixed 3 would hold 0.0 % of a 32-D mode)."""
    # The χ² quantile as scipy.stats.chi2.ppf computes it, without importing scipy.stats (over
    # a second of `hdbench run`'s start-up on a busy machine); scipy.special here, not with the
    # module, which listing the oracles imports.
    from scipy.special import gammaincinv

    return float(np.sqrt(2 * gammaincinv(dim / 2, HIGH_QUALITY_MASS)))


def nearest_modes(x: np.ndarray, modes: tuple[Mode, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Index (n,) of the nearest mode of each point of x (n, dim) by Mahalanobis distance
    √((x - μ_k)ᵀ Σ_k⁻¹ (x - μ_k)), and that distance (n,)."""
    locations = np.stack([mode.location for mode in modes])
    precisions = np.linalg.inv(np.stack([mode.cov for mode in modes]))
    offsets = x[:, None, :] - locations[None]
    squared = np.einsum("nki,kij,nkj->nk", offsets, precisions, offsets)
    nearest = np.argmin(squared, axis=1)
    return nearest, np.sqrt(np.maximum(squared[np.arange(len(x)), nearest], 0.0))


class KindParams(BaseModel):
    """Base of every kind's parameter model: frozen, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def checked_call(call: Callable[[Any, np.ndarray], np.ndarray]) -> Callable:
    """`call` (D of a kind) refusing points that are not of shape (n, dim) in one line, before
    a kind's arithmetic broadcasts them into a wrong answer or a traceback."""

    @wraps(call)
    def checked(self: Acceptability, x: np.ndarray) -> np.ndarray:
        shape = np.shape(x)
        if len(shape) != 2 or shape[1] != self.dim:
            raise SpecError(
                f"{self.label}: points: expected an array of shape (n, {self.dim}), got shape "
                f"{shape}"
            )
        return call(self, x)

    return checked


def checked_sample(sample: Callable[[Any, int, np.random.Generator], np.ndarray]) -> Callable:
    """`sample` (a kind's exact sampler) refusing a count that is not an integer ≥ 0, or a
    generator that is not a numpy Generator, in one line."""

    @wraps(sample)
    def checked(self: Acceptability, num: int, rng: np.random.Generator) -> np.ndarray:
        if isinstance(num, bool) or not isinstance(num, int | np.integer) or num < 0:
            raise SpecError(f"{self.label}: sample: num: expected an integer ≥ 0, got {num!r}")
        if not isinstance(rng, np.random.Generator):
            raise SpecError(
                f"{self.label}: sample: rng: expected a numpy Generator "
                f"(np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        return sample(self, num, rng)

    return checked


class Acceptability(ABC):
    """The truth behind an oracle.

    Every kind's `__call__` and `sample` are held to their argument contracts (`checked_call`,
    `checked_sample`), so a user's mistake is one line whichever kind it meets.

    Subclasses give D and, where they can, closed forms for the rest. The generic fallbacks work
    in any dimension: exact samples by rejection from an envelope fitted to D
    (`hdbench.oracles.envelope`, whose module docstring argues its exactness), the normaliser by
    quadrature over the box (dim ≤ 3) or by importance sampling from that envelope (above), the
    gradient by central differences. A kind that cannot draw exact samples in its dimension
    says why in `sampling_limit`, and `sample` and `normaliser` raise ExactSamplingError with it.
    """

    Params: ClassVar[type[KindParams]]
    description: ClassVar[str]
    #: Whether `smoothed_score` is a closed form (cheap at every σ), not the quasi-Monte Carlo
    #: fallback that costs 2·NUM_SMOOTHING_PAIRS evaluations of D per point.
    closed_form_smoothing: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__call__" in cls.__dict__:
            cls.__call__ = checked_call(cls.__dict__["__call__"])  # type: ignore[method-assign]
        if "sample" in cls.__dict__:
            cls.sample = checked_sample(cls.__dict__["sample"])  # type: ignore[method-assign]

    dim: int

    @classmethod
    def from_params(cls, params: KindParams) -> Acceptability:
        """Build from the kind's validated parameters."""
        return cls(**params.model_dump())

    @abstractmethod
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """D at x of shape (n, dim); returns shape (n,), values in [0, 1]."""

    @property
    @abstractmethod
    def bounds(self) -> np.ndarray:
        """Box of shape (dim, 2) holding all but a negligible share of p_D; used for grids."""

    @property
    def label(self) -> str:
        """The kind's registry name and the dimension, for messages: `python (dim 8)`."""
        from hdbench.oracles.kinds import ACCEPTABILITY_KINDS

        names = [name for name, kind in ACCEPTABILITY_KINDS.items() if kind is type(self)]
        return f"{names[0] if names else type(self).__name__} (dim {self.dim})"

    def own_real_data(self, num: int, seed: int) -> np.ndarray | None:
        """Real data of shape (num, dim) that belong to the kind (a corpus), or None for the
        spec's N(mean, cov) draw."""
        return None

    @property
    def modes(self) -> tuple[Mode, ...]:
        """Modes of p_D with their masses; empty when the kind has no distinct modes."""
        return ()

    def sampling_limit(self) -> str | None:
        """One line saying why exact target samples are out of reach here, or None."""
        return None

    def _require_exact(self) -> None:
        limit = self.sampling_limit()
        if limit is not None:
            raise ExactSamplingError(limit)

    @cached_property
    def peak(self) -> float:
        """max D, evaluated at the modes and over a grid of the box (dim ≤ 3), or at uniform
        points of the box and at 2,000 exact samples, which sit where D is high (above)."""
        probes = [m.location[None] for m in self.modes]
        if self.dim <= 3:
            probes.append(box_grid(self.bounds, 201 if self.dim <= 2 else 41)[0])
        else:
            rng = named_generator(0, "peak")
            probes.append(rng.uniform(*self.bounds.T, (20_000, self.dim)))
            if self.sampling_limit() is None:
                probes.append(self.sample(2_000, rng))
        return float(max(self(p).max() for p in probes))

    @cached_property
    def length_scale(self) -> float:
        """The length at which the target has shape, the unit of the shape-sensitive metrics'
        kernels and of the known-quality sample sets. Kinds with a scale of their own override
        it (a mixture's component sd, a radial profile's width); the generic one is the median
        distance from each of LENGTH_SCALE_SAMPLES exact samples (a fixed named generator) to its
        LENGTH_SCALE_NEIGHBOUR-th nearest other sample. NaN where exact samples are out of reach.
        """
        if self.sampling_limit() is not None:
            return float("nan")
        from scipy.spatial import cKDTree  # here: oracles load without building a tree

        points = self.sample(LENGTH_SCALE_SAMPLES, named_generator(0, "length_scale"))
        distances, _ = cKDTree(points).query(points, k=LENGTH_SCALE_NEIGHBOUR + 1)
        return float(np.median(distances[:, LENGTH_SCALE_NEIGHBOUR]))

    @cached_property
    def normaliser(self) -> float:
        """∫D(x) dx over the box: midpoint rule for dim ≤ 3, importance sampling above (the
        envelope's `NUM_PILOT` draws; `envelope.diagnostics` gives its standard error)."""
        self._require_exact()
        if self.dim > 3:
            return self.envelope.diagnostics.normaliser
        lo, hi = self.bounds.T
        points, _ = box_grid(self.bounds, {1: 20_001, 2: 801, 3: 161}[self.dim])
        return float(np.prod(hi - lo)) * float(self(points).mean())

    @cached_property
    def envelope(self) -> EnvelopeSampler:
        """The generic sampler's envelope, fitted once, from the modes if any, with a fixed seed."""
        self._require_exact()
        starts = [(mode.location, mode.cov) for mode in self.modes]
        return EnvelopeSampler(
            self, self.bounds, starts, self.label, named_generator(0, "envelope")
        )

    def grad(self, x: np.ndarray) -> np.ndarray:
        """∇D at x of shape (n, dim); returns (n, dim). Central differences unless overridden,
        one-sided where one side of the stencil leaves D's support (D = 0 there, > 0 on the
        other side): at a hard edge, such as a rendered grid's border, a difference across the
        edge would be the cliff's, not D's slope inside."""
        step = 1e-5 * np.maximum(1.0, np.abs(self.bounds).max())
        centre, columns = None, []
        for axis in range(self.dim):
            offset = np.zeros(self.dim)
            offset[axis] = step
            plus, minus = self(x + offset), self(x - offset)
            column = (plus - minus) / (2 * step)
            edge = (plus == 0) != (minus == 0)
            if edge.any():
                centre = self(x) if centre is None else centre
                column = np.where(edge & (minus == 0), (plus - centre) / step, column)
                column = np.where(edge & (plus == 0), (centre - minus) / step, column)
            columns.append(column)
        return np.stack(columns, axis=1)

    def score_limit(self) -> str | None:
        """One line saying why `score` is not the exact ∇log D everywhere, or None where it is
        (a closed form, finite where D underflows). The generic score divides a finite
        difference of D by D, so it is 0 wherever D underflows: blind to mass far off."""
        return (
            f"{self.label}: no closed-form score (∇D / D by finite differences is 0 where D "
            "underflows)"
        )

    def score(self, x: np.ndarray) -> np.ndarray:
        """∇log D = ∇D / D at x of shape (n, dim); returns (n, dim). Where D is 0 (outside its
        support, or where it underflows) log D has no slope to follow and the score is 0."""
        d = self(x)[:, None]
        return np.where(d > 0, self.grad(x) / np.maximum(d, LOG_FLOOR), 0.0)

    def smoothed_score(self, x: np.ndarray, sigma: float) -> np.ndarray:
        """∇log (D * N(0, σ² I)) at x (n, dim), the score of p_D smoothed at σ: shape (n, dim).

        σ = 0 gives `score`. Kinds with a closed form override this; the fallback is a
        quasi-Monte Carlo estimate by Stein's identity over fixed antithetic draws ±z, i.e. the
        NES estimate of ∇(D * φ_σ) (Ilyas et al. 2018, perturbations of sd σ) over the same
        draws' estimate of D * φ_σ:

            ∇log (D * φ_σ)(x) ≈ Σ_j (D(x + σ z_j) - D(x - σ z_j)) z_j / (2σ Σ_j D(x ± σ z_j)),

        with NUM_SMOOTHING_PAIRS fixed quasi-random draws z_j (`smoothing_draws`). The draws are
        the same at every call, so the estimate is a smooth, deterministic function of x. Against
        quadrature its root-mean-square error is below 5% of the score's on every bundled
        oracle for σ from 0.2 to 2 (tests/oracles/test_smoothed_score.py). Where D vanishes
        over the whole ball of radius ~3σ the score is 0. Costs 2·NUM_SMOOTHING_PAIRS
        evaluations of D per point.
        """
        if sigma == 0:
            return self.score(x)
        z = smoothing_draws(self.dim)
        centres, offsets = np.repeat(x, len(z), axis=0), sigma * np.tile(z, (len(x), 1))
        plus = self(centres + offsets).reshape(len(x), len(z))
        minus = self(centres - offsets).reshape(len(x), len(z))
        numerator = (plus - minus) @ z / (2 * sigma)
        return numerator / np.maximum(0.5 * (plus + minus).sum(axis=1), LOG_FLOOR)[:, None]

    @checked_sample
    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """Exact samples from p_D restricted to the box, shape (num, dim): rejection from the
        fitted envelope. ExactSamplingError (one line) when out of reach."""
        self._require_exact()
        return self.envelope.sample(num, rng)


@cache
def smoothing_draws(dim: int) -> np.ndarray:
    """NUM_SMOOTHING_PAIRS fixed normal draws of shape (pairs, dim): scrambled Sobol points (a
    randomised quasi-Monte Carlo rule, Owen 1998; seed 0) through the normal quantile, whitened
    so that zᵀz / pairs = I."""
    from scipy.stats import norm, qmc  # here: importing scipy.stats costs more than a run's set-up

    uniform = qmc.Sobol(dim, scramble=True, seed=0).random(NUM_SMOOTHING_PAIRS)
    z = norm.ppf(np.clip(uniform, 1e-12, 1 - 1e-12))
    second_moment = z.T @ z / len(z)
    whitened = z @ np.linalg.inv(np.linalg.cholesky(second_moment)).T
    whitened.setflags(write=False)
    return whitened


def box_grid(bounds: np.ndarray, num_per_axis: int) -> tuple[np.ndarray, float]:
    """Cell centres of a regular grid over `bounds` (dim, 2): points (num_per_axis**dim, dim)
    and the volume of one cell."""
    edges = [np.linspace(lo, hi, num_per_axis + 1) for lo, hi in bounds]
    centres = [0.5 * (e[1:] + e[:-1]) for e in edges]
    mesh = np.meshgrid(*centres, indexing="ij")
    cell = float(np.prod([(hi - lo) / num_per_axis for lo, hi in bounds]))
    return np.stack([m.ravel() for m in mesh], axis=1), cell


def as_points(x: np.ndarray, dim: int) -> np.ndarray:
    """View x as float points of shape (n, dim); raise ValueError on another shape."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"points: expected an array of shape (n, {dim}), got {x.shape}")
    return x
