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
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    write(temporary)
    os.replace(temporary, path)
    return path


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
    """Write `frame` as folder/stem.csv and folder/stem.parquet."""
    return [
        _atomic_write(folder / f"{stem}.csv", lambda p: frame.to_csv(p, index=False)),
        _atomic_write(folder / f"{stem}.parquet", lambda p: frame.to_parquet(p, index=False)),
    ]


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to `path`, as Parquet or CSV by its suffix."""
    if path.suffix == ".parquet":
        return _atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    return _atomic_write(path, lambda p: frame.to_csv(p, index=False))


def read_table(folder: Path, stem: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{stem}.parquet")


def _plain(value):
    """A JSON-safe scalar: numpy numbers become Python ones, NaN becomes None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def write_row(row: dict, folder: Path) -> Path:
    """One finished run's row as folder/rows/RUN_ID.json, whole or not at all."""
    text = json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True)
    return _atomic_write(folder / "rows" / f"{row['run_id']}.json", lambda p: p.write_text(text))


def finished_run_ids(folder: Path) -> set[str]:
    """Ids of the runs whose rows are stored in `folder`."""
    return {path.stem for path in (folder / "rows").glob("*.json")}


def read_rows(folder: Path) -> pd.DataFrame:
    """Every stored row of `folder`, one per run, in a stable order."""
    rows = [json.loads(path.read_text()) for path in sorted((folder / "rows").glob("*.json"))]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    leading = [c for c in ("run_id", "oracle", "method", "seed", "status") if c in frame.columns]
    frame = frame[leading + [c for c in frame.columns if c not in leading]]
    return frame.sort_values(["oracle", "method", "seed", "run_id"], ignore_index=True)


def write_text(text: str, path: Path) -> Path:
    return _atomic_write(path, lambda p: p.write_text(text))


def figure_path(folder: Path, name: str) -> Path:
    """Where a figure called `name` goes; the folder is made if needed."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def run_folder(folder: Path, oracle: str, method: str, run_id: str) -> Path:
    """Where a run's own files go inside a results folder."""
    return folder / "runs" / f"{oracle}-{method}-{run_id}"


def read_run_array(folder: Path, row: pd.Series | dict, name: str) -> np.ndarray | None:
    """One array a run stored (samples, or a name in its arrays.npz); None when absent."""
    path = run_folder(folder, row["oracle"], row["method"], row["run_id"])
    if name == "samples":
        return np.load(path / "samples.npy") if (path / "samples.npy").exists() else None
    if not (path / "arrays.npz").exists():
        return None
    with np.load(path / "arrays.npz") as arrays:
        return arrays.get(name)


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
