"""Membership: is a given function in the Zariski closure of the neuromanifold M?

Numerical test with a pseudo-witness set (as NumericalImplicitization's ``isOnImage``): move the
generic slice {R y = b0} of the witness set to the parallel slice through the candidate
f (b1 = R f) by a parameter homotopy; f lies on the closure of M exactly when it is one of the
endpoints' images.  The evidence gives the distance of the nearest endpoint image to f.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np

from .architectures import Architecture
from .context import Context
from .errors import InputError
from .homotopy import ParameterHomotopy, solve
from .invariants.witness_set import witness_set
from .result import Result

FunctionLike = Callable[[np.ndarray], Any] | str | Sequence[Any] | Any


def _values(arch: Architecture, f: FunctionLike, inputs: np.ndarray, n_samples: int) -> np.ndarray:
    """f at the sample inputs, flattened like mu_S (samples x outputs)."""
    out = arch.output_size()
    if callable(f) and not hasattr(f, "free_symbols"):
        try:
            Y = np.asarray(f(inputs), dtype=complex)
        except Exception as exc:  # the user's callable failed on our inputs
            raise InputError(
                f"the function raised {type(exc).__name__}: {exc}; it must accept a batch of inputs of shape "
                f"{arch.input_shape(n_samples)} (complex) and return the outputs in the same layout as the network"
            ) from None
        try:
            vals = np.asarray(arch.output_to_matrix(Y, n_samples)).reshape(-1)
            if vals.size != n_samples * out:
                raise ValueError
            return vals
        except (ValueError, TypeError):
            raise InputError(
                f"the function returned shape {Y.shape}; expected the network's output layout for inputs of shape "
                f"{arch.input_shape(n_samples)} ({out} outputs per sample)"
            ) from None
    import sympy

    exprs = [f] if isinstance(f, (str, sympy.Basic)) else list(f)
    if len(exprs) != out:
        raise InputError(f"give {out} polynomial(s), one per output coordinate; got {len(exprs)}")
    xs = sympy.symbols(f"x0:{arch.n_inputs}")
    try:
        polys = [sympy.sympify(e) for e in exprs]
    except (sympy.SympifyError, TypeError):
        raise InputError("could not read the polynomials; write them in x0, x1, ... e.g. 'x0**2 - 3*x0*x1'") from None
    extra = set().union(*(p.free_symbols for p in polys)) - set(xs)
    if extra:
        raise InputError(
            f"unknown variables {sorted(map(str, extra))}; the {arch.n_inputs} inputs are x0..x{arch.n_inputs - 1} "
            "(one sample, flattened row-major)"
        )
    fn = sympy.lambdify(xs, polys, "numpy")
    flat = arch.flat_inputs(np.asarray(inputs))  # (samples, n_inputs) in the order of x0, x1, ...
    vals = np.array([np.broadcast_to(np.asarray(v, dtype=complex), (n_samples,)) for v in fn(*flat.T)]).T
    return vals.reshape(-1)


def contains(
    spec: str | Architecture,
    f: FunctionLike,
    seed: int = 0,
    tol: float = 1e-6,
) -> Result:
    """Is f in the Zariski closure of M?  ``f``: a callable on input batches (network layout), a
    sympy expression / string in x0, x1, ... (one per output coordinate), or a list of them."""
    t0 = time.perf_counter()
    ctx = Context(spec, seed=seed)
    arch = ctx.arch
    ws = witness_set(ctx, per_fiber=False, coefficients=False)  # values at sample inputs: f is given by values
    par = ws.parametrization
    y = _values(arch, f, par.inputs, par.n_samples)
    if not np.all(np.isfinite(y)):
        raise InputError("the function has non-finite values at the sample inputs")
    system = ws.system
    b1 = system.R @ y
    Z = ws.result.solutions
    res = solve(ParameterHomotopy(system, ws.p0, b1, rng=ctx.rng("membership")), Z, rng=ctx.rng("membership-retry"))
    images = system.image(res.endpoints)
    scale = max(1.0, float(np.linalg.norm(y)))
    dist = np.linalg.norm(images - y[None, :], axis=1) / scale
    dist[~np.isfinite(dist)] = np.inf
    best = int(np.argmin(dist)) if len(dist) else -1
    found = best >= 0 and dist[best] <= tol
    complete = ws.result.trace_test_passed and ws.injective
    ev: dict[str, Any] = {
        "method": "witness points moved to the parallel slice through f; f is in the closure of M iff it is an "
        "endpoint's image",
        "nearest_relative_distance": float(dist[best]) if best >= 0 else None,
        "tolerance": tol,
        "endpoint_status_counts": res.counts,
        "witness_points": len(Z),
        "witness_set_complete": complete,
    }
    if found:
        return Result("contains", True, "numerical", ev, time.perf_counter() - t0, seed)
    if complete and res.counts.get("success", 0) == len(Z):
        return Result("contains", False, "numerical", ev, time.perf_counter() - t0, seed)
    ev["reason"] = "not found, but the witness set is incomplete or some paths failed: inconclusive"
    return Result("contains", None, "failed", ev, time.perf_counter() - t0, seed)
