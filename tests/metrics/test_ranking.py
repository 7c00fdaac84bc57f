"""The headline pair ranks sample sets of known quality below exact samples, on every bundled
oracle, at the suites' 1,000 particles and three fixed seeds (`hdbench.metrics.ranking`)."""

from __future__ import annotations

import json

import pytest

from hdbench.metrics.headline import HEADLINE_METRICS
from hdbench.metrics.known_quality import BLUR_MULTIPLES
from hdbench.metrics.ranking import METRICS_WITH_ERRORS, ranking_table
from hdbench.oracles import find_specs, load_oracle

#: Particles the standard and discovery suites score (benchmarks/standard.toml, discovery.toml).
NUM_PARTICLES = 1000
SEEDS = (0, 1, 2)


def distinct_truths() -> dict[str, list[str]]:
    """Bundled oracles grouped by what the ranking sees (truth and real data): paper_like and
    paper_like_ideal differ only in their listener."""
    groups: dict[str, list[str]] = {}
    for name in sorted(find_specs()):
        spec = load_oracle(name).spec
        key = json.dumps([spec.acceptability, spec.real_data], sort_keys=True)
        groups.setdefault(key, []).append(name)
    return {"+".join(names): names for names in groups.values()}


TRUTHS = distinct_truths()


def test_the_ranking_scores_the_headline_pair() -> None:
    assert set(METRICS_WITH_ERRORS) == set(HEADLINE_METRICS)


@pytest.mark.parametrize("names", sorted(TRUTHS))
def test_every_known_quality_set_ranks_below_exact_samples(names: str) -> None:
    oracle = load_oracle(TRUTHS[names][0])
    table = ranking_table(oracle.truth, oracle.real_data, NUM_PARTICLES, SEEDS)
    expected = {f"real_blur_{m:g}" for m in BLUR_MULTIPLES} | {
        "real_blur_tuned",
        "real_data",
        "real_kde",
        "exact_blur",
    }
    if len(oracle.truth.modes) >= 2:
        expected.add("wrong_weights")
    assert set(table["set"]) == expected
    above = table[table["verdict"] == "above"]
    assert above.empty, f"ranked above exact samples:\n{above.to_string()}"
    below = table[table["verdict"] == "below"].groupby("set").size()
    missed = sorted(expected - set(below.index))
    assert not missed, f"ranked below exact samples by neither metric: {missed}\n{table}"
