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
from .dispatch import compiled_tracking, solve
from .homotopies import StraightLineHomotopy, _tables, random_gamma
from .linear_algebra import batched_solve, condition_numbers
from .paths import PathStatus, TrackerOptions, TrackResult
from .polynomial import PolynomialSystem
from .solutions import deduplicate
from .system import ParametrizedSystem, broadcast_parameters


def random_source(seed: int | None = 0, rng: np.random.Generator | None = None) -> np.random.Generator:
    """The random generator of an engine: ``rng`` itself when given, else ``np.random.default_rng(seed)``.

    ``seed`` is only an integer (or None: fresh entropy) and ``rng`` only a numpy Generator; anything else
    raises InputError (a Generator passed as ``seed`` is told to use ``rng=``)."""
    if isinstance(seed, np.random.Generator):
        raise InputError("seed must be an integer or None; got a numpy Generator: pass it as rng= instead")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InputError(f"seed must be an integer or None; got {seed!r}")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise InputError(f"rng must be a numpy.random.Generator or None (pass integers as seed=); got {rng!r}")
        return rng
    return np.random.default_rng(seed)


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
    n_duplicates: int  # paths whose endpoint another path shares (multiple roots, or path jumping)
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
    system: ParametrizedSystem,
    z: np.ndarray,
    p: np.ndarray | None,
    *,
    iters: int = 5,
    tol: float = 1e-13,
    return_update: bool = False,
):
    """Newton on F(.; p) from z (B, n); returns (z, |F|_inf, cond(F_z)) and, with
    ``return_update``, the size of the last Newton update relative to 1 + |z|_inf (tiny only where
    Newton converged quadratically, i.e. at a regular solution)."""
    z = np.array(z, dtype=complex)
    upd = np.zeros(z.shape[0])
    if z.shape[0] == 0:
        return (z, np.zeros(0), np.zeros(0), upd) if return_update else (z, np.zeros(0), np.zeros(0))
    P = broadcast_parameters(p, z.shape[0], system.n_params)
    if compiled_tracking(system):  # the same iteration path by path in compiled code
        from . import compiled as K

        B, n, m = z.shape[0], system.n_vars, system.n_params
        form = (_tables(system).arrays(),)
        P = np.ascontiguousarray(P, dtype=complex)
        D, G, T0 = np.zeros((B, m), dtype=complex), np.ones(B, dtype=complex), np.zeros(B)
        K.newton_iterations(0, B, z, T0, upd, P, D, G, form, int(iters), float(tol), False)
        F, J = np.empty((B, n), dtype=complex), np.empty((B, n, n), dtype=complex)
        K.values_range(0, B, z, T0, F, J, P, D, G, form)
        resid = np.where(np.all(np.isfinite(F), axis=1), np.max(np.abs(F), axis=1), np.inf)
        out = (z, resid, condition_numbers(J))
        return (*out, upd) if return_update else out
    for _ in range(iters):
        with np.errstate(all="ignore"):
            F, J = system.evaluate_and_jacobian(z, P)
            dz = batched_solve(J, -F)
        ok = np.all(np.isfinite(dz), axis=1)
        z[ok] += dz[ok]
        upd = np.where(ok, np.max(np.abs(np.where(np.isfinite(dz), dz, 0)), axis=1), np.inf)
        upd = upd / (1 + np.max(np.abs(z), axis=1))
        if np.all(upd <= tol):
            break
    with np.errstate(all="ignore"):
        F, J = system.evaluate_and_jacobian(z, P)
    resid = np.where(np.all(np.isfinite(F), axis=1), np.max(np.abs(F), axis=1), np.inf)
    out = (z, resid, condition_numbers(J))
    return (*out, upd) if return_update else out


