"""Property tests of bad input (hypothesis): random mutations of every bundled oracle spec either
load and keep the oracle contract or fail in one line naming the field; random command lines
never end in a traceback. Nothing is run: computations are replaced by a marker (see below)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hdbench.cli import main
from hdbench.errors import SpecError
from hdbench.metrics import TruthContext
from hdbench.oracles import Oracle, TrialBatch, find_specs
from hdbench.oracles.oracle import kind_params
from hdbench.oracles.real_data import real_data_params
from hdbench.oracles.spec import OracleSpec
from hdbench.validation import read_toml, validate

BUNDLED = {name: read_toml(path, "spec") for name, path in find_specs().items()}
#: Fields a spec may set even where a bundled one leaves them out.
OPTIONAL = [
    ("listener", "noise_sd"),
    ("listener", "bias_sd"),
    ("listener", "lapse_rate"),
    ("listener", "drift_sd"),
    ("listener", "scale"),
    ("listener", "differential_step"),
    ("listener", "ideal"),
    ("panel", "num_listeners"),
    ("panel", "budget"),
    ("real_data", "num"),
    ("real_data", "seed"),
    ("real_data", "mean"),
    ("listner", "noise_sd"),
    ("acceptability", "unknown_field"),
]

values = st.one_of(
    st.booleans(),
    st.text(max_size=4),
    st.sampled_from([math.nan, math.inf, -math.inf, 0, -1, 0.0, 1e-300, 1e300, 10**7, 10**12]),
    st.integers(-5, 50),
    st.floats(-20, 20, allow_nan=False),
    st.lists(st.floats(-5, 5, allow_nan=False), max_size=4),
    st.lists(st.lists(st.integers(-3, 3), max_size=3), max_size=3),
    st.dictionaries(st.sampled_from(["low", "high", "step", "x"]), st.integers(-2, 12), max_size=3),
)


def leaves(data: Any, path: tuple = ()) -> list[tuple]:
    """Every path into nested dicts and lists, tables included."""
    found = [path] if path else []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for key, value in items:
        found += leaves(value, (*path, key))
    return found


@st.composite
def mutated_specs(draw) -> tuple[str, dict, tuple]:
    name = draw(st.sampled_from(sorted(BUNDLED)))
    data = copy.deepcopy(BUNDLED[name])
    path = draw(st.sampled_from(leaves(data) + OPTIONAL))
    parent = data
    for key in path[:-1]:
        parent = parent.setdefault(key, {}) if isinstance(parent, dict) else parent[key]
    if draw(st.booleans()) and isinstance(parent, dict) and path[-1] in parent:
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(values)
    return name, data, path


def assert_kept(given: Any, loaded: Any, path: str = "") -> None:
    """Every value given is loaded as it was written: no boolean or string read as a number,
    no number as a boolean, no NaN let through."""
    if isinstance(given, dict):
        for key, value in given.items():
            assert_kept(value, loaded[key], f"{path}.{key}")
    elif isinstance(given, list):
        assert len(given) == len(loaded), path
        for index, (a, b) in enumerate(zip(given, loaded, strict=True)):
            assert_kept(a, b, f"{path}.{index}")
    else:
        assert type(given) is type(loaded) or {type(given), type(loaded)} == {int, float}, path
        assert given == loaded, (path, given, loaded)


def check_contract(oracle: Oracle) -> None:
    """What every loaded oracle keeps: D finite in [0, 1] with one value per point, real data
    finite of shape (num, dim), ratings on the slider."""
    lo, hi = oracle.truth.bounds.T
    points = np.random.default_rng(0).uniform(lo, hi, (200, oracle.dim))
    values = oracle.truth(points)
    assert values.shape == (200,) and np.all((values >= 0) & (values <= 1))
    num = real_data_params(oracle.spec.real_data, oracle.name).num
    assert oracle.real_data.shape == (num, oracle.dim)
    assert np.isfinite(oracle.real_data).all()
    panel = oracle.panel(seed=0, budget=10**6)
    ratings = panel.poll(panel.submit(TrialBatch.absolute(points[:20]))).values
    slider = oracle.listener.slider
    assert np.all((ratings >= slider.low) & (ratings <= slider.high))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(mutated_specs())
def test_a_mutated_spec_loads_and_keeps_the_contract_or_fails_in_one_line(case):
    name, data, path = case
    where = f"{name}.toml"
    try:
        spec = validate(OracleSpec, {"name": name, **data}, where)
        if spec.acceptability.get("kind") == "vowel":
            kind_params(spec, where)  # building the speech space takes minutes: checked only
            return
        oracle = Oracle.from_spec(spec, Path(where))
        _, params = kind_params(spec, where)
    except SpecError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(f"{where}: ")
        assert str(path[0]) in message, (path, message)
        return
    given = {key: value for key, value in data.items() if key not in ("acceptability", "real_data")}
    assert_kept(given, spec.model_dump())
    assert_kept(data.get("real_data", {}), real_data_params(spec.real_data, where).model_dump())
    acceptability = {k: v for k, v in data["acceptability"].items() if k != "kind"}
    assert_kept(acceptability, params.model_dump())
    check_contract(oracle)


ORACLES = ["paper_like", "plateau", "nope", "", "missing.toml", "Bad Name"]
METHODS = ["humandiffusion", "humangan", "data_diffusion", "nope", ""]
ASSIGNMENTS = [
    "R=2",
    "R=true",
    "R=",
    "=1",
    "R",
    "R=2.5",
    'R="2"',
    "lambda=NaN",
    "lambda=1e400",
    "rating_summary=modee",
    "rating_summary=median",
    "num_samples=100000",
    "nope=1",
    "architecture=gan",
    "sigma_nes=-1",
    "d_floor=1",
    "width=0",
    "num_steps=-1",
]
GRIDS = ["R=2,3", "R=2", "R=", "=1,2", "R=1,,2", "R=true,2", "lambda=NaN,1", "sigma_nes=0.5,1"]
NUMBERS = ["0", "-1", "1", "2", "-2", "1.5", "x", "", "1e400", "nan"]
PATHS = ["out", "/proc/nowhere", "", "\u00e9"]
SCHEDULERS = ["tcp://127.0.0.1:9", "tcp://nowhere", "nonsense", ""]
NAMES = ["sweep", "Bad-Name", "", "a_b"]
SUITES = ["quick", "nope", "missing.toml", ""]


def options(**choices) -> st.SearchStrategy[list[str]]:
    """Each option left out, given once or given twice, with values drawn from its choices."""
    parts = [
        st.lists(st.sampled_from(values).map(lambda v, o=option: [o, v]), max_size=2)
        for option, values in choices.items()
    ]
    return st.tuples(*parts).map(
        lambda groups: [w for group in groups for pair in group for w in pair]
    )


COMMANDS = {
    "run": options(
        **{"--oracle": ORACLES, "--method": METHODS, "--set": ASSIGNMENTS, "--seed": NUMBERS},
        **{"--budget": NUMBERS, "--out": PATHS},
    ),
    "sweep": options(
        **{"--oracle": ORACLES, "--method": METHODS, "--grid": GRIDS, "--set": ASSIGNMENTS},
        **{"--seeds": NUMBERS, "--jobs": NUMBERS, "--scheduler": SCHEDULERS, "--name": NAMES},
        **{"--out": PATHS},
    ),
    "bench": options(
        **{"--suite": SUITES, "--jobs": NUMBERS, "--scheduler": SCHEDULERS, "--out": PATHS}
    ),
    "compare": options(**{"--oracle": ORACLES, "--seed": NUMBERS, "--out": PATHS}),
    "reference": options(**{"--jobs": NUMBERS, "--out": PATHS}),
    "oracles": options(**{"--oracles": PATHS}),
    "oracles show": options(**{"--out": PATHS}).map(lambda rest: ["paper_like", *rest]),
    "speech render": options(**{"--first": NUMBERS, "--out": PATHS}).map(lambda r: ["out", *r]),
}
WORDS = sorted({w for values in (ORACLES, METHODS, ASSIGNMENTS, NUMBERS, PATHS) for w in values})
command_lines = st.one_of(
    *[rest.map(lambda r, n=name: [*n.split(), *r]) for name, rest in COMMANDS.items()],
    st.lists(st.sampled_from(["run", "sweep", "--set", "--grid", "--jobs", *WORDS]), max_size=6),
)


class Reached(Exception):
    """Raised where work would begin: the command line was accepted."""


@pytest.fixture
def nothing_computes(monkeypatch, tmp_path):
    def reached(*args, **kwargs):
        raise Reached

    monkeypatch.chdir(tmp_path)
    # `reference` without --out starts the committed reference's runs folder afresh.
    monkeypatch.setattr("hdbench.experiments.reference.REFERENCE_DIR", tmp_path / "reference")
    monkeypatch.setattr("hdbench.experiments.run.execute", reached)
    monkeypatch.setattr(TruthContext, "build", reached)
    monkeypatch.setattr("hdbench.experiments.executor._run_resiliently", reached)
    monkeypatch.setattr("hdbench.experiments.suite.run_oracle_suite", reached)
    monkeypatch.setattr("hdbench.report.oracle_figure.plot_oracle", reached)
    monkeypatch.setattr("hdbench.report.speech_figures.render_points", reached)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(argv=command_lines)
def test_a_random_command_line_never_ends_in_a_traceback(argv, nothing_computes, capsys):
    try:
        code = main(argv)
    except Reached:
        return
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code != 0:
        errors = [line for line in captured.err.splitlines() if "error" in line]
        assert len(errors) == 1, captured.err
