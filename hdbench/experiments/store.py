"""All results I/O goes through this module.

Tables are tidy (one row per observation) and written twice: CSV for people, Parquet for types.
Every file is written whole or not at all, through `hdbench.files`.

A results folder heals: a row file that cannot be read as a whole row (empty, truncated, not
UTF-8, another run's) is moved to `damaged/` with one line saying so, and its run counts as not
done; hidden files (temporaries) are never read as rows. `sweep.json` records which sweep a
folder holds, so another sweep under the same name is refused instead of mixed in.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hdbench.errors import SpecError
from hdbench.files import clean_temporaries, write_atomic, write_text

if TYPE_CHECKING:
    from hdbench.experiments.run import RunResult

#: What every stored row has; a row file without one of them is damaged.
ROW_KEYS = ("run_id", "oracle", "method", "seed", "status")


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> list[Path]:
    """Write `frame` as folder/stem.csv and folder/stem.parquet."""
    return [
        write_atomic(folder / f"{stem}.csv", lambda p: frame.to_csv(p, index=False)),
        write_atomic(folder / f"{stem}.parquet", lambda p: frame.to_parquet(p, index=False)),
    ]


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
    return write_atomic(folder / "rows" / f"{row['run_id']}.json", lambda p: p.write_text(text))


class DamagedRowError(Exception):
    """A row file that does not hold one whole row; the message says what is wrong."""


def _row_files(folder: Path) -> list[Path]:
    rows = folder / "rows"
    if rows.exists() and not rows.is_dir():
        raise SpecError(f"{rows}: expected the folder of a results folder's rows, got a file")
    return sorted(p for p in rows.glob("*.json") if not p.name.startswith("."))


def read_row(path: Path) -> dict[str, Any]:
    """The row stored in `path`; DamagedRowError says why it is not a whole row."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedRowError("not UTF-8 text") from None
    except OSError as error:  # a folder in its place, a file that cannot be read
        raise DamagedRowError(f"unreadable: {error.strerror or type(error).__name__}") from None
    if not text.strip():
        raise DamagedRowError("empty")
    try:
        row = json.loads(text)
    except json.JSONDecodeError as error:
        raise DamagedRowError(f"truncated or malformed JSON ({error.msg} at {error.pos})") from None
    if not isinstance(row, dict):
        raise DamagedRowError(f"expected a JSON object, got {type(row).__name__}")
    missing = [key for key in ROW_KEYS if key not in row]
    if missing:
        raise DamagedRowError(f"missing {', '.join(missing)}")
    if row["run_id"] != path.stem:
        raise DamagedRowError(f"holds run {row['run_id']!r}, not {path.stem!r}")
    return row


def stored_rows(folder: Path) -> dict[str, dict[str, Any]]:
    """The whole rows stored in `folder`, by run id; damaged files are left out."""
    rows = {}
    for path in _row_files(folder):
        try:
            rows[path.stem] = read_row(path)
        except DamagedRowError:
            continue
    return rows


def heal(folder: Path) -> list[str]:
    """Move every damaged row file of `folder` to folder/damaged/, so that its run is redone,
    and remove the temporaries of killed writers; returns one line per file moved or removed."""
    lines = [
        f"{path}: removed, the temporary of a write that was killed"
        for where in (folder, folder / "rows")
        for path in clean_temporaries(where)
    ]
    for path in _row_files(folder):
        try:
            read_row(path)
        except DamagedRowError as error:
            target = move_aside(path, folder)
            lines.append(f"{path}: damaged row ({error}); moved to {target}, its run is redone")
    return lines


def move_aside(path: Path, folder: Path) -> Path:
    """Move the damaged `path` (a file or a folder) to folder/damaged/, stamped with the time;
    returns where."""
    target = folder / "damaged" / f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def finished_run_ids(folder: Path, retry_errors: bool = False) -> set[str]:
    """Ids of the runs whose whole rows are stored in `folder` (with `retry_errors`, those
    whose status is not `error`)."""
    return {
        run_id
        for run_id, row in stored_rows(folder).items()
        if not (retry_errors and row["status"] == "error")
    }


