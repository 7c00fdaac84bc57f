"""The real data a method starts from, drawn once from the spec's `[real_data]` table.

Three kinds:

- `gaussian` (the default): N(mean, cov), N(0, I) unless given, as in the paper.
- `acceptable`: from the acceptable region itself, sharpened, p(x) ∝ D(x)^k · 1[D(x) ≥ τ]. With
  k = 1 and τ = 0 the real data are exact samples of the target p_D; a larger k or τ keeps them
  where listeners accept most readily. Rejection sampling, exact: for k ≥ 1 proposals come from
  p_D and are kept with probability (D / max D)^(k-1); for k < 1 they are uniform over the box
  and kept with probability (D / max D)^k.
- `modes`: from p_D near a listed subset of its modes: exact target samples whose nearest mode
  (by Mahalanobis distance, as in the mode metrics) is listed and within the metrics' radius of
  it (3 in 2-D). Real data that cover only some modes ask whether a method finds the others
  (discovery).

Each kind draws with `numpy.random.default_rng(seed)`, so the `gaussian` draw is the same as
before the other kinds existed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from hdbench.errors import ExactSamplingError, SpecError
from hdbench.oracles.acceptability import (
    Acceptability,
    KindParams,
    as_points,
    high_quality_radius,
    nearest_modes,
)
from hdbench.oracles.kinds.fields import check_covariance, check_vector
from hdbench.registry import Registry
from hdbench.validation import validate

#: Most proposals a rejection draw may make before the spec is declared unsatisfiable.
MAX_PROPOSALS = 10_000_000


class RealDataParams(KindParams):
    """What every kind sets: how many points, the seed they are drawn with, and the kind."""

    kind: str = "gaussian"
    num: int = Field(100, ge=2)
    seed: int = Field(0, ge=0)


P = TypeVar("P", bound=RealDataParams)


@dataclass(frozen=True)
class RealDataKind(Generic[P]):
    """A kind of real data: its parameters and `draw(params, truth, where)` → (num, dim).

    `draw` raises SpecError naming `where` and the field when the parameters do not fit the
    acceptability (a mode index past the last mode, a threshold above the peak of D).
    """

    Params: type[P]
    draw: Callable[[P, Acceptability, str], np.ndarray]


REAL_DATA_KINDS: Registry[RealDataKind[Any]] = Registry("real-data kind")


def real_data_params(table: dict[str, Any], where: str) -> RealDataParams:
    """A spec's `[real_data]` table validated against its kind (one-line SpecError)."""
    try:
        kind = REAL_DATA_KINDS[table.get("kind", "gaussian")]
    except SpecError as error:
        raise SpecError(f"{where}: real_data.kind: {error}") from None
    return validate(kind.Params, table, where, "real_data")


def draw_real_data(table: dict[str, Any], truth: Acceptability, where: str) -> np.ndarray:
    """The real data (num, dim) of a spec's `[real_data]` table, validated against its kind; a
    draw the truth's exact sampler cannot make is one line naming the spec and the table."""
    params = real_data_params(table, where)
    try:
        return REAL_DATA_KINDS[params.kind].draw(params, truth, where)
    except ExactSamplingError as error:
        raise ExactSamplingError(f"{where}: real_data: {error}") from None


class GaussianParams(RealDataParams):
    kind: Literal["gaussian"] = "gaussian"
    mean: list[float] | None = None
    cov: list[list[float]] | None = None

    @field_validator("mean")
    @classmethod
    def _mean(cls, value: list[float] | None) -> list[float] | None:
        return None if value is None else check_vector(value, "mean")

    @field_validator("cov")
    @classmethod
    def _cov(cls, value: list[list[float]] | None, info: ValidationInfo) -> Any:
        if value is None:
            return None
        return check_covariance(value, len(info.data.get("mean") or value))


def draw_gaussian(params: GaussianParams, truth: Acceptability, where: str) -> np.ndarray:
    """N(mean, cov), N(0, I) by default: shape (num, dim)."""
    dim = truth.dim
    mean = np.zeros(dim) if params.mean is None else np.asarray(params.mean, dtype=float)
    cov = np.eye(dim) if params.cov is None else np.asarray(params.cov, dtype=float)
    if mean.shape != (dim,) or cov.shape != (dim, dim):
        raise SpecError(
            f"{where}: real_data: expected a mean of length {dim} and a {dim}×{dim} cov "
            f"(the acceptability's dimension), got {mean.shape} and {cov.shape}"
        )
    noise = np.random.default_rng(params.seed).standard_normal((params.num, dim))
    return as_points(mean + noise @ np.linalg.cholesky(cov).T, dim)


