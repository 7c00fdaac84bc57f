"""Estimators from ratings: the NES perceptual gradient and summaries of a point's ratings."""

from hdbench.estimators.nes import NESEstimator, Normalisation
from hdbench.estimators.rating_summary import (
    BANDWIDTH_FLOOR,
    NUM_GRID,
    RATING_SUMMARIES,
    RatingSummary,
    kde_bandwidth,
    kde_mode,
    mean_rating,
    median_rating,
    summarise,
)

__all__ = [
    "BANDWIDTH_FLOOR",
    "NUM_GRID",
    "RATING_SUMMARIES",
    "NESEstimator",
    "Normalisation",
    "RatingSummary",
    "kde_bandwidth",
    "kde_mode",
    "mean_rating",
    "median_rating",
    "summarise",
]
