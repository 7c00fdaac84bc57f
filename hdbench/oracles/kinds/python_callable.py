"""`python`: a user's own D, named as `module:function`.

The function takes points of shape (n, dim) and returns D of shape (n,) in [0, 1]. Its target is
p_D restricted to the given `bounds`, in any dimension: exact samples by rejection from an
envelope fitted to D (`hdbench.oracles.envelope`, started from the listed `modes`, if any), the
normaliser by quadrature (dim ≤ 3) or importance sampling from that envelope, the score by
central differences. The bounds must hold D's mass: when the envelope's draws see more than
`MAX_OUTSIDE_SHARE` of it outside them, or D is 0 everywhere they looked inside them, sampling
stops with one line saying so (it used to loop for ever).

The function is probed when its spec is loaded, on a grid over `bounds` (at most PROBE_POINTS
points): it must return finite values in [0, 1] of shape (n,), not all 0, within
`PROBE_SECONDS`, or the spec is refused in one line naming what came back (a function that never
returns would otherwise hang every command that loads the spec). Every later call is held to the
same contract.

The score is central differences of D over D unless the spec declares `score` (a function of
the points giving ∇log D of shape (n, dim)) or `log_density` (giving log D of shape (n,), finite
where D underflows; the score is then its central differences). Without one, metrics that need
the exact score far from the mass (the kernel Stein discrepancy) are NaN for the oracle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from hdbench.errors import SpecError
from hdbench.oracles.acceptability import Acceptability, KindParams, Mode, box_grid
from hdbench.oracles.envelope import EnvelopeSampler
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.timeout import time_limit

#: Largest share of D's mass the bounds may leave out.
MAX_OUTSIDE_SHARE = 0.01

#: Most points a user's D is probed on at load time: a grid over the bounds (64 × 64 in 2-D,
#: 16³ in 3-D), or uniform points once a grid of ≥ 2 points per axis would exceed it.
PROBE_POINTS = 4096

#: Seconds D may take on the probe points; a run calls it on millions of points, so a D this
#: slow could not be benchmarked anyway.
PROBE_SECONDS = 30.0


class ProbeTimeout(Exception):
    """The user's D did not return within PROBE_SECONDS on the probe points."""


