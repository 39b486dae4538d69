"""Do the singular points of M come from subnetworks?  A numerical check on sampled critical and double points.

The seed talk conjectures that the singular points of a neuromanifold are images of subnetworks.  We
sample real critical points of mu (points where rank d mu < dim M) and test each one:

1. Critical points, by Levenberg-Marquardt least squares from random real starts on the system
   J(theta) U = 0, U^T U = I, where U has one column more than the generic fiber dimension N - dim M can
   fill: when the known symmetries explain the generic fiber (N - rank G = dim M) U is one unit vector v
   with G(theta)^T v = 0 (G: the symmetry tangents); otherwise U has N - dim M + 1 orthonormal columns.
   The network function is multi-homogeneous in the weights of each bias-free layer, so the critical locus
   is invariant under rescaling such a layer: half of the starts put every such layer on its unit sphere
   (critical points with all layers nonzero), the other half only their concatenation (these may end on a
   zero layer, a critical point whose image is 0).  A layer w in which c has degree d is set to zero when
   |w|^d < 1e-10 (it converged to zero), the others are rescaled to norm one; the point is accepted when
   sigma_k / sigma_1 of J(theta) is below 1e-7 there, k = dim M (numerical; sigma_1 = 0 counts).
2. Is y = mu(theta) singular on M?  If the closure of M is a linear space (dim M = dim span(M), exact
   ranks) no point is (certified).  If y = 0 and M is a cone (some layer homogeneous), y is the vertex,
   singular as M is not a linear space (certified when dim M < dim span(M) by the exact bounds).
   Otherwise the multiplicity of the Zariski closure at y (``multiplicity.network_multiplicity``, local
   degree from a witness set, at y / |y| when M is a cone: 1 smooth, >= 2 singular; numerical, ``None``
   inconclusive).
3. Does y lie in the image of a subnetwork family (``singularities.subnetwork_families``)?  Asked unless
   y is a smooth point (``families`` is then None).  Least squares min |c(theta') - y| over theta' in the
   family's linear subspace (its zeros; for equivariant networks also isotypic components of a layer zero,
   theta' = B z with B an orthonormal basis), from theta projected onto it and from random starts; member when the
   residual is below 1e-7 relative (numerical; a family image that y only lies in the closure of is
   approached slowly and may be missed).
4. Self-intersections (double points): singular points of M need not be images of critical points; where
   two branches of M cross, y = mu(theta) = mu(theta') with theta, theta' regular and in different fibers.
   When every layer is homogeneous and the known symmetries are layer rescalings (CNNs), pairs with
   c(theta) = c(theta'), the layers on unit spheres (theta' except its layer of lowest degree) and
   sum_i (1 - <w_i, w'_i>^2) >= 0.25 are found by the same least squares from random starts, and their
   images go through steps 2 and 3.  For polynomial CNNs with r >= 2 these are the interesting points: the
   critical points of mu all have a zero filter (image 0), while M has nodes along the images of the
   tap-dropped families (Shahverdi, Marchetti, Kohn 2025).

A sampled singular point in no family is a counterexample to the conjecture for this architecture
(reported, never forced); a point whose singularity is undecided and that lies in no family makes the
count a lower bound.  Real points only: the searches run over the reals.
"""

from __future__ import annotations

import time
import string
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..context import Context
from ..errors import InputError
from ..result import Result
from .dimension import ambient_data, dimension_data

CRITICAL_TOL = 1e-7  # sigma_k / sigma_1 of J at an accepted critical point (layers balanced)
SNAP_TOL = 1e-10  # a layer with |w|^d below this (d: degree of c in it, |theta| ~ 1) converged to zero
MEMBER_TOL = 1e-7  # relative residual of a family preimage
ZERO_TOL = 1e-12  # |mu(theta)|_inf below this: the zero function
DEFAULT_STARTS = 16
SEPARATION = 0.25  # least layer-wise separation 1 - <w, w'>^2 (summed) of the two points of a double point
MAX_NFEV = 3000
STEP = 1e-30  # complex-step size for second derivatives (exact to rounding)


