"""Generic fibers of mu: their dimension and the symmetries that make them up.

fiber_dimension = N - dim M (fiber-dimension theorem).  hidden_symmetries = fiber dimension
minus the generic rank of the known symmetry generators: the kernel directions of d mu at a
generic point that no known symmetry explains; a numerical basis of them is shown.
"""

from __future__ import annotations

import time
from math import ceil
from typing import Any

import numpy as np

from ..arithmetic import Float64
from ..context import Context
from ..parametrization.evaluation import Parametrization
from ..arithmetic.rank import normalise_rows, numerical_rank
from ..result import Result
from .dimension import dimension_data, generator_rank

BASIS_LIMIT = 1500  # largest N for which a basis of the unexplained directions is computed


def fiber_dimension(ctx: Context) -> Result:
    """Dimension of the generic fiber mu^{-1}(mu(theta)), = N - dim M."""
    t0 = time.perf_counter()
    d = dimension_data(ctx)
    N = d.n_params
    ev = {
        "formula": "n_params - dim M (fiber-dimension theorem)",
        "n_params": N,
        "numerical": N - d.numerical.rank if d.float_computed or not d.certified else "not computed",
    }
    if d.certified:
        value, status = N - d.lower, "certified"
    else:
        value, status = N - d.lower, "upper_bound"
        ev["lower_bound"] = N - d.upper
    return Result("fiber_dimension", value, status, ev, time.perf_counter() - t0, ctx.seed)


def unexplained_directions(ctx: Context, count: int) -> np.ndarray | None:
    """Orthonormal basis (columns) of ker d mu(theta) orthogonal to the known generators, at a
    real Gaussian point theta (numerical; the rank is read at the largest singular-value gap)."""
    d = dimension_data(ctx)
    arch = ctx.arch
    N = d.n_params
    if count <= 0:
        return np.zeros((N, 0))
    if N > BASIS_LIMIT:
        return None
    n_samples = max(d.n_samples, ceil(2 * N / arch.output_size()) + 2)
    P = Parametrization(arch, Float64(), n_samples, ctx.rng("basis-inputs"))
    theta = P.field.random((N,), ctx.rng("basis-point"))
    A = normalise_rows(P.jacobian(theta))
    _, s, vt = np.linalg.svd(A, full_matrices=True)
    rank = numerical_rank(A, singular_values=s).rank
    kernel = vt[rank:].T  # N x (N - rank)
    G = arch.symmetry_matrix(theta) if d.n_generators else np.zeros((N, 0))
    if G.shape[1]:
        q, sg, _ = np.linalg.svd(G, full_matrices=False)
        q = q[:, sg > sg[0] * 1e-10]
        kernel = kernel - q @ (q.T @ kernel)
    u, _, _ = np.linalg.svd(kernel, full_matrices=False)
    return u[:, :count]


def _describe(vec: np.ndarray, labels: list[str], top: int = 8) -> str:
    order = np.argsort(-np.abs(vec))
    parts = [f"{vec[i]:+.3f}*d{labels[i]}" for i in order[:top] if abs(vec[i]) > 1e-8]
    more = int(np.sum(np.abs(vec) > 1e-8)) - len(parts)
    return " ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def hidden_symmetries(ctx: Context) -> Result:
    """Number of generic fiber directions not spanned by the known symmetry generators."""
    t0 = time.perf_counter()
    d = dimension_data(ctx)
    g = generator_rank(ctx)
    N = d.n_params
    fib_lo, fib_hi = N - d.upper, N - d.lower
    lo, hi = max(0, fib_lo - g["hi"]), fib_hi - g["lo"]
    numerical = (N - d.numerical.rank) - g["numerical"] if d.float_computed or lo != hi else None
    ev: dict[str, Any] = {
        "formula": "fiber dimension - generic rank of the known symmetry generators",
        "bounds": [lo, hi],
        "numerical": numerical,
        "known_generators": d.n_generators,
    }
    if lo == hi:
        value, status = lo, "certified"
    else:
        value, status = numerical, "numerical"
        ev["note"] = "the exact bounds do not meet; the value is the numerical count"
    basis = unexplained_directions(ctx, value)
    if basis is None:
        ev["basis"] = f"omitted: n_params = {N} > {BASIS_LIMIT}"
    elif basis.shape[1]:
        labels = ctx.arch.param_labels()
        ev["basis"] = {
            "at_point": "a real Gaussian point (seeded); vectors are orthonormal, orthogonal to the known generators",
            "parameters": labels,
            "vectors": basis.T.round(12).tolist(),
            "summary": [_describe(v, labels) for v in basis.T],
        }
    if d.polynomial_fields is not None:
        ev["polynomial_fields"] = d.polynomial_fields.evidence()
    return Result("hidden_symmetries", value, status, ev, time.perf_counter() - t0, ctx.seed)
