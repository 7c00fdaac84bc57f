"""Shared machinery of radially symmetric kinds: D(x) = f(‖x - c‖).

With r = ‖x - c‖ the target factorises into a uniform direction and a radius with density
∝ r^(dim-1) f(r), in any dimension (the dimension is the centre's length, or `dim` with the
centre at the origin). Samples draw the radius by inverting its CDF on a fine grid (numerically
exact, error below 10⁻⁴ of the profile's width) and the direction as a normalised Gaussian
vector; the normaliser is the 1-D integral S_(dim-1) ∫ r^(dim-1) f(r) dr with S the area of
the unit sphere.

In high dimensions the volume factor r^(dim-1) moves the mass outwards: in 32 dimensions a
plateau of radius 3 and edge 0.4 has almost all its mass near r ≈ 12, far down its soft edge,
and a ring of radius 3 and width 0.6 near r ≈ 5. `max_radius` (and the box) follow the mass.
"""

from __future__ import annotations

from abc import abstractmethod
from functools import cached_property

import numpy as np

from hdbench.lazy import lazy_import
from hdbench.oracles.acceptability import Acceptability, KindParams

special = lazy_import("scipy.special")

NUM_RADIUS_POINTS = 200_001
#: The box ends where the radial density has fallen below this share of its maximum.
RADIAL_TAIL = 1e-8


class RadialAcceptability(Acceptability):
    """Base of radial kinds; subclasses give the log-profile log f(r) and its derivative."""

    def __init__(self, centre: list[float], height: float) -> None:
        self.centre = np.asarray(centre, dtype=float)
        self.height = float(height)
        self.dim = len(self.centre)

    @classmethod
    def from_params(cls, params: KindParams) -> RadialAcceptability:
        """Build from validated parameters; the dimension is the centre's length."""
        return cls(**params.model_dump(exclude={"dim"}))

    @abstractmethod
    def log_profile(self, r: np.ndarray) -> np.ndarray:
        """log f(r) for radii of any shape."""

    @abstractmethod
    def dlog_profile(self, r: np.ndarray) -> np.ndarray:
        """d log f / dr for radii of any shape."""

    @property
    @abstractmethod
    def support_radius(self) -> float:
        """Radius beyond which f is negligible (below 10⁻⁹ of its peak)."""

    @cached_property
    def max_radius(self) -> float:
        """Radius holding all but a negligible share of p_D: at least `support_radius`, and
        where the radial density r^(dim-1) f(r) has fallen below `RADIAL_TAIL` of its maximum
        (it is log-concave in r for both kinds, so it only falls further out)."""
        radius = self.support_radius
        for _ in range(200):
            log_density = self._log_radial_density(np.linspace(0.0, radius, 10_001)[1:])
            if log_density[-1] < log_density.max() + np.log(RADIAL_TAIL):
                return radius
            radius *= 1.25
        raise ValueError(f"{self.label}: the radial density does not decay; check the profile")

    def _radius(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offset = x - self.centre
        return offset, np.linalg.norm(offset, axis=1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.log_profile(self._radius(x)[1]))

    def score(self, x: np.ndarray) -> np.ndarray:
        offset, r = self._radius(x)
        direction = offset / np.where(r > 0, r, 1.0)[:, None]
        return self.dlog_profile(r)[:, None] * direction

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self(x)[:, None] * self.score(x)

    def score_limit(self) -> None:
        return None

    @property
    @abstractmethod
    def length_scale(self) -> float:
        """The profile's width: how far the radius moves for D to change markedly."""

    @property
    def bounds(self) -> np.ndarray:
        return np.stack([self.centre - self.max_radius, self.centre + self.max_radius], axis=1)

    @cached_property
    def peak(self) -> float:
        radii = np.linspace(0.0, self.max_radius, 100_001)
        return float(np.exp(self.log_profile(radii)).max())

    def _log_radial_density(self, r: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return (self.dim - 1) * np.log(r) + self.log_profile(r)

    @cached_property
    def _radial_scale(self) -> tuple[float, float]:
        """The radius where r^(dim-1) f(r) is largest, and the log of that maximum."""
        radii = np.linspace(0.0, self.max_radius, NUM_RADIUS_POINTS)
        log_density = self._log_radial_density(radii)
        top = int(np.argmax(log_density))
        return float(radii[top]), float(log_density[top])

    def _scaled_radial_density(self, r: np.ndarray) -> np.ndarray:
        """r^(dim-1) f(r) over its maximum: at most 1, so no overflow in any dimension."""
        return np.exp(self._log_radial_density(r) - self._radial_scale[1])

    @cached_property
    def normaliser(self) -> float:
        from scipy.integrate import quad  # here, not at import: oracles load without it

        mode, log_scale = self._radial_scale
        log_sphere_area = (
            np.log(2) + 0.5 * self.dim * np.log(np.pi) - special.gammaln(0.5 * self.dim)
        )
        inner = [mode] if 0.0 < mode < self.max_radius else None
        integral, _ = quad(
            self._scaled_radial_density, 0.0, self.max_radius, points=inner, limit=500, epsabs=0
        )
        return float(np.exp(log_sphere_area + log_scale) * integral)

    @cached_property
    def _radius_quantiles(self) -> tuple[np.ndarray, np.ndarray]:
        radii = np.linspace(0.0, self.max_radius, NUM_RADIUS_POINTS)
        density = self._scaled_radial_density(radii)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]))])
        return cdf / cdf[-1], radii

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        cdf, radii = self._radius_quantiles
        r = np.interp(rng.uniform(size=num), cdf, radii)
        direction = rng.standard_normal((num, self.dim))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        return self.centre + r[:, None] * direction