@dataclass
class CriticalPoint:
    """A real critical point of mu: ``theta`` (homogeneous layers of norm 0 or 1)."""

    theta: np.ndarray
    ratio: float  # sigma_k / sigma_1 of J(theta)
    rank: int  # numerical rank of J(theta)
    zero_layers: list[str]
    mode: str  # "layers" or "sphere"
    residual: float  # of the least-squares system at its end point (before snapping)


def _layers(arch: Any) -> list[tuple[str, np.ndarray]]:
    off, out = arch.offsets(), []
    for name, shape in arch.param_shapes().items():
        out.append((name, np.arange(off[name], off[name] + int(np.prod(shape)))))
    return out


def _degree(P: Any, th: np.ndarray, ix: np.ndarray) -> int | None:
    """Degree d >= 1 with c(.., t theta[ix], ..) = t^d c(theta) at a random point (t = 2, 3), else None."""
    y = P.evaluate(th.astype(complex)[None, :])[0]
    scale = np.max(np.abs(y))
    if scale == 0:
        return None
    degs = set()
    for t in (2.0, 3.0):
        tt = th.copy()
        tt[ix] *= t
        yt = P.evaluate(tt.astype(complex)[None, :])[0]
        d = int(round(np.log(np.max(np.abs(yt)) / scale) / np.log(t)))
        if d < 1 or not np.allclose(yt, t**d * y, rtol=1e-9, atol=1e-12 * t**d * scale):
            return None
        degs.add(d)
    return degs.pop() if len(degs) == 1 else None


def _units(arch: Any, P: Any, rng: np.random.Generator) -> list[tuple[str, np.ndarray, int | None]]:
    """The parameter arrays with the degree of c in each (None: not homogeneous); arrays that are not
    homogeneous on their own are grouped by layer index (W2 with b2: an affine layer) and tested again."""
    th = rng.standard_normal(arch.n_params)
    units = [(name, ix, _degree(P, th, ix)) for name, ix in _layers(arch)]
    groups: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, ix, d in units:
        if d is None:
            groups.setdefault(name.lstrip(string.ascii_letters + "_"), []).append((name, ix))
    out = [u for u in units if u[2] is not None]
    for members in groups.values():
        ix = np.concatenate([m[1] for m in members])
        d = _degree(P, th, ix) if len(members) > 1 else None
        out.append(("+".join(m[0] for m in members), ix, d))
    return out


