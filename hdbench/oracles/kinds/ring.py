"""`ring`: a non-convex annulus, D(x) = h · exp(-(‖x - c‖ - r₀)² / (2 w²))."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from hdbench.oracles.acceptability import KindParams
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.kinds.fields import fill_vector
from hdbench.oracles.kinds.radial import RadialAcceptability


class RingParams(KindParams):
    dim: int | None = Field(None, ge=1, description="dimension; default: the centre's length")
    centre: list[float] = Field(min_length=1)
    radius: float = Field(3.0, gt=0.0, description="radius r₀ of the ridge")
    width: float = Field(0.6, gt=0.0, description="standard deviation w across the ridge")
    height: float = Field(0.9, gt=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _fill_centre(cls, data: Any) -> Any:
        return fill_vector(data, "centre")


@ACCEPTABILITY_KINDS.register("ring")
class RingAcceptability(RadialAcceptability):
    Params = RingParams
    description = "a non-convex annulus: acceptable on a ring, not at its centre"

    def __init__(self, centre: list[float], radius: float, width: float, height: float) -> None:
        super().__init__(centre, height)
        self.radius, self.width = float(radius), float(width)

    def log_profile(self, r: np.ndarray) -> np.ndarray:
        return np.log(self.height) - 0.5 * ((r - self.radius) / self.width) ** 2

    def dlog_profile(self, r: np.ndarray) -> np.ndarray:
        return -(r - self.radius) / self.width**2

    @property
    def length_scale(self) -> float:
        """The ridge's sd across it, w."""
        return self.width

    @property
    def support_radius(self) -> float:
        return self.radius + 6.5 * self.width
