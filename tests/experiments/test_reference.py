"""CI regression of sampler convergence against the committed results/reference/."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hdbench import cli
from hdbench.experiments import pipelines
from hdbench.experiments.executor import run_specs
from hdbench.experiments.mutants import applied
from hdbench.experiments.plan import SweepSpec, read_sweep
from hdbench.experiments.reference import (
    FALSE_ALARM_RATE,
    FIRST_CHECK_SEED,
    build_reference,
    check_seeds,
    read_reference,
    regressions,
    resolution,
    with_run_state,
    write_reference,
)
from hdbench.experiments.regression_check import run_check

SWEEP = read_sweep("reference")


@pytest.mark.slow
def test_the_reduced_suite_on_fresh_seeds_matches_the_reference(tmp_path):
    """Unchanged code on check set 0, seeds the reference never saw: no false alarm (the
    tolerances bound that probability by 1 %)."""
    runs = run_check(SWEEP, 0, tmp_path, n_jobs=2)
    assert set(runs["seed"]) == set(check_seeds(0))
    failures = regressions(runs, read_reference(), SWEEP)
    assert not failures, "\n".join(failures)


def test_check_seed_sets_are_disjoint_and_apart_from_the_reference_seeds():
    sets = [set(check_seeds(k)) for k in range(12)]
    assert all(a.isdisjoint(b) for i, a in enumerate(sets) for b in sets[i + 1 :])
    assert min(min(s) for s in sets) >= FIRST_CHECK_SEED > max(SWEEP.seed_list())


def test_the_reference_is_of_the_committed_sweep():
    reference = read_reference()
    assert set(reference["oracle"]) == set(SWEEP.oracles)
    assert set(reference["method"]) == set(SWEEP.methods)
    assert (reference["num_seeds"] == len(SWEEP.seed_list())).all()


TINY = SweepSpec(
    name="reference",
    oracles=["paper_like"],
    methods=["exact_score"],
    seeds=6,
    num_eval_samples=200,
    method_params={"exact_score": {"sampler": "langevin"}},
)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("made")
    return with_run_state(run_specs(TINY.runs(), folder, n_jobs=1), folder)


@pytest.fixture
def tiny_reference(tiny_runs, tmp_path, monkeypatch):
    """A reference of exact_score's plain chain on paper_like from 6 seeds, in
    tmp_path/reference, and the command line reading its sweep."""
    out = tmp_path / "reference"
    write_reference(build_reference(tiny_runs, TINY), out)
    monkeypatch.setattr(pipelines, "read_sweep", lambda name: TINY)
    return out


def test_the_reference_holds_the_chain_state_at_step_500(tiny_reference):
    reference = read_reference(tiny_reference).set_index("metric")
    assert reference.loc["var_ratio_target_at_500", "direction"] == "either"
    assert reference.loc["chain_steps", "direction"] == "either"
    # → ceiling has no ceiling in a check: it may not move either way.
    assert reference.loc["mean_true_d", "direction"] == "either"
    # exact_score trains no network: no training loss to check.
    assert "final_training_loss" not in reference.index


def test_the_check_command_passes_unchanged_code_and_fails_a_mutant(tiny_reference, capsys):
    common = ["reference", "--check", "--out", str(tiny_reference), "--jobs", "1", "--quiet"]
    assert cli.main(common) == 0
    out = capsys.readouterr().out
    assert "unchanged code, seeds 1000, 1001, 1002, 1003, 1004: no regression" in out
    assert cli.main([*common, "--mutant", "chain_tenth"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("mutant chain_tenth, seeds 1000, 1001, 1002, 1003, 1004: ")
    assert "(exact_score): median " in out and "against the reference" in out


def test_a_check_after_a_change_runs_afresh(tiny_reference, capsys):
    """Runs a passing check stored are of the code before the change: the next check redoes
    them (a regression patched in, here a mutant applied in this process, is caught)."""
    common = ["reference", "--check", "--out", str(tiny_reference), "--jobs", "1", "--quiet"]
    assert cli.main(common) == 0
    with applied("chain_tenth"):
        assert cli.main(common) == 1
    assert "(exact_score): median " in capsys.readouterr().out


def test_the_power_command_writes_the_table(tiny_reference, capsys):
    args = ["reference", "--power", "--sets", "1", "--out", str(tiny_reference), "--jobs", "1"]
    assert cli.main([*args, "--quiet"]) == 0
    table = (tiny_reference / "power.md").read_text()
    assert (
        "| chain_tenth | chains stopped at a tenth of the diagnostic's stop step | **caught**"
        in (table)
    )
    assert "| 0 | 1000, 1001, 1002, 1003, 1004 | " in table
    # Only the mutants that touch a method of the sweep are run.
    margins = pd.read_csv(tiny_reference / "power.csv")
    assert set(margins["mutant"].dropna()) == {"step_half", "step_double", "chain_tenth"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mutant", "step_half"], "--mutant: expected with --check"),
        (["--check", "--mutant", "step_third"], "step_third"),
        (["--check", "--seed-set", "-1"], "--seed-set"),
    ],
)
def test_bad_check_options_are_refused_in_one_line(args, message, capsys):
    assert cli.main(["reference", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_reference_from_another_sweep_is_stale(tmp_path):
    changed = SWEEP.model_copy(update={"num_eval_samples": 100})
    runs = run_specs(
        changed.model_copy(
            update={"oracles": ["paper_like"], "methods": ["exact_score"], "seeds": 1}
        ).runs(),
        tmp_path,
        n_jobs=1,
    )
    assert regressions(runs, read_reference(), changed) == [
        "reference: made from another benchmarks/reference.toml; run `make reference`"
    ]


def synthetic_runs(seeds: list[int], mmd2: list[float], status: str = "ok") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": [f"r{s}" for s in seeds],
            "oracle": "paper_like",
            "method": "exact_score",
            "seed": seeds,
            "status": status,
            "error": "",
            "mmd2": mmd2,
        }
    )


REFERENCE_MMD2 = [0.01 * (1 + (s % 2)) for s in range(10)]
#: The band of REFERENCE_MMD2's one row, as the messages print it.
TOL = "0.006"


def test_the_tolerance_is_a_heavy_tailed_one_seed_band_at_the_bonferroni_level():
    (row,) = build_reference(synthetic_runs(list(range(10)), REFERENCE_MMD2), TINY).itertuples()
    # One row compared: a seed past the band with q = (α/10)^⅓, so that 3 of 5 are with ≤ α,
    # under unit-variance Student-t noise with 4 degrees of freedom.
    q = (FALSE_ALARM_RATE / 10) ** (1 / 3)
    sd = np.std(REFERENCE_MMD2, ddof=1)
    k = stats.t.ppf(1 - q, 4) / np.sqrt(2)
    assert row.tolerance == pytest.approx(k * sd * np.sqrt(1 + 1 / 10), rel=1e-3)
    assert 10 * q**3 == pytest.approx(FALSE_ALARM_RATE)


def test_the_tolerance_reaches_the_worst_reference_seed():
    """A value unchanged code gave is no regression: one far reference seed widens the band to
    it; a median past it still fails."""
    mmd2 = [*REFERENCE_MMD2[:9], 0.08]
    reference = build_reference(synthetic_runs(list(range(10)), mmd2), TINY)
    (row,) = reference.itertuples()
    assert row.tolerance == pytest.approx(0.08 - np.mean(mmd2), rel=1e-4)
    seeds = [1000, 1001, 1002, 1003, 1004]
    assert regressions(synthetic_runs(seeds, [0.08] * 5), reference, TINY) == []
    assert len(regressions(synthetic_runs(seeds, [0.081] * 5), reference, TINY)) == 1


def test_a_mixture_no_band_fits_false_alarms_at_the_exchangeability_bound():
    """Seeds of a share that is 0.998 on most seeds and 0.975 on one in four: the band alone
    (mean − k·sd over 30 seeds) excludes the bad seeds and fails a check whenever 3 of 5 are
    bad (10 % of checks); with the reach to the worst reference seed, the median is past the
    tolerance only when the 3 worst of 35 exchangeable seeds are fresh: 60/39,270 = 0.15 %.
    Over 100 checks the band alone expects 10.4 alarms (Poisson: P(< 3) = 0.2 %) and the
    tolerance 0.15 (P(≥ 3) < 0.1 %)."""
    rng = np.random.default_rng(7)
    alarms = band_alarms = 0
    for _ in range(100):
        bad = rng.random(35) < 1 / 4
        values = np.where(bad, 0.975, 0.998) + rng.normal(0.0, 0.001, 35)
        runs = synthetic_runs(list(range(35)), list(values)).rename(columns={"mmd2": "prdc_recall"})
        reference = build_reference(runs[:30], TINY)
        fresh = runs[30:].assign(seed=range(1000, 1005))
        alarms += bool(regressions(fresh, reference, TINY))
        band_alarms += bool(regressions(fresh, reference.assign(tolerance=reference["band"]), TINY))
    assert alarms < 3
    assert band_alarms >= 3


def test_the_median_seed_decides_so_two_seeds_that_fail_outright_are_no_alarm():
    reference = build_reference(synthetic_runs(list(range(10)), REFERENCE_MMD2), TINY)
    seeds = [1000, 1001, 1002, 1003, 1004]
    fine = [0.016, 0.5, 0.012, 0.9, 0.014]
    assert regressions(synthetic_runs(seeds, fine), reference, TINY) == []
    worse = regressions(synthetic_runs(seeds, [0.05, 0.5, 0.012, 0.9, 0.03]), reference, TINY)
    assert worse == [
        f"mmd2 on paper_like (exact_score): median 0.05 against the reference 0.015 ± {TOL} "
        "(lower is better)"
    ]


def test_diverged_runs_count_with_what_they_have_and_errors_are_regressions():
    """A diverged run with metrics counts by them; without (its particles ran off), it is past
    the band: two such seeds of five are no alarm, three are."""
    reference = build_reference(synthetic_runs(list(range(10)), REFERENCE_MMD2), TINY)
    ok = synthetic_runs([1000, 1001, 1002], [0.015, 0.016, 0.014])
    escaped = synthetic_runs([1003, 1004], [0.016, 0.015], "diverged")
    ran_off = synthetic_runs([1003, 1004], [np.nan] * 2, "diverged")
    assert regressions(pd.concat([ok, escaped]), reference, TINY) == []
    assert regressions(pd.concat([ok, ran_off]), reference, TINY) == []
    three = pd.concat([ok.iloc[:2], synthetic_runs([1002, 1003, 1004], [np.nan] * 3, "diverged")])
    assert regressions(three, reference, TINY) == [
        f"mmd2 on paper_like (exact_score): median 0.0155 against the reference 0.015 ± {TOL} "
        "(lower is better)"
    ]
    failed = synthetic_runs([1000], [np.nan], "error").assign(error="ValueError: boom")
    assert regressions(failed, reference, TINY) == [
        "paper_like (exact_score) seed 1000: error: ValueError: boom"
    ]


def test_a_share_or_count_that_never_varied_still_allows_what_chance_hides():
    """A precision of 1 at every seed (sd 0) admits one particle less of 200, not a tenth of
    them; a count of 8 modes at every seed admits one mode lost, not two."""
    assert 1 / 200 < resolution("prdc_precision", 1.0, 200, 3.5) < 0.1
    assert resolution("modes_captured", 8.0, 200, 3.5) == 1.0
    assert resolution("mmd2", 0.01, 200, 3.5) == 0.0
