"""Methods: each is asked for trials and told their ratings; it never sees the truth."""

from hdbench.methods import (  # noqa: F401
    data_diffusion,
    exact_score,
    humandiffusion,
    humandiffusion_iter,
    humandiffusion_ms,
    humangan,
    real_kde,
    real_resampled,
    tuned_blur,
)
from hdbench.methods.base import METHODS
from hdbench.protocol import MethodOutput, MethodParams

__all__ = ["METHODS", "MethodOutput", "MethodParams"]
