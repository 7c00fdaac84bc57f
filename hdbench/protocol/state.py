"""A method's state between two calls: a plain value that is written to disk and read back.

A state holds a phase name, a numpy generator, plain JSON values, numpy arrays and torch
`state_dict`s (of networks and optimisers). It is saved as one `.npz` file: the arrays, every
tensor of the state dicts as an array, and one JSON document for the rest (the generator's
bit-generator state included). No pickle of a live object is ever written, so a state can be
read by another process, another machine or another version of the code that keeps the format.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hdbench.errors import HdbenchError
from hdbench.files import write_atomic

FORMAT = 1
_JSON_KEY = "__state__"


@dataclass
class MethodState:
    """Everything a method keeps between `ask` and `tell`.

    `values` must be JSON-serialisable; `arrays` maps names to numpy arrays; `modules` maps names
    to torch state dicts (nested dicts and lists of tensors and plain values).
    """

    phase: str
    rng: np.random.Generator
    values: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    modules: dict[str, Any] = field(default_factory=dict)


class StateFormatError(HdbenchError):
    """A saved state cannot be read back (damaged file, other format)."""


class StateValueError(StateFormatError):
    """A method's state holds what cannot be saved (a set or an object in its values or arrays)."""


def state_to_arrays(state: MethodState, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state as a dict of arrays for `np.savez`, with one JSON document under `__state__`.

    `extra` is plain JSON stored beside the state (the harness's own counters).
    """
    tensors: dict[str, np.ndarray] = {}
    skeleton = _flatten(state.modules, "modules", tensors)
    document = {
        "format": FORMAT,
        "phase": state.phase,
        "rng": _bit_generator_state(state.rng),
        "values": state.values,
        "modules": skeleton,
        "arrays": sorted(state.arrays),
        "extra": extra or {},
    }
    arrays = {f"arrays/{name}": np.asarray(value) for name, value in state.arrays.items()}
    for name, value in arrays.items():
        if value.dtype == object:
            raise StateValueError(f"state.{name}: expected an array of numbers, got objects")
    try:
        text = json.dumps(document)
    except TypeError as error:
        raise StateValueError(
            f"state.values: expected plain JSON (numbers, strings, lists, dicts), got {error}"
        ) from None
    return {**arrays, **tensors, _JSON_KEY: np.array(text)}


def state_from_arrays(stored: dict[str, np.ndarray]) -> tuple[MethodState, dict[str, Any]]:
    """The inverse of `state_to_arrays`: the state and the `extra` JSON."""
    document = json.loads(str(stored[_JSON_KEY]))
    if document.get("format") != FORMAT:
        raise StateFormatError(f"state: expected format {FORMAT}, got {document.get('format')}")
    rng = np.random.default_rng()
    rng.bit_generator.state = document["rng"]
    state = MethodState(
        phase=document["phase"],
        rng=rng,
        values=document["values"],
        arrays={name: stored[f"arrays/{name}"] for name in document["arrays"]},
        modules=_unflatten(document["modules"], stored),
    )
    return state, document["extra"]


def save_state(state: MethodState, path: Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the state to `path` (.npz) whole or not at all (temporary file, then rename); a
    place that cannot be written (a file where its folder should be) raises one line naming it."""
    arrays = state_to_arrays(state, extra)

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())

    return write_atomic(path, write, "the method's state")


def load_state(path: Path) -> tuple[MethodState, dict[str, Any]]:
    """Read a state written by `save_state`; a damaged file raises one line naming it."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return state_from_arrays(dict(stored))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise StateFormatError(f"{path}: cannot read the method's state: {error}") from None


def copy_state(state: MethodState) -> MethodState:
    """A deep copy through the saved form: what a method would get back after a restart."""
    stored = state_to_arrays(state)
    stored[_JSON_KEY] = np.array(str(stored[_JSON_KEY]))
    return state_from_arrays(stored)[0]


def _bit_generator_state(rng: np.random.Generator) -> dict[str, Any]:
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise StateFormatError(f"rng: expected a PCG64 generator, got {state['bit_generator']}")
    return state


def _flatten(value: Any, path: str, tensors: dict[str, np.ndarray]) -> Any:
    """Replace every tensor in nested dicts and lists by a reference to an array in `tensors`."""
    import torch

    if isinstance(value, torch.Tensor):
        key = f"tensors/{path}"
        tensors[key] = value.detach().cpu().numpy().copy()
        return {"__tensor__": key, "dtype": str(value.dtype).removeprefix("torch.")}
    if isinstance(value, dict):
        # JSON keys are strings; optimiser states key their entries by integer.
        return {"__dict__": [[k, _flatten(v, f"{path}/{k}", tensors)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_flatten(v, f"{path}/{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _unflatten(value: Any, stored: dict[str, np.ndarray]) -> Any:
    import torch

    if isinstance(value, dict) and "__tensor__" in value:
        array = stored[value["__tensor__"]]
        return torch.from_numpy(np.array(array)).to(getattr(torch, value["dtype"]))
    if isinstance(value, dict) and "__dict__" in value:
        return {k: _unflatten(v, stored) for k, v in value["__dict__"]}
    if isinstance(value, list):
        return [_unflatten(v, stored) for v in value]
    return value
