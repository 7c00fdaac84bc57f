"""Spec files: bad ones get one line naming the file, the field and what was expected."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.experiments.plan import SweepSpec
from hdbench.experiments.run import RunSpec
from hdbench.oracles import find_specs, load_oracle
from hdbench.oracles.catalog import BUNDLED_DIR, ENV_VAR

GOOD = """
description = "test oracle"
[acceptability]
kind = "gaussian"
mean = [0.0, 0.0]
cov = [[4.0, 0.0], [0.0, 4.0]]
peak = 0.8
"""


def write(folder, name, text):
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


BAD = {
    "unknown kind": ('kind = "gaussian"', 'kind = "gausian"', "acceptability kind 'gausian'"),
    "mean of wrong dimension": (
        "mean = [0.0, 0.0]",
        "mean = [0.0, 0.0, 0.0]",
        "acceptability.cov: expected a symmetric positive-definite 3×3 matrix",
    ),
    "covariance not positive definite": (
        "cov = [[4.0, 0.0], [0.0, 4.0]]",
        "cov = [[1.0, 2.0], [2.0, 1.0]]",
        "acceptability.cov: expected a symmetric positive-definite 2×2 matrix",
    ),
    "peak above one": ("peak = 0.8", "peak = 1.2", "acceptability.peak: Input should be less"),
    "negative noise": (
        "peak = 0.8",
        "peak = 0.8\n[listener]\nnoise_sd = -0.1",
        "listener.noise_sd: Input should be greater than or equal to 0",
    ),
    "step not positive": (
        "peak = 0.8",
        "peak = 0.8\n[listener]\nscale = { low = 0.0, high = 1.0, step = 0.0 }",
        "listener.scale",
    ),
    "unknown field": ("peak = 0.8", "peak = 0.8\nwidth = 3", "acceptability.width: unknown field"),
    "real data of another dimension": (
        "peak = 0.8",
        "peak = 0.8\n[real_data]\nmean = [0.0, 0.0, 0.0]",
        "real_data: expected a mean of length 2",
    ),
    "not toml": ("peak = 0.8", "peak = = 0.8", "cannot read the spec"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_spec_gets_one_line_naming_file_and_field(tmp_path, case):
    old, new, expected = BAD[case]
    path = write(tmp_path, "broken", GOOD.replace(old, new))
    with pytest.raises(SpecError) as error:
        load_oracle(path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_bumps_summing_above_one_are_refused(tmp_path):
    path = write(
        tmp_path,
        "overlap",
        """
        description = "two bumps on top of each other"
        [acceptability]
        kind = "mixture"
        bumps = [
            { mean = [0.0, 0.0], sd = 1.0, peak = 0.7 },
            { mean = [0.1, 0.0], sd = 1.0, peak = 0.7 },
        ]
        """,
    )
    with pytest.raises(SpecError, match=r"expected a peak of D in \(0, 1\], got 1\.39"):
        load_oracle(path)


def test_template_is_a_valid_spec_and_not_an_oracle():
    template = BUNDLED_DIR / "_template.toml"
    oracle = load_oracle(template)
    assert oracle.dim == 2 and oracle.real_data.shape == (100, 2)
    assert "_template" not in find_specs()


def test_user_folder_from_environment_adds_an_oracle(tmp_path, monkeypatch):
    write(tmp_path, "my_oracle", GOOD)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert "my_oracle" in find_specs()
    oracle = load_oracle("my_oracle")
    assert oracle.truth(np.zeros((1, 2)))[0] == pytest.approx(0.8)


def test_a_name_defined_twice_is_an_error(tmp_path, monkeypatch):
    write(tmp_path, "paper_like", GOOD)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(SpecError, match="also defined in"):
        find_specs()


def test_unknown_oracle_lists_the_known_ones():
    with pytest.raises(SpecError, match=r"expected one of: .*paper_like"):
        load_oracle("no_such_oracle")


def test_spec_hash_and_fingerprint_change_with_the_oracle(tmp_path):
    a = load_oracle(write(tmp_path, "a", GOOD))
    b = load_oracle(write(tmp_path, "b", GOOD.replace("peak = 0.8", "peak = 0.7")))
    assert a.fingerprint != b.fingerprint and a.spec_hash != b.spec_hash
    assert a.fingerprint == load_oracle(tmp_path / "a.toml").fingerprint


#: The Python API, used wrongly: id → (call, expected words of the one-line SpecError).
API_MISUSE = {
    "load_oracle of a number": (lambda: load_oracle(3), "oracle: expected an oracle's name"),
    "panel with a negative seed": (lambda: load_oracle("paper_like").panel(-1), "seed: expected"),
    "panel with a zero budget": (
        lambda: load_oracle("paper_like").panel(0, budget=0),
        "budget: expected an integer ≥ 1",
    ),
    "panel with a boolean seed": (lambda: load_oracle("paper_like").panel(True), "seed"),
    "RunSpec with a boolean seed": (
        lambda: RunSpec(oracle="paper_like", method="humandiffusion", seed=True),
        "RunSpec: seed: Input should be a valid integer (got true)",
    ),
    "RunSpec with a NaN parameter": (
        lambda: RunSpec(oracle="paper_like", method="humandiffusion", params={"lambda": math.nan}),
        "RunSpec: params.lambda: expected a finite number",
    ),
    "SweepSpec with one oracle as text": (
        lambda: SweepSpec(oracles="paper_like"),
        "SweepSpec: oracles: Input should be a valid list",
    ),
}


@pytest.mark.parametrize("case", sorted(API_MISUSE))
def test_the_python_api_used_wrongly_is_one_line(case):
    call, expected = API_MISUSE[case]
    with pytest.raises(SpecError) as error:
        call()
    assert "\n" not in str(error.value) and expected in str(error.value)


@pytest.mark.parametrize("name", ["paper_like", "three_bumps", "plateau", "annulus", "banana"])
def test_every_kind_refuses_points_and_draws_of_the_wrong_kind(name):
    truth = load_oracle(name).truth
    dim = truth.dim
    misuse = {
        "points of another dimension": lambda: truth(np.zeros((5, dim + 1))),
        "one point as a vector": lambda: truth(np.zeros(dim)),
        "a negative count": lambda: truth.sample(-5, np.random.default_rng(0)),
        "a seed for a generator": lambda: truth.sample(10, 0),
    }
    for what, call in misuse.items():
        with pytest.raises(SpecError) as error:
            call()
        assert "\n" not in str(error.value) and str(error.value).startswith(truth.label), what
    assert truth(np.zeros((2, dim))).shape == (2,)
    assert truth.sample(3, np.random.default_rng(0)).shape == (3, dim)
