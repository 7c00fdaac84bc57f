"""Generated discovery oracles: drawn from a distribution, each with its exact truth."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.oracles import Oracle
from hdbench.oracles.acceptability import high_quality_radius, nearest_modes
from hdbench.oracles.generated import CLAIM_SEED, generate_spec
from hdbench.oracles.spec import OracleSpec, validate

SEEDS = [*range(6), *range(CLAIM_SEED, CLAIM_SEED + 14)]


def build(family: str, seed: int) -> Oracle:
    return Oracle.from_spec(validate(OracleSpec, generate_spec(family, seed), "generated"))


@pytest.fixture(scope="module")
def oracles() -> dict[int, Oracle]:
    return {seed: build("discovery", seed) for seed in SEEDS}


def test_the_same_seed_is_the_same_oracle_and_another_is_another():
    assert generate_spec("discovery", 7) == generate_spec("discovery", 7)
    assert generate_spec("discovery", 7) != generate_spec("discovery", 9)


def test_the_family_spans_its_shapes_dimensions_and_sizes(oracles):
    kinds = {seed: o.spec.acceptability["kind"] for seed, o in oracles.items()}
    assert all(kinds[s] == ("mixture" if s % 2 == 0 else "twisted") for s in SEEDS)
    for oracle in oracles.values():
        modes, seen = oracle.truth.modes, oracle.spec.real_data["modes"]
        limit = 12 if oracle.spec.acceptability["kind"] == "mixture" else 6
        assert 2 <= oracle.dim <= 8 and 2 <= len(modes) <= limit
        assert 1 <= len(seen) < len(modes)
        assert 0 < oracle.truth.peak <= 1
    assert {o.dim for o in oracles.values()} >= {2, 8}


def test_the_real_data_lie_on_the_seen_modes_only(oracles):
    for oracle in oracles.values():
        nearest, distance = nearest_modes(oracle.real_data, oracle.truth.modes)
        assert set(nearest) <= set(oracle.spec.real_data["modes"])
        assert distance.max() <= high_quality_radius(oracle.dim)
        assert oracle.real_data.shape == (100, oracle.dim)


def test_bumps_are_kept_apart(oracles):
    """No two modes' centres closer than 3 sd of the wider of them along their joining line."""
    for oracle in oracles.values():
        modes = oracle.truth.modes
        for i, a in enumerate(modes):
            for b in modes[i + 1 :]:
                line = (b.location - a.location) / np.linalg.norm(b.location - a.location)
                spread = np.sqrt(max(line @ a.cov @ line, line @ b.cov @ line))
                assert np.linalg.norm(b.location - a.location) > 3 * spread


@pytest.mark.parametrize(
    ("family", "seed", "message"),
    [
        ("spirals", 0, "family: expected one of bumps, curved, discovery, got 'spirals'"),
        ("bumps", -1, "seed: expected an integer ≥ 0, got -1"),
        ("bumps", True, "seed: expected an integer ≥ 0, got True"),
    ],
)
def test_a_bad_family_or_seed_is_one_line(family, seed, message):
    with pytest.raises(SpecError, match=message):
        generate_spec(family, seed)
