"""CI regression of sampler convergence against the committed results/reference/."""

from __future__ import annotations

import pytest

from hdbench.experiments.executor import run_specs
from hdbench.experiments.plan import read_sweep
from hdbench.experiments.reference import read_reference, regressions, resolution

SWEEP = read_sweep("reference")


@pytest.mark.slow
def test_the_reduced_suite_matches_the_reference(tmp_path):
    runs = run_specs(SWEEP.runs(), tmp_path, n_jobs=2)
    failures = regressions(runs, read_reference(), SWEEP)
    assert not failures, "\n".join(failures)


def test_a_wrong_step_size_is_caught(tmp_path):
    """HumanDiffusion on paper_like with η a hundredth of the reference's: chains barely move."""
    broken = SWEEP.model_copy(
        update={
            "oracles": ["paper_like"],
            "methods": ["humandiffusion"],
            "method_params": {
                "humandiffusion": {**SWEEP.method_params["humandiffusion"], "step_size": 1e-4}
            },
        }
    )
    runs = run_specs(broken.runs(), tmp_path, n_jobs=2)
    failures = regressions(runs, read_reference(), SWEEP)
    assert any(f.startswith("mmd2 on paper_like (humandiffusion): ") for f in failures), failures
    assert any(f.startswith("var_ratio_target on paper_like (humandiffusion)") for f in failures)
    assert all("against the reference" in f for f in failures)


def test_a_reference_from_another_sweep_is_stale(tmp_path):
    changed = SWEEP.model_copy(update={"seeds": 2})
    runs = run_specs(
        changed.model_copy(update={"oracles": ["paper_like"], "methods": ["humangan"]}).runs(),
        tmp_path,
        n_jobs=1,
    )
    assert regressions(runs, read_reference(), changed) == [
        "reference: made from another benchmarks/reference.toml; run `make reference`"
    ]


def test_a_share_or_count_that_never_varied_still_allows_what_chance_hides():
    """A precision of 1 at every seed (sd 0) admits one particle less in one seed of 3 × 200,
    not a tenth of them; a count of 8 modes at every seed admits one mode lost in one seed,
    not two."""
    one_less = 1 / 600
    assert resolution("prdc_precision", 1.0, 3, 200) > one_less
    assert resolution("prdc_precision", 1.0, 3, 200) < 0.1 / 3
    assert resolution("modes_captured", 8.0, 3, 200) == pytest.approx(1 / 3)
    assert resolution("mmd2", 0.01, 3, 200) == 0.0
