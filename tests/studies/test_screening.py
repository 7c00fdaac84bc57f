"""Screening after ITU-R BS.1534-3: the post-screening rule and the anchors."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.oracles import find_specs, load_oracle
from hdbench.studies.screening import ScreeningRule, anchor_points, screen, screening_trials

RULE = ScreeningRule()


def test_the_rule_flags_more_than_15_percent_of_failures_and_no_fewer():
    # 20 reference ratings on a 0–100 scale: 3 below 90 (15 %) pass, 4 (20 %) fail.
    rows = [("ok", f"t{i}", "absolute", "reference", 0, 80.0 if i < 3 else 95.0) for i in range(20)]
    rows += [
        ("bad", f"t{i}", "absolute", "reference", 0, 80.0 if i < 4 else 95.0) for i in range(20)
    ]
    rows += [("anchor", f"t{i}", "paired", "anchor,reference", 0, 60.0) for i in range(2)]
    rows += [("anchor", f"t{i}", "paired", "anchor,reference", 1, 100.0) for i in range(2)]
    screened = screen(rows, RULE, 0.0, 100.0)
    assert not screened["ok"].flagged(RULE)
    assert screened["bad"].reason(RULE) == "hidden reference below 90% in 4 of 20"
    assert screened["anchor"].reason(RULE) == "anchor above 50% in 2 of 2"


def test_a_differential_screening_trial_fails_when_the_anchor_is_preferred():
    rows = [
        ("p", "t0", "differential", "anchor,reference", 0, 0.4),  # b, the reference, wins: ok
        ("p", "t1", "differential", "reference,anchor", 0, 0.3),  # b, the anchor, wins: fails
    ]
    assert screen(rows, RULE, 0.0, 1.0)["p"].reference_failures == 1


@pytest.mark.parametrize("kind", ["absolute", "paired", "differential"])
def test_screening_trials_hold_a_reference_and_an_anchor(kind):
    real = np.random.default_rng(0).standard_normal((50, 2))
    batch, roles = screening_trials(kind, 8, real, RULE, np.random.default_rng(1))
    assert batch.kind == kind and batch.num_trials == 8 and len(roles) == 8
    for stimuli, role in zip(batch.stimuli, roles, strict=True):
        for point, which in zip(stimuli, role.split(","), strict=True):
            is_real = (np.abs(real - point).sum(axis=1) == 0).any()
            assert is_real == (which in ("reference", "same"))
    if kind != "absolute":  # a third of them are traps: one real token twice
        traps = [s for s, r in zip(batch.stimuli, roles, strict=True) if r == "same,same"]
        assert len(traps) == round(8 / 3) and all((s[0] == s[1]).all() for s in traps)


def test_a_participant_who_rates_every_sound_alike_is_flagged_at_low_thresholds():
    """At the README's --reference-threshold 0.1, 0.3 for everything passes both thresholds;
    the gap between references and anchors catches it."""
    rule = ScreeningRule(reference_threshold=0.1)
    rows = [
        ("flat", f"t{i}", "paired", "reference,anchor", j, 0.3) for i in range(6) for j in (0, 1)
    ]
    rows += [
        ("good", f"t{i}", "paired", "reference,anchor", j, (0.4, 0.1)[j])
        for i in range(6)
        for j in (0, 1)
    ]
    screened = screen(rows, rule, 0.0, 1.0)
    assert screened["flat"].reference_failures == screened["flat"].anchor_failures == 0
    assert screened["flat"].reason(rule) == "references rated only 0% of the scale above anchors"
    assert not screened["good"].flagged(rule)


def test_trap_trials_fail_when_one_sound_twice_gets_two_far_apart_ratings():
    rows = [("p", "t0", "paired", "same,same", 0, 0.2), ("p", "t0", "paired", "same,same", 1, 0.9)]
    rows += [("p", "t1", "paired", "same,same", 0, 0.5), ("p", "t1", "paired", "same,same", 1, 0.6)]
    rows += [("q", "t2", "differential", "same,same", 0, 0.7)]
    screened = screen(rows, RULE, 0.0, 1.0)
    assert (screened["p"].num_traps, screened["p"].trap_failures) == (2, 1)
    assert screened["p"].reason(RULE) == "trap trials failed in 1 of 2"
    assert screened["q"].trap_failures == 1  # 0.7 > 2 × 0.3: "the same" is near 0


@pytest.mark.parametrize("name", sorted(find_specs()))
def test_anchors_are_far_outside_every_shipped_oracles_acceptable_region(name):
    if name == "vowel_a":
        pytest.importorskip("pyworld", reason="the speech extra is not installed")
    oracle = load_oracle(name)
    anchors = anchor_points(oracle.real_data, 200, RULE.anchor_distance, np.random.default_rng(0))
    assert oracle.truth(anchors).max() < 0.05
