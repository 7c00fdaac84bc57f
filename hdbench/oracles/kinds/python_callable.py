"""`python`: a user's own D, named as `module:function`.

The function takes points of shape (n, dim) and returns D of shape (n,) in [0, 1]. Its target is
p_D restricted to the given `bounds`; sampling is by rejection, exact because D ≤ 1 is its own
envelope; the normaliser by quadrature (dim ≤ 3) or Monte Carlo; the score by central differences.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from hdbench.oracles.acceptability import Acceptability, KindParams, Mode
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS


def import_callable(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """Import `module:function`; raise ValueError naming what is missing."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:function', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import module {module_name!r}: {error}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"module {module_name!r} has no function {attribute!r}")
    return function


class ModeParams(KindParams):
    location: list[float]
    sd: float = Field(gt=0.0)
    mass: float = Field(gt=0.0, le=1.0)


class PythonParams(KindParams):
    function: str = Field(description="'module:function', importable from the Python path")
    dim: int = Field(ge=1)
    bounds: list[tuple[float, float]] = Field(description="[low, high] for every dimension")
    modes: list[ModeParams] = Field(default_factory=list)

    @field_validator("function")
    @classmethod
    def _importable(cls, value: str) -> str:
        import_callable(value)
        return value

    @field_validator("bounds")
    @classmethod
    def _bounds(cls, value: list[tuple[float, float]], info: ValidationInfo) -> list:
        dim = info.data.get("dim")
        if len(value) != dim or any(not lo < hi for lo, hi in value):
            raise ValueError(f"expected {dim} pairs [low, high] with low < high, got {value}")
        return value


@ACCEPTABILITY_KINDS.register("python")
class PythonAcceptability(Acceptability):
    Params = PythonParams
    description = "your own D(x), named as module:function; exact target by rejection sampling"

    def __init__(self, function: str, dim: int, bounds: list, modes: list[dict]) -> None:
        self.function_name = function
        self._function = import_callable(function)
        self.dim = dim
        self._bounds = np.asarray(bounds, dtype=float)
        self._modes = tuple(
            Mode(np.asarray(m["location"], float), m["sd"] ** 2 * np.eye(dim), m["mass"])
            for m in modes
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        values = np.asarray(self._function(x), dtype=float)
        if values.shape != (len(x),):
            raise ValueError(
                f"{self.function_name}: expected values of shape ({len(x)},), got {values.shape}"
            )
        return values

    @property
    def bounds(self) -> np.ndarray:
        return self._bounds

    @property
    def modes(self) -> tuple[Mode, ...]:
        return self._modes