class _System:
    """The least-squares system of one start: unknowns x = (theta, U), residual and exact Jacobian."""

    def __init__(self, P: Any, dP: list[Any], A: np.ndarray, c0: np.ndarray, N: int, cols: int,
                 use_G: bool, norms: list[np.ndarray]):
        self.P, self.dP, self.A, self.c0, self.N, self.cols = P, dP, A, c0, N, cols
        self.use_G, self.norms = use_G, norms
        self.iu = np.triu_indices(cols)

    def jac_c(self, Z: np.ndarray) -> np.ndarray:
        """(B, D, N) complex Jacobians of c at a batch Z (B, N) (holomorphic: complex steps work)."""
        return np.stack([d.evaluate(Z) for d in self.dP], axis=2)

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[: self.N], x[self.N:].reshape(self.N, self.cols)

    def residual(self, x: np.ndarray) -> np.ndarray:
        th, U = self.split(x)
        J = self.jac_c(th.astype(complex)[None, :])[0].real
        parts = [(J @ U).reshape(-1)]
        if self.use_G:
            G = np.einsum("gij,j->ig", self.A, th) + self.c0.T  # (N, g)
            parts.append(G.T @ U[:, 0])
        parts.append((U.T @ U - np.eye(self.cols))[self.iu])
        parts.append(np.array([th[ix] @ th[ix] - 1.0 for ix in self.norms]))
        return np.concatenate(parts)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        th, U = self.split(x)
        N, c = self.N, self.cols
        Z = np.concatenate([th[None, :], th[None, :] + 1j * STEP * np.eye(N)]).astype(complex)
        Js = self.jac_c(Z)
        J = Js[0].real
        dJ = Js[1:].imag / STEP  # (N, D, N): d J / d theta_l
        D = J.shape[0]
        rows = []
        # J U (D x c, row-major): d/d theta_l = dJ_l U; d/d U[j, a] = J[:, j] e_a
        d_th = np.einsum("lij,ja->ial", dJ, U).reshape(D * c, N)
        d_U = np.einsum("ij,ab->iajb", J, np.eye(c)).reshape(D * c, N * c)
        rows.append(np.hstack([d_th, d_U]))
        if self.use_G:
            G = np.einsum("gij,j->ig", self.A, th) + self.c0.T
            d_th = np.einsum("gij,i->gj", self.A, U[:, 0])
            d_U = np.zeros((G.shape[1], N * c))
            d_U[:, 0::c] = G.T
            rows.append(np.hstack([d_th, d_U]))
        # U^T U - I (upper triangle): d/d U[j, a] of (U^T U)[p, q] = d_ap U[j, q] + d_aq U[j, p]
        E = np.eye(c)
        dUU = (np.einsum("ap,jq->pqja", E, U) + np.einsum("aq,jp->pqja", E, U)).reshape(c, c, N * c)
        rows.append(np.hstack([np.zeros((len(self.iu[0]), N)), dUU[self.iu]]))
        dn = np.zeros((len(self.norms), N + N * c))
        for i, ix in enumerate(self.norms):
            dn[i, ix] = 2 * th[ix]
        rows.append(dn)
        return np.vstack(rows)


