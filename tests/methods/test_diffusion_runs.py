"""HumanDiffusion and its real-data control through the runner, at reduced sizes."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.cli import main
from hdbench.errors import SpecError
from hdbench.experiments.run import RunSpec, execute

FAST = {"train_steps": 400, "num_steps": 2000}
#: Particles scored: the former default, which the claims below were checked with.
EVAL = 200


@pytest.fixture(scope="module")
def runs():
    return {
        method: execute(
            RunSpec(oracle="paper_like", method=method, params=FAST, seed=1, num_eval_samples=EVAL),
            context=None,
            raise_errors=True,
        )
        for method in ("humandiffusion", "data_diffusion")
    }


def test_humandiffusion_spreads_wider_than_the_real_data_and_the_control_does_not(runs):
    human, control = runs["humandiffusion"].row, runs["data_diffusion"].row
    assert human["var_ratio_real"] > 2.0
    # Exact target samples have var_ratio_real ≈ 5.4 on paper_like; the control stays near 1:
    # the real data smoothed by the score-matching noise, (2 + 2·0.3²) / 2 ≈ 1.09.
    assert 0.7 < control["var_ratio_real"] < 1.5
    assert human["num_ratings"] == 100 * 3 * 20 * 2
    assert control["num_ratings"] == 0


def test_same_seed_same_metrics_bit_for_bit(runs):
    again = execute(
        RunSpec(
            oracle="paper_like", method="data_diffusion", params=FAST, seed=1, num_eval_samples=EVAL
        ),
        context=None,
        raise_errors=True,
    )
    np.testing.assert_array_equal(again.samples, runs["data_diffusion"].samples)
    first = runs["data_diffusion"].row
    for key, value in again.row.items():
        if key not in ("wall_time", "metric_time"):
            # NaN (a metric that does not apply here) equals NaN.
            assert value == first[key] or (value != value and first[key] != first[key]), key


def test_regulariser_zero_is_allowed_and_recorded(runs):
    result = execute(
        RunSpec(
            oracle="paper_like",
            method="humandiffusion",
            params={**FAST, "lambda": 0.0},
            num_eval_samples=EVAL,
        )
    )
    assert result.row["status"] in {"ok", "diverged"}
    assert result.row["param_lambda"] == 0.0


def test_a_budget_below_the_plan_is_refused_before_anything_is_asked(tmp_path):
    spec = RunSpec(
        oracle="paper_like", method="humandiffusion", params=FAST, budget=100, num_eval_samples=EVAL
    )
    with pytest.raises(SpecError, match=r"^budget: humandiffusion plans 12,000 ratings .* of 100;"):
        execute(spec, folder=tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"R": -1}, "humandiffusion.R"),
        ({"sigma_nes": 0}, "humandiffusion.sigma_nes"),
        ({"step_size": 0}, "humandiffusion.step_size"),
        ({"nope": 1}, "humandiffusion.nope"),
    ],
)
def test_bad_options_get_one_line(params, field):
    with pytest.raises(SpecError, match=field):
        RunSpec(oracle="paper_like", method="humandiffusion", params=params).resolved_params()


def test_unknown_method_on_the_command_line(capsys):
    assert main(["run", "--oracle", "paper_like", "--method", "nope"]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err


def test_run_command_writes_the_run_folder(tmp_path, capsys):
    args = ["run", "--oracle", "paper_like", "--method", "humandiffusion", "--out", str(tmp_path)]
    for key, value in {**FAST, "num_steps": 500, "train_steps": 100}.items():
        args += ["--set", f"{key}={value}"]
    args += ["--eval-samples", str(EVAL)]
    assert main(args) == 0
    for name in (
        "spec.json",
        "metrics.json",
        "metrics.csv",
        "samples.npy",
        "trace.csv",
        "arrays.npz",
        "convergence.png",
        "chain.png",
        "gradient_fields.png",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "num_ratings        12000" in capsys.readouterr().out


@pytest.fixture(scope="module")
def default_runs():
    return {
        method: execute(
            RunSpec(oracle="paper_like", method=method, seed=1, num_eval_samples=EVAL),
            raise_errors=True,
        ).row
        for method in ("humandiffusion", "data_diffusion")
    }


@pytest.mark.slow
def test_paper_claims_at_the_defaults(default_runs):
    """Ueda et al. 2023, §4.3–4.4, on paper_like at the defaults.

    Over seeds 0–3 HumanDiffusion scored var_ratio_target 1.08 ± 0.12 and mean_true_d
    0.334 ± 0.028 (mean ± sd), the control var_ratio_real 1.11 ± 0.08; the bounds are 4 sd.
    Exact target samples score var_ratio_real ≈ 5.4 and mean_true_d ≈ 0.425 (= 0.85 / 2), the
    real data 0.58: on a Gaussian region wider than the data even exact samples rate lower than
    the real data, so the paper's "almost the same rating" is tested against the target.
    """
    human, control = default_runs["humandiffusion"], default_runs["data_diffusion"]
    assert human["var_ratio_real"] > 2.0
    assert 0.6 < human["var_ratio_target"] < 1.6
    assert 0.22 < human["mean_true_d"] < 0.45
    assert 0.8 < control["var_ratio_real"] < 1.45
    assert human["mmd2"] < control["mmd2"]
    assert human["grid_coverage"] > control["grid_coverage"]
