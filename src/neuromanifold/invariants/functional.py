"""Invariants of non-polynomial (piecewise-linear) families such as ``relu``, numerically.

The image of a ReLU parametrization is not a variety: exact (mod p) ranks, degrees, ED degrees,
singular strata and covering bounds from degree are undefined, and those invariants are refused with
one line.  What remains is computed in float64 with torch:

* ``dimension`` = functional dimension (Grigsby, Lindsey, Rolnick, "Functional dimension of
  feedforward ReLU neural networks", 2022): rank of the Jacobian d mu_S / d theta of the function
  values on S generic Gaussian inputs (S * outputs >= 4 n_params + 8), read at the largest singular-value
  gap (status ``numerical``).  The rank is locally constant but differs between parameter regions
  (dead neurons, ...), so it is taken at several Gaussian parameter points; the value is the largest
  (the dimension of M as a set is the largest rank on an open set), the distribution is evidence.
* ``expected_dimension`` = n_params - rank of the positive-rescaling generators (exact rank over Z/p of
  their integer matrix at a random point), capped by the dimension of the span of M.
* ``ambient_dimension`` = dimension of the span of M (exact by a short argument, ``ReLU.ambient_span``;
  infinite unless d_0 = 1 without biases).
* ``fiber_dimension`` = n_params - dimension, ``hidden_symmetries`` = fiber dimension - rank of the
  known generators (numerical).
"""

from __future__ import annotations

import time
from collections import Counter
from math import ceil, isfinite
from typing import Any, Callable

import numpy as np

from ..arithmetic import rank_mod_p
from ..context import Context
from ..errors import InputError
from ..arithmetic.rank import numerical_rank
from ..result import Result

N_DRAWS = 6  # parameter points at which the functional dimension is evaluated
MAX_ENTRIES = 4e7  # float64 Jacobian entries
GENERIC = ("conservation_laws",)  # invariants defined for every family (no special version needed)

REFERENCE = "Grigsby, Lindsey, Rolnick, 'Functional dimension of feedforward ReLU neural networks' (2022)"

_WHY = {
    "degree": "the degree",
    "fiber_points": "the generic fiber count",
    "ed_degree": "the ED degree",
    "singularities": "the singular locus",
    "log_covering_number": "the covering bound from dimension and degree",
    "epsilon_net": "the eps-net in coefficient space",
}


def _jacobian(arch: Any, X: Any, theta: np.ndarray) -> np.ndarray:
    import torch
    from torch.func import jacrev

    def values(th: Any) -> Any:
        return arch.forward(arch.unflatten(th), X).reshape(-1)

    return jacrev(values)(torch.as_tensor(theta)).detach().numpy()


def functional_data(ctx: Context) -> dict[str, Any]:
    return ctx.cached("functional_dimension", lambda: _functional(ctx))


def _functional(ctx: Context) -> dict[str, Any]:
    import torch

    arch = ctx.arch
    N, out = arch.n_params, arch.output_size()
    S = max(2, ceil((4 * N + 8) / out))  # generous: regions of small probability contribute rank too
    if S * out * N > MAX_ENTRIES:
        raise InputError(f"{arch.spec()}: the Jacobian would have {S * out} x {N} entries (> {MAX_ENTRIES:.0e}); "
                         f"reduce the widths")
    X = torch.as_tensor(ctx.rng("functional-inputs").standard_normal(arch.input_shape(S)))
    rng = ctx.rng("functional-points")
    ranks, gaps, best = [], [], None
    t0 = time.perf_counter()
    for _ in range(N_DRAWS):
        theta = rng.standard_normal(N)
        nr = numerical_rank(_jacobian(arch, X, theta))
        ranks.append(nr.rank)
        gaps.append(nr.gap)
        if best is None or nr.rank > best.rank or (nr.rank == best.rank and nr.gap > best.gap):
            best = nr
    assert best is not None
    best.point = "real Gaussian (the draw of largest rank)"
    G = arch.symmetry_matrix(ctx.rng("functional-generators").integers(1, ctx.prime, N).astype(np.int64))
    g_rank = rank_mod_p(G % ctx.prime, ctx.prime) if G.shape[1] else 0
    return {
        "value": best.rank,
        "numerical": best,
        "ranks": ranks,
        "gaps": gaps,
        "n_inputs": S,
        "n_params": N,
        "generator_rank": g_rank,
        "n_generators": G.shape[1],
        "seconds": time.perf_counter() - t0,
    }