def critical_points_of_mu(ctx: Context, n_starts: int, rng: np.random.Generator) -> tuple[list[CriticalPoint], dict]:
    """Real critical points of mu (rank d mu < dim M) by Levenberg-Marquardt from ``n_starts`` random starts.
    Returns the accepted points and the search record (per start: mode, residual, sigma_k / sigma_1)."""
    from scipy.optimize import least_squares

    from ..parametrization.coefficients import coefficient_map

    if isinstance(n_starts, bool) or not isinstance(n_starts, (int, np.integer)) or n_starts < 1:
        raise InputError(f"n_starts must be a positive integer (random starts of the critical-point search), "
                         f"got {n_starts!r}")
    arch = ctx.arch
    P = ctx.cached("coefficient_map", lambda: coefficient_map(arch)).polynomials
    k, N = dimension_data(ctx).lower, arch.n_params
    units = ctx.cached("homogeneous_units", lambda: _units(arch, P, ctx.rng("layer-homogeneity")))
    hom_ix = [ix for _, ix, d in units if d is not None]
    gens = arch.symmetries()
    A = np.zeros((len(gens), N, N))
    c0 = np.zeros((len(gens), N))
    for g, f in enumerate(gens):
        for tgt, src, coef in f.linear:
            A[g, tgt, src] += coef
        for tgt, coef in f.constant:
            c0[g, tgt] += coef
    G_generic = arch.symmetry_matrix(ctx.rng("critical-locus-G").standard_normal(N))
    orbit_rank = int(np.linalg.matrix_rank(G_generic)) if G_generic.size else 0
    use_G = orbit_rank == N - k  # the symmetry orbits are the generic fibers: one kernel vector beyond them
    cols = 1 if use_G else N - k + 1
    dP = [P.derivative(j) for j in range(N)]
    # "layers": every homogeneous unit on its unit sphere; "sphere": their concatenation (a unit may end at
    # zero); "free": no normalization (when some parameters are in no homogeneous unit)
    all_hom = all(d is not None for _, _, d in units)
    modes = (["layers", "sphere"] if all_hom else ["layers", "free"]) if hom_ix else ["free"]
    runs: list[dict[str, Any]] = []
    found: list[CriticalPoint] = []
    for s in range(n_starts):
        mode = modes[s % len(modes)]
        norms = hom_ix if mode == "layers" else ([np.concatenate(hom_ix)] if mode == "sphere" else [])
        sysm = _System(P, dP, A if use_G else A[:0], c0 if use_G else c0[:0], N, cols, use_G, norms)
        th0 = rng.standard_normal(N)
        for ix in norms:
            th0[ix] /= np.linalg.norm(th0[ix])
        U0 = np.linalg.qr(rng.standard_normal((N, cols)))[0]
        x0 = np.concatenate([th0, U0.reshape(-1)])
        m = len(sysm.residual(x0))
        pad = max(0, len(x0) - m)  # MINPACK's lm needs at least as many residuals as unknowns

        def fun(x: np.ndarray, sysm: _System = sysm, pad: int = pad) -> np.ndarray:
            return np.concatenate([sysm.residual(x), np.zeros(pad)])

        def jac(x: np.ndarray, sysm: _System = sysm, pad: int = pad) -> np.ndarray:
            return np.vstack([sysm.jacobian(x), np.zeros((pad, len(x)))])

        with np.errstate(divide="ignore", invalid="ignore"):  # MINPACK's step control at exact solutions
            r = least_squares(fun, x0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=MAX_NFEV)
        th = r.x[:N].copy()
        zero = []
        ref = max(1.0, float(np.linalg.norm(th)))
        for name, ix, d in units:
            if d is None:
                continue
            nrm = float(np.linalg.norm(th[ix]))
            if (nrm / ref) ** d < SNAP_TOL:  # its contribution to c is below rounding: the layer tends to 0
                th[ix] = 0.0
                zero.append(name)
            else:
                th[ix] /= nrm  # criticality is invariant under rescaling a homogeneous layer
        J = sysm.jac_c(th.astype(complex)[None, :])[0].real
        sv = np.linalg.svd(J, compute_uv=False)
        ratio = float(sv[k - 1] / sv[0]) if sv[0] > 0 else 0.0
        rank = int(np.sum(sv > CRITICAL_TOL * sv[0])) if sv[0] > 0 else 0
        ok = bool(ratio < CRITICAL_TOL)
        runs.append({"mode": mode, "residual": float(np.max(np.abs(r.fun))), "evaluations": int(r.nfev),
                     "sigma_k_over_sigma_1": ratio, "zero_layers": zero, "accepted": ok})
        if ok:
            found.append(CriticalPoint(th, ratio, rank, zero, mode, float(np.max(np.abs(r.fun)))))
    by_mode = {md: {"starts": sum(1 for x in runs if x["mode"] == md),
                    "accepted": sum(1 for x in runs if x["mode"] == md and x["accepted"])} for md in modes}
    info = {
        "starts": n_starts,
        "accepted": len(found),
        "by_mode": by_mode,
        "formulation": ("J v = 0, G(theta)^T v = 0, |v| = 1 (the symmetry orbits are the generic fibers)" if use_G else
                        f"J U = 0, U^T U = I with {cols} columns (generic fibers of dimension {N - k} exceed the "
                        f"symmetry orbits, rank {orbit_rank})"),
        "homogeneous_layers": {name: d for name, _, d in units},
        "runs": runs,
    }
    return found, info


@dataclass
class DoublePoint:
    """Two real parameter points with one image that no rescaling of layers relates (normalized layers)."""

    theta: np.ndarray
    theta_prime: np.ndarray
    separation: float  # sum over the normalized layers of 1 - <w_i, w'_i>^2
    residual: float


