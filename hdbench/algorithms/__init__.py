"""Algorithms: each gets a panel (it can only rate), the real data and a seed; never the truth."""

from hdbench.algorithms import data_diffusion, humandiffusion, humangan  # noqa: F401
from hdbench.algorithms.base import ALGORITHMS, AlgorithmOutput, AlgorithmParams

__all__ = ["ALGORITHMS", "AlgorithmOutput", "AlgorithmParams"]
