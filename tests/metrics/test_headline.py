"""The headline pair: two registered metrics, one of density and one of coverage."""

from __future__ import annotations

from hdbench.metrics import METRICS
from hdbench.metrics.headline import HEADLINE_METRICS


def test_the_pair_is_two_registered_lower_is_better_metrics() -> None:
    density, coverage = HEADLINE_METRICS
    assert density != coverage
    for name in HEADLINE_METRICS:
        assert METRICS[name].direction == "lower"
    # The density metric judges by the exact score, the coverage metric by exact samples.
    assert METRICS[density].note == "needs the target's score in closed form"
    assert METRICS[coverage].note == "needs exact target samples"


def test_a_run_prints_the_pair_first() -> None:
    from hdbench.cli import RUN_SUMMARY_KEYS

    assert RUN_SUMMARY_KEYS[:2] == HEADLINE_METRICS