def double_points_of_mu(ctx: Context, n_starts: int, rng: np.random.Generator) -> tuple[list[DoublePoint], dict]:
    """Real pairs theta, theta' with c(theta) = c(theta') and theta' not theta up to rescaling layers.

    Levenberg-Marquardt on c(theta) - c(theta') = 0, every homogeneous layer of theta and all but the one of
    lowest degree of theta' on the unit sphere, and sum_i (1 - <w_i, w'_i>^2) = SEPARATION + z^2 over the
    normalized layers (z free: the pair stays away from the diagonal).  Only when every layer is homogeneous
    and the known symmetries are layer rescalings (CNNs): then a separated pair lies in two different fibers
    of the symmetry group and its image is a self-intersection of M unless the generic fiber is larger."""
    from scipy.optimize import least_squares

    from ..parametrization.coefficients import coefficient_map

    arch = ctx.arch
    P = ctx.cached("coefficient_map", lambda: coefficient_map(arch)).polynomials
    N = arch.n_params
    units = ctx.cached("homogeneous_units", lambda: _units(arch, P, ctx.rng("layer-homogeneity")))
    info: dict[str, Any] = {"starts": 0, "accepted": 0, "separation": SEPARATION}
    if len(units) < 2 or any(d is None for _, _, d in units):
        info["skipped"] = "needs at least two layers, each homogeneous (rescaling a layer rescales the function)"
        return [], info
    th = ctx.rng("double-points-G").standard_normal(N)
    G = arch.symmetry_matrix(th)
    E = np.zeros((N, len(units)))
    for j, (_, ix, _) in enumerate(units):
        E[ix, j] = th[ix]
    if G.size and np.linalg.matrix_rank(np.hstack([E, G])) > np.linalg.matrix_rank(E):
        info["skipped"] = ("the known symmetries are not layer rescalings (two points of one orbit need not be "
                           "separated by the layer-wise angle test)")
        return [], info
    free = min(range(len(units)), key=lambda j: units[j][2])
    normed = [ix for j, (_, ix, _) in enumerate(units) if j != free]
    dP = [P.derivative(j) for j in range(N)]

    def jac_c(z: np.ndarray) -> np.ndarray:
        return np.stack([d.evaluate(z.astype(complex)[None, :])[0].real for d in dP], axis=1)

    def res(x: np.ndarray) -> np.ndarray:
        a, b, z = x[:N], x[N:2 * N], x[2 * N]
        diff = P.evaluate(np.stack([a, b]).astype(complex))
        sep = sum(1.0 - (a[ix] @ b[ix]) ** 2 for ix in normed)
        return np.concatenate([(diff[0] - diff[1]).real, [a[ix] @ a[ix] - 1.0 for _, ix, _ in units],
                               [b[ix] @ b[ix] - 1.0 for ix in normed], [sep - SEPARATION - z * z]])

    def jac(x: np.ndarray) -> np.ndarray:
        a, b, z = x[:N], x[N:2 * N], x[2 * N]
        D = len(P)
        top = np.hstack([jac_c(a), -jac_c(b), np.zeros((D, 1))])
        na = np.zeros((len(units), 2 * N + 1))
        for i, (_, ix, _) in enumerate(units):
            na[i, ix] = 2 * a[ix]
        nb = np.zeros((len(normed), 2 * N + 1))
        for i, ix in enumerate(normed):
            nb[i, N + ix] = 2 * b[ix]
        sp = np.zeros((1, 2 * N + 1))
        for ix in normed:
            g = a[ix] @ b[ix]
            sp[0, ix] = -2 * g * b[ix]
            sp[0, N + ix] = -2 * g * a[ix]
        sp[0, 2 * N] = -2 * z
        return np.vstack([top, na, nb, sp])

    found: list[DoublePoint] = []
    runs = []
    for _ in range(n_starts):
        a0, b0 = rng.standard_normal(N), rng.standard_normal(N)
        for ix in normed:  # start far from the diagonal: w'_i orthogonal to w_i
            b0[ix] -= (a0[ix] @ b0[ix]) / (a0[ix] @ a0[ix]) * a0[ix]
        x0 = np.concatenate([a0, b0, [1.0]])
        pad = max(0, len(x0) - len(res(x0)))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = least_squares(lambda x: np.concatenate([res(x), np.zeros(pad)]), x0,
                              jac=lambda x: np.vstack([jac(x), np.zeros((pad, len(x)))]), method="lm",
                              xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=MAX_NFEV)
        a, b = r.x[:N].copy(), r.x[N:2 * N].copy()
        resid = float(np.max(np.abs(r.fun)))
        sep = float(sum(1.0 - (a[ix] @ b[ix]) ** 2 for ix in normed))
        ok = resid < 1e-10 and sep >= SEPARATION - 1e-9
        runs.append({"residual": resid, "separation": sep, "evaluations": int(r.nfev), "accepted": bool(ok)})
        if ok:
            found.append(DoublePoint(a, b, sep, resid))
    info.update({"starts": n_starts, "accepted": len(found), "runs": runs,
                 "formulation": "c(theta) = c(theta'), layers of theta on unit spheres, of theta' all but "
                 f"{units[free][0]}; sum over the others of 1 - <w, w'>^2 >= {SEPARATION}"})
    return found, info


