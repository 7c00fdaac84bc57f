"""What a method imports reaches no truth, and what it is handed is read-only."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hdbench.protocol import Problem, RatingBatch, Slider

FORBIDDEN = ("hdbench.oracles", "hdbench.speech", "hdbench.metrics", "hdbench.experiments")


def test_the_protocol_imports_no_oracle_speech_metric_or_experiment():
    code = (
        "import json, sys\nimport hdbench.protocol\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('hdbench'))))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.splitlines()[-1]
    )
    assert "hdbench.protocol.method" in loaded
    assert [m for m in loaded if m.startswith(FORBIDDEN)] == []


def test_the_problems_real_data_cannot_be_written_and_the_callers_array_is_kept():
    real = np.zeros((5, 2))
    problem = Problem(2, Slider(), real)
    with pytest.raises(ValueError, match="read-only"):
        problem.real_data[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        problem.real_data += 1.0
    real[0, 0] = 7.0  # the caller's array is its own, and the problem's copy does not follow
    assert problem.real_data[0, 0] == 0.0


def test_the_ratings_a_method_is_told_cannot_be_written():
    ratings = RatingBatch("b0", "absolute", np.ones((3, 1)), np.arange(3), 0.0, 1.0)
    with pytest.raises(ValueError, match="read-only"):
        ratings.values[0, 0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        ratings.listener_ids[0] = 9
