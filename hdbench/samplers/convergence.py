"""A convergence diagnostic that needs no truth: has the particle cloud stopped moving?

Every particle of a fixed-score Langevin sampler is its own chain, independent of the others, so
the even- and odd-numbered particles are two independent clouds with the same law p_t. At a
check at step t the diagnostic compares

    movement = ½ [W(x_t^even, x_s^odd) + W(x_t^odd, x_s^even)]        (s = t/2, the lag)
    floor    = ½ [W(x_t^even, x_t^odd) + W(x_s^even, x_s^odd)]

with W the sliced Wasserstein-1 distance over fixed random directions (1-D distances between
sorted projections, O(n log n)). Both are distances between two independent clouds of n/2
particles; when p_t = p_s they have the same law, so movement/floor is about 1 (its spread is
a statistic of the clouds: below 0.2 in 2-D, tests/samplers/test_convergence.py), and a cloud
that moved between s and t by several times its own sampling noise gives a ratio well above 1.
The chain is called stationary at the first check at or after `min_steps` that ends `patience`
consecutive checks with movement ≤ `STATIONARY_RATIO` · floor, about one null sd above 1.

Why "stationary" and not "converged to the target": the test sees only the law of the cloud
over the second half of the chain. A chain that never crosses between separated modes is
stationary in this sense while its mode weights are wrong, and so is a chain whose drift over
the last half is below the cloud's own noise (a drift of v per step is seen once v·t/2 exceeds
the floor, which is why the lag grows with t and no chain stops before `min_steps`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The projections are the same in every run: a diagnostic has no say in a run's randomness.
DIRECTIONS_SEED = 20_231_119
#: movement/floor has mean 1 and sd below 0.2 for a stationary cloud (tests/samplers): a check
#: passes within about one sd of 1.
STATIONARY_RATIO = 1.2


def projection_directions(dim: int, num: int) -> np.ndarray:
    """`num` fixed unit directions in `dim` dimensions, shape (dim, num)."""
    directions = np.random.default_rng(DIRECTIONS_SEED).standard_normal((dim, num))
    return directions / np.linalg.norm(directions, axis=0)


def sliced_w1(a: np.ndarray, b: np.ndarray) -> float:
    """Sliced Wasserstein-1 between projected clouds a and b, each (m, num_directions) with the
    same m: the mean over directions of the mean gap between sorted projections."""
    return float(np.abs(np.sort(a, axis=0) - np.sort(b, axis=0)).mean())


def movement_and_floor(now: np.ndarray, lagged: np.ndarray) -> tuple[float, float]:
    """(movement, floor) of two projected clouds (n, num_directions): see the module docstring.
    Odd n drops the last particle, so that the halves are of equal size."""
    m = min(len(now), len(lagged)) // 2 * 2
    even, odd = slice(0, m, 2), slice(1, m, 2)
    movement = 0.5 * (sliced_w1(now[even], lagged[odd]) + sliced_w1(now[odd], lagged[even]))
    floor = 0.5 * (sliced_w1(now[even], now[odd]) + sliced_w1(lagged[even], lagged[odd]))
    return movement, floor


@dataclass
class StationarityDiagnostic:
    """Watches a chain's particles every `check_every` steps; `update` says when to stop.

    `stop_step` is the first check at which the chain was stationary; with `stops` False the
    diagnostic only watches (`update` never says stop), so a fixed-length chain records where
    it would have stopped. The trace holds one row per check from step 2·check_every on:
    (step, lag step, movement, floor), as `trace_array` (num_checks, 4).
    """

    check_every: int = 100
    min_steps: int = 1000
    patience: int = 2
    num_directions: int = 16
    stops: bool = True
    rows: list[tuple[int, int, float, float]] = field(default_factory=list)
    stop_step: int | None = None
    _kept: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _directions: np.ndarray | None = field(default=None, repr=False)
    _passes: int = 0

    def __post_init__(self) -> None:
        for name in ("check_every", "patience", "num_directions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected an integer ≥ 1, got {getattr(self, name)}")
        if self.min_steps < 0:
            raise ValueError(f"min_steps: expected an integer ≥ 0, got {self.min_steps}")

    def due(self, step: int) -> bool:
        """Whether `step` is a check."""
        return step % self.check_every == 0

    def update(self, step: int, x: np.ndarray) -> bool:
        """Record the particles x (n, dim) at a check `step`; True once the chain is stationary."""
        if self._directions is None:
            self._directions = projection_directions(x.shape[1], self.num_directions)
        self._kept[step] = x @ self._directions
        lag = (step // 2) // self.check_every * self.check_every
        for old in [s for s in self._kept if s < lag]:
            del self._kept[old]
        if lag == 0 or lag == step:
            return False
        movement, floor = movement_and_floor(self._kept[step], self._kept[lag])
        self.rows.append((step, lag, movement, floor))
        self._passes = self._passes + 1 if movement <= STATIONARY_RATIO * floor else 0
        if self.stop_step is None and self._passes >= self.patience and step >= self.min_steps:
            self.stop_step = step
        return self.stops and self.stop_step is not None

    def trace_array(self) -> np.ndarray:
        """The checks as (num_checks, 4): step, lag step, movement, floor."""
        return np.array(self.rows, dtype=float).reshape(-1, 4)
