"""Methods: each is asked for trials and told their ratings; it never sees the truth."""

from hdbench.algorithms import (  # noqa: F401
    data_diffusion,
    exact_score,
    humandiffusion,
    humandiffusion_iter,
    humandiffusion_ms,
    humangan,
)
from hdbench.algorithms.base import ALGORITHMS, AlgorithmOutput, AlgorithmParams

__all__ = ["ALGORITHMS", "AlgorithmOutput", "AlgorithmParams"]
