"""Oracle specs: one TOML file per oracle, validated into frozen models.

A spec has four tables: `acceptability` (the kind and its parameters), `real_data` (what a
method starts from: its kind, default `gaussian`, and parameters; see
`hdbench.oracles.real_data`), `listener` (the listener model) and `panel`. Both kinds'
parameters are validated when the oracle is built. See oracles/_template.toml.

Specs are validated by `hdbench.validation.validate`, strictly, as every model a user fills in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from hdbench.oracles.acceptability import KindParams
from hdbench.protocol import SCALES, Slider
from hdbench.validation import read_toml, validate


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


class ListenerSpec(KindParams):
    noise_sd: float = Field(0.1, ge=0.0, description="sd of each rating's noise, slider = 1")
    bias_sd: float = Field(0.05, ge=0.0, description="sd of the per-listener bias")
    lapse_rate: float = Field(0.02, ge=0.0, le=1.0, description="share of inattentive answers")
    drift_sd: float = Field(0.0, ge=0.0, description="sd of a listener's drift per trial")
    scale: Literal["slider", "mushra", "five_point"] | SliderSpec = "slider"
    differential_step: float | None = Field(
        None, ge=0.0, le=1.0, description="step of answers in [-1, 1]; at most half the range"
    )
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
    real_data: dict[str, Any] = Field(default_factory=dict)
    listener: ListenerSpec = ListenerSpec()
    panel: PanelSpec = PanelSpec()

    @field_validator("acceptability")
    @classmethod
    def _has_kind(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("kind"), str):
            raise ValueError("expected a `kind` naming an acceptability kind")
        return value

    @field_validator("real_data")
    @classmethod
    def _real_data_kind(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("kind", "gaussian"), str):
            raise ValueError("kind: expected the name of a real-data kind")
        return value


def read_spec(path: Path) -> OracleSpec:
    """Parse and validate a spec file; the name defaults to the file's stem, less a leading `_`."""
    data = read_toml(path, "spec")
    data.setdefault("name", path.stem.lstrip("_"))
    return validate(OracleSpec, data, str(path))
