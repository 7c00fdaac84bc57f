"""`python`: a user's own D, named as `module:function`.

The function takes points of shape (n, dim) and returns D of shape (n,) in [0, 1]. Its target is
p_D restricted to the given `bounds`, in any dimension: exact samples by rejection from an
envelope fitted to D (`hdbench.oracles.envelope`, started from the listed `modes`, if any), the
normaliser by quadrature (dim ≤ 3) or importance sampling from that envelope, the score by
central differences. The bounds must hold D's mass: when the envelope's draws see more than
`MAX_OUTSIDE_SHARE` of it outside them, or D is 0 everywhere they looked inside them, sampling
stops with one line saying so (it used to loop for ever).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cached_property

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from hdbench.errors import SpecError
from hdbench.oracles.acceptability import Acceptability, KindParams, Mode
from hdbench.oracles.envelope import EnvelopeSampler
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS

#: Largest share of D's mass the bounds may leave out.
MAX_OUTSIDE_SHARE = 0.01


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
    description = "your own D(x), named as module:function; exact target by fitted rejection"

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
