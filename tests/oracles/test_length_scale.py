"""The truth's length scale: a kind's own where it has one, else the generic k-NN distance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hdbench.oracles import find_specs, load_oracle
from hdbench.oracles.acceptability import Acceptability
from hdbench.oracles.kinds.gaussian import GaussianAcceptability

ORACLES = {name: load_oracle(name) for name in find_specs()}

#: Oracles whose kind has a scale of its own, and that scale from their spec.
OWN_SCALES = {
    "paper_like": (6.0 * 4.0 - 1.5**2) ** 0.25,  # det(Σ)^(1/4): the geometric mean sd
    "grid_5x5": 0.2,
    "ring_of_8": 0.3,
    "three_bumps": 0.6,
    "annulus": 0.7,
    "plateau": 0.4,
}


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_every_bundled_oracle_has_a_positive_length_scale(name: str) -> None:
    scale = ORACLES[name].truth.length_scale
    assert isinstance(scale, float) and math.isfinite(scale) and scale > 0


@pytest.mark.parametrize("name", sorted(OWN_SCALES))
def test_kinds_with_a_scale_of_their_own_give_it(name: str) -> None:
    assert ORACLES[name].truth.length_scale == pytest.approx(OWN_SCALES[name])


def test_the_generic_scale_is_near_the_kinds_own() -> None:
    """The figures quoted beside LENGTH_SCALE_SAMPLES: 0.46–3.4 times, 1.2 in the geometric mean."""
    ratios = np.array(
        [
            Acceptability.length_scale.func(ORACLES[name].truth) / scale
            for name, scale in OWN_SCALES.items()
        ]
    )
    assert ratios.min() == pytest.approx(0.46, abs=0.01)
    assert ratios.max() == pytest.approx(3.4, abs=0.03)
    assert np.exp(np.log(ratios).mean()) == pytest.approx(1.2, abs=0.01)


def test_a_kind_without_a_scale_inherits_the_generic_one() -> None:
    banana = ORACLES["banana"].truth
    assert type(banana).length_scale is Acceptability.length_scale
    # Drawn with a fixed generator: a fresh truth gives the very same value.
    assert load_oracle("banana").truth.length_scale == banana.length_scale


class NoExactTarget(GaussianAcceptability):
    length_scale = Acceptability.length_scale

    def sampling_limit(self) -> str:
        return "test: no exact target"


def test_no_exact_samples_gives_nan() -> None:
    truth = NoExactTarget(mean=[0.0, 0.0], cov=np.eye(2).tolist(), peak=0.9)
    assert math.isnan(truth.length_scale)
