"""Sweeps: a grid over parameters × oracles × methods × seeds, expanded into validated run specs.

A sweep comes from the command line (`--grid sigma_nes=0.5,1 R=5,10`) or from a TOML file
(see benchmarks/*.toml). Every run is validated before any starts, so a bad grid costs nothing:
values are typed strictly (`R=true` is not R = 1), a key given twice, fixed and swept at once,
or a `[method_params.X]` table for a method the sweep does not run is refused.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from hdbench.bundled import project_folder
from hdbench.errors import SpecError
from hdbench.experiments.run_spec import RunSpec, oracle_spec_hash
from hdbench.oracles import find_specs
from hdbench.protocol import MIN_SAMPLES, NUM_EVAL_SAMPLES
from hdbench.validation import UserModel, read_toml, validate

BENCHMARKS_DIR = project_folder("benchmarks")


class SweepSpec(UserModel):
    """What a sweep runs. `oracles = ["all"]` means every oracle found."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)
    name: str = Field("sweep", pattern=r"^[a-z][a-z0-9_]*$")
    oracles: list[str] = Field(min_length=1)
    methods: list[str] = Field(["humandiffusion"], min_length=1)
    seeds: int | list[int] = Field(1, description="a count (0, 1, …) or a list of seeds")
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    method_grid: dict[str, dict[str, list[Any]]] = Field(
        default_factory=dict, description="a grid for one method, crossed with `grid`"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="fixed, for every method")
    method_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    budget: int | None = Field(None, ge=1)
    num_eval_samples: int = Field(
        NUM_EVAL_SAMPLES, ge=MIN_SAMPLES, description="particles drawn for scoring, every run"
    )

    @field_validator("grid")
    @classmethod
    def _grid_values(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return _checked_grid(grid, "")

    @field_validator("method_grid")
    @classmethod
    def _method_grid_values(
        cls, grids: dict[str, dict[str, list[Any]]]
    ) -> dict[str, dict[str, list[Any]]]:
        return {method: _checked_grid(grid, f"{method}.") for method, grid in grids.items()}

    @field_validator("oracles", "methods")
    @classmethod
    def _distinct_names(cls, names: list[str]) -> list[str]:
        return _distinct(names, "")

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, methods: list[str]) -> list[str]:
        from hdbench.methods.plugins import resolve_method  # the methods import torch

        for method in methods:
            try:
                resolve_method(method)
            except SpecError as error:
                raise ValueError(str(error).removeprefix("method: ")) from None
        return methods

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        for table in ("method_params", "method_grid"):
            for method in getattr(self, table):
                if method not in self.methods:
                    raise ValueError(
                        f"{table}.{method}: expected a table for one of this sweep's methods "
                        f"({', '.join(self.methods)}), got {method!r}"
                    )
        for method, grid in self.method_grid.items():
            both = sorted(set(grid) & set(self.grid))
            if both:
                raise ValueError(
                    f"method_grid.{method}.{both[0]}: is also a grid key; give it in one place"
                )
        for method in self.methods:
            fixed = {
                "params": self.params,
                f"method_params.{method}": self.method_params.get(method, {}),
            }
            swept = self.method_grid_of(method)
            for where, params in fixed.items():
                both = sorted(set(params) & set(swept))
                if both:
                    raise ValueError(f"{where}.{both[0]}: is also a grid key; give it in one place")
        return self

    def method_grid_of(self, method: str) -> dict[str, list[Any]]:
        """The grid that `method`'s runs sweep: `grid` and its own `method_grid` table."""
        return {**self.grid, **self.method_grid.get(method, {})}

    def grid_keys(self) -> list[str]:
        """Every key that some method sweeps, in the order given."""
        keys = dict.fromkeys(self.grid)
        for grid in self.method_grid.values():
            keys.update(dict.fromkeys(grid))
        return list(keys)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: int | list[int]) -> int | list[int]:
        count_ok = isinstance(seeds, int) and seeds >= 1
        list_ok = isinstance(seeds, list) and seeds and all(s >= 0 for s in seeds)
        if not (count_ok or list_ok):
            raise ValueError(f"expected a count ≥ 1 or a list of seeds ≥ 0, got {seeds!r}")
        return _distinct(seeds, "") if isinstance(seeds, list) else seeds

    def canonical(self) -> dict[str, Any]:
        """Every field as JSON values. Without method grids the field is left out, so that a
        sweep without one keeps the identity (results folder, reference) it had before
        method grids existed."""
        return self.model_dump(mode="json", exclude=set() if self.method_grid else {"method_grid"})

    def definition(self) -> dict[str, Any]:
        """What the sweep's results folder holds: everything but the seeds, since more seeds of
        the same grid belong in the same table."""
        return {k: v for k, v in self.canonical().items() if k != "seeds"}

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
        from hdbench.methods.plugins import resolve_method

        for method in self.methods:
            fields = resolve_method(method).Params.model_fields
            names = set(fields) | {f.alias for f in fields.values() if f.alias}
            for key in [*self.method_grid_of(method), *self.params]:
                if key not in names:
                    where = "grid" if key in self.grid or key in self.params else "method_grid"
                    raise SpecError(f"{where}: unknown parameter {key!r} of {method}")
        specs = []
        for method in self.methods:
            grid = self.method_grid_of(method)
            for values, oracle, seed in itertools.product(
                itertools.product(*grid.values()),
                self.oracle_names(oracle_dirs),
                self.seed_list(),
            ):
                point = dict(zip(grid, values, strict=True))
                params = {**self.params, **self.method_params.get(method, {}), **point}
                spec = RunSpec(
                    oracle=oracle,
                    method=method,
                    params=params,
                    seed=seed,
                    budget=self.budget,
                    num_eval_samples=self.num_eval_samples,
                    oracle_spec_hash=spec_hashes[oracle],
                )
                spec.resolved_params()
                specs.append(spec)
        return list({spec.run_id: spec for spec in specs}.values())


