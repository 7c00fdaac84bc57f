"""An oracle: a named pairing of the truth (only metrics see it) with the panel that rates.

From a notebook:

    oracle = load_oracle("paper_like")
    panel = oracle.panel(seed=0)          # the noisy view a method's trials get
    oracle.truth(x), oracle.truth.sample(1000, rng)   # the exact view metrics get
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from hdbench.errors import SpecError
from hdbench.memory import GIB, available_bytes
from hdbench.oracles.acceptability import Acceptability, KindParams
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.listener import ListenerModel
from hdbench.oracles.panel import SimulatedPanel
from hdbench.oracles.real_data import RealDataParams, draw_real_data
from hdbench.oracles.spec import OracleSpec
from hdbench.protocol.trials import TrialBatch
from hdbench.rng import named_generator, stable_hash
from hdbench.validation import validate

NUM_PROBES = 64
#: Arrays of the real data's size alive while it is drawn (noise, transformed, shifted, copy).
REAL_DATA_COPIES = 4
#: Arrays of one number per listener a panel holds (bias, drift).
LISTENER_ARRAYS = 2


@dataclass(frozen=True)
class Oracle:
    spec: OracleSpec
    truth: Acceptability
    real_data: np.ndarray = field(repr=False)
    source: Path | None = None

    @classmethod
    def from_spec(cls, spec: OracleSpec, source: Path | None = None) -> Oracle:
        """Build and check an oracle; a problem raises SpecError naming the file and field."""
        where = str(source or spec.name)
        kind, params = kind_params(spec, where)
        truth = kind.from_params(params)
        real = spec.real_data
        common = {key: real[key] for key in ("num", "seed") if key in real}
        size = validate(RealDataParams, common, where, "real_data")
        check_memory(spec, size.num, truth.dim, where)
        if not 0.0 < truth.peak <= 1.0 + 1e-9:
            raise SpecError(
                f"{where}: acceptability: expected a peak of D in (0, 1], got {truth.peak:.4f}"
            )
        own = truth.own_real_data(size.num, size.seed)
        if own is not None and set(real) - {"num", "seed"}:
            raise SpecError(
                f"{where}: real_data: expected only num and seed, since the real data of kind "
                f"{spec.acceptability['kind']!r} are its own (e.g. corpus tokens)"
            )
        real_data = own if own is not None else draw_real_data(real, truth, where)
        return cls(spec, truth, real_data, source)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dim(self) -> int:
        return self.truth.dim

    @property
    def listener(self) -> ListenerModel:
        spec = self.spec.listener
        slider = spec.slider()
        step = spec.differential_step
        return ListenerModel(
            noise_sd=spec.noise_sd,
            bias_sd=spec.bias_sd,
            lapse_rate=spec.lapse_rate,
            drift_sd=spec.drift_sd,
            slider=slider,
            differential_step=slider.step / (slider.high - slider.low) if step is None else step,
            ideal=spec.ideal,
        )

    def panel(self, seed: int, budget: int | None = None) -> SimulatedPanel:
        """A fresh simulated panel that answers at most `budget` ratings (None: any number). The
        spec's `panel.budget` is a method's budget, which a run applies to its method's panel
        only; the fingerprint's probe and the listening tests are never paid from it. A seed that
        is not an integer ≥ 0, or a budget that is not one ≥ 1, is a one-line SpecError."""
        for name, value, low in (("seed", seed, 0), ("budget", budget, 1)):
            if value is None and name == "budget":
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise SpecError(f"{name}: expected an integer ≥ {low}, got {value!r}")
        return SimulatedPanel(
            self.truth,
            self.dim,
            self.listener,
            self.spec.panel.num_listeners,
            named_generator(seed, "panel", self.name),
            budget,
        )

    @cached_property
    def spec_hash(self) -> str:
        return stable_hash(json.dumps(self.spec.model_dump(mode="json"), sort_keys=True))

    @cached_property
    def fingerprint(self) -> str:
        """Hash of D and of a seeded panel's ratings at fixed probe points in the box, so that
        results from a changed oracle are never mixed silently with old ones."""
        lo, hi = self.truth.bounds.T
        probes = np.random.default_rng(0).uniform(lo, hi, (NUM_PROBES, self.dim))
        panel = self.panel(seed=0)
        ratings = panel.poll(panel.submit(TrialBatch.absolute(probes)))
        values = np.concatenate([self.truth(probes), ratings.values.ravel()])
        return stable_hash(np.array2string(values, precision=10, threshold=10**6))


def kind_params(spec: OracleSpec, where: str) -> tuple[type[Acceptability], KindParams]:
    """The spec's acceptability kind and its validated parameters, without building D."""
    params = dict(spec.acceptability)
    try:
        kind = ACCEPTABILITY_KINDS[params.pop("kind")]
    except SpecError as error:
        raise SpecError(f"{where}: acceptability.kind: {error}") from None
    return kind, validate(kind.Params, params, where, "acceptability")


def check_memory(spec: OracleSpec, num_real: int, dim: int, where: str) -> None:
    """SpecError naming the field when the `num_real` real data or the panel's listeners would
    not fit in the memory available."""
    available = available_bytes()
    counts = {  # field: (count, what, bytes each)
        "real_data.num": (num_real, "points", REAL_DATA_COPIES * dim * 8),
        "panel.num_listeners": (spec.panel.num_listeners, "listeners", LISTENER_ARRAYS * 8),
    }
    for name, (count, what, each) in counts.items():
        if available is not None and count * each > available:
            raise SpecError(
                f"{where}: {name}: {count:,} {what} need about {count * each / GIB:.1f} GiB, "
                f"more than the {available / GIB:.1f} GiB available"
            )
