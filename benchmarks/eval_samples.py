"""How many particles a run must score: the standard error of MMD² against their number.

    .venv/bin/python benchmarks/eval_samples.py [--oracle paper_like] [--pool 4000] [--seeds 3]

For each method, one run per seed at the defaults draws a pool of particles (num_eval_samples =
pool). With the trained model and the context's reference sample x held fixed, MMD² of a run is
a U-statistic of order 2 in its n particles y, with kernel g(y, y') = k(y, y') - μ(y) - μ(y'),
μ(y) = mean_x k(y, x) (plus a constant). Its variance is exactly (Hoeffding 1948)

    Var(n) = 4 (n - 2) / (n (n - 1)) · ζ₁ + 2 / (n (n - 1)) · ζ₂,

ζ₁ = Var(E_y' g(y, y')), ζ₂ = Var(g(y, y')), both estimated on the pool. The script prints
SE(n) = √Var(n) for several n, and beside it the sd of MMD² over disjoint sets of n particles of
the pool (a direct check, where the pool holds enough sets). Exact target samples are the
ceiling's row. NUM_EVAL_SAMPLES in hdbench/protocol/method.py is chosen from this table; the
README's *Scoring* section quotes it.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.spatial.distance import cdist

from hdbench.experiments.run import RunSpec, execute
from hdbench.metrics import METRICS, TruthContext
from hdbench.oracles import load_oracle

SIZES = (200, 500, 1000, 2000, 3000, 4000)


def variance_terms(pool: np.ndarray, context: TruthContext) -> tuple[float, float]:
    """ζ₁ and ζ₂ of MMD²'s kernel over the pool (pool_size, dim)."""
    scale = 2 * context.bandwidth**2
    to_reference = np.exp(-(cdist(pool, context.reference) ** 2) / scale).mean(axis=1)
    g = np.exp(-(cdist(pool, pool) ** 2) / scale) - to_reference[:, None] - to_reference[None, :]
    off_diagonal = ~np.eye(len(pool), dtype=bool)
    projection = np.where(off_diagonal, g, 0.0).sum(axis=1) / (len(pool) - 1)
    return float(np.var(projection, ddof=1)), float(np.var(g[off_diagonal], ddof=1))


def standard_error(zeta1: float, zeta2: float, n: int) -> float:
    return float(np.sqrt(4 * (n - 2) / (n * (n - 1)) * zeta1 + 2 / (n * (n - 1)) * zeta2))


def rows_of(label: str, pool: np.ndarray, context: TruthContext) -> list[str]:
    zeta1, zeta2 = variance_terms(pool, context)
    mmd2 = METRICS["mmd2"].fn(pool, context)
    rows = []
    for n in SIZES:
        sets = len(pool) // n
        direct = "—"
        if sets >= 4:
            values = [
                METRICS["mmd2"].fn(part, context) for part in np.split(pool[: sets * n], sets)
            ]
            direct = f"{np.std(values, ddof=1):.4f} ({sets} sets)"
        rows.append(
            f"| {label} | {mmd2:.4f} | {n} | {standard_error(zeta1, zeta2, n):.4f} | {direct} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracle", default="paper_like")
    parser.add_argument("--pool", type=int, default=4000, help="particles per run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=["humandiffusion", "data_diffusion"])
    args = parser.parse_args()
    oracle = load_oracle(args.oracle)
    context = TruthContext.build(oracle.truth, oracle.real_data)
    print("| run | MMD² of the pool | n | SE (Hoeffding) | sd over sets of n |")
    print("|---|---|---|---|---|")
    exact = oracle.truth.sample(args.pool, np.random.default_rng(0))
    print("\n".join(rows_of("exact target", exact, context)), flush=True)
    for method in args.methods:
        for seed in range(args.seeds):
            spec = RunSpec(oracle=oracle.name, method=method, seed=seed, num_eval_samples=args.pool)
            result = execute(spec, oracle, context, raise_errors=True)
            print("\n".join(rows_of(f"{method} seed {seed}", result.samples, context)), flush=True)


if __name__ == "__main__":
    main()
