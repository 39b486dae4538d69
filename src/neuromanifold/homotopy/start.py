"""Total-degree homotopy: all isolated solutions of a square polynomial system.

The start system G_i(z) = z_i^{d_i} - 1 (d_i = deg F_i) has the prod d_i solutions
(zeta_1, ..., zeta_n) with zeta_i a d_i-th root of unity; by Bezout every isolated solution of
F = 0 is the end of a path of H = (1 - t) F + gamma t G.  For a ``PolynomialSystem`` we track in
projective space on a random affine chart <a, w> = 1 of P^n (w = (z, z_0)): the homogenised
start system G_i = z_i^{d_i} - z_0^{d_i} keeps every path bounded, and the paths that end at
z_0 = 0 are the solutions at infinity.  Black-box systems are tracked in affine space (pass
their degrees) and diverging paths are those whose |z| blows up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import InputError
from .polynomial import PolynomialSystem
from .solutions import deduplicate
from .system import ParametrizedSystem, broadcast_parameters
from .tracker import (
    PathStatus,
    StraightLineHomotopy,
    TrackerOptions,
    TrackResult,
    batched_solve,
    condition_numbers,
    random_gamma,
    solve,
)


def total_degree_start_system(degrees: Iterable[int]) -> PolynomialSystem:
    """G_i(z) = z_i^{d_i} - 1."""
    degs = [int(d) for d in degrees]
    if any(d < 1 for d in degs):
        raise InputError(f"every degree must be >= 1; got {degs}")
    n = len(degs)
    polys = []
    for i, d in enumerate(degs):
        e = [0] * n
        e[i] = d
        polys.append({tuple(e): 1.0, (0,) * n: -1.0})
    return PolynomialSystem(polys, n, 0)


def total_degree_start_solutions(degrees: Sequence[int]) -> np.ndarray:
    """All prod d_i solutions of z_i^{d_i} = 1 (tuples of roots of unity), shape (prod d, n)."""
    degs = [int(d) for d in degrees]
    grids = np.meshgrid(*[np.exp(2j * np.pi * np.arange(d) / d) for d in degs], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def _projective_start_system(degrees: Sequence[int], chart: np.ndarray) -> PolynomialSystem:
    """G_i(w) = z_i^{d_i} - z_0^{d_i} (i < n) and <chart, w> - 1, in w = (z_1..z_n, z_0)."""
    n = len(degrees)
    polys = []
    for i, d in enumerate(degrees):
        e, e0 = [0] * (n + 1), [0] * (n + 1)
        e[i], e0[n] = int(d), int(d)
        polys.append({tuple(e): 1.0, tuple(e0): -1.0})
    lin = {tuple(1 if k == j else 0 for k in range(n + 1)): chart[j] for j in range(n + 1)}
    lin[(0,) * (n + 1)] = -1.0
    polys.append(lin)
    return PolynomialSystem(polys, n + 1, 0)


@dataclass
class TotalDegreeResult:
    """The finite isolated solutions found by a total-degree homotopy, with the fate of every path."""

    solutions: np.ndarray  # (k, n) distinct finite regular solutions
    singular_solutions: np.ndarray  # (s, n) distinct finite singular endpoints
    multiplicities: np.ndarray  # (s,) how many paths ended at each singular endpoint
    n_paths: int
    n_at_infinity: int  # paths that diverged / ended at infinity
    n_failed: int  # paths that failed or ran out of steps after all retries
    n_retried: int
    n_duplicates: int  # regular endpoints reached by more than one path (a sign of path jumping)
    projective: bool
    track_result: TrackResult
    residuals: np.ndarray  # (k,) |F(z)|_inf of the solutions
    conditions: np.ndarray  # (k,) cond(F_z) at the solutions
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_solutions(self) -> int:
        return int(len(self.solutions))

    def evidence(self) -> dict[str, Any]:
        return {
            "method": "total degree homotopy" + (" (projective chart)" if self.projective else " (affine)"),
            "paths_tracked": self.n_paths,
            "finite_regular": self.n_solutions,
            "finite_singular": int(len(self.singular_solutions)),
            "at_infinity": self.n_at_infinity,
            "failed": self.n_failed,
            "paths_retried": self.n_retried,
            "duplicate_endpoints": self.n_duplicates,
            "status_counts": self.track_result.counts,
            "max_residual": float(self.residuals.max(initial=0.0)),
            "max_condition": float(self.conditions.max(initial=0.0)),
            "seconds": round(self.seconds, 4),
        }

    def __repr__(self) -> str:
        return (
            f"TotalDegreeResult(solutions={self.n_solutions}, singular={len(self.singular_solutions)}, "
            f"at_infinity={self.n_at_infinity}, failed={self.n_failed}, paths={self.n_paths}, "
            f"retried={self.n_retried}, duplicates={self.n_duplicates}, {self.seconds:.2f}s)"
        )


def newton_refine(
    system: ParametrizedSystem, z: np.ndarray, p: np.ndarray | None, iters: int = 5, tol: float = 1e-13
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton on F(.; p) from z (B, n); returns (z, |F|_inf, cond(F_z))."""
    z = np.array(z, dtype=complex)
    if z.shape[0] == 0:
        return z, np.zeros(0), np.zeros(0)
    P = broadcast_parameters(p, z.shape[0], system.n_params)
    for _ in range(iters):
        F, J = system.evaluate_and_jacobian(z, P)
        with np.errstate(all="ignore"):
            dz = batched_solve(J, -F)
        ok = np.all(np.isfinite(dz), axis=1)
        z[ok] += dz[ok]
        if np.all(np.max(np.abs(dz[ok]), axis=1, initial=0) <= tol * (1 + np.max(np.abs(z[ok]), axis=1, initial=0))):
            break
    with np.errstate(all="ignore"):
        F, J = system.evaluate_and_jacobian(z, P)
    resid = np.where(np.all(np.isfinite(F), axis=1), np.max(np.abs(F), axis=1), np.inf)
    return z, resid, condition_numbers(J)


