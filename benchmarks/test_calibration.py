"""A fixed workload whose time lets figures from different machines be compared as ratios."""

from __future__ import annotations

import numpy as np


def test_calibration_matrix_product(benchmark):
    """A 512 × 512 float64 matrix product with numpy."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((512, 512)), rng.standard_normal((512, 512))
    benchmark(np.matmul, a, b)