def import_callable(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """Import `module:function`; raise ValueError naming what is missing or what failed."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:function', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import module {module_name!r}: {error}") from None
    except Exception as error:
        raise ValueError(
            f"importing module {module_name!r} raised {type(error).__name__}: {error}"
        ) from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"module {module_name!r} has no function {attribute!r}")
    return function


def checked_values(raw: Any, points: np.ndarray, name: str) -> np.ndarray:
    """D as returned by the user's function for points (n, dim), checked: shape (n,), finite,
    in [0, 1]; raise ValueError naming what came back (and where) otherwise."""
    num = len(points)
    if np.iscomplexobj(raw):
        raise ValueError(f"{name}: expected real values, got complex numbers")
    try:
        values = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: expected an array of {num} numbers, got {type(raw).__name__}"
        ) from None
    if values.shape != (num,):
        raise ValueError(
            f"{name}: expected values of shape ({num},) for points of shape {points.shape}, "
            f"got shape {values.shape}"
        )
    bad = ~np.isfinite(values) | (values < 0.0) | (values > 1.0)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"{name}: expected finite values in [0, 1], got {values[first]:.6g} at x = "
            f"{np.array2string(points[first], precision=4)} ({int(bad.sum())} of {num} points)"
        )
    return values


def checked_field(raw: Any, points: np.ndarray, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A declared score (n, dim) or log D (n,) for points (n, dim), checked: finite, of `shape`;
    raise SpecError naming what came back otherwise."""
    values = np.asarray(raw, dtype=float)
    if values.shape != shape:
        raise SpecError(
            f"{name}: expected values of shape {shape} for points of shape {points.shape}, got "
            f"shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise SpecError(f"{name}: expected finite values, got NaN or infinity")
    return values


def probe_points(bounds: np.ndarray) -> np.ndarray:
    """Points (≤ PROBE_POINTS, dim) covering the box `bounds` (dim, 2)."""
    dim = len(bounds)
    per_axis = int(PROBE_POINTS ** (1 / dim) + 1e-9)
    if per_axis >= 2:
        return box_grid(bounds, per_axis)[0]
    return np.random.default_rng(0).uniform(*bounds.T, (PROBE_POINTS, dim))


def probe(function: Callable[[np.ndarray], Any], name: str, bounds: np.ndarray) -> None:
    """Call D on points covering `bounds`; raise ValueError unless it keeps its contract and
    is positive somewhere (else the target has no mass inside the bounds)."""
    points = probe_points(bounds)
    try:
        with time_limit(PROBE_SECONDS, ProbeTimeout):
            raw = function(points)
    except ProbeTimeout:
        raise ValueError(
            f"{name} did not return within {PROBE_SECONDS:g} s on {len(points)} points of "
            f"shape {points.shape}: expected a function of the points that returns (does it "
            "loop, or wait for something?)"
        ) from None
    except Exception as error:
        raise ValueError(
            f"{name} raised {type(error).__name__}: {error} (called on {len(points)} points "
            f"of shape {points.shape} over bounds)"
        ) from None
    values = checked_values(raw, points, name)
    if not values.max() > 0.0:
        raise ValueError(
            f"{name} is 0 at all {len(points)} probe points over bounds {bounds.tolist()}: "
            "expected bounds that hold the acceptable region"
        )


class ModeParams(KindParams):
    location: list[float] = Field(min_length=1)
    sd: float = Field(gt=0.0)
    mass: float = Field(gt=0.0, le=1.0)


class PythonParams(KindParams):
    # Validated in this order: the function is probed over the bounds checked before it.
    dim: int = Field(ge=1)
    bounds: list[list[float]] = Field(description="[low, high] for every dimension")
    modes: list[ModeParams] = Field(default_factory=list)
    function: str = Field(description="'module:function', importable from the Python path")
    score: str | None = Field(
        None, description="'module:function' giving ∇log D (n, dim) in closed form; optional"
    )
    log_density: str | None = Field(
        None, description="'module:function' giving log D (n,), finite where D underflows"
    )

    @field_validator("bounds")
    @classmethod
    def _bounds(cls, value: list[list[float]], info: ValidationInfo) -> list[list[float]]:
        dim = info.data.get("dim")
        pairs = all(len(pair) == 2 and pair[0] < pair[1] for pair in value)
        if dim is None or len(value) != dim or not pairs:
            raise ValueError(f"expected {dim} pairs [low, high] with low < high, got {value}")
        return value

    @field_validator("modes")
    @classmethod
    def _modes(cls, value: list[ModeParams], info: ValidationInfo) -> list[ModeParams]:
        bounds = info.data.get("bounds")
        for index, mode in enumerate(value):
            if bounds is None or len(mode.location) != len(bounds):
                raise ValueError(
                    f"mode {index}: expected a location of dimension {info.data.get('dim')}, "
                    f"got {mode.location}"
                )
            if not all(lo <= x <= hi for x, (lo, hi) in zip(mode.location, bounds, strict=True)):
                raise ValueError(f"mode {index}: expected a location inside bounds {bounds}")
        total = sum(mode.mass for mode in value)
        if total > 1.0 + 1e-9:
            raise ValueError(f"expected masses that sum to at most 1, got {total:.6g}")
        return value

    @field_validator("function")
    @classmethod
    def _importable_and_probed(cls, value: str, info: ValidationInfo) -> str:
        function = import_callable(value)
        if "bounds" in info.data:
            probe(function, value, np.asarray(info.data["bounds"], dtype=float))
        return value

    @field_validator("score", "log_density")
    @classmethod
    def _importable(cls, value: str | None) -> str | None:
        if value is not None:
            import_callable(value)
        return value

    @model_validator(mode="after")
    def _one_score(self) -> PythonParams:
        if self.score is not None and self.log_density is not None:
            raise ValueError("expected at most one of `score` or `log_density`")
        return self


@ACCEPTABILITY_KINDS.register("python")
class PythonAcceptability(Acceptability):
    Params = PythonParams
    description = "your own D(x), named as module:function; exact target by fitted rejection"

    def __init__(
        self,
        function: str,
        dim: int,
        bounds: list,
        modes: list[dict],
        score: str | None = None,
        log_density: str | None = None,
    ) -> None:
        self.function_name = function
        self._function = import_callable(function)
        self.score_name, self.log_density_name = score, log_density
        self._score = None if score is None else import_callable(score)
        self._log_density = None if log_density is None else import_callable(log_density)
        self.dim = dim
        self._bounds = np.asarray(bounds, dtype=float)
        self._modes = tuple(
            Mode(np.asarray(m["location"], float), m["sd"] ** 2 * np.eye(dim), m["mass"])
            for m in modes
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return checked_values(self._function(x), x, self.function_name)

    @property
    def bounds(self) -> np.ndarray:
        return self._bounds

    def score_limit(self) -> str | None:
        if self._score is None and self._log_density is None:
            return (
                f"{self.label}: no closed-form score: declare `score` or `log_density` in the "
                "spec (∇D / D by finite differences is 0 where D underflows)"
            )
        return None

    def grad(self, x: np.ndarray) -> np.ndarray:
        """D times the declared score where one is declared, else central differences of D."""
        if self.score_limit() is None:
            return self(x)[:, None] * self.score(x)
        return super().grad(x)

    def score(self, x: np.ndarray) -> np.ndarray:
        """The declared score, or central differences of the declared log D (finite where D
        underflows), or the generic ∇D / D: shape (n, dim) for x (n, dim)."""
        if self._score is not None:
            return checked_field(self._score(x), x, self.score_name, (len(x), self.dim))
        if self._log_density is None:
            return super().score(x)
        step = 1e-5 * np.maximum(1.0, np.abs(self.bounds).max())
        columns = []
        for axis in range(self.dim):
            offset = np.zeros(self.dim)
            offset[axis] = step
            plus = checked_field(self._log_density(x + offset), x, self.log_density_name, (len(x),))
            minus = checked_field(
                self._log_density(x - offset), x, self.log_density_name, (len(x),)
            )
            columns.append((plus - minus) / (2 * step))
        return np.stack(columns, axis=1)

    @property
    def modes(self) -> tuple[Mode, ...]:
        return self._modes

    @cached_property
    def envelope(self) -> EnvelopeSampler:
        envelope = super().envelope
        outside = envelope.diagnostics.outside_share
        if outside > MAX_OUTSIDE_SHARE:
            raise SpecError(
                f"{self.function_name}: bounds: about {outside:.0%} of D's mass lies outside "
                f"them; expected bounds that hold all but {MAX_OUTSIDE_SHARE:.0%} of it"
            )
        return envelope
