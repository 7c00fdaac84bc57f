"""How much memory this machine has free, for checks made before anything is allocated."""

from __future__ import annotations

import os

GIB = 2**30


def available_bytes() -> int | None:
    """Memory available to new allocations (MemAvailable on Linux), or None when unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
