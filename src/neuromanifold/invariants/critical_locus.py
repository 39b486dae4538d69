"""Do the singular points of M come from subnetworks?  A numerical check on sampled critical points.

The seed talk conjectures that the singular points of a neuromanifold are images of subnetworks.  We
sample real critical points of mu and test each one:

1. Critical points: (theta, v) with J(theta) v = 0, v a unit vector orthogonal to the tangents
   G(theta) of the known symmetry orbits, and every layer of theta of norm one (the zero function is a
   family of its own), found by Levenberg-Marquardt least squares from random real starts.  When the
   generic fibers are exactly the symmetry orbits (N - rank G = dim M), such a v exists iff
   rank J(theta) < dim M.  Accepted when the residual is below 1e-10 and sigma_k / sigma_1 of J is below
   1e-7 (numerical).
2. Is y = mu(theta) singular on M?  The multiplicity of the Zariski closure at y
   (``multiplicity.network_multiplicity``: 1 smooth, >= 2 singular; numerical, ``None`` inconclusive).
3. Does y lie in the image of a subnetwork family (``singularities.subnetwork_families``)?  Least
   squares min |c(theta') - y| over theta' with the family's zeros, from theta with those entries set to
   zero and from random starts; member when the residual is below 1e-7 relative (numerical; a family
   image that y only lies in the closure of is approached slowly and may be missed).

A singular image in no family is a counterexample to the conjecture for this architecture (reported,
never forced).  Real critical points only: the search runs over the reals.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..context import Context
from ..result import Result
from .dimension import dimension_data

CRITICAL_TOL = 1e-7  # sigma_k / sigma_1 of J at an accepted critical point
MEMBER_TOL = 1e-7  # relative residual of a family preimage


def _layers(arch: Any) -> list[np.ndarray]:
    off, out = arch.offsets(), []
    for name, shape in arch.param_shapes().items():
        out.append(np.arange(off[name], off[name] + int(np.prod(shape))))
    return out


def critical_points_of_mu(ctx: Context, n_starts: int, rng: np.random.Generator) -> tuple[list[np.ndarray], dict]:
    """Real critical points of mu with unit-norm layers (Levenberg-Marquardt on J v = 0, G^T v = 0)."""
    from scipy.optimize import least_squares

    from ..coefficients import coefficient_map

    arch = ctx.arch
    cmap = ctx.cached("coefficient_map", lambda: coefficient_map(arch))
    P = cmap.polynomials
    k, N = dimension_data(ctx).lower, arch.n_params
    layers = _layers(arch)

    def J(th: np.ndarray) -> np.ndarray:
        return P.jacobian(th.astype(complex)[None, :])[0].real

    def res(x: np.ndarray) -> np.ndarray:
        th, v = x[:N], x[N:]
        G = arch.symmetry_matrix(th)
        return np.concatenate([J(th) @ v, G.T @ v, [v @ v - 1], [th[ix] @ th[ix] - 1 for ix in layers]])

    found, runs = [], []
    for _ in range(n_starts):
        x0 = np.concatenate([rng.standard_normal(N), rng.standard_normal(N)])
        for ix in layers:
            x0[ix] /= np.linalg.norm(x0[ix])
        x0[N:] /= np.linalg.norm(x0[N:])
        r = least_squares(res, x0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=4000)
        th = r.x[:N]
        s = np.linalg.svd(J(th), compute_uv=False)
        ratio = float(s[k - 1] / s[0]) if s[0] > 0 else 0.0
        ok = bool(np.max(np.abs(r.fun)) < 1e-10 and ratio < CRITICAL_TOL)
        runs.append({"residual": float(np.max(np.abs(r.fun))), "sigma_k_over_sigma_1": ratio, "accepted": ok})
        if ok:
            found.append(th)
    return found, {"starts": n_starts, "accepted": len(found)}


def _in_family(P: Any, zero: list[int], y: np.ndarray, th0: np.ndarray, rng: np.random.Generator,
               restarts: int = 4) -> float:
    """Smallest relative residual min |c(theta') - y| over theta' with theta'[zero] = 0 (least squares)."""
    from scipy.optimize import least_squares

    N = len(th0)
    free = np.setdiff1d(np.arange(N), zero)

    def full(z: np.ndarray) -> np.ndarray:
        th = np.zeros(N)
        th[free] = z
        return th

    def fun(z: np.ndarray) -> np.ndarray:
        return P.evaluate(full(z).astype(complex)[None, :])[0].real - y

    def jac(z: np.ndarray) -> np.ndarray:
        return P.jacobian(full(z).astype(complex)[None, :])[0].real[:, free]

    scale = 1 + np.max(np.abs(y))
    best = np.inf
    starts = [th0[free]] + [rng.standard_normal(len(free)) for _ in range(restarts)]
    for z0 in starts:
        r = least_squares(fun, z0, jac=jac, method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=2000)
        best = min(best, float(np.max(np.abs(r.fun)) / scale))
        if best < MEMBER_TOL:
            break
    return best


def subnetwork_conjecture(ctx: Context, n_starts: int = 20) -> Result:
    """Sample real critical points of mu; for each: is mu(theta) singular on M, is it in a subnetwork family."""
    from ..coefficients import coefficient_map
    from .multiplicity import network_multiplicity
    from .singularities import subnetwork_families

    t0 = time.perf_counter()
    arch = ctx.arch
    d = dimension_data(ctx)
    k, N = d.lower, arch.n_params
    rng = ctx.rng("subnetwork-conjecture")
    G = arch.symmetry_matrix(rng.standard_normal(N))
    if N - np.linalg.matrix_rank(G) != k:
        return Result("subnetwork_conjecture", None, "failed",
                      {"reason": f"generic fibers of mu are larger than the symmetry orbits (N - rank G = "
                       f"{N - np.linalg.matrix_rank(G)} != dim M = {k}): J v = 0, v orthogonal to G, does not "
                       "characterise critical points"}, time.perf_counter() - t0, ctx.seed)
    P = ctx.cached("coefficient_map", lambda: coefficient_map(arch)).polynomials
    fams = subnetwork_families(arch)
    pts, search = critical_points_of_mu(ctx, n_starts, rng)
    rows = []
    for th in pts:
        y = P.evaluate(th.astype(complex)[None, :])[0].real
        mult = network_multiplicity(ctx, th, rng)
        members = []
        for fam in fams:
            th0 = th.copy()
            th0[fam.zero] = 0
            resid = _in_family(P, fam.zero, y, th0, rng)
            if resid < MEMBER_TOL:
                members.append(fam.name)
        rows.append({"theta": th.tolist(), "function": y.tolist(), "multiplicity": mult["multiplicity"],
                     "singular": None if mult["multiplicity"] is None else mult["multiplicity"] >= 2,
                     "families": members})
    counter = [r for r in rows if r["singular"] and not r["families"]]
    undecided = sum(1 for r in rows if r["singular"] is None)
    ev = {"critical_points": rows, "search": search, "counterexamples": len(counter), "undecided": undecided,
          "families_checked": [f.name for f in fams],
          "meaning": "value: the number of sampled singular images of critical points that lie in no subnetwork "
          "family (0: the conjecture holds on this sample; > 0: counterexamples)",
          "method": __doc__.split("\n\n")[1] if __doc__ else ""}
    status = "numerical" if rows else "failed"
    if not rows:
        ev["reason"] = "no critical point of mu was found"
    return Result("subnetwork_conjecture", len(counter), status, ev, time.perf_counter() - t0, ctx.seed)


__all__ = ["critical_points_of_mu", "subnetwork_conjecture"]
