"""MMD² at the truth's own length scales: a distance that sees shape at the scale of the target.

The median-heuristic bandwidth of `mmd2` is set by the spread of the whole target (about 4.8 on
oracles whose bumps have sd 0.5), so it cannot tell bumps from a cloud that covers them. Here
the kernel is the mean of Gaussian kernels at bandwidths h_s = c_s ℓ, with ℓ the truth's
`length_scale` (a mixture's component sd, a radial profile's width, else the median k-NN
distance of exact samples) and c_s in `KERNEL_SCALES` = (1, 2, 4, 8):

    k(a, b) = (1/S) Σ_s exp(-‖a - b‖² / (2 h_s²)),

a sum of characteristic kernels, so MMD(p, q) = 0 only for p = q (Gretton et al., "A Kernel
Two-Sample Test", JMLR 2012; multiple kernels as in Gretton et al., NeurIPS 2012). MMD²_u is
the unbiased estimate of Lemma 6 against the context's reference sample, so it is ≈ 0 (and can
be negative) for exact samples and lies in [-2, 2]. The smallest bandwidth sees the shape of a
bump, the largest the share of mass in each mode.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform

from hdbench.metrics.context import KERNEL_SCALES, TruthContext
from hdbench.metrics.metric import has_target_samples, register_metric
from hdbench.metrics.ustatistic import u_statistic


def bandwidths(context: TruthContext) -> np.ndarray:
    """The kernel's bandwidths h_s = c_s ℓ: shape (len(KERNEL_SCALES),)."""
    return np.asarray(KERNEL_SCALES) * context.length_scale


@register_metric(
    "mmd2_multiscale",
    direction="lower",
    low=-2.0,
    high=2.0,
    description="unbiased MMD² to exact target samples, Gaussian kernels at 1, 2, 4 and 8 "
    "length scales of the truth",
    applies=has_target_samples,
)
def mmd2_multiscale(samples: np.ndarray, context: TruthContext) -> float:
    """MMD²_u of the multi-scale kernel between samples (n, dim) and the reference (m, dim)."""
    within = summed_kernel_mean(pdist(samples, "sqeuclidean"), context)
    across = summed_kernel_mean(cdist(samples, context.reference, "sqeuclidean"), context)
    return float((context.scale_kernel_means.sum() + within - 2 * across) / len(KERNEL_SCALES))


def kernels_in_place(squared: np.ndarray, context: TruthContext) -> Iterator[np.ndarray]:
    """exp(-d² / (2 h_s²)) for each bandwidth h_s, widest first, in the array of squared
    distances d² itself (any shape; overwritten), so that scoring holds no second n × n array.
    The scales double from one to the next, so each kernel is the 4th power of the one before:
    one exponential, then squarings."""
    kernel = np.multiply(squared, -0.5 / bandwidths(context)[-1] ** 2, out=squared)
    np.exp(kernel, out=kernel)
    yield kernel
    for _ in KERNEL_SCALES[:-1]:
        np.square(kernel, out=kernel)
        np.square(kernel, out=kernel)
        yield kernel


def summed_kernel_mean(squared: np.ndarray, context: TruthContext) -> float:
    """The mean over the entries of Σ_s exp(-d² / (2 h_s²)); `squared` is overwritten."""
    return sum(float(kernel.mean()) for kernel in kernels_in_place(squared, context))


def summed_kernel(squared: np.ndarray, context: TruthContext) -> np.ndarray:
    """Σ_s exp(-d² / (2 h_s²)), of the shape of `squared` (overwritten)."""
    kernels = kernels_in_place(squared, context)
    total = next(kernels).copy()
    for kernel in kernels:
        total += kernel
    return total


def mmd2_multiscale_with_error(samples: np.ndarray, context: TruthContext) -> tuple[float, float]:
    """MMD²_u of samples (n, dim) and its standard error given the reference sample.

    With the reference fixed, MMD²_u is c + 1/(n(n-1)) Σ_{i≠j} h(x_i, x_j) for the kernel
    h(x, y) = k(x, y) - g(x) - g(y), g(x) the mean of k(x, r) over the reference and c its own
    kernel mean: a U-statistic (`hdbench.metrics.ustatistic`). Holds n × n values in memory."""
    within = squareform(summed_kernel(pdist(samples, "sqeuclidean"), context))
    embedding = summed_kernel(cdist(samples, context.reference, "sqeuclidean"), context).mean(1)
    pair_kernel = (within - embedding[:, None] - embedding[None]) / len(KERNEL_SCALES)
    np.fill_diagonal(pair_kernel, 0.0)
    mean, error = u_statistic(pair_kernel.sum(axis=1), float(np.sum(pair_kernel**2)))
    return mean + float(context.scale_kernel_means.mean()), error
