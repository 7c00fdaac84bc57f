"""Acceptability functions: the known truth D(x) ∈ [0, 1] behind a simulated panel.

D(x) is the probability that a listener accepts stimulus x as natural. Its normalised form
p_D(x) = D(x) / ∫D is the human-acceptable distribution that HumanDiffusion learns
(Ueda et al., Interspeech 2023, §3.1); its score is ∇log p_D = ∇log D.

Only metrics and plots see these objects; algorithms see a panel that rates stimuli.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

#: Densities below this are treated as zero when a log is needed.
LOG_FLOOR = 1e-300


@dataclass(frozen=True)
class Mode:
    """One mode of p_D: its location (dim,), spread (dim, dim) and share of the mass."""

    location: np.ndarray
    cov: np.ndarray
    mass: float


class KindParams(BaseModel):
    """Base of every kind's parameter model: frozen, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Acceptability(ABC):
    """The truth behind an oracle.

    Subclasses give D and, where they can, closed forms for the rest. The generic fallbacks are
    numerically exact: rejection sampling with D itself as the acceptance probability (valid
    because D ≤ 1), quadrature for the normaliser, central differences for the gradient.
    """

    Params: ClassVar[type[KindParams]]
    description: ClassVar[str]

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

    def own_real_data(self, num: int, seed: int) -> np.ndarray | None:
        """Real data of shape (num, dim) that belong to the kind (a corpus), or None for the
        spec's N(mean, cov) draw."""
        return None

    @property
    def modes(self) -> tuple[Mode, ...]:
        """Modes of p_D with their masses; empty when the kind has no distinct modes."""
        return ()

    @cached_property
    def peak(self) -> float:
        """max D, evaluated at the modes and over a grid of the box."""
        probes = [m.location[None] for m in self.modes]
        if self.dim <= 3:
            probes.append(box_grid(self.bounds, 201 if self.dim <= 2 else 41)[0])
        else:
            probes.append(np.random.default_rng(0).uniform(*self.bounds.T, (20_000, self.dim)))
        return float(max(self(p).max() for p in probes))

    @cached_property
    def normaliser(self) -> float:
        """∫D(x) dx over the box: midpoint rule for dim ≤ 3, Monte Carlo (10⁶ points) above."""
        lo, hi = self.bounds.T
        volume = float(np.prod(hi - lo))
        if self.dim <= 3:
            points, _ = box_grid(self.bounds, {1: 20_001, 2: 801, 3: 161}[self.dim])
        else:
            points = np.random.default_rng(0).uniform(lo, hi, (1_000_000, self.dim))
        return volume * float(self(points).mean())

    def grad(self, x: np.ndarray) -> np.ndarray:
        """∇D at x of shape (n, dim); returns (n, dim). Central differences unless overridden."""
        step = 1e-5 * np.maximum(1.0, np.abs(self.bounds).max())
        columns = []
        for axis in range(self.dim):
            offset = np.zeros(self.dim)
            offset[axis] = step
            columns.append((self(x + offset) - self(x - offset)) / (2 * step))
        return np.stack(columns, axis=1)

    def score(self, x: np.ndarray) -> np.ndarray:
        """∇log D = ∇D / D at x of shape (n, dim); returns (n, dim)."""
        return self.grad(x) / np.maximum(self(x), LOG_FLOOR)[:, None]

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """Exact samples from p_D restricted to the box, shape (num, dim), by rejection."""
        lo, hi = self.bounds.T
        accepted: list[np.ndarray] = []
        num_accepted = 0
        acceptance = max(self.normaliser / float(np.prod(hi - lo)), 1e-6)
        while num_accepted < num:
            batch = int(min(4_000_000, 1.2 * (num - num_accepted) / acceptance + 64))
            x = rng.uniform(lo, hi, (batch, self.dim))
            keep = x[rng.uniform(size=batch) < self(x)]
            accepted.append(keep)
            num_accepted += len(keep)
        return np.concatenate(accepted)[:num]


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
