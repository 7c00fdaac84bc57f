"""All results I/O goes through this module.

Tables are tidy (one row per observation) and written twice: CSV for people, Parquet for types.
Every file is written to a temporary name and renamed, so an interrupted run never leaves a
half-written file behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from hdbench.experiments.run import RunResult


def _atomic_write(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp{path.suffix}")
    write(temporary)
    os.replace(temporary, path)
    return path


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
    """Write `frame` as folder/stem.csv and folder/stem.parquet."""
    return [
        _atomic_write(folder / f"{stem}.csv", lambda p: frame.to_csv(p, index=False)),
        _atomic_write(folder / f"{stem}.parquet", lambda p: frame.to_parquet(p, index=False)),
    ]


def read_table(folder: Path, stem: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{stem}.parquet")


def write_text(text: str, path: Path) -> Path:
    return _atomic_write(path, lambda p: p.write_text(text))


def figure_path(folder: Path, name: str) -> Path:
    """Where a figure called `name` goes; the folder is made if needed."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def write_run(result: RunResult, folder: Path) -> Path:
    """Everything about one run in `folder`: spec.json, metrics.json and .csv (its one row),
    samples.npy, trace.csv (metrics along the chain) and arrays.npz (fields, ratings)."""
    folder.mkdir(parents=True, exist_ok=True)
    row = {k: (None if isinstance(v, float) and v != v else v) for k, v in result.row.items()}
    write_text(json.dumps(result.spec, indent=2, sort_keys=True) + "\n", folder / "spec.json")
    write_text(json.dumps(row, indent=2, default=str) + "\n", folder / "metrics.json")
    _atomic_write(folder / "metrics.csv", lambda p: pd.DataFrame([row]).to_csv(p, index=False))
    _atomic_write(folder / "trace.csv", lambda p: result.trace.to_csv(p, index=False))
    if result.samples is not None:
        _atomic_write(folder / "samples.npy", lambda p: np.save(p, result.samples))
    snapshots = {f"snapshot_{step}": x for step, x in result.snapshots.items()}
    _atomic_write(
        folder / "arrays.npz",
        lambda p: np.savez_compressed(p, **result.arrays, **snapshots),
    )
    return folder
