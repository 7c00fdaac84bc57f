"""Speed of the simulated panel: `make perf` (pytest-benchmark), not part of `make test`."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.oracles import TrialBatch, collect, load_oracle

NUM_PAIRS = 100_000


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (NUM_PAIRS, 2))
    delta = rng.normal(0, 1, (NUM_PAIRS, 2))
    return TrialBatch.paired(x + delta, x - delta)


def test_paired_ratings_per_second(benchmark, pairs):
    """10⁵ paired trials (2·10⁵ ratings) on paper_like with the default noisy listener."""
    oracle = load_oracle("paper_like")

    def rate():
        panel = oracle.panel(seed=0)
        return collect(panel, panel.submit(pairs))

    ratings = benchmark(rate)
    assert ratings.values.shape == (NUM_PAIRS, 2)
    benchmark.extra_info["ratings_per_second"] = ratings.num_ratings / benchmark.stats["mean"]
