"""Oracle specs: one TOML file per oracle, validated into frozen models.

A spec has four tables: `acceptability` (the kind and its parameters), `real_data` (what a
method starts from), `listener` (the listener model) and `panel`. See oracles/_template.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from hdbench.errors import SpecError
from hdbench.oracles.acceptability import KindParams
from hdbench.oracles.kinds.fields import check_covariance, check_vector
from hdbench.oracles.listener import SCALES, Slider


class SliderSpec(KindParams):
    low: float
    high: float
    step: float = Field(gt=0.0)

    @field_validator("high")
    @classmethod
    def _above_low(cls, value: float, info: ValidationInfo) -> float:
        if "low" in info.data and not value > info.data["low"]:
            raise ValueError(f"expected high > low = {info.data['low']}, got {value}")
        return value

    @field_validator("step")
    @classmethod
    def _divides_range(cls, value: float, info: ValidationInfo) -> float:
        span = info.data.get("high", value) - info.data.get("low", 0.0)
        if abs(span / value - round(span / value)) > 1e-9:
            raise ValueError(f"expected a step that divides high - low = {span}, got {value}")
        return value


class RealDataSpec(KindParams):
    """N real data points drawn once from N(mean, cov); defaults N(0, I) as in the paper."""

    num: int = Field(100, ge=2)
    mean: list[float] | None = None
    cov: list[list[float]] | None = None
    seed: int = Field(0, ge=0)

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


class ListenerSpec(KindParams):
    noise_sd: float = Field(0.1, ge=0.0, description="sd of each rating's noise, slider = 1")
    bias_sd: float = Field(0.05, ge=0.0, description="sd of the per-listener bias")
    lapse_rate: float = Field(0.02, ge=0.0, le=1.0, description="share of inattentive answers")
    drift_sd: float = Field(0.0, ge=0.0, description="sd of a listener's drift per trial")
    scale: Literal["slider", "mushra", "five_point"] | SliderSpec = "slider"
    differential_step: float | None = Field(None, ge=0.0)
    ideal: bool = False

    def slider(self) -> Slider:
        if isinstance(self.scale, str):
            return SCALES[self.scale]
        return Slider(self.scale.low, self.scale.high, self.scale.step)


class PanelSpec(KindParams):
    num_listeners: int = Field(105, ge=1)
    budget: int | None = Field(None, ge=1, description="most ratings a method may spend")


class OracleSpec(BaseModel):
    model_config = KindParams.model_config
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=1)
    acceptability: dict[str, Any]
    real_data: RealDataSpec = RealDataSpec()
    listener: ListenerSpec = ListenerSpec()
    panel: PanelSpec = PanelSpec()

    @field_validator("acceptability")
    @classmethod
    def _has_kind(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("kind"), str):
            raise ValueError("expected a `kind` naming an acceptability kind")
        return value


def read_spec(path: Path) -> OracleSpec:
    """Parse and validate a spec file; the name defaults to the file's stem, less a leading `_`."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SpecError(f"{path}: cannot read the spec: {error}") from None
    data.setdefault("name", path.stem.lstrip("_"))
    return validate(OracleSpec, data, str(path))


def validate(model: type[BaseModel], data: Any, where: str, prefix: str = "") -> Any:
    """model.model_validate(data), with the first error turned into a one-line SpecError."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise SpecError(f"{where}: {describe(error, prefix)}") from None


def describe(error: ValidationError, prefix: str = "") -> str:
    """One line for the first problem: the field's dotted path, what was expected, the input."""
    first = error.errors()[0]
    parts = ([prefix] if prefix else []) + [str(part) for part in first["loc"]]
    location = ".".join(parts)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "a value is required"
    elif first["type"] == "extra_forbidden":
        message = "unknown field"
    elif "input" in first and first["type"] != "value_error":
        message += f" (got {first['input']!r})"
    return f"{location}: {message}" if location else message
