"""Every file hdbench writes goes through here: written whole or not at all, and a failure is one
line naming the file.

A file is written to a hidden temporary name unique to its writer (process id and a random part)
and renamed over its own name, so an interrupted write never leaves a half-written file behind.
A write killed before its rename leaves the temporary; `clean_temporaries` removes those of
processes that are gone.
"""

from __future__ import annotations

import errno
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hdbench.errors import WriteFailedError

#: A temporary of `write_atomic`: `.STEM.PID-RANDOM[SUFFIX]`.
_TEMPORARY = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}(\.[^.]+)?$")


def write_atomic(path: Path, write_fn: Callable[[Path], Any], what: str = "") -> Path:
    """Write `path` by calling `write_fn` on a temporary beside it, then rename; an OSError (disk
    full, file-size limit, a file where the folder should be) raises WriteFailedError naming
    `path` (and `what` it holds), and the temporary is removed."""
    temporary = path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_fn(temporary)
        os.replace(temporary, path)
    except OSError as error:
        named = f" {what}" if what else ""
        raise WriteFailedError(f"{path}: cannot write{named}: {write_reason(error)}") from None
    finally:
        if temporary.is_file():
            temporary.unlink()
    return path


def write_reason(error: OSError) -> str:
    """The reason of a failed write, in words, naming the disk when it is full."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"{error.strerror} (the disk, or the file-size limit, is full)"
    return error.strerror or type(error).__name__


def write_text(text: str, path: Path) -> Path:
    return write_atomic(path, lambda p: p.write_text(text))


def write_frame(frame: Any, path: Path) -> Path:
    """Write a pandas DataFrame to `path`, as Parquet or CSV by its suffix."""
    if path.suffix == ".parquet":
        return write_atomic(path, lambda p: frame.to_parquet(p, index=False))
    return write_atomic(path, lambda p: frame.to_csv(p, index=False))


def save_figure(fig: Any, path: Path, dpi: int = 100) -> Path:
    """Save a matplotlib figure (or seaborn grid) to `path` whole, and close it."""
    import matplotlib.pyplot as plt

    try:
        return write_atomic(path, lambda p: fig.savefig(p, dpi=dpi, format=path.suffix[1:]))
    finally:
        plt.close(getattr(fig, "figure", fig))


def clean_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries in `folder` (not below) left by writers that were killed, i.e. whose
    process is gone; those of live writers are left alone. Returns what was removed."""
    removed = []
    for path in folder.glob(".*") if folder.is_dir() else ():
        found = _TEMPORARY.match(path.name)
        if found and path.is_file() and not _alive(int(found.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
