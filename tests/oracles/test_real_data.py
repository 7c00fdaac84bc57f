"""Real-data kinds: each draws what it says, seeded; a bad table gets one line."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from scipy import stats

from hdbench.errors import SpecError
from hdbench.oracles import load_oracle
from hdbench.oracles.acceptability import box_grid, high_quality_radius, nearest_modes

RADIUS = high_quality_radius(2)

THREE_BUMPS = """
description = "three bumps"
[acceptability]
kind = "mixture"
bumps = [
    { mean = [-2.0, 0.0], sd = 0.6, peak = 0.9 },
    { mean = [2.0, 0.0], sd = 0.6, peak = 0.6 },
    { mean = [0.0, 2.0], sd = 0.6, peak = 0.35 },
]
[real_data]
"""


def oracle_with(tmp_path, real_data: str, base: str = THREE_BUMPS, name: str = "o"):
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(base) + textwrap.dedent(real_data))
    return load_oracle(path)


def grid_chi_square_pvalue(points: np.ndarray, density: np.ndarray, bounds: np.ndarray) -> float:
    """Chi-square p-value of points (n, 2) against a density given on a 240² grid over bounds
    (its values, shape (240²,)), on 12 × 12 cells pooled to expected counts above 5."""
    edges = [np.linspace(lo, hi, 13) for lo, hi in bounds]
    observed, *_ = np.histogram2d(points[:, 0], points[:, 1], bins=edges)
    mass = density.reshape(12, 20, 12, 20).sum(axis=(1, 3))
    expected = mass / mass.sum() * len(points)
    enough = expected > 5
    pooled_obs = np.r_[observed[enough], len(points) - observed[enough].sum()]
    pooled_exp = np.r_[expected[enough], len(points) - expected[enough].sum()]
    return stats.chisquare(pooled_obs, pooled_exp).pvalue


def test_the_gaussian_default_is_the_papers_draw(tmp_path):
    oracle = oracle_with(tmp_path, "seed = 3")
    expected = np.random.default_rng(3).standard_normal((100, 2))
    np.testing.assert_array_equal(oracle.real_data, expected)


@pytest.mark.parametrize(
    ("table", "exponent", "threshold"),
    [
        ('kind = "acceptable"', 1.0, 0.0),
        ('kind = "acceptable"\npower = 3.0', 3.0, 0.0),
        ('kind = "acceptable"\npower = 0.5', 0.5, 0.0),
        ('kind = "acceptable"\nthreshold = 0.3', 1.0, 0.3),
    ],
    ids=["target", "sharpened", "flattened", "thresholded"],
)
def test_acceptable_real_data_follow_d_to_the_power_k_above_tau(
    tmp_path, table, exponent, threshold
):
    oracle = oracle_with(tmp_path, f"{table}\nnum = 5000\nseed = 1")
    truth, real = oracle.truth, oracle.real_data
    assert real.shape == (5000, 2)
    assert truth(real).min() >= threshold
    fine, _ = box_grid(truth.bounds, 240)
    values = truth(fine)
    density = values**exponent * (values >= threshold)
    assert grid_chi_square_pvalue(real, density, truth.bounds) > 1e-3


def test_sharpening_moves_the_real_data_to_the_highest_bump(tmp_path):
    plain = oracle_with(tmp_path, 'kind = "acceptable"\nnum = 2000', name="plain")
    sharp = oracle_with(tmp_path, 'kind = "acceptable"\nnum = 2000\npower = 4', name="sharp")
    share = [np.mean(nearest_modes(o.real_data, o.truth.modes)[0] == 0) for o in (plain, sharp)]
    assert share[1] > share[0] + 0.2


def test_modes_real_data_lie_on_the_listed_modes_in_proportion(tmp_path):
    oracle = oracle_with(tmp_path, 'kind = "modes"\nmodes = [1, 2]\nnum = 4000\nseed = 2')
    nearest, distance = nearest_modes(oracle.real_data, oracle.truth.modes)
    assert set(nearest) == {1, 2} and distance.max() <= RADIUS
    # Equal sds: the two bumps' masses are in the ratio of their peaks, 0.6 : 0.35.
    result = stats.binomtest(int(np.sum(nearest == 1)), len(nearest), 0.6 / 0.95)
    assert result.pvalue > 1e-3


def test_every_kind_is_seeded(tmp_path):
    for table in ('kind = "acceptable"', 'kind = "modes"\nmodes = [0]'):
        a = oracle_with(tmp_path, f"{table}\nseed = 4", name="a").real_data
        b = oracle_with(tmp_path, f"{table}\nseed = 4", name="b").real_data
        c = oracle_with(tmp_path, f"{table}\nseed = 5", name="c").real_data
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


BAD = {
    "unknown kind": ('kind = "corpus"', "real_data.kind: unknown real-data kind 'corpus'"),
    "field of another kind": (
        'kind = "acceptable"\nmean = [0.0, 0.0]',
        "real_data.mean: unknown field",
    ),
    "power not positive": ('kind = "acceptable"\npower = 0', "real_data.power: Input should be"),
    "threshold above the peak": (
        'kind = "acceptable"\nthreshold = 0.95',
        "real_data.threshold: expected a value below the peak of D (0.9)",
    ),
    "no modes listed": ('kind = "modes"', "real_data.modes: a value is required"),
    "mode out of range": (
        'kind = "modes"\nmodes = [0, 3]',
        "real_data.modes: expected indices of the acceptability's 3 modes (0 to 2), got [0, 3]",
    ),
    "repeated mode": ('kind = "modes"\nmodes = [1, 1]', "real_data.modes: expected distinct"),
    "kind not a name": ("kind = 3", "real_data: kind: expected the name of a real-data kind"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_real_data_table_gets_one_line(tmp_path, case):
    table, expected = BAD[case]
    with pytest.raises(SpecError) as error:
        oracle_with(tmp_path, table, name="broken")
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "broken.toml"))
    assert expected in message


def test_modes_of_an_acceptability_without_modes_are_refused(tmp_path):
    annulus = """
    description = "an annulus"
    [acceptability]
    kind = "ring"
    centre = [0.0, 0.0]
    [real_data]
    """
    with pytest.raises(SpecError, match=r"real_data.modes: expected an acceptability that lists"):
        oracle_with(tmp_path, 'kind = "modes"\nmodes = [0]', base=annulus)


@pytest.mark.parametrize(
    ("name", "num_modes_with_data"),
    [
        ("ring_of_8_discover", 3),
        ("grid_5x5_discover", 9),
        ("three_bumps_discover", 1),
        ("banana_discover", 1),
    ],
)
def test_discovery_oracles_leave_modes_to_find(name, num_modes_with_data):
    oracle = load_oracle(name)
    nearest, distance = nearest_modes(oracle.real_data, oracle.truth.modes)
    assert len(set(nearest)) == num_modes_with_data and distance.max() <= RADIUS
    # The acceptability is the undiscovered oracle's, unchanged.
    base = load_oracle(name.removesuffix("_discover"))
    x = base.truth.sample(500, np.random.default_rng(0))
    np.testing.assert_array_equal(oracle.truth(x), base.truth(x))


def test_banana_discover_mode_masses_are_the_shares_of_exact_samples():
    truth = load_oracle("banana_discover").truth
    samples = truth.sample(200_000, np.random.default_rng(1))
    nearest, distance = nearest_modes(samples, truth.modes)
    counts = np.bincount(nearest[distance <= RADIUS], minlength=3)
    shares = counts / counts.sum()
    masses = np.array([mode.mass for mode in truth.modes])
    # Binomial standard errors of the shares; the masses are rounded to 0.0005.
    stderr = np.sqrt(masses * (1 - masses) / counts.sum())
    assert np.all(np.abs(shares - masses) < 4 * stderr + 0.0005)


def test_an_exact_draw_that_fails_names_the_spec_and_the_table(tmp_path, monkeypatch):
    from hdbench.errors import ExactSamplingError
    from hdbench.oracles import real_data

    def unreachable(params, truth, where):
        raise ExactSamplingError("exact sampling stopped after 20,000,000 proposals")

    kind = real_data.REAL_DATA_KINDS["modes"]
    failing = type(kind)(kind.Params, unreachable)
    monkeypatch.setitem(real_data.REAL_DATA_KINDS._entries, "modes", failing)
    with pytest.raises(ExactSamplingError) as error:
        oracle_with(tmp_path, 'kind = "modes"\nmodes = [0]', name="far")
    assert str(error.value).startswith(f"{tmp_path / 'far.toml'}: real_data: exact sampling")
