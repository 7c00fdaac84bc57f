"""Shared machinery of radially symmetric kinds: D(x) = f(‖x - c‖).

With r = ‖x - c‖ the target factorises into a uniform direction and a radius with density
∝ r^(dim-1) f(r). Samples draw the radius by inverting its CDF on a fine grid (numerically
exact, error below 10⁻⁴ of the profile's width); the normaliser is the 1-D integral
S_(dim-1) ∫ r^(dim-1) f(r) dr with S the area of the unit sphere.
"""

from __future__ import annotations

from abc import abstractmethod
from functools import cached_property

import numpy as np
from scipy.integrate import quad
from scipy.special import gammaln

from hdbench.oracles.acceptability import Acceptability

NUM_RADIUS_POINTS = 200_001


class RadialAcceptability(Acceptability):
    """Base of radial kinds; subclasses give the log-profile log f(r) and its derivative."""

    def __init__(self, centre: list[float], height: float) -> None:
        self.centre = np.asarray(centre, dtype=float)
        self.height = float(height)
        self.dim = len(self.centre)

    @abstractmethod
    def log_profile(self, r: np.ndarray) -> np.ndarray:
        """log f(r) for radii of any shape."""

    @abstractmethod
    def dlog_profile(self, r: np.ndarray) -> np.ndarray:
        """d log f / dr for radii of any shape."""

    @property
    @abstractmethod
    def max_radius(self) -> float:
        """Radius beyond which f is negligible (below 10⁻⁹ of its peak)."""

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

    @property
    def bounds(self) -> np.ndarray:
        return np.stack([self.centre - self.max_radius, self.centre + self.max_radius], axis=1)

    @cached_property
    def peak(self) -> float:
        radii = np.linspace(0.0, self.max_radius, 100_001)
        return float(np.exp(self.log_profile(radii)).max())

    def _radial_density(self, r: np.ndarray) -> np.ndarray:
        return r ** (self.dim - 1) * np.exp(self.log_profile(r))

    @cached_property
    def normaliser(self) -> float:
        sphere_area = 2 * np.exp(0.5 * self.dim * np.log(np.pi) - gammaln(0.5 * self.dim))
        integral, _ = quad(self._radial_density, 0.0, self.max_radius, limit=500, epsabs=0)
        return float(sphere_area * integral)

    @cached_property
    def _radius_quantiles(self) -> tuple[np.ndarray, np.ndarray]:
        radii = np.linspace(0.0, self.max_radius, NUM_RADIUS_POINTS)
        density = self._radial_density(radii)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]))])
        return cdf / cdf[-1], radii

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        cdf, radii = self._radius_quantiles
        r = np.interp(rng.uniform(size=num), cdf, radii)
        direction = rng.standard_normal((num, self.dim))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        return self.centre + r[:, None] * direction
