"""What the ledger costs a run: recording HumanDiffusion's one batch (6,000 paired trials,
12,000 ratings at the defaults) and reading it back, in a fresh SQLite file."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.oracles import load_oracle
from hdbench.studies.ledger import Ledger

NUM_TRIALS = 6_000


@pytest.fixture(scope="module")
def batch_and_ratings():
    oracle = load_oracle("paper_like")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(NUM_TRIALS, 2)) * 10
    delta = rng.normal(size=(NUM_TRIALS, 2))
    from hdbench.protocol.trials import TrialBatch

    batch = TrialBatch.paired(x + delta, x - delta)
    panel = oracle.panel(seed=0)
    return batch, panel.poll(panel.submit(batch))


def test_ledger_records_a_humandiffusion_batch(benchmark, batch_and_ratings, tmp_path_factory):
    batch, ratings = batch_and_ratings

    def record():
        with Ledger(tmp_path_factory.mktemp("ledger") / "ledger.sqlite") as ledger:
            ledger.set_meta("slider", [0.0, 1.0])
            batch_id = ledger.add_batch("method", 0, batch)
            ledger.add_ratings(batch_id, ratings, "simulated", ("method", {"state": 1}))
            return ledger.ratings(batch_id, 0.0, 1.0)

    back = benchmark(record)
    np.testing.assert_array_equal(back.values, ratings.values)
    benchmark.extra_info["ratings_per_second"] = ratings.num_ratings / benchmark.stats["mean"]
