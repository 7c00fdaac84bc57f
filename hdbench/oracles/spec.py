"""Oracle specs: one TOML file per oracle, validated into frozen models.

A spec has four tables: `acceptability` (the kind and its parameters), `real_data` (what a
method starts from: its kind, default `gaussian`, and parameters; see
`hdbench.oracles.real_data`), `listener` (the listener model) and `panel`. Both kinds'
parameters are validated when the oracle is built. See oracles/_template.toml.

Every model a user fills in (specs, sweeps, a method's parameters) is validated by `validate`,
strictly: a boolean or a string is never read as a number (`noise_sd = true` is not 1.0), a
number never as a boolean, and NaN or infinity is refused wherever it appears. The first
problem becomes one line naming the file, the dotted field and what was expected.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from hdbench.errors import SpecError
from hdbench.oracles.acceptability import KindParams
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


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict; an unreadable, non-UTF-8 or malformed file (duplicate keys
    included, which TOML forbids) raises SpecError naming it. A UTF-8 byte-order mark is fine."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
        return tomllib.loads(text)
    except UnicodeDecodeError as error:
        raise SpecError(
            f"{path}: cannot read the {what}: expected UTF-8 text, got byte "
            f"0x{error.object[error.start]:02x} at position {error.start}; save it as UTF-8"
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise SpecError(f"{path}: cannot read the {what}: {reason}") from None


class UserModel(BaseModel):
    """A model a user may also build from Python (`RunSpec(...)`, `SweepSpec(...)`): held to
    `validate`'s rules there too, strict, finite, and a bad value is a one-line SpecError naming
    the model and the field, never pydantic's multi-line report or a silent coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def __init__(self, **data: Any) -> None:
        if _VALIDATING.get():  # pydantic calls a custom __init__ from `validate` too
            super().__init__(**data)
            return
        where = type(self).__name__
        check_finite(data, where)
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise SpecError(f"{where}: {describe(error)}") from None


#: Set while `validate` runs, when it, not UserModel.__init__, reports the problem.
_VALIDATING: ContextVar[bool] = ContextVar("validating", default=False)


def validate(model: type[BaseModel], data: Any, where: str, prefix: str = "") -> Any:
    """model.model_validate(data, strict=True), refusing NaN and infinity anywhere in `data`;
    the first problem becomes a one-line SpecError: `where: prefix.dotted.field: expected`."""
    check_finite(data, where, prefix)
    token = _VALIDATING.set(True)
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as error:
        raise SpecError(f"{where}: {describe(error, prefix)}") from None
    finally:
        _VALIDATING.reset(token)


def check_finite(data: Any, where: str, prefix: str = "") -> None:
    """SpecError naming the first NaN or infinity in `data` (nested dicts and lists)."""
    found = non_finite(data)
    if found is not None:
        location, value = found
        dotted = ".".join([prefix, *location] if prefix else location)
        raise SpecError(f"{where}: {dotted}: expected a finite number, got {value}")


def non_finite(data: Any, location: tuple[str, ...] = ()) -> tuple[list[str], float] | None:
    """The dotted location and value of the first NaN or infinity in nested dicts and lists."""
    if isinstance(data, float) and not math.isfinite(data):
        return list(location), data
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list | tuple):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        found = non_finite(value, (*location, str(key)))
        if found is not None:
            return found
    return None


#: How pydantic names the member of a union an error belongs to (`literal['a','b']`, a class
#: name such as `SliderSpec`, `list[int]`, `int`): not a field, so left out of the location.
_UNION_MEMBER = re.compile(r".*[\[\]'].*|[A-Z][a-z]\w*|int|float|str|bool|list|dict|tuple")


def describe(error: ValidationError, prefix: str = "") -> str:
    """One line for the problem found deepest in the input (for a union, the member that
    matched furthest): the field's dotted path, what was expected, and what was given."""
    errors = [(_location(e["loc"], e["type"]), e) for e in error.errors()]
    parts, chosen = max(errors, key=lambda pair: len(pair[0]))
    location = ".".join([prefix, *parts] if prefix else parts)
    message = chosen["msg"].removeprefix("Value error, ")
    if chosen["type"] == "missing":
        message = "a value is required"
    elif chosen["type"] == "extra_forbidden":
        message = "unknown field"
    elif "input" in chosen and chosen["type"] not in ("value_error", "assertion_error"):
        message += f" (got {shown(chosen['input'])})"
    return f"{location}: {message}" if location else message


def _location(loc: tuple[Any, ...], kind: str = "") -> list[str]:
    """The fields of `loc`, without union members; an unknown field's own name (the last part)
    is the user's key, kept even when it looks like one (`[Listener]`)."""
    last = len(loc) - 1 if kind == "extra_forbidden" else len(loc)
    return [
        str(part)
        for index, part in enumerate(loc)
        if index >= last or not _UNION_MEMBER.fullmatch(str(part))
    ]


def shown(value: Any, limit: int = 80) -> str:
    """A value as the user typed it in TOML or on the command line: true, "0.1", nan."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
