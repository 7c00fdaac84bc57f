"""Samplers that take any score function.

`LangevinSampler` (langevin.py) follows a score s(x). The registry `SAMPLERS` holds samplers of
noise-conditional scores s(x, σ) (`hdbench.samplers.base`): `langevin` (the same chain at one
noise level), `annealed_langevin` (Song & Ermon 2019) and `predictor_corrector` (Song et al.
2021). `build_sampler(name, settings)` validates a sampler's settings.
"""

from __future__ import annotations

from typing import Any

from hdbench.registry import Registry
from hdbench.samplers.base import NoiseScoreFn, Sampler
from hdbench.validation import validate

SAMPLERS: Registry[type[Sampler]] = Registry("sampler")

from hdbench.samplers import annealed_langevin, plain_langevin, predictor_corrector  # noqa: E402, F401


def build_sampler(name: str, settings: dict[str, Any] | None = None) -> Sampler:
    """The sampler `name` with `settings` (defaults for the rest); a bad name or setting raises
    SpecError in one line naming it, e.g. `sampler.sigma_min: ...`."""
    return validate(SAMPLERS[name], settings or {}, "sampler", name)


__all__ = ["SAMPLERS", "NoiseScoreFn", "Sampler", "build_sampler"]
