"""A run's spec and identity, apart from the runner, so that reading a study or refusing a bad
spec does not import what runs one (torch, the methods)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from hdbench.errors import SpecError
from hdbench.oracles import Oracle, load_oracle
from hdbench.oracles.catalog import find_specs
from hdbench.oracles.spec import read_spec
from hdbench.protocol import MIN_SAMPLES, NUM_EVAL_SAMPLES
from hdbench.rng import stable_hash
from hdbench.validation import UserModel, validate

#: The ledger meta key under which a run records its spec, parameters resolved (`--replay`).
RUN_SPEC_KEY = "run_spec"


class RunSpec(UserModel):
    """What to run: oracle, method, its parameters (validated by the method), seed, budget, and
    the number of particles drawn for scoring."""

    oracle: str
    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(0, ge=0)
    budget: int | None = Field(None, ge=1)
    num_eval_samples: int = Field(
        NUM_EVAL_SAMPLES, ge=MIN_SAMPLES, description="particles the method draws for scoring"
    )
    oracle_spec_hash: str = Field(
        "", description="hash of the oracle's full spec; looked up by name when empty"
    )

    def resolved_params(self) -> BaseModel:
        from hdbench.methods.plugins import resolve_method  # a method's module may import torch

        method = resolve_method(self.method)
        return validate(method.Params, self.params, "params", self.method)

    def for_oracle(self, oracle: Oracle) -> RunSpec:
        """This spec, bound to the full spec of `oracle` (what its run id hashes); a spec bound
        to another version of the oracle is refused."""
        if self.oracle_spec_hash not in ("", oracle.spec_hash):
            raise SpecError(
                f"oracle: {oracle.name!r} has changed since this run was planned (spec hash "
                f"{oracle.spec_hash}, planned with {self.oracle_spec_hash})"
            )
        return self.model_copy(update={"oracle_spec_hash": oracle.spec_hash})

    @property
    def run_id(self) -> str:
        """Short hash of the canonical spec: the oracle's full spec (after defaults), the method,
        its parameters resolved to their full set, the seed and the budget."""
        canonical = {
            **self.model_dump(exclude={"params", "oracle_spec_hash"}),
            "oracle_spec_hash": self.oracle_spec_hash or spec_hash_of(self.oracle),
            "params": self.resolved_params().model_dump(by_alias=True),
        }
        return stable_hash(json.dumps(canonical, sort_keys=True))


def spec_hash_of(name: str) -> str:
    """The hash of an oracle's full spec, found by name (or path) on the search path."""
    specs = find_specs()
    return oracle_spec_hash(specs[name]) if name in specs else load_oracle(name).spec_hash


def oracle_spec_hash(path: Path) -> str:
    """The hash of the full spec (after defaults) in the file `path`, as `Oracle.spec_hash`."""
    spec = read_spec(path)
    return stable_hash(json.dumps(spec.model_dump(mode="json"), sort_keys=True))
