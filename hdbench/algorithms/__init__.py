"""Algorithms: each gets a panel (it can only rate), the real data and a seed; never the truth."""

from hdbench.algorithms.base import ALGORITHMS, AlgorithmOutput, AlgorithmParams

from hdbench.algorithms import data_diffusion, humandiffusion  # noqa: E402, F401, I001

__all__ = ["ALGORITHMS", "AlgorithmOutput", "AlgorithmParams"]
