"""One look for every figure: a non-interactive backend and seaborn's theme."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import seaborn as sns

sns.set_theme(context="notebook", style="white")

__all__ = ["plt", "sns"]
