"""Every model a user fills in (specs, sweeps, a method's parameters, a sampler's settings) is
validated here, strictly: a boolean or a string is never read as a number (`noise_sd = true` is
not 1.0), a number never as a boolean, and NaN or infinity is refused wherever it appears. The
first problem becomes one line naming the file, the dotted field and what was expected.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from hdbench.errors import SpecError


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