class AcceptableParams(RealDataParams):
    kind: Literal["acceptable"] = "acceptable"
    power: float = Field(1.0, gt=0.0, description="k of p ∝ D^k; above 1 it favours the peaks")
    threshold: float = Field(0.0, ge=0.0, lt=1.0, description="τ: only points with D ≥ τ")


def draw_acceptable(params: AcceptableParams, truth: Acceptability, where: str) -> np.ndarray:
    """p ∝ D^k · 1[D ≥ τ] by rejection: shape (num, dim)."""
    if params.threshold >= truth.peak:
        raise SpecError(
            f"{where}: real_data.threshold: expected a value below the peak of D "
            f"({truth.peak:.4g}), got {params.threshold}"
        )
    rng = np.random.default_rng(params.seed)
    lo, hi = truth.bounds.T
    from_target = params.power >= 1
    exponent = params.power - 1 if from_target else params.power

    def propose(size: int) -> np.ndarray:
        return truth.sample(size, rng) if from_target else rng.uniform(lo, hi, (size, truth.dim))

    def keep(x: np.ndarray) -> np.ndarray:
        values = truth(x)
        accept = np.minimum(values / truth.peak, 1.0) ** exponent
        return (rng.uniform(size=len(x)) < accept) & (values >= params.threshold)

    return rejection(propose, keep, params.num, where)


class ModesParams(RealDataParams):
    kind: Literal["modes"] = "modes"
    modes: list[int] = Field(min_length=1, description="indices into the acceptability's modes")

    @field_validator("modes")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if min(value) < 0 or len(set(value)) != len(value):
            raise ValueError(f"expected distinct mode indices ≥ 0, got {value}")
        return value


def draw_modes(params: ModesParams, truth: Acceptability, where: str) -> np.ndarray:
    """Exact target samples whose nearest mode is listed, within the mode metrics' radius (3 in
    2-D, `high_quality_radius`): shape (num, dim)."""
    modes = truth.modes
    if not modes:
        raise SpecError(
            f"{where}: real_data.modes: expected an acceptability that lists its modes "
            "(a mixture, or `modes` of a python kind); this one lists none"
        )
    if max(params.modes) >= len(modes):
        raise SpecError(
            f"{where}: real_data.modes: expected indices of the acceptability's {len(modes)} "
            f"modes (0 to {len(modes) - 1}), got {params.modes}"
        )
    rng = np.random.default_rng(params.seed)
    chosen, radius = np.asarray(params.modes), high_quality_radius(truth.dim)

    def keep(x: np.ndarray) -> np.ndarray:
        nearest, distance = nearest_modes(x, modes)
        return np.isin(nearest, chosen) & (distance <= radius)

    try:
        return rejection(lambda size: truth.sample(size, rng), keep, params.num, where)
    except SpecError as error:
        raise SpecError(
            f"{error}: the target puts almost no mass near modes {params.modes} "
            "(real_data.modes) as the acceptability lists them (acceptability.modes)"
        ) from None


REAL_DATA_KINDS.add("gaussian", RealDataKind(GaussianParams, draw_gaussian))
REAL_DATA_KINDS.add("acceptable", RealDataKind(AcceptableParams, draw_acceptable))
REAL_DATA_KINDS.add("modes", RealDataKind(ModesParams, draw_modes))


def rejection(
    propose: Callable[[int], np.ndarray],
    keep: Callable[[np.ndarray], np.ndarray],
    num: int,
    where: str,
) -> np.ndarray:
    """`num` points (num, dim) of proposals that `keep` accepts, in the order drawn.

    `propose(size)` returns (size, dim) points, `keep(x)` a boolean (size,). Batches grow with
    the observed acceptance; past MAX_PROPOSALS the spec is refused.
    """
    kept: list[np.ndarray] = []
    num_kept, num_proposed, batch = 0, 0, max(4 * num, 1000)
    while num_kept < num:
        if num_proposed >= MAX_PROPOSALS:
            raise SpecError(
                f"{where}: real_data: only {num_kept} of {num} points accepted in "
                f"{MAX_PROPOSALS:,} proposals; expected a setting that leaves more of D's mass"
            )
        x = propose(batch)
        accepted = x[keep(x)]
        kept.append(accepted)
        num_kept += len(accepted)
        num_proposed += batch
        rate = max(num_kept / num_proposed, 1e-4)
        batch = int(min(1_000_000, 1.2 * (num - num_kept) / rate + 64))
    return np.concatenate(kept)[:num]
