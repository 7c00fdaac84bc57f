"""Figures for oracles of any dimension: projected onto a plane, never an error."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.experiments.run import RunSpec, execute
from hdbench.methods.humandiffusion import field_grid
from hdbench.metrics import TruthContext
from hdbench.oracles import Oracle
from hdbench.oracles.spec import OracleSpec
from hdbench.report.oracle_figure import on_plane, plot_oracle
from hdbench.report.run_figures import (
    plot_chain,
    plot_final_samples,
    plot_gradient_fields,
    write_run_figures,
)
from hdbench.validation import validate

PNG = b"\x89PNG\r\n\x1a\n"


def gaussian_oracle(dim: int) -> Oracle:
    spec = {
        "name": f"gaussian_{dim}d",
        "description": f"a {dim}-D Gaussian",
        "acceptability": {"kind": "gaussian", "mean": [0.0] * dim, "cov": np.eye(dim).tolist()},
        "real_data": {"num": 40},
    }
    return Oracle.from_spec(validate(OracleSpec, spec, "test"))


def test_points_are_drawn_on_a_plane():
    assert on_plane(np.array([[1.0], [2.0]])).tolist() == [[1.0, 0.0], [2.0, 0.0]]
    assert on_plane(np.arange(6.0).reshape(2, 3)).tolist() == [[0.0, 1.0], [3.0, 4.0]]


@pytest.mark.parametrize("dim", [1, 3])
def test_every_figure_is_drawn_for_a_non_planar_oracle(dim, tmp_path):
    oracle = gaussian_oracle(dim)
    rng = np.random.default_rng(0)
    points = rng.standard_normal((30, dim))
    arrays = {
        "periphery": points,
        "nes_grad": -points,
        "regularised_grad": -points,
        "field_points": points,
        "learned_score": -points,
    }
    paths = [
        plot_oracle(oracle, tmp_path / "oracle.png", num_target=200),
        plot_chain(oracle, {0: points, 100: points / 2}, tmp_path / "chain.png"),
        plot_gradient_fields(oracle, arrays, tmp_path / "fields.png"),
        plot_final_samples([oracle], ["m"], {(oracle.name, "m"): points}, tmp_path / "s.png"),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == PNG


@pytest.mark.parametrize("dim", [1, 3])
def test_the_learned_field_grid_spans_the_first_two_axes_or_the_only_one(dim):
    points = np.random.default_rng(0).standard_normal((200, dim))
    grid = field_grid(points, num_per_axis=5)
    assert grid.shape == (5 ** min(dim, 2), dim)
    assert len(np.unique(grid[:, 0])) == 5
    if dim == 3:
        np.testing.assert_allclose(grid[:, 2], points[:, 2].mean())


@pytest.mark.parametrize("method", ["humandiffusion", "humandiffusion_iter"])
def test_a_1d_run_ends_ok_with_its_figures(method, tmp_path):
    """A 1-D oracle used to fail in HumanDiffusion's learned-field grid after its ratings were
    spent; it runs to the end, figures on a line."""
    oracle = gaussian_oracle(1)
    params = {"train_steps": 20, "num_steps": 20, "num_periphery": 1, "R": 2}
    if method == "humandiffusion_iter":
        params |= {"num_rounds": 2, "num_centres": 10, "round_steps": 5}
    spec = RunSpec(oracle=oracle.name, method=method, params=params, num_eval_samples=30)
    context = TruthContext.build(oracle.truth, oracle.real_data)
    result = execute(spec, oracle, context, raise_errors=True)
    assert result.row["status"] == "ok" and result.samples.shape == (30, 1)
    write_run_figures(oracle, context, result, tmp_path)
    assert (tmp_path / "gradient_fields.png").read_bytes()[:8] == PNG