def _checked_grid(grid: dict[str, list[Any]], prefix: str) -> dict[str, list[Any]]:
    """`grid` if every key has a non-empty list of distinct values; `prefix` names the table."""
    for key, values in grid.items():
        if not values:
            raise ValueError(f"{prefix}{key}: expected a non-empty list of values")
        _distinct(values, f"{prefix}{key}")
    return grid


def _distinct(values: list[Any], key: str) -> list[Any]:
    """`values` if no value is given twice (a repeat is a typo, e.g. `R=2,2` for `R=2,20`, or
    the same run twice); else ValueError naming it."""
    seen: list[Any] = []
    for value in values:
        if value in seen:
            where = f"{key}: " if key else ""
            raise ValueError(f"{where}{value!r} is given twice; expected distinct values")
        seen.append(value)
    return values


def parse_assignments(items: Sequence[str], option: str = "--set") -> dict[str, Any]:
    """`key=value` strings into a dict; values are read as JSON where they parse, else text.
    A key given twice is refused, never silently overwritten."""
    params: dict[str, Any] = {}
    for item in items:
        key, value = _split(item, option, "key=value", params)
        params[key] = _value(value)
    return params


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """`key=v1,v2,…` strings into {key: [values]}; values are read as JSON where they parse.
    A key given twice (`R=2,3 R=4`) or an empty value (`R=1,,2`) is refused."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, values = _split(item, "--grid", "key=value,value,…", grid)
        texts = values.split(",") if values else []
        if "" in texts:
            raise SpecError(
                f"--grid: {key}: expected values separated by single commas, got {item!r}"
            )
        grid[key] = [_value(text) for text in texts]
    return grid


def _split(
    item: str, option: str, form: str, seen: dict[str, Any] | None = None
) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError(f"{option}: expected {form}, got {item!r}")
    if seen is not None and key in seen:
        raise SpecError(f"{option}: {key}: given twice; expected each key once")
    return key, value


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
    data = read_toml(path, "sweep")
    data.setdefault("name", path.stem)
    return validate(SweepSpec, data, str(path))
