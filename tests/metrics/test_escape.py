"""Particles that leave the target's region: the share, and the run that ran off is diverged."""

from __future__ import annotations

import numpy as np

from hdbench.experiments.run import escape_status
from hdbench.metrics.escape import ESCAPE_FACTOR, MAX_ESCAPED_SHARE, escaped_share, region


def test_exact_samples_stay_and_far_particles_are_counted_however_far(contexts) -> None:
    context = contexts("ring_of_8")
    samples = context.truth.sample(2000, np.random.default_rng(0))
    assert escaped_share(samples, context) == 0.0
    lo, hi = region(context).T
    moved = samples.copy()
    # Just past the region's edge: far from the mass, though nowhere near overflowing.
    moved[:100, 0] = hi[0] + 0.1
    moved[100:150, 1] = lo[1] - 1e6
    assert escaped_share(moved, context) == 150 / 2000


def test_the_region_is_the_box_widened_about_its_centre(contexts) -> None:
    context = contexts("gaussian")
    lo, hi = context.truth.bounds.T
    widened = region(context)
    np.testing.assert_allclose(widened.mean(axis=1), (lo + hi) / 2)
    np.testing.assert_allclose(np.diff(widened, axis=1)[:, 0], ESCAPE_FACTOR * (hi - lo))


def test_a_run_past_the_largest_escaped_share_is_diverged() -> None:
    assert escape_status(MAX_ESCAPED_SHARE) == {}
    status = escape_status(0.77)
    assert status["status"] == "diverged"
    assert status["error"].startswith("77% of the particles left the target's region")