def solve_total_degree(
    system: ParametrizedSystem,
    p: np.ndarray | None = None,
    *,
    degrees: Sequence[int] | None = None,
    projective: bool | None = None,
    seed: int | None = 0,
    rng: np.random.Generator | None = None,
    max_tries: int = 3,
    infinity_tol: float = 1e-6,
    valuation_tol: float = 0.01,
    singular_condition: float = 1e9,
    cluster_tol: float = 1e-5,
    singular_cluster_tol: float = 1e-3,
    options: TrackerOptions | None = None,
    **tracker_kwargs: Any,
) -> TotalDegreeResult:
    """All finite isolated solutions of F(z; p) = 0 by the total-degree homotopy.

    ``degrees`` is required for a black-box ``ParametrizedSystem`` (it must be the total degrees
    of its equations for the count to be complete); a ``PolynomialSystem`` knows them and is
    tracked projectively unless ``projective=False``.  Paths whose status is failed / max_steps
    are re-tracked with a fresh gamma (up to ``max_tries`` tracks per path).

    A projective endpoint is at infinity when |z_0| <= infinity_tol |w|_inf (so finite solutions
    with |z| beyond ~1/infinity_tol count as at infinity), or when z_0(t) ~ t^v with v >
    valuation_tol near t = 0.  Endpoints within the relative distance ``cluster_tol`` are one
    point; a point reached by one path with cond(F_z) < singular_condition is a regular
    solution, the others are singular solutions with their multiplicities (paths ending there).
    The random choices (gamma, chart) come from ``rng`` (a numpy Generator) when given, else from ``seed``
    (an integer).
    """
    start_time = time.perf_counter()
    rng = random_source(seed, rng)
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
        w0 = np.abs(W[:, n]) / np.max(np.abs(W), axis=1)
        # z_0(t) ~ t^v near t = 0 with v > 0: the path ends at infinity (z_0 = 0); a path that
        # reached t = 0 at a well-conditioned point needs z_0 small as well
        v0 = np.nan_to_num(res.valuation[:, n], nan=0.0)
        success = res.status == PathStatus.SUCCESS.value
        at_inf = (
            (w0 <= infinity_tol)
            | (res.status == PathStatus.DIVERGED.value)
            | ((v0 > valuation_tol) & (~success | (w0 <= np.sqrt(infinity_tol))))
        )
        cand = np.flatnonzero(finite_end & ~at_inf)
        with np.errstate(all="ignore"):
            Z = W[cand, :n] / W[cand, n : n + 1]
        n_inf = int(np.sum(at_inf))
        near_inf = w0[cand] < 1e-2
    else:
        start = total_degree_start_system(degrees)
        hom = StraightLineHomotopy(system, start, gamma, target_params=p_arr)
        res = solve(hom, starts, max_tries=max_tries, rng=rng, options=options, **tracker_kwargs)
        finite_end = np.isin(res.status, [PathStatus.SUCCESS.value, PathStatus.SINGULAR.value])
        cand = np.flatnonzero(finite_end)
        Z = res.endpoints[cand]
        n_inf = int(np.sum(res.status == PathStatus.DIVERGED.value))
        near_inf = np.zeros(len(cand), dtype=bool)
    n_failed = int(np.sum(np.isin(res.status, [PathStatus.FAILED.value, PathStatus.MAX_STEPS.value])))
    Z_end = Z
    Zr, resid, cond, upd = newton_refine(system, Z_end, p_arr, return_update=True)
    scale = 1 + np.max(np.abs(Zr), axis=1, initial=0) if len(Zr) else np.zeros(0)
    # regular: well conditioned, solves F = 0, and Newton converged quadratically
    looks_regular = (cond < singular_condition) & (resid <= 1e-8 * scale) & (upd <= 1e-10)
    # near a singular point Newton may wander off: keep the tracked endpoint there; one that does
    # not even approximately solve F = 0 is unresolved (at infinity when its homogenising
    # coordinate is small, a failure otherwise)
    if len(Z_end):
        P = np.broadcast_to(np.zeros((1, 0)) if p_arr is None else p_arr, (len(Z_end), system.n_params))
        with np.errstate(all="ignore"):
            r_end = np.max(np.abs(system.evaluate(Z_end, P)), axis=1)
        solves = np.isfinite(r_end) & (r_end <= 1e-6 * (1 + np.max(np.abs(Z_end), axis=1)))
    else:
        solves = np.zeros(0, dtype=bool)
    unresolved = ~looks_regular & ~solves
    n_inf += int(np.sum(unresolved & near_inf))
    n_failed += int(np.sum(unresolved & ~near_inf))
    valid = np.flatnonzero(~unresolved)
    Zc = np.where(looks_regular[:, None], Zr, Z_end)[valid] if len(valid) else np.zeros((0, n), dtype=complex)
    # endpoints shared by several paths are multiple roots (for a generic gamma, paths of the
    # total-degree homotopy do not meet before t = 0); so are the ill-conditioned ones
    labels = deduplicate(Zc, tol=cluster_tol, return_labels=True)
    uniq, first, sizes = (
        np.unique(labels, return_index=True, return_counts=True) if len(labels) else (np.zeros(0, int),) * 3
    )
    single_regular = (sizes == 1) & looks_regular[valid][first]
    reg = first[single_regular]
    sols, res_s, cond_s = Zc[reg], resid[valid][reg], cond[valid][reg]
    # approximations of a k-fold root are only ~eps^(1/k) accurate (no endgame): merge the
    # singular classes again with the looser singular_cluster_tol
    sing_first, sing_sizes = first[~single_regular], sizes[~single_regular]
    lab2 = deduplicate(Zc[sing_first], tol=singular_cluster_tol, return_labels=True)
    if len(lab2):
        u2, f2 = np.unique(lab2, return_index=True)
        counts = np.array([int(sing_sizes[lab2 == u].sum()) for u in u2], dtype=int)
        sing = Zc[sing_first[f2]]
    else:
        counts, sing = np.zeros(0, dtype=int), np.zeros((0, n), dtype=complex)
    n_shared = int(np.sum(counts[counts > 1])) + int(np.sum(sizes[single_regular] > 1))
    return TotalDegreeResult(
        solutions=sols,
        singular_solutions=sing,
        multiplicities=counts,
        n_paths=int(starts.shape[0]),
        n_at_infinity=n_inf,
        n_failed=n_failed,
        n_retried=res.n_retried,
        n_duplicates=n_shared,
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
    "random_source",
    "TotalDegreeResult",
]
