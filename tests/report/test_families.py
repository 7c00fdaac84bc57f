"""The family's verdict: paired ratios against the best ratings-free method, on known tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hdbench.report.families import (
    breakdown,
    family_markdown,
    paired_table,
    ratings_free,
    signed_rank_summary,
    summary_table,
)
from hdbench.report.family_figures import plot_family

ORACLES = [f"o{i}" for i in range(10)]
SEEDS = [0, 1, 2]


def table(gaps: dict[str, np.ndarray], ratings: dict[str, int], references=()) -> pd.DataFrame:
    """Runs whose mmd2 is ceiling + gap (ceiling 0.01, sd 0.001), one per (oracle, seed)."""
    rows = []
    for method, values in gaps.items():
        for (oracle, seed), gap in zip(
            [(o, s) for o in ORACLES for s in SEEDS], values, strict=True
        ):
            rows.append(
                {
                    "oracle": oracle,
                    "seed": seed,
                    "method": method,
                    "reference": method in references,
                    "status": "ok" if np.isfinite(gap) else "error",
                    "num_ratings": ratings[method],
                    "mmd2": 0.01 + gap if np.isfinite(gap) else np.nan,
                }
            )
    return pd.DataFrame(rows)


BRACKETS = pd.DataFrame(
    {"oracle": ORACLES, "bracket": "ceiling", "metric": "mmd2", "mean": 0.01, "sd": 0.001}
)
SHAPES = pd.DataFrame({"oracle": ORACLES, "shape": "bumps", "dim": [2, 3, 4, 5, 6, 7, 8, 2, 2, 2]})
PAIRS = len(ORACLES) * len(SEEDS)


def test_a_method_twice_as_close_on_every_pair_wins_them_all():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.05, 0.5, PAIRS)
    runs = table(
        {"kde": base, "worse": 3 * base, "learner": base / 2, "blur": base / 4},
        {"kde": 0, "worse": 0, "learner": 500, "blur": 0},
        references=("blur",),
    )
    assert ratings_free(runs) == ["kde", "worse"]  # a reference is no baseline
    paired = paired_table(runs, BRACKETS, SHAPES, ["mmd2"])
    summary = summary_table(paired).set_index("method")
    assert set(summary.index) == {"worse", "learner", "blur"}
    assert (summary["baseline"] == "kde").all()
    learner = summary.loc["learner"]
    assert learner.win_rate == 1 and learner.median_ratio == pytest.approx(2)
    assert learner.rank_biserial == 1 and learner.p_value < 1e-6
    assert summary.loc["worse"].rank_biserial == -1
    assert summary.loc["blur"].reference and summary.loc["blur"].median_ratio == pytest.approx(4)


def test_gaps_below_the_ceilings_noise_are_ties():
    """A method and a baseline both within the ceiling's sd of it: ratio 1, half a win."""
    runs = table(
        {"kde": np.full(PAIRS, 0.0005), "learner": np.full(PAIRS, -0.0005)},
        {"kde": 0, "learner": 10},
    )
    summary = summary_table(paired_table(runs, BRACKETS, SHAPES, ["mmd2"]))
    assert summary.loc[0, "win_rate"] == 0.5 and summary.loc[0, "median_ratio"] == 1


def test_a_failed_run_loses_its_pair_below_every_measured_loss():
    base = np.linspace(0.1, 0.4, PAIRS)
    mine = base / 2
    mine[:3] = np.inf  # three runs that errored
    runs = table({"kde": base, "learner": mine}, {"kde": 0, "learner": 10})
    paired = paired_table(runs, BRACKETS, SHAPES, ["mmd2"])
    row = summary_table(paired).iloc[0]
    assert row.num_pairs == PAIRS and row.num_failed == 3
    assert row.win_rate == pytest.approx((PAIRS - 3) / PAIRS)
    # 27 equal wins share ranks 1-27 (14 each); the failures take ranks 28, 29 and 30.
    above, below = 27 * 14, 28 + 29 + 30
    assert row.rank_biserial == pytest.approx((above - below) / (above + below))


def test_the_signed_rank_summary_matches_scipy():
    from scipy.stats import wilcoxon

    ratios = np.exp(np.random.default_rng(2).normal(0.3, 1, 60))
    summary = signed_rank_summary(ratios)
    assert summary["p_value"] == pytest.approx(wilcoxon(np.log(ratios)).pvalue)
    assert summary["win_rate"] == pytest.approx(np.mean(ratios > 1))


def test_the_report_and_figure_show_every_method_by_shape_and_dimension(tmp_path):
    rng = np.random.default_rng(3)
    base = rng.uniform(0.05, 0.5, PAIRS)
    runs = table(
        {"kde": base, "learner": base * rng.uniform(0.2, 2, PAIRS)}, {"kde": 0, "learner": 5}
    )
    paired = paired_table(runs, BRACKETS, SHAPES, ["mmd2"])
    summary = summary_table(paired)
    text = family_markdown(summary, paired, runs)
    assert "## mmd2 ↓ against kde" in text and "| learner | 30 | 0 |" in text
    assert set(breakdown(paired, "dims")["dims"]) == {"2-3", "4-5", "6-8"}
    path = plot_family(paired, summary, tmp_path / "families.png")
    assert path.stat().st_size > 10_000


def test_the_best_baseline_is_chosen_on_the_pairs_every_baseline_finished():
    """A baseline with runs on the easiest oracles only is not thereby the best."""
    base = np.linspace(0.1, 0.4, PAIRS)
    partial = np.full(PAIRS, np.nan)
    partial[:6] = base[:6] * 1.5  # worse than kde where both ran, but only on the easy pairs
    runs = table(
        {"kde": base, "partial": partial, "learner": base / 2},
        {"kde": 0, "partial": 0, "learner": 1},
    )
    runs = runs[runs["mmd2"].notna() | (runs["method"] != "partial")]
    summary = summary_table(paired_table(runs, BRACKETS, SHAPES, ["mmd2"])).set_index("method")
    assert (summary["baseline"] == "kde").all()


def test_the_best_baseline_is_the_one_closer_on_most_pairs_not_of_least_pooled_gap():
    """`control` is closer than `kde` on 2 of 3 pairs, by 5 %, and 4× farther on the rest: its
    pooled median gap is the larger, its mean rank the better."""
    base = np.linspace(0.1, 0.4, PAIRS)
    control = base * 0.95
    control[::3] = base[::3] * 4
    runs = table(
        {"kde": base, "control": control, "learner": base / 2},
        {"kde": 0, "control": 0, "learner": 1},
    )
    assert np.median(control) > np.median(base)
    summary = summary_table(paired_table(runs, BRACKETS, SHAPES, ["mmd2"])).set_index("method")
    assert (summary["baseline"] == "control").all()
