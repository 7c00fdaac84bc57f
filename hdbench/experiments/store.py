"""All results I/O goes through this module.

Tables are tidy (one row per observation) and written twice: CSV for people, Parquet for types.
Every file is written to a temporary name and renamed, so an interrupted run never leaves a
half-written file behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def _atomic_write(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
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
