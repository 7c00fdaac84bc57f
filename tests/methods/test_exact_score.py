"""exact_score: the reference that samples with the oracle's exact score."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.experiments.run import RunSpec, execute
from hdbench.metrics import METRICS, TruthContext
from hdbench.oracles import load_oracle


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
