"""Sweeps: a grid over parameters × oracles × methods × seeds, expanded into validated run specs.

A sweep comes from the command line (`--grid sigma_nes=0.5,1 R=5,10`) or from a TOML file
(see benchmarks/*.toml). Every run is validated before any starts, so a bad grid costs nothing.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hdbench.algorithms.plugins import resolve_method
from hdbench.errors import SpecError
from hdbench.experiments.run import RunSpec, oracle_spec_hash
from hdbench.oracles import find_specs
from hdbench.oracles.spec import validate

BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


class SweepSpec(BaseModel):
    """What a sweep runs. `oracles = ["all"]` means every oracle found."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field("sweep", pattern=r"^[a-z][a-z0-9_]*$")
    oracles: list[str] = Field(min_length=1)
    methods: list[str] = Field(["humandiffusion"], min_length=1)
    seeds: int | list[int] = Field(1, description="a count (0, 1, …) or a list of seeds")
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict, description="fixed, for every method")
    method_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    budget: int | None = Field(None, ge=1)

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"{key}: expected a non-empty list of values")
        return grid

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: int | list[int]) -> int | list[int]:
        count_ok = isinstance(seeds, int) and seeds >= 1
        list_ok = isinstance(seeds, list) and seeds and all(s >= 0 for s in seeds)
        if not (count_ok or list_ok):
            raise ValueError(f"expected a count ≥ 1 or a list of seeds ≥ 0, got {seeds!r}")
        return seeds

    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    def oracle_names(self, oracle_dirs: Sequence[Path] = ()) -> list[str]:
        return list(find_specs(oracle_dirs)) if self.oracles == ["all"] else list(self.oracles)

    def runs(self, oracle_dirs: Sequence[Path] = ()) -> list[RunSpec]:
        """Every run of the sweep, validated, each bound to its oracle's full spec (so that an
        edited spec makes new runs); a bad key or value raises SpecError first."""
        known = find_specs(oracle_dirs)
        spec_hashes = {
            name: oracle_spec_hash(known[name])
            for name in self.oracle_names(oracle_dirs)
            if name in known
        }
        for name in self.oracle_names(oracle_dirs):
            if name not in known:
                raise SpecError(
                    f"oracles: unknown oracle {name!r}; expected one of: {', '.join(known)}"
                )
        for method in self.methods:
            fields = resolve_method(method).Params.model_fields
            names = set(fields) | {f.alias for f in fields.values() if f.alias}
            for key in [*self.grid, *self.params]:
                if key not in names:
                    raise SpecError(f"grid: unknown parameter {key!r} of {method}")
        keys = list(self.grid)
        specs = []
        for values in itertools.product(*self.grid.values()):
            point = dict(zip(keys, values, strict=True))
            for oracle, method, seed in itertools.product(
                self.oracle_names(oracle_dirs), self.methods, self.seed_list()
            ):
                params = {**self.params, **self.method_params.get(method, {}), **point}
                spec = RunSpec(
                    oracle=oracle,
                    method=method,
                    params=params,
                    seed=seed,
                    budget=self.budget,
                    oracle_spec_hash=spec_hashes[oracle],
                )
                spec.resolved_params()
                specs.append(spec)
        return list({spec.run_id: spec for spec in specs}.values())


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """`key=v1,v2,…` strings into {key: [values]}; values are read as JSON where they parse."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key:
            raise SpecError(f"--grid: expected key=value,value,…, got {item!r}")
        grid[key] = [_value(text) for text in values.split(",")] if values else []
    return grid


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def read_sweep(path_or_name: str | Path) -> SweepSpec:
    """A sweep file by path, or by name from benchmarks/ (e.g. `standard`)."""
    path = Path(path_or_name)
    if path.suffix != ".toml":
        path = BENCHMARKS_DIR / f"{path_or_name}.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SpecError(f"{path}: cannot read the sweep: {error}") from None
    data.setdefault("name", path.stem)
    return validate(SweepSpec, data, str(path))
