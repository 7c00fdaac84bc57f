"""The paired stop-versus-fixed check judges on the seeds both arms can be scored on, and counts
chains that ran away against stopping."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "stop_vs_fixed.py"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("stop_vs_fixed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference(tolerance: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "oracle": "o",
                "method": "m",
                "metric": "mmd2",
                "direction": "lower",
                "tolerance": tolerance,
            }
        ]
    )


def arm(seed: int, arm: str, steps: int, mmd2: float | None) -> dict:
    row = {"oracle": "o", "method": "m", "seed": seed, "arm": arm, "chain_steps": steps}
    return row | ({"ran_away": True} if mmd2 is None else {"ran_away": False, "mmd2": mmd2})


def test_a_seed_whose_chains_both_ran_away_is_left_out_of_the_means(check):
    paired = pd.DataFrame(
        [
            arm(0, "stopped", 2000, 0.012),
            arm(0, "fixed", 10000, 0.010),
            arm(1, "stopped", 974, None),
            arm(1, "fixed", 974, None),
        ]
    )
    table = check.summary(paired, reference(0.005))
    row = table.iloc[0]
    assert (row.stopped, row.fixed, row.steps_stopped) == (0.012, 0.010, 2000)
    assert (row.ran_away_stopped, row.ran_away_fixed) == (1, 1)
    verdict = check.verdicts(table).iloc[0]
    assert verdict["ran away, stopped · fixed"] == "1 · 1"
    assert verdict["stopping is harmless"] == "yes"


def test_stopped_chains_that_run_away_more_often_are_not_harmless(check):
    paired = pd.DataFrame(
        [
            arm(0, "stopped", 2000, 0.010),
            arm(0, "fixed", 10000, 0.010),
            arm(1, "stopped", 3000, None),
            arm(1, "fixed", 10000, 0.011),
        ]
    )
    verdict = check.verdicts(check.summary(paired, reference(0.005))).iloc[0]
    assert verdict["stopping is harmless"] == "**no**"


def test_a_metric_past_its_tolerance_is_not_harmless(check):
    paired = pd.DataFrame([arm(0, "stopped", 2000, 0.030), arm(0, "fixed", 10000, 0.010)])
    verdict = check.verdicts(check.summary(paired, reference(0.005))).iloc[0]
    assert verdict["stopping is harmless"] == "**no**"
    assert verdict["closest metric"] == "mmd2 (+4.00× its tolerance)"


def test_a_method_whose_seeds_all_ran_away_is_judged_unknown(check):
    paired = pd.DataFrame([arm(0, "stopped", 974, None), arm(0, "fixed", 974, None)])
    verdict = check.verdicts(check.summary(paired, reference(0.005))).iloc[0]
    assert verdict["mean stop step"] == "—"
    assert verdict["closest metric"] == "— (no seed scored in both arms)"
    assert verdict["stopping is harmless"] == "**unknown**"
