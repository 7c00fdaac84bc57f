"""A small vowel_a HumanDiffusion study waiting for people, and its page under a test client."""

from __future__ import annotations

import pytest

from hdbench.experiments.run import RunSpec
from hdbench.experiments.study import Study
from hdbench.oracles import load_oracle

#: One periphery point per real datum, R = 2: a first batch of 200 paired trials.
TINY = {"num_periphery": 1, "R": 2, "train_steps": 20, "num_steps": 50}


@pytest.fixture(scope="session")
def vowel():
    return load_oracle("vowel_a")


def waiting_study(folder, oracle, params=TINY) -> Study:
    spec = RunSpec(oracle=oracle.name, method="humandiffusion", params=params, num_eval_samples=20)
    study = Study.create(folder, spec, oracle)
    study.proceed()
    return study


@pytest.fixture
def study(tmp_path, vowel):
    return waiting_study(tmp_path / "study", vowel)
