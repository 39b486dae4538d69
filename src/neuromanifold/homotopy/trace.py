"""The trace test: is a witness set complete?

Let X be a variety and L_c = {A x = b0 + c v} a pencil of parallel affine slices of
complementary dimension (c in C).  The trace tr(c) = sum of the points of X ∩ L_c (in linear
coordinates of the ambient space) is an affine-linear function of c; the sum over any proper
subset of the points is not (unless that subset is itself a union of complete witness sets of
components).  So with the slice offset as the parameter p of F(z; p), we track every witness
point from p0 to p0 + delta v and to p0 - delta v (parameter homotopies inside the pencil,
since the gamma-arc keeps p on the complex line p0 + C v) and test

    residual = |tr(+delta) + tr(-delta) - 2 tr(0)|_inf / sum_i |image(z_i)|_inf  <  threshold.

For a pseudo-witness set of an image phi(C^N) the points are the images phi(z): pass
``image(z, p) -> (B, k)``.  Repeating with an independent random direction v (``repeats``)
guards against a false pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .start import newton_refine
from .system import ParametrizedSystem, as_batch
from .tracker import ParameterHomotopy, PathStatus, TrackerOptions, random_gamma, solve

ImageFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class TraceTestResult:
    """Outcome of the trace test (``bool(result)`` is ``passed``)."""

    passed: bool
    residual: float  # the largest residual over the repeats
    threshold: float
    residuals: list[float]
    n_points: int
    paths_tracked: int
    path_failures: int
    paths_retried: int
    delta: float
    directions: list[np.ndarray] = field(default_factory=list)
    traces: list[np.ndarray] = field(default_factory=list)  # per repeat (3, k): tr(-delta), tr(0), tr(+delta)
    reason: str = ""
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return self.passed

    def evidence(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "residual": self.residual,
            "residuals": list(self.residuals),
            "threshold": self.threshold,
            "points": self.n_points,
            "repeats": len(self.residuals),
            "paths_tracked": self.paths_tracked,
            "path_failures": self.path_failures,
            "paths_retried": self.paths_retried,
            "reason": self.reason,
            "seconds": round(self.seconds, 4),
        }

    def __repr__(self) -> str:
        return (
            f"TraceTestResult(passed={self.passed}, residual={self.residual:.3g}, threshold={self.threshold:g}, "
            f"points={self.n_points}, repeats={len(self.residuals)}, failures={self.path_failures}"
            + (f", reason={self.reason!r}" if self.reason else "")
            + ")"
        )


def trace_test(
    system: ParametrizedSystem,
    p0: np.ndarray,
    points: np.ndarray,
    *,
    image: ImageFunction | None = None,
    direction: np.ndarray | None = None,
    delta: float = 0.5,
    repeats: int = 1,
    threshold: float = 1e-6,
    seed: int | np.random.Generator | None = 0,
    max_tries: int = 3,
    options: TrackerOptions | None = None,
    **tracker_kwargs: Any,
) -> TraceTestResult:
    """Trace test of the witness points ``points`` (B, n) of F(z; p0) = 0, p the slice offset.

    direction: v for the first repeat (default random complex, |v| = max(1, |p0|)); each further
    repeat uses a fresh independent random direction.  Passes only if every repeat passes and
    no path failed.
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    m = system.n_params
    if m == 0:
        raise InputError("the trace test moves the slice offset: the system needs parameters (n_params > 0)")
    if repeats < 1:
        raise InputError("repeats must be >= 1")
    p0 = np.asarray(p0, dtype=complex).reshape(-1)
    if p0.shape != (m,):
        raise InputError(f"p0 must have length n_params = {m}; got {p0.shape[0]}")
    Z = as_batch(points, system.n_vars, "points")
    imagef: ImageFunction = image if image is not None else (lambda z, p: z)
    scale_p = max(1.0, float(np.linalg.norm(p0)))
    out = TraceTestResult(
        passed=False, residual=float("inf"), threshold=threshold, residuals=[], n_points=len(Z),
        paths_tracked=0, path_failures=0, paths_retried=0, delta=delta,
    )
    if len(Z) == 0:
        out.reason = "no witness points"
        out.seconds = time.perf_counter() - t0
        return out
    Z, resid, _ = newton_refine(system, Z, p0)
    if not np.all(resid <= 1e-8 * (1 + np.max(np.abs(Z), axis=1))):
        raise InputError("some witness points do not satisfy F(z; p0) = 0; pass solutions of the system at p0")
    img0 = np.asarray(imagef(Z, p0), dtype=complex).reshape(len(Z), -1)
    tr0 = img0.sum(axis=0)
    scale = float(np.sum(np.max(np.abs(img0), axis=1))) or 1.0
    ok_all = True
    for r in range(repeats):
        if r == 0 and direction is not None:
            v = np.asarray(direction, dtype=complex).reshape(-1)
            if v.shape != (m,):
                raise InputError(f"direction must have length n_params = {m}")
        else:
            v = rng.standard_normal(m) + 1j * rng.standard_normal(m)
            v *= scale_p / np.linalg.norm(v)
        traces = []
        failed = 0
        for sign in (-1.0, 1.0):
            p1 = p0 + sign * delta * v
            hom = ParameterHomotopy(system, p0, p1, gamma=random_gamma(rng))
            res = solve(hom, Z, max_tries=max_tries, retry=_RETRY_ALL, rng=rng, options=options, **tracker_kwargs)
            out.paths_tracked += res.n_paths
            out.paths_retried += res.n_retried
            failed += int(np.sum(~res.success))
            img = np.asarray(imagef(res.endpoints, p1), dtype=complex).reshape(len(Z), -1)
            traces.append(img.sum(axis=0))
        out.path_failures += failed
        tr = np.stack([traces[0], tr0, traces[1]])
        res_r = float(np.max(np.abs(tr[0] + tr[2] - 2 * tr[1])) / scale)
        if not np.isfinite(res_r):
            res_r = float("inf")
        out.residuals.append(res_r)
        out.directions.append(v)
        out.traces.append(tr)
        if failed:
            ok_all = False
            out.reason = f"{failed} paths failed to reach p0 +- delta v; the test is inconclusive"
        elif res_r >= threshold:
            ok_all = False
    out.residual = max(out.residuals)
    out.passed = ok_all and out.residual < threshold
    if not out.passed and not out.reason:
        out.reason = "the trace is not linear along the pencil: the witness set is incomplete"
    out.seconds = time.perf_counter() - t0
    return out


def make_trace_test(
    system: ParametrizedSystem,
    *,
    image: ImageFunction | None = None,
    repeats: int = 2,
    threshold: float = 1e-6,
    delta: float = 0.5,
    seed: int | None = 0,
    **kwargs: Any,
) -> Callable[[np.ndarray, np.ndarray], TraceTestResult]:
    """A ``trace_test`` callback for ``monodromy_solve``: each call uses fresh random directions."""
    rng = np.random.default_rng(seed)

    def callback(points: np.ndarray, p0: np.ndarray) -> TraceTestResult:
        return trace_test(
            system, p0, points, image=image, repeats=repeats, threshold=threshold, delta=delta,
            seed=int(rng.integers(2**63 - 1)), **kwargs,
        )

    return callback


_RETRY_ALL = tuple(s.value for s in PathStatus if s is not PathStatus.SUCCESS)

__all__ = ["trace_test", "make_trace_test", "TraceTestResult", "ImageFunction"]