def claim(folder: Path, definition: dict[str, Any], run_ids: Iterable[str] = ()) -> list[str]:
    """Record in folder/sweep.json which sweep the folder holds, or refuse another one.

    `definition` is the sweep as plain JSON values (seeds left out: more seeds of the same
    grid belong together); a folder without a record is claimed as it is. A damaged record is
    moved aside (one line, returned) when every stored row is one of `run_ids`, this sweep's
    runs; else the folder is refused, since it may hold another sweep.
    """
    path = folder / "sweep.json"
    if not path.exists():
        write_text(json.dumps(definition, indent=2, sort_keys=True) + "\n", path)
        return []
    try:
        stored = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(stored, dict):
            raise ValueError(f"expected a JSON object, got {type(stored).__name__}")
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        others = set(stored_rows(folder)) - set(run_ids)
        if others:
            raise SpecError(
                f"{path}: damaged ({reason}), and the folder holds {len(others)} runs that are "
                "not this sweep's; expected the same sweep: give another --name (or --out), or "
                "remove the folder"
            ) from None
        target = move_aside(path, folder)
        write_text(json.dumps(definition, indent=2, sort_keys=True) + "\n", path)
        return [
            f"{path}: damaged ({reason}); moved to {target}, the folder's runs are all this sweep's"
        ]
    if stored != definition:
        keys = sorted(set(stored) | set(definition))
        changes = "; ".join(
            f"{key} {stored.get(key)} there, {definition.get(key)} here"
            for key in keys
            if stored.get(key) != definition.get(key)
        )
        raise SpecError(
            f"{folder}: holds another sweep ({changes}); expected the same sweep (seeds may "
            "differ): give another --name (or --out), or remove the folder"
        )
    return []


def read_rows(folder: Path) -> pd.DataFrame:
    """Every whole row stored in `folder`, one per run, in a stable order."""
    rows = list(stored_rows(folder).values())
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    leading = [c for c in ("run_id", "oracle", "method", "seed", "status") if c in frame.columns]
    frame = frame[leading + [c for c in frame.columns if c not in leading]]
    return frame.sort_values(["oracle", "method", "seed", "run_id"], ignore_index=True)


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


def read_run_trace(folder: Path, row: pd.Series | dict) -> pd.DataFrame | None:
    """A run's trace.csv (one row per snapshot or check); None when absent."""
    path = run_folder(folder, row["oracle"], row["method"], row["run_id"]) / "trace.csv"
    return pd.read_csv(path) if path.exists() and path.stat().st_size else None


def write_run(result: RunResult, folder: Path) -> Path:
    """Everything about one run in `folder`: spec.json, metrics.json and .csv (its one row),
    samples.npy, trace.csv (metrics along the chain) and arrays.npz (fields, ratings)."""
    folder.mkdir(parents=True, exist_ok=True)
    row = {k: (None if isinstance(v, float) and v != v else v) for k, v in result.row.items()}
    write_text(json.dumps(result.spec, indent=2, sort_keys=True) + "\n", folder / "spec.json")
    write_text(json.dumps(row, indent=2, default=str) + "\n", folder / "metrics.json")
    write_atomic(folder / "metrics.csv", lambda p: pd.DataFrame([row]).to_csv(p, index=False))
    write_atomic(folder / "trace.csv", lambda p: result.trace.to_csv(p, index=False))
    if result.samples is not None:
        write_atomic(folder / "samples.npy", lambda p: np.save(p, result.samples))
    snapshots = {f"snapshot_{step}": x for step, x in result.snapshots.items()}
    write_atomic(
        folder / "arrays.npz",
        lambda p: np.savez_compressed(p, **result.arrays, **snapshots),
    )
    return folder