def _in_family(P: Any, zero: list[int], y: np.ndarray, th0: np.ndarray, rng: np.random.Generator,
               restarts: int = 4, basis: np.ndarray | None = None) -> float:
    """Smallest relative residual min |c(theta') - y| over theta' in the family (least squares): theta'[zero] = 0,
    or theta' = basis z for a family given by an orthonormal ``basis`` of its linear subspace."""
    from scipy.optimize import least_squares

    N = len(th0)
    if basis is None:
        free = np.setdiff1d(np.arange(N), zero)
        basis = np.zeros((N, len(free)))
        basis[free, np.arange(len(free))] = 1.0
    B = np.asarray(basis, dtype=float)
    scale = 1 + np.max(np.abs(y))
    if not B.shape[1]:
        return float(np.max(np.abs(y)) / scale)

    def fun(z: np.ndarray) -> np.ndarray:
        return P.evaluate((B @ z).astype(complex)[None, :])[0].real - y

    def jac(z: np.ndarray) -> np.ndarray:
        return P.jacobian((B @ z).astype(complex)[None, :])[0].real @ B

    z_start = B.T @ th0
    best = float(np.max(np.abs(fun(z_start))) / scale)
    starts = [z_start] + [rng.standard_normal(B.shape[1]) for _ in range(restarts)]
    for z0 in starts:
        if best < MEMBER_TOL:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            r = least_squares(fun, z0, jac=jac, method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=2000)
        best = min(best, float(np.max(np.abs(r.fun)) / scale))
    return best


def _singularity(ctx: Context, y: np.ndarray, theta: np.ndarray, rng: np.random.Generator, info: dict) -> dict:
    """Is y singular on M: certified for a linear closure or the vertex of a cone, else the multiplicity."""
    from .singularities import _multiplicity

    if info["filling"]:
        return {"singular": False, "multiplicity": 1, "status": "certified", "short": "M is a linear space",
                "how": "the closure of M is its linear span (dim M = dim span(M), exact ranks): smooth everywhere"}
    if info["cone"] and np.max(np.abs(y)) <= ZERO_TOL and info["not_linear"]:
        return {"singular": True, "multiplicity": None, "status": "certified", "short": "vertex of the cone M",
                "how": f"the vertex 0 of the cone M, which is not a linear space (dim M <= {info['k_upper']} < "
                f"{info['ambient_lower']} <= dim span(M), exact ranks)"}
    theta = np.array(theta, dtype=float)
    if info["cone"] and np.max(np.abs(y)) > 0:  # M is a cone: rescale y to |y|_inf = 1 by rescaling one layer
        _, ix, deg = next(u for u in info["units"] if u[2] is not None)
        theta[ix] *= (1.0 / np.max(np.abs(y))) ** (1.0 / deg)
    m = _multiplicity(ctx, theta, rng, info["ambient"])  # the value only gates the size of the witness set
    mult = m["multiplicity"]
    e = m["evidence"]
    brief = {key: e[key] for key in ("points_near_y", "failed_paths", "attempt", "reason") if key in e}
    if "nearest_relative_distances" in e:
        brief["nearest_relative_distances"] = [[float(f"{v:.3g}") for v in row[:6]]
                                               for row in e["nearest_relative_distances"]]
    return {"singular": None if mult is None else mult >= 2, "multiplicity": mult, "evidence": brief,
            "status": "inconclusive" if mult is None else "numerical",
            "short": "multiplicity undecided" if mult is None else f"multiplicity {mult}",
            "how": "multiplicity of the Zariski closure of M at y (local degree from a witness set)"
            + ("" if mult is not None else f": {m['evidence'].get('reason', 'counts did not settle')}")}


