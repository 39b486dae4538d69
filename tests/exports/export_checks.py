"""Shared checks of the export tests: the exported system rebuilt from the toolkit's own float objects."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from neuromanifold.context import Context
from neuromanifold.invariants.witness_set import cached_coefficient_map


def independent_residual(es, z: np.ndarray) -> np.ndarray:
    """The exported system's residual at z rebuilt from the toolkit's float objects (not from es.equations)."""
    ctx = Context(es.spec, seed=es.seed)
    cmap = cached_coefficient_map(ctx)
    labels = ctx.arch.param_labels()
    free = [labels.index(lab) for lab in es.unknown_labels]
    frozen = np.zeros(ctx.arch.n_params)
    for lab, v in es.frozen:
        frozen[labels.index(lab)] = float(v)
    c = cmap.restrict(free, frozen)
    p = es.parameter_point()
    if es.kind == "degree":
        R = np.array(es.data["R"], dtype=float)
        return c.evaluate(z) @ R.T - p
    Q = np.array([[float(Fraction(v)) for v in row] for row in es.data["Q"]])
    J = c.jacobian(z)  # (B, D, k)
    return np.einsum("bdk,bd->bk", J, c.evaluate(z) @ Q.T - p)
