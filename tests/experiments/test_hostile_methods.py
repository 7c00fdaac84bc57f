"""Nothing a method does can hang, overspend or corrupt a run: each way of breaking the protocol
is one line naming the method and the field, in an error row, with nothing more spent."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.cli import main
from hdbench.errors import SpecError
from hdbench.experiments import run
from hdbench.experiments.run import RunSpec, execute
from hdbench.oracles import load_oracle
from hdbench.studies.guard import DEFAULT_BUDGET, TIME_LIMIT_VARIABLE

MODULE = "tests.experiments.hostile_methods"


@pytest.fixture(scope="module")
def oracle():
    return load_oracle("three_bumps")


def run_row(oracle, name: str, **update) -> dict:
    spec = RunSpec(oracle="three_bumps", method=f"{MODULE}:{name}", num_eval_samples=20)
    return execute(spec.model_copy(update=update), oracle).row


def test_a_method_that_never_stops_is_held_to_the_default_cap(oracle, monkeypatch):
    monkeypatch.setattr(run, "DEFAULT_BUDGET", 300)
    row = run_row(oracle, "NeverStops")
    assert row["status"] == "error"
    assert "only 0 of 300 are left (the default cap" in row["error"]
    assert row["num_ratings"] == 300


def test_the_default_cap_is_the_documented_one():
    assert (
        f"{DEFAULT_BUDGET:,} ratings"
        in (run.Path(__file__).parents[2] / "docs" / "how-to" / "method.md").read_text()
    )


def test_a_method_that_loops_in_ask_is_stopped_at_its_time_limit(oracle, monkeypatch):
    monkeypatch.setenv(TIME_LIMIT_VARIABLE, "0.2")
    row = run_row(oracle, "LoopsInAsk")
    assert row["status"] == "error" and row["num_ratings"] == 0
    assert "LoopsInAsk: ask ran past its time limit of 0.2 s" in row["error"]


def test_a_bad_time_limit_is_one_line_before_anything_runs(oracle, monkeypatch, tmp_path):
    monkeypatch.setenv(TIME_LIMIT_VARIABLE, "soon")
    with pytest.raises(SpecError, match=f"^{TIME_LIMIT_VARIABLE}: expected a number of seconds"):
        execute(RunSpec(oracle="three_bumps", method=f"{MODULE}:Base"), oracle, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_method_cannot_write_the_real_data_the_listening_test_uses(oracle):
    before = oracle.real_data.copy()
    row = run_row(oracle, "WritesTheRealData")
    assert row["status"] == "error" and "read-only" in row["error"]
    np.testing.assert_array_equal(oracle.real_data, before)


def test_a_method_that_spends_past_its_plan_is_stopped_at_it(oracle):
    row = run_row(oracle, "SpendsPastItsPlan")
    assert row["status"] == "error" and row["num_ratings"] == 0
    expected = "a batch of 100 ratings would bring its ratings to 100, past the 20 it planned"
    assert f"SpendsPastItsPlan: ask: {expected}" in row["error"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "NaNSamples",
            "NaNSamples: finish: samples: expected finite numbers, got NaN or infinity in 1 of 20 "
            "samples (the first: sample 3)",
        ),
        (
            "WrongDimension",
            "WrongDimension: finish: samples: expected an array of shape (num, 2), got (20, 3)",
        ),
        ("SetInState", "SetInState: state.values: expected plain JSON"),
        ("TellsNothing", "TellsNothing: tell: expected a MethodState, got NoneType"),
        ("AsksAList", "AsksAList: ask: expected a TrialBatch or None, got list"),
        (
            "AsksInOtherDimension",
            "AsksInOtherDimension: ask: stimuli: expected points of dimension 2, got 4",
        ),
    ],
)
def test_what_a_method_hands_back_is_checked_in_one_line(oracle, name, expected):
    row = run_row(oracle, name)
    assert row["status"] == "error"
    assert f"MethodError: method {MODULE}:{expected}" in row["error"]
    assert "\n" not in row["error"]


def test_a_plug_in_named_like_a_bundled_method_is_refused(tmp_path, capsys):
    (tmp_path / "humandiffusion.py").write_text("method = None\n")
    args = ["methods", "--methods", str(tmp_path)]
    assert main(args) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        f"hdbench: error: {tmp_path}/humandiffusion.py: a method folder's module may not be named "
        "like the bundled method 'humandiffusion', which it would shadow; expected another name"
    )


def budgeted_oracle(tmp_path, budget: int):
    text = (run.Path(__file__).parents[2] / "oracles" / "three_bumps.toml").read_text()
    path = tmp_path / "bumps_budget.toml"
    path.write_text(f"{text}\n[panel]\nbudget = {budget}\n")
    return load_oracle(str(path))


def test_an_oracles_panel_budget_is_the_methods_and_not_the_probes_or_the_listening_tests(
    tmp_path,
):
    """At panel.budget = 50 a method that spends 10 ratings runs, though the fingerprint's
    probe (64 ratings) and the listening test (40 ratings) are more: neither is paid from it;
    and the method is told the budget."""
    oracle = budgeted_oracle(tmp_path, 50)
    spec = RunSpec(
        oracle=str(oracle.source), method=f"{MODULE}:TellsTheBudget", num_eval_samples=20
    )
    result = execute(spec, oracle)
    assert result.row["status"] == "ok", result.row["error"]
    assert result.row["num_ratings"] == 10
    assert result.arrays["budget"].tolist() == [50]


def test_an_oracles_panel_budget_holds_a_method_that_spends_more(tmp_path):
    oracle = budgeted_oracle(tmp_path, 250)
    spec = RunSpec(oracle=str(oracle.source), method=f"{MODULE}:NeverStops", num_eval_samples=20)
    row = execute(spec, oracle).row
    assert row["status"] == "error" and row["num_ratings"] == 200
    assert f"only 50 of 250 are left ({oracle.source}: panel.budget)" in row["error"]


def test_hdbench_methods_lists_the_bundled_and_the_plug_in_methods(capsys, monkeypatch):
    monkeypatch.setenv("HDBENCH_METHODS", "")  # what --methods adds is undone after the test
    examples = run.Path(__file__).parents[2] / "examples" / "methods"
    assert main(["methods", "--methods", str(examples)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["data_diffusion", "bundled"]
    walk = next(i for i, line in enumerate(lines) if line.startswith("random_walk "))
    assert "plug-in  baseline: random steps from the real data" in lines[walk]
    assert lines[walk + 1].split() == [
        "parameters:",
        "num_particles=200,",
        "num_rounds=20,",
        "step=0.5,",
        "threshold=0.5",
    ]


def test_run_time_limit_on_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(TIME_LIMIT_VARIABLE, "3600")
    args = ["run", "--oracle", "three_bumps", "--method", f"{MODULE}:LoopsInAsk"]
    code = main([*args, "--eval-samples=20", "--time-limit", "0.2", "--out", str(tmp_path)])
    assert code == 1
    assert "ran past its time limit of 0.2 s" in capsys.readouterr().out