def subnetwork_conjecture(ctx: Context, *, n_starts: int | None = None) -> Result:
    """Sample real critical points and double points of mu; for each: is the image singular on M, is it in a
    subnetwork family.  ``n_starts`` random starts per search (default ``ctx.options.starts``
    or DEFAULT_STARTS); the value is the number of sampled singular images in no family."""
    from ..parametrization.coefficients import coefficient_map
    from .singularities import subnetwork_families

    t0 = time.perf_counter()
    if n_starts is None:
        n_starts = ctx.options.starts
    if isinstance(n_starts, bool) or not isinstance(n_starts, (int, np.integer)) or n_starts < 1:
        raise InputError(f"n_starts must be a positive integer (random starts of the critical-point search), "
                         f"got {n_starts!r}")
    arch = ctx.arch
    d = dimension_data(ctx)
    amb = ambient_data(ctx)
    k = d.lower
    rng = ctx.rng("subnetwork-conjecture")
    P = ctx.cached("coefficient_map", lambda: coefficient_map(arch)).polynomials
    fams = subnetwork_families(arch)
    pts, search = critical_points_of_mu(ctx, int(n_starts), rng)
    hom = search["homogeneous_layers"]
    info = {"k": k, "ambient": int(amb["value"]), "ambient_certified": bool(amb["certified"]),
            "k_upper": d.upper, "ambient_lower": int(amb["lower"]), "not_linear": bool(d.upper < amb["lower"]),
            "filling": bool(d.certified and amb["certified"] and amb["value"] == k),
            "cone": any(v is not None for v in hom.values()), "units": ctx.cached("homogeneous_units", lambda: [])}
    cache: list[tuple[np.ndarray, dict, list[str] | None]] = []

    def classify(theta: np.ndarray) -> tuple[np.ndarray, dict, list[str] | None]:
        y = P.evaluate(theta.astype(complex)[None, :])[0].real
        if info["cone"] and np.max(np.abs(y)) <= ZERO_TOL:
            y = np.zeros_like(y)
        hit = next((c for c in cache if np.allclose(c[0], y, rtol=1e-9, atol=1e-12)), None)
        if hit is None:
            sing = _singularity(ctx, y, theta, rng, info)
            members: list[str] | None = None if sing["singular"] is False else []  # smooth: not needed
            for fam in fams if members is not None else []:
                th0 = fam.project(theta)
                basis = None if fam.coordinate else fam.basis(len(theta))
                if _in_family(P, fam.zero, y, th0, rng, basis=basis) < MEMBER_TOL:
                    members.append(fam.name)
            hit = (y, sing, members)
            cache.append(hit)
        return hit

    def verdict(sing: dict, members: list[str] | None) -> dict[str, Any]:
        return {"multiplicity": sing["multiplicity"], "singular": sing["singular"],
                "singular_status": sing["status"], "singular_reason": sing["short"], "singular_how": sing["how"],
                **({"multiplicity_evidence": sing["evidence"]} if "evidence" in sing else {}), "families": members}

    rows = []
    for cp in pts:
        y, sing, members = classify(cp.theta)
        rows.append({"theta": cp.theta.tolist(), "function": y.tolist(), "zero_layers": cp.zero_layers,
                     "search_mode": cp.mode, "sigma_k_over_sigma_1": cp.ratio, "rank_of_d_mu": cp.rank,
                     **verdict(sing, members)})
    doubles, dsearch = double_points_of_mu(ctx, int(n_starts), ctx.rng("subnetwork-conjecture-double-points"))
    drows = []
    for dp in doubles:
        y, sing, members = classify(dp.theta)
        drows.append({"theta": dp.theta.tolist(), "theta_prime": dp.theta_prime.tolist(), "function": y.tolist(),
                      "separation": dp.separation, **verdict(sing, members)})

    def tally(rs: list[dict]) -> dict[str, int]:
        return {"points": len(rs), "singular": sum(1 for r in rs if r["singular"] is True),
                "counterexamples": sum(1 for r in rs if r["singular"] is True and not r["families"]),
                "undecided": sum(1 for r in rs if r["singular"] is None),
                "undecided_in_no_family": sum(1 for r in rs if r["singular"] is None and not r["families"]),
                "in_a_family": sum(1 for r in rs if r["families"])}

    by = {"critical_points": tally(rows), "double_points": tally(drows)}
    total = {key: sum(t[key] for t in by.values()) for key in by["critical_points"]}
    ev: dict[str, Any] = {
        "dim_M": k, "dim_M_certified": d.certified, "ambient_dimension": info["ambient"],
        "critical_points": rows, "search": search,
        "double_points": drows, "double_point_search": dsearch,
        "singular_images": total["singular"], "counterexamples": total["counterexamples"],
        "undecided": total["undecided"], "undecided_in_no_family": total["undecided_in_no_family"],
        "by_sample": by, "distinct_images": len(cache),
        "families_checked": [f.name for f in fams],
        "meaning": "value: the number of sampled singular points of M (images of real critical points of mu, and "
        "self-intersections: images of two points no rescaling of layers relates) that lie in no subnetwork family "
        "(0: the conjecture holds on this sample; > 0: counterexamples)",
        "method": "real critical points of mu (rank d mu < dim M) and double points (c(theta) = c(theta'), "
        "layer-wise separated) by Levenberg-Marquardt from random starts; singular: linear closure / cone vertex "
        "(exact ranks) or the multiplicity of the Zariski closure (local degree from a witness set); family "
        "membership by least squares on the family's subspace (coordinate, or linear: theta' = B z)",
    }
    if total["counterexamples"]:
        ev["caveat"] = ("a counterexample lies in none of the listed families (families_checked); a subnetwork "
                        "the toolkit does not list is not tested")
    if rows and all(r["zero_layers"] for r in rows):
        ev["note"] = (f"every critical point found has a zero layer (image 0); the {search['by_mode'].get('layers', {}).get('starts', 0)}"
                      " starts with every layer on its unit sphere found none")
    if not rows and not drows:
        ev["reason"] = f"no critical point and no double point of mu was found from {n_starts} starts each"
        status = "failed"
    elif total["undecided_in_no_family"]:
        ev["why_lower_bound"] = (f"{total['undecided_in_no_family']} sampled image(s) in no family have an undecided "
                                 "singularity (multiplicity inconclusive): the count of counterexamples is a lower bound")
        status = "lower_bound"
    else:
        status = "numerical"
    return Result("subnetwork_conjecture", total["counterexamples"], status, ev, time.perf_counter() - t0, ctx.seed)


__all__ = ["CriticalPoint", "DoublePoint", "critical_points_of_mu", "double_points_of_mu", "subnetwork_conjecture"]
