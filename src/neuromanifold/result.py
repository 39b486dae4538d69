"""Results of invariants: a value with its status and the evidence it rests on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("certified", "numerical", "lower_bound", "upper_bound", "failed", "not_computed")


def jsonable(x: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats to plain JSON values."""
    import numpy as np

    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, complex):
        return [x.real, x.imag]
    return x


@dataclass
class Result:
    """One invariant: ``value`` with ``status`` in STATUSES and ``evidence`` (how it was obtained)."""

    name: str
    value: Any
    status: str
    evidence: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "value": self.value,
                "status": self.status,
                "evidence": self.evidence,
                "seconds": round(self.seconds, 4),
                "seed": self.seed,
            }
        )