def solve_total_degree(
    system: ParametrizedSystem,
    p: np.ndarray | None = None,
    *,
    degrees: Sequence[int] | None = None,
    projective: bool | None = None,
    seed: int | np.random.Generator | None = 0,
    max_tries: int = 3,
    infinity_tol: float = 1e-7,
    valuation_tol: float = 0.01,
    singular_condition: float = 1e9,
    dedup_tol: float = 1e-7,
    options: TrackerOptions | None = None,
    **tracker_kwargs: Any,
) -> TotalDegreeResult:
    """All finite isolated solutions of F(z; p) = 0 by the total-degree homotopy.

    ``degrees`` is required for a black-box ``ParametrizedSystem`` (it must be the total degrees
    of its equations for the count to be complete); a ``PolynomialSystem`` knows them and is
    tracked projectively unless ``projective=False``.  Paths whose status is failed / max_steps
    are re-tracked with a fresh gamma (up to ``max_tries`` tracks per path).
    """
    start_time = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = system.n_vars
    if degrees is None:
        if not isinstance(system, PolynomialSystem):
            raise InputError("pass degrees=[deg F_1, ..., deg F_n] for a system that is not a PolynomialSystem")
        degrees = system.degrees.tolist()
    degrees = [int(d) for d in degrees]
    if len(degrees) != n:
        raise InputError(f"need one degree per equation: {n} equations, {len(degrees)} degrees")
    if projective is None:
        projective = isinstance(system, PolynomialSystem)
    if projective and not isinstance(system, PolynomialSystem):
        raise InputError("projective tracking needs a PolynomialSystem (to homogenise); use projective=False")
    p_arr = None if p is None else np.asarray(p, dtype=complex).reshape(-1)
    broadcast_parameters(p_arr, 1, system.n_params)
    gamma = random_gamma(rng)
    starts = total_degree_start_solutions(degrees)
    if projective:
        chart = rng.standard_normal(n + 1) + 1j * rng.standard_normal(n + 1)
        chart /= np.linalg.norm(chart)
        target = system.homogenize(chart)
        start = _projective_start_system(degrees, chart)
        w = np.concatenate([starts, np.ones((starts.shape[0], 1))], axis=1)
        w /= (w @ chart)[:, None]
        hom = StraightLineHomotopy(target, start, gamma, target_params=p_arr)
        res = solve(hom, w, max_tries=max_tries, rng=rng, options=options, **tracker_kwargs)
        W = res.endpoints
        finite_end = np.isin(res.status, [PathStatus.SUCCESS.value, PathStatus.SINGULAR.value])
        w0 = np.abs(W[:, n])
        # z_0(t) ~ t^v near t = 0 with v > 0: the path ends at infinity (z_0 = 0)
        v0 = np.nan_to_num(res.valuation[:, n], nan=0.0)
        at_inf = (
            (w0 <= infinity_tol * np.max(np.abs(W), axis=1))
            | (res.status == PathStatus.DIVERGED.value)
            | ((res.status != PathStatus.SUCCESS.value) & (v0 > valuation_tol))
        )
        cand = np.flatnonzero(finite_end & ~at_inf)
        with np.errstate(all="ignore"):
            Z = W[cand, :n] / W[cand, n : n + 1]
        n_inf = int(np.sum(at_inf))
    else:
        start = total_degree_start_system(degrees)
        hom = StraightLineHomotopy(system, start, gamma, target_params=p_arr)
        res = solve(hom, starts, max_tries=max_tries, rng=rng, options=options, **tracker_kwargs)
        finite_end = np.isin(res.status, [PathStatus.SUCCESS.value, PathStatus.SINGULAR.value])
        cand = np.flatnonzero(finite_end)
        Z = res.endpoints[cand]
        n_inf = int(np.sum(res.status == PathStatus.DIVERGED.value))
    n_failed = int(np.sum(np.isin(res.status, [PathStatus.FAILED.value, PathStatus.MAX_STEPS.value])))
    Z, resid, cond = newton_refine(system, Z, p_arr)
    scale = 1 + np.max(np.abs(Z), axis=1, initial=0) if len(Z) else np.zeros(0)
    regular = (cond < singular_condition) & (resid <= 1e-8 * scale)
    reg_idx = np.flatnonzero(regular)
    keep = deduplicate(Z[reg_idx], tol=dedup_tol)
    sols, res_s, cond_s = Z[reg_idx][keep], resid[reg_idx][keep], cond[reg_idx][keep]
    sing_idx = np.flatnonzero(~regular)
    labels = deduplicate(Z[sing_idx], tol=1e-4, return_labels=True)
    uniq, counts = np.unique(labels, return_counts=True) if len(labels) else (np.zeros(0, int), np.zeros(0, int))
    first = np.array([np.flatnonzero(labels == u)[0] for u in uniq], dtype=int)
    sing = Z[sing_idx][first] if len(first) else np.zeros((0, n), dtype=complex)
    return TotalDegreeResult(
        solutions=sols,
        singular_solutions=sing,
        multiplicities=counts,
        n_paths=int(starts.shape[0]),
        n_at_infinity=n_inf,
        n_failed=n_failed,
        n_retried=res.n_retried,
        n_duplicates=int(len(reg_idx) - len(keep)),
        projective=bool(projective),
        track_result=res,
        residuals=res_s,
        conditions=cond_s,
        seconds=time.perf_counter() - start_time,
    )


__all__ = [
    "total_degree_start_system",
    "total_degree_start_solutions",
    "solve_total_degree",
    "newton_refine",
    "TotalDegreeResult",
]
