"""The registry of acceptability kinds; importing this package registers every bundled kind."""

from hdbench.oracles.acceptability import Acceptability
from hdbench.registry import Registry

ACCEPTABILITY_KINDS: Registry[type[Acceptability]] = Registry("acceptability kind")

from hdbench.oracles.kinds import (  # noqa: E402, F401
    gaussian,
    mixture,
    plateau,
    python_callable,
    ring,
    twisted,
    vowel,
)
