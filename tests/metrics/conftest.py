"""Oracles and truth contexts shared by the metric tests, built once per session."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

import hdbench.oracles.kinds  # noqa: F401  (registers every kind)
from hdbench.metrics import TruthContext
from hdbench.oracles.acceptability import Acceptability
from hdbench.oracles.kinds.gaussian import GaussianAcceptability
from hdbench.oracles.kinds.mixture import MixtureAcceptability, MixtureParams
from hdbench.oracles.kinds.plateau import PlateauAcceptability
from hdbench.oracles.kinds.python_callable import PythonAcceptability
from hdbench.oracles.kinds.ring import RingAcceptability
from hdbench.oracles.real_data import ModesParams, draw_modes


def _mixture(layout: dict) -> MixtureAcceptability:
    return MixtureAcceptability.from_params(MixtureParams.model_validate(layout))


#: Oracles by name: a Gaussian (one mode), mixtures (modes), radial kinds (no modes), a Python
#: callable (rejection sampling, no modes), and a 3-D Gaussian, an 8-D plateau and a 32-D
#: Gaussian (no grid).
ORACLES: dict[str, Callable[[], Acceptability]] = {
    "gaussian": lambda: GaussianAcceptability(mean=[0, 0], cov=[[4, 1], [1, 2]], peak=0.85),
    "ring_of_8": lambda: _mixture({"ring": {"num_bumps": 8, "radius": 4.0, "sd": 0.5}}),
    "three_bumps": lambda: _mixture(
        {
            "bumps": [
                {"mean": [-2.0, 0.0], "sd": 0.6, "peak": 0.9},
                {"mean": [2.0, 0.0], "sd": 0.6, "peak": 0.6},
                {"mean": [0.0, 2.0], "sd": 0.6, "peak": 0.35},
            ]
        }
    ),
    "grid_5x5": lambda: _mixture({"grid": {"num_per_axis": 5, "spacing": 2.0, "sd": 0.3}}),
    "plateau": lambda: PlateauAcceptability(centre=[0, 0], radius=3, edge=0.5, height=1.0),
    "ring": lambda: RingAcceptability(centre=[0, 0], radius=3, width=0.6, height=0.9),
    "banana": lambda: PythonAcceptability(
        function="hdbench.oracles.examples:banana",
        dim=2,
        bounds=[[-11.0, 11.0], [-4.0, 27.0]],
        modes=[],
    ),
    "gaussian_3d": lambda: GaussianAcceptability(
        mean=[1, 0, -1], cov=[[2, 0.5, 0], [0.5, 1, 0], [0, 0, 0.5]], peak=0.9
    ),
    "plateau_8d": lambda: PlateauAcceptability(centre=[0] * 8, radius=3, edge=0.5, height=1.0),
    "gaussian_32d": lambda: GaussianAcceptability(
        mean=[0.5] * 32, cov=np.diag(np.linspace(1, 4, 32)).tolist(), peak=0.85
    ),
}


#: Discovery contexts: name → (oracle, the modes its real data are drawn from).
PARTIAL = {"three_bumps_discover": ("three_bumps", [2]), "ring_of_8_discover": ("ring_of_8", [0])}


@cache
def truth_of(name: str) -> Acceptability:
    return ORACLES[PARTIAL[name][0] if name in PARTIAL else name]()


@cache
def context_of(name: str) -> TruthContext:
    """The context of oracle `name`, seed 0, with 300 exact samples standing in for real data;
    for a discovery context, 300 points of the `modes` real-data kind on its listed modes."""
    truth = truth_of(name)
    if name in PARTIAL:
        params = ModesParams(modes=PARTIAL[name][1], num=300, seed=12345)
        real_data = draw_modes(params, truth, name)
    else:
        real_data = truth.sample(300, np.random.default_rng(12345))
    return TruthContext.build(truth, real_data, seed=0)


@pytest.fixture(scope="session")
def truths() -> Callable[[str], Acceptability]:
    """Look up an oracle's truth by name (built once per session)."""
    return truth_of


@pytest.fixture(scope="session")
def contexts() -> Callable[[str], TruthContext]:
    """Look up an oracle's truth context by name (built once per session)."""
    return context_of