def dimension(ctx: Context) -> Result:
    t0 = time.perf_counter()
    d = functional_data(ctx)
    N, g = d["n_params"], d["generator_rank"]
    span, _ = ctx.arch.ambient_span()
    upper = int(min(N - g, span, d["n_inputs"] * ctx.arch.output_size()))
    finite = [x for x in d["gaps"] if isfinite(x)]
    ev = {
        "meaning": "functional dimension: rank of d mu_S / d theta (function values on generic inputs) at a generic "
        "parameter point; dim M as a set = the largest such rank",
        "numerical": d["numerical"].evidence(),
        "ranks_at_draws": dict(sorted(Counter(d["ranks"]).items())),
        "draws": len(d["ranks"]),
        "smallest_gap": min(finite) if finite else float("inf"),
        "inputs": d["n_inputs"],
        "upper_bound": {"value": upper, "method": "n_params - rank of the positive-rescaling generators (exact, mod p)"
                        + (", and the dimension of the span of M" if span < N - g else "")},
        "reference": REFERENCE,
        "why_numerical": "the parametrization is piecewise linear (not polynomial): no exact mod-p Jacobian rank",
    }
    if d["value"] > upper:
        ev["note"] = "the numerical rank exceeds a proven upper bound: the singular-value gap is unreliable"
    return Result("dimension", d["value"], "numerical", ev, time.perf_counter() - t0, ctx.seed)


def ambient_dimension(ctx: Context) -> Result:
    value, why = ctx.arch.ambient_span()
    ev = {"meaning": "dimension of the linear span of M (the smallest linear function space containing it)",
          "method": why}
    return Result("ambient_dimension", value, "certified", ev, 0.0, ctx.seed)


def expected_dimension(ctx: Context) -> Result:
    d = functional_data(ctx)
    span, _ = ctx.arch.ambient_span()
    value = min(d["n_params"] - d["generator_rank"], span)
    ev = {
        "formula": "min(n_params - rank of the positive-rescaling generators, dimension of the span of M)",
        "n_params": d["n_params"],
        "known_generators": d["n_generators"],
        "generator_rank": {"exact_mod_p": d["generator_rank"]},
        "ambient_dimension": span,
    }
    return Result("expected_dimension", int(value) if isfinite(value) else value, "certified", ev, 0.0, ctx.seed)


def fiber_dimension(ctx: Context) -> Result:
    d = functional_data(ctx)
    N = d["n_params"]
    ev = {"formula": "n_params - functional dimension", "n_params": N,
          "lower_bound": {"value": d["generator_rank"], "method": "rank of the positive-rescaling generators"}}
    return Result("fiber_dimension", N - d["value"], "numerical", ev, 0.0, ctx.seed)


def hidden_symmetries(ctx: Context) -> Result:
    d = functional_data(ctx)
    value = d["n_params"] - d["value"] - d["generator_rank"]
    ev = {"formula": "fiber dimension - rank of the known symmetry generators (positive rescalings)",
          "known_generators": d["n_generators"], "numerical": value}
    return Result("hidden_symmetries", value, "numerical", ev, 0.0, ctx.seed)


NONPOLYNOMIAL: dict[str, Callable[[Context], Result]] = {
    "dimension": dimension,
    "expected_dimension": expected_dimension,
    "ambient_dimension": ambient_dimension,
    "fiber_dimension": fiber_dimension,
    "hidden_symmetries": hidden_symmetries,
}


def undefined_reason(name: str, arch: Any, *, available: bool = False) -> str | None:
    """One line saying why invariant ``name`` is not defined for a non-polynomial ``arch`` (None if it is)."""
    if name in NONPOLYNOMIAL or name in GENERIC:
        return None
    what = _WHY.get(name, name)
    line = (f"{name} is not defined for {arch.spec()}: max(0, z) is not polynomial, so M is not an algebraic "
            f"variety ({what} needs one)")
    if available:
        line += f"; available: {', '.join(list(NONPOLYNOMIAL) + list(GENERIC))}"
    return line


def for_nonpolynomial(name: str, default: Callable[[Context], Result]) -> Callable[[Context], Result]:
    """The implementation of invariant ``name`` for a non-polynomial family: the numerical version, the
    generic one, or a refusal (status ``not_computed``, the one-line reason as evidence)."""
    if name in NONPOLYNOMIAL:
        return NONPOLYNOMIAL[name]
    if name in GENERIC:
        return default

    def refuse(ctx: Context) -> Result:
        return Result(name, None, "not_computed", {"reason": undefined_reason(name, ctx.arch)}, 0.0, ctx.seed)

    return refuse
