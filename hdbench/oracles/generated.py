"""Generated discovery oracles: specs drawn from a distribution, each with its exact truth.

`generate_spec(family, seed)` returns an oracle spec (the tables of a TOML file) drawn with a
generator named from the seed, so the same (family, seed) is always the same oracle:

- `bumps`: a mixture of 2-12 Gaussian bumps at random positions in [-4, 4]^d, each with random
  spreads (sd 0.2-0.5 along random principal axes: anisotropy up to 2.5) and peaks (0.3-0.9),
  so the modes' masses differ;
- `curved`: 2-6 bumps, each elongated (sd 0.5-1 along its spine, 0.15-0.3 across) and bent by a
  volume-preserving twist (the `twisted` kind: exact samples and closed-form score in any d);
- `discovery`: `bumps` at even seeds, `curved` at odd ones.

In every family d is drawn from 2-8, bumps are kept apart (their spines, 2.5 sd either way, at
least 3 sd of both apart across), and the real data are 100 exact target samples from a random
non-empty proper subset of the modes (`[real_data] kind = "modes"`): what remains is to be
discovered. Family seeds below 1000 are for choosing defaults; claims are made from 1000 on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hdbench.errors import SpecError
from hdbench.lazy import lazy_import
from hdbench.rng import named_generator

stats = lazy_import("scipy.stats")

#: Half-width of the cube the bumps' means are drawn in.
HALF_WIDTH = 4.0
DIMS = (2, 8)
NUM_REAL = 100
#: Seeds from here on are the ones claims are reported on; defaults are chosen below it.
CLAIM_SEED = 1000
#: Draws of a bump's place before the family gives up on fitting another one in.
MAX_PLACEMENTS = 2000
#: Points along each bump's spine, at ±SPINE_REACH sd, used to keep bumps apart.
SPINE_POINTS, SPINE_REACH, APART_SDS = 11, 2.5, 3.0


def _straight(rng: np.random.Generator, dim: int) -> dict[str, Any]:
    """One anisotropic Gaussian bump: sds along random principal axes, no bend."""
    sds = rng.uniform(0.2, 0.5, dim)
    return {"axes": _rotation(rng, dim), "sds": sds, "bend": 0.0}


def _bent(rng: np.random.Generator, dim: int) -> dict[str, Any]:
    """One elongated bump bent about its long axis: curvature b s² in [0.3, 0.7] either way."""
    sds = np.concatenate([[rng.uniform(0.5, 1.0)], rng.uniform(0.15, 0.3, dim - 1)])
    curvature = rng.uniform(0.3, 0.7) * rng.choice([-1.0, 1.0])
    return {"axes": _rotation(rng, dim), "sds": sds, "bend": curvature / sds[0] ** 2}


def _rotation(rng: np.random.Generator, dim: int) -> np.ndarray:
    """A uniformly random rotation, shape (dim, dim); its columns are the bump's axes."""
    return stats.special_ortho_group.rvs(dim, random_state=rng)


FAMILIES: dict[str, tuple[tuple[int, int], Callable[..., dict[str, Any]]]] = {
    "bumps": ((2, 12), _straight),
    "curved": ((2, 6), _bent),
}
FAMILY_NAMES = ("bumps", "curved", "discovery")


def generate_spec(family: str, seed: int) -> dict[str, Any]:
    """The spec of oracle `seed` of `family` (tables as a TOML file holds them)."""
    if family not in FAMILY_NAMES:
        raise SpecError(f"family: expected one of {', '.join(FAMILY_NAMES)}, got {family!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"seed: expected an integer ≥ 0, got {seed!r}")
    rng = named_generator(seed, "family", family)
    shape = family if family != "discovery" else ("bumps", "curved")[seed % 2]
    (low, high), draw_bump = FAMILIES[shape]
    dim = int(rng.integers(DIMS[0], DIMS[1] + 1))
    bumps = _place(rng, dim, int(rng.integers(low, high + 1)), draw_bump)
    seen = rng.choice(len(bumps), size=int(rng.integers(1, len(bumps))), replace=False)
    table = "bumps" if shape == "bumps" else "twisted"
    return {
        "name": oracle_name(family, seed),
        "description": (
            f"generated ({family}, seed {seed}): {len(bumps)} {shape} in {dim}-D, real data on "
            f"{len(seen)} of them"
        ),
        "acceptability": {"kind": "mixture" if table == "bumps" else "twisted", "bumps": bumps},
        "real_data": {"kind": "modes", "modes": sorted(int(i) for i in seen), "num": NUM_REAL},
    }


def oracle_name(family: str, seed: int) -> str:
    return f"{family}_s{seed}"


def _place(
    rng: np.random.Generator, dim: int, num: int, draw_bump: Callable[..., dict[str, Any]]
) -> list[dict[str, Any]]:
    """`num` bumps kept apart, as spec tables; fewer (at least 2) when no more fit."""
    placed: list[tuple[np.ndarray, float, dict[str, Any]]] = []
    for _ in range(MAX_PLACEMENTS):
        if len(placed) == num:
            break
        bump = draw_bump(rng, dim)
        mean = rng.uniform(-HALF_WIDTH, HALF_WIDTH, dim)
        spine = _spine(mean, bump)
        across = APART_SDS * bump["sds"][1:].max(initial=bump["sds"][0])
        if all(_gap(spine, other) >= across + reach for other, reach, _ in placed):
            placed.append((spine, across, _table(mean, bump, rng)))
    if len(placed) < 2:
        raise SpecError(f"family: could not place 2 bumps apart in {dim}-D")
    return [table for _, _, table in placed]


def _spine(mean: np.ndarray, bump: dict[str, Any]) -> np.ndarray:
    """Points of the bump's spine, a ∈ ±SPINE_REACH sd, bent: shape (SPINE_POINTS, dim)."""
    u, v = bump["axes"][:, 0], bump["axes"][:, 1]
    s = bump["sds"][0]
    a = np.linspace(-SPINE_REACH, SPINE_REACH, SPINE_POINTS) * s
    return mean + a[:, None] * u + (bump["bend"] * (a**2 - s**2))[:, None] * v


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    """Least distance between two point sets (n, dim) and (m, dim)."""
    return float(np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1).min()))


def _table(mean: np.ndarray, bump: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A bump as the spec's table: mean, covariance, peak, and for a bent one its twist."""
    axes, sds = bump["axes"], bump["sds"]
    cov = axes @ np.diag(sds**2) @ axes.T
    table: dict[str, Any] = {
        "mean": _rounded(mean),
        "cov": _rounded(0.5 * (cov + cov.T)),
        "peak": round(float(rng.uniform(0.3, 0.9)), 3),
    }
    if bump["bend"]:
        table |= {
            "bend": round(float(bump["bend"]), 6),
            "spine": _rounded(axes[:, 0]),
            "towards": _rounded(axes[:, 1]),
        }
    return table


def _rounded(array: np.ndarray) -> list:
    """Floats kept exact in the TOML file (repr round-trips), as nested lists."""
    return np.asarray(array, dtype=float).tolist()
