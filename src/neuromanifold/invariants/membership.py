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

from ..architectures import Architecture
from ..context import Context, as_context
from ..errors import InputError
from ..homotopy import ParameterHomotopy, solve
from .witness_set import witness_set
from ..result import Result

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

    xs = sympy.symbols(f"x0:{arch.n_inputs}")
    polys = f if isinstance(f, _PolynomialList) else _polynomials(arch, f)
    fn = sympy.lambdify(xs, polys, "numpy")
    flat = arch.flat_inputs(np.asarray(inputs))  # (samples, n_inputs) in the order of x0, x1, ...
    try:
        vals = np.array([np.broadcast_to(np.asarray(v, dtype=complex), (n_samples,)) for v in fn(*flat.T)]).T
    except (OverflowError, TypeError, ValueError):
        raise InputError("the polynomials cannot be evaluated in complex floating point at the sample inputs "
                         "(a coefficient is too large?)") from None
    return vals.reshape(-1)


class _PolynomialList(list):
    """Polynomials already read and checked by ``_polynomials``."""


def _polynomials(arch: Architecture, f: FunctionLike) -> "_PolynomialList":
    """f given as polynomials (text, sympy, or a list of them, one per output) -> sympy expressions in
    x0, x1, ... (the flattened inputs of one sample); text is read without evaluating it."""
    import sympy

    out = arch.output_size()
    if isinstance(f, (str, sympy.Basic)):
        exprs = [f]
    else:
        try:
            exprs = list(f)
        except TypeError:
            raise InputError(f"cannot use a {type(f).__name__} as the function; give a callable on input batches, "
                             "or polynomials in x0, x1, ... (text or sympy), one per output coordinate") from None
    if len(exprs) != out:
        raise InputError(f"give {out} polynomial(s), one per output coordinate; got {len(exprs)}")
    xs = sympy.symbols(f"x0:{arch.n_inputs}")
    polys = [_polynomial(e, xs) for e in exprs]
    extra = set().union(*(getattr(p, "free_symbols", set()) for p in polys)) - set(xs)
    if extra:
        raise InputError(
            f"unknown variables {sorted(map(str, extra))}; the {arch.n_inputs} inputs are x0..x{arch.n_inputs - 1} "
            "(one sample, flattened row-major)"
        )
    return _PolynomialList(polys)


def _polynomial(e: Any, xs: Sequence[Any]) -> Any:
    """One polynomial as a sympy expression: text is read by the whitelist parser (never evaluated),
    a sympy expression or a number is taken as is."""
    import sympy

    from ..arithmetic.polynomial_text import parse_polynomial

    if isinstance(e, str):
        return parse_polynomial(e, xs)
    try:
        return sympy.sympify(e, strict=True)  # strict: no string conversion, no evaluation of text
    except (sympy.SympifyError, TypeError):
        raise InputError(f"could not read {type(e).__name__} {str(e)[:40]!r} as a polynomial; give text or a sympy "
                         "expression in x0, x1, ... e.g. 'x0**2 - 3*x0*x1'") from None


def contains(
    spec: str | Architecture | Context,
    f: FunctionLike,
    *,
    seed: int | None = None,
    tol: float = 1e-6,
) -> Result:
    """Is f in the Zariski closure of M?  ``f``: a callable on input batches (network layout), a
    sympy expression / string in x0, x1, ... (one per output coordinate), or a list of them."""
    t0 = time.perf_counter()
    ctx = as_context(spec, seed=seed)
    arch = ctx.arch
    if not (callable(f) and not hasattr(f, "free_symbols")):
        f = _polynomials(arch, f)  # read and check the polynomials before any path tracking
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
        return Result("contains", True, "numerical", ev, time.perf_counter() - t0, ctx.seed)
    if complete and res.counts.get("success", 0) == len(Z):
        return Result("contains", False, "numerical", ev, time.perf_counter() - t0, ctx.seed)
    ev["reason"] = "not found, but the witness set is incomplete or some paths failed: inconclusive"
    return Result("contains", None, "failed", ev, time.perf_counter() - t0, ctx.seed)
