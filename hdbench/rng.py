"""Seeds: every random draw goes through a generator spawned from one SeedSequence."""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(text: str, num_chars: int = 12) -> str:
    """Short hex digest of `text`, stable across processes and machines."""
    return hashlib.sha256(text.encode()).hexdigest()[:num_chars]


def named_generator(seed: int, *names: str) -> np.random.Generator:
    """A generator for one named purpose under `seed`.

    Streams for different names are independent and do not depend on the order in which they
    are created, so adding a new consumer never changes the draws of an existing one.
    """
    words = [int(stable_hash(name, 8), 16) for name in names]
    return np.random.default_rng(np.random.SeedSequence([seed, *words]))
