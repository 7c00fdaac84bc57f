"""exact_score: the reference that samples with the oracle's exact score."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.experiments.run import RunSpec, execute
from hdbench.metrics import METRICS, TruthContext
from hdbench.oracles import find_specs, load_oracle


def test_with_an_annealed_sampler_it_reaches_the_target_and_is_marked_a_reference():
    oracle = load_oracle("three_bumps_discover")
    spec = RunSpec(
        oracle=oracle.name,
        method="exact_score",
        params={"sampler": "annealed_langevin"},
        num_eval_samples=300,
    )
    result = execute(spec, oracle, raise_errors=True)
    assert result.row["reference"] and result.row["num_ratings"] == 0
    context = TruthContext.build(oracle.truth, oracle.real_data)
    rng = np.random.default_rng(7)
    exact = [METRICS["mmd2"].fn(oracle.truth.sample(300, rng), context) for _ in range(30)]
    # Within the spread of exact samples of the same size (mean + 3 sd, one-sided as in
    # tests/samplers/test_samplers.py), where the real data it starts from are far outside it.
    limit = np.mean(exact) + 3 * np.std(exact, ddof=1)
    assert result.row["mmd2"] < limit < METRICS["mmd2"].fn(oracle.real_data, context)
    assert result.row["modes_discovered_strict"] == 2.0


def test_competitors_are_not_references():
    params = {"num_steps": 5, "train_steps": 5, "num_copies": 2}
    spec = RunSpec(
        oracle="three_bumps", method="data_diffusion", params=params, num_eval_samples=20
    )
    assert execute(spec, raise_errors=True).row["reference"] is False


def test_a_bad_sampler_setting_gets_one_line():
    spec = RunSpec(
        oracle="three_bumps",
        method="exact_score",
        params={"sampler": "annealed_langevin", "sampler_settings": {"num_levels": 0}},
    )
    with pytest.raises(SpecError, match=r"annealed_langevin\.num_levels: Input should be") as error:
        spec.resolved_params()
    assert "\n" not in str(error.value)


def distinct_truths() -> list[str]:
    """Bundled oracles, one per (truth, real data): paper_like_ideal differs from paper_like
    only in its listener, which exact_score never hears."""
    seen: dict[str, str] = {}
    for name in sorted(find_specs()):
        spec = load_oracle(name).spec
        seen.setdefault(json.dumps([spec.acceptability, spec.real_data], sort_keys=True), name)
    return sorted(seen.values())


@pytest.mark.parametrize("name", distinct_truths())
def test_its_default_sampler_reaches_the_target_on_every_bundled_oracle(name):
    """A ceiling: the multi-scale MMD² of its 300 particles within the spread of 10 sets of
    300 exact samples (mean + 3 sd, one-sided). Not on vowel_a, whose rendered D has zeros
    inside the space: the exact ∇log D has no bound near them and plain Langevin throws
    particles out of the target's region. Run to the paper's T the run is diverged; stopped
    when stationary it ends before 1 % have left, still off the target."""
    oracle = load_oracle(name)
    spec = RunSpec(oracle=name, method="exact_score", num_eval_samples=300)
    row = execute(spec, oracle).row
    assert row["status"] == "ok", row["error"]
    context = TruthContext.build(oracle.truth, oracle.real_data, seed=spec.seed)
    rng = np.random.default_rng(7)
    metric = METRICS["mmd2_multiscale"].fn
    exact = [metric(oracle.truth.sample(300, rng), context) for _ in range(10)]
    reached = row["mmd2_multiscale"] < np.mean(exact) + 3 * np.std(exact, ddof=1)
    if name != "vowel_a":
        assert reached
        return
    assert not reached
    fixed = spec.model_copy(update={"params": {"stop": "fixed"}})
    assert execute(fixed, oracle).row["status"] == "diverged"


def test_under_auto_each_setting_goes_to_the_sampler_that_has_it():
    params = RunSpec(
        oracle="paper_like",
        method="exact_score",
        params={"sampler_settings": {"num_steps": 20, "step_size": 0.02}},
    ).resolved_params()
    assert params.chain(False).step_size == 0.02 and params.chain(False).num_steps == 20
    assert params.chain(True).num_steps == 20
    with pytest.raises(SpecError, match="'steps' is a setting of neither sampler of auto"):
        RunSpec(
            oracle="paper_like", method="exact_score", params={"sampler_settings": {"steps": 2}}
        ).resolved_params()
