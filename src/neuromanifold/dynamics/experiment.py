"""The three training-dynamics experiments behind ``neuromanifold experiment dynamics|ensemble|harmonics``:
run with a seed and options (``report`` writes their report directory: markdown + JSON + figures)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..errors import InputError
from .augmentation import DynamicsConfig, run_dynamics
from .ensembles import EnsembleConfig, run_ensemble
from .harmonics import HarmonicsConfig, run_harmonics


# --- registry -----------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Experiment:
    config: type
    run: Callable[..., Any]
    summary: str


EXPERIMENTS: dict[str, Experiment] = {
    "dynamics": Experiment(DynamicsConfig, run_dynamics,
                           "restricted vs augmented training near equivariant stationary points (C4, digits)"),
    "ensemble": Experiment(EnsembleConfig, run_ensemble,
                           "emergent invariance of augmented deep ensembles and their NTK (C4, digits)"),
    "harmonics": Experiment(HarmonicsConfig, run_harmonics,
                            "invariant power-spectral networks learn irreps; Cayley table from the weights"),
}


def run_experiment(name: str, *, seed: int = 0, progress: bool = False, **options: Any) -> Any:
    """Run experiment ``name`` with config fields overridden by the non-None ``options``."""
    if name not in EXPERIMENTS:
        raise InputError(f"unknown experiment {name!r}; use one of {', '.join(EXPERIMENTS)}")
    exp = EXPERIMENTS[name]
    fields = {f.name for f in dataclasses.fields(exp.config)}
    unknown = set(options) - fields
    if unknown:
        raise InputError(f"experiment {name} has no option(s) {sorted(unknown)}; options: {sorted(fields)}")
    cfg = exp.config(**{k: v for k, v in options.items() if v is not None})
    return exp.run(cfg, seed=seed, progress=progress)
