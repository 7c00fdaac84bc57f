"""The headline pair: one density metric and one coverage metric, reported together.

No single metric punishes both ways a method fails. A blur of the real data spreads mass over the
gaps between the modes; a sharp sample of the real data drops the modes they miss. The MMD family,
mode-mass errors and coverage score the blur better than the sharp sample; KSD, precision and the
distribution of D score the sharp sample better. So a method is judged on a pair:

- `ksd2`, the kernel Stein discrepancy against the exact score (`hdbench.metrics.stein`): it sees
  mass where the target has none (spreading, blurring, running off) at the truth's own length
  scale, and is nearly blind to how much mass each mode holds;
- `mmd2_multiscale`, MMD² with kernels at 1–8 of the truth's length scales
  (`hdbench.metrics.multiscale`): it sees missing modes and wrong mode weights, and forgives
  some blur within a mode.

Each of the sets of known quality in `hdbench.metrics.known_quality` (blurs, the real data and
their KDE, wrong mode weights) is ranked below exact samples by at least one of the two and above
them by neither (tests/metrics/test_ranking.py). Where the truth has no closed-form score, KSD is
NaN and the oracle is judged on the coverage metric alone.
"""

from __future__ import annotations

#: (density metric, coverage metric): columns of the results table, keys of `METRICS`.
HEADLINE_METRICS: tuple[str, str] = ("ksd2", "mmd2_multiscale")
