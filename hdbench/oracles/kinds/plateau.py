"""`plateau`: a flat top with a soft edge, D(x) = h · sigmoid((r₀ - ‖x - c‖) / w).

With h near 1, ratings saturate at the top of the slider over a whole disc: the case where
the mean of ratings is biased low and the mode of their density is not (Ueda et al. 2023, §3.2).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from hdbench.oracles.acceptability import KindParams
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.kinds.fields import fill_vector
from hdbench.oracles.kinds.radial import RadialAcceptability


class PlateauParams(KindParams):
    dim: int | None = Field(None, ge=1, description="dimension; default: the centre's length")
    centre: list[float] = Field(min_length=1)
    radius: float = Field(3.0, gt=0.0, description="radius r₀ of the flat top")
    edge: float = Field(0.5, gt=0.0, description="width w of the soft edge")
    height: float = Field(1.0, gt=0.0, le=1.0)

    @model_validator(mode="before")
    @classmethod
    def _fill_centre(cls, data: Any) -> Any:
        return fill_vector(data, "centre")


@ACCEPTABILITY_KINDS.register("plateau")
class PlateauAcceptability(RadialAcceptability):
    Params = PlateauParams
    description = "a flat top with a soft edge: ratings saturate at the slider's top over a disc"

    def __init__(self, centre: list[float], radius: float, edge: float, height: float) -> None:
        super().__init__(centre, height)
        self.radius, self.edge = float(radius), float(edge)

    def log_profile(self, r: np.ndarray) -> np.ndarray:
        return np.log(self.height) - np.logaddexp(0.0, (r - self.radius) / self.edge)

    def dlog_profile(self, r: np.ndarray) -> np.ndarray:
        return -1.0 / (self.edge * (1.0 + np.exp((self.radius - r) / self.edge)))

    @property
    def length_scale(self) -> float:
        """The soft edge's width, w."""
        return self.edge

    @property
    def support_radius(self) -> float:
        return self.radius + 25.0 * self.edge
