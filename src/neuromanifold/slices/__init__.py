"""Slices of a neuromanifold that is a hypersurface in its span: the slice curve (a plane) or the
slice surface (a 3-space), their singular points / singular curve, and where the real slice
leaves the (semialgebraic) real neuromanifold M_R = mu(R^N).

1. Coordinates: D coefficients of the network function; M spans a linear space of dimension e.
   We keep e coefficient coordinates on which the span projects injectively (exact row reduction).
2. Implicit equation: when dim M = e - 1, the Zariski closure of M is {F = 0} for one polynomial F;
   M is a cone (scaling the last layer), so F is a form.  Its coefficients are the nullspace, over Q
   and exactly (python-flint), of the monomials of degree deg F evaluated at images of random integer
   parameters.  deg F is the degree of M (the witness-set invariant), checked: the nullspace of degree
   deg F has dimension one and lower degrees have none.
3. ``plane_slice``: a plane y(s, t) = y0 + s a + t b through a point y0 of M with random integer
   directions; the curve f(s, t) = F(y(s, t)) = 0, its singular points (f = f_s = f_t = 0; homotopy
   continuation) and its real points along lines t = const (roots of a univariate polynomial).
   ``surface_slice``: a 3-space y(s, t, w) = y0 + s a + t b + w c; the surface f(s, t, w) = 0 and
   its singular curve Sing(H) n slice = {grad F = 0} (level by level w = const: homotopy
   continuation on f_s = f_t = 0, kept where the whole gradient of F vanishes).
4. Membership in M_R (M is only semialgebraic): a real preimage is searched by nonlinear least
   squares from warm and random real starts; residual below ``tol`` means in M_R (certain up to the
   tolerance), none found means "not found" (numerical).
5. Boundary points: where neighbouring points of one branch (of the plane curve, or of the singular
   curve of the surface) change membership, the not-in-M end is searched again (longer), then the
   point is refined by bisection along the branch (the midpoint of the bracket is moved back onto
   the curve normal to the chord; membership by continuation of the in-side preimage) until the
   bracket is narrower than ``boundary_tol`` (1 + |p|).  The topological boundary of M_R inside the
   real hypersurface is contained in the critical values of mu (images of real parameters where
   rank d mu < dim M) together with the limits of mu(theta) with |theta| -> infinity.  Approaching
   a boundary point from inside M_R at distances h shrinking 4x per step, the preimage is continued;
   at each step the best sigma_dim/sigma_1 of d mu over the fiber (local ascent along the fiber;
   a fiber can contain critical strata, so one preimage is not enough) and the minimum preimage
   norm over the fiber are recorded.  A diverging norm labels the point "at infinity", a ratio
   tending to 0 (as a power of h) at a settled norm "critical value", anything else "undecided".
   Near a boundary at infinity the preimages are ill-conditioned and "not found" is least
   reliable: the true boundary can lie beyond the bracket on the not-in-M side (for
   mlp(widths=(2,2,1), r=4), checked against Sylvester's real-rank criterion: within ~3e-5 for
   brackets of ~2e-6).

For ``attention(d=2, dout=1, a=2, t=2)`` the map is bilinear, (V, K^T Q) -> the pair of binary
quadratics (v0 + v1 u)(r1 + r2 u): M is the resultant hypersurface of two binary quadratics (degree
4), its real points outside M_R are the proportional pairs (l1 g, l2 g) with g irreducible over R (a
4-dimensional set, inside the double locus), so a generic *plane* slice leaves M_R only at isolated
singular points (acnodes); the boundary shows on the singular curve of a *surface* slice (a slice
with a 2-dimensional M-part, as in the seed talk): Whitney-umbrella pinch points, critical values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..errors import InputError

LABELS = ("critical value", "at infinity", "undecided")
# evaluations allowed to a warm-started (continuation) preimage search near a boundary point: near a
# boundary at infinity the preimages are ill-conditioned and need several hundred
CONTINUATION_NFEV = 1000


@dataclass
class BoundaryPoint:
    """A refined point where a branch of the real slice leaves M_R, with its label and evidence."""

    point: np.ndarray  # slice coordinates: (s, t) or (s, t, w)
    label: str  # one of LABELS
    bracket: float  # final distance between the in-M and the not-in-M branch points (<= tolerance)
    residual: float  # |F(y)| relative to the size of F at y (|grad F| relative too for a singular curve)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"point": [float(v) for v in self.point], "label": self.label, "bracket": self.bracket,
                "residual": self.residual, "evidence": self.evidence}


class _SliceMixin:
    geometry: Any
    boundary_points: list[BoundaryPoint]

    def probe(self, p: Any, restarts: int = 8) -> dict[str, Any]:
        """Real preimage of the slice point p (slice coordinates): {'in_M', 'residual', 'ratio': the best
        sigma_dim/sigma_1 of d mu found on its fiber, 'theta_norm': the minimum norm on the fiber, ...}."""
        return self.geometry.probe(np.asarray(p, dtype=float), restarts=restarts)

    def boundary_summary(self) -> list[str]:
        """One line per refined boundary point: where, what, and the evidence in brief."""
        out = []
        for bp in self.boundary_points:
            ev = bp.evidence
            nan = float("nan")
            out.append(f"{np.round(bp.point, 6).tolist()}: {bp.label} (bracket {bp.bracket:.1e}; "
                       f"sigma ratio {ev.get('ratio_first', nan):.2e} -> {ev.get('ratio_last', nan):.2e}, "
                       f"|theta| {ev.get('norm_first', nan):.3g} -> {ev.get('norm_last', nan):.3g})")
        return out


@dataclass
class PlaneSlice(_SliceMixin):
    architecture: Architecture
    degree: int
    form: dict[tuple[int, ...], int]  # exponent (over the e kept coordinates) -> integer coefficient
    coordinates: list[int]  # indices of the kept coefficient coordinates
    y0: np.ndarray
    a: np.ndarray
    b: np.ndarray
    curve: str  # f(s, t) as a string
    singular_points: np.ndarray  # (m, 2) real singular points of the curve
    points: np.ndarray  # (P, 2) real points of the curve (s, t)
    in_M: np.ndarray  # (P,) bool
    boundary: np.ndarray  # (B, 2) refined points where the curve leaves M_R
    evidence: dict[str, Any] = field(default_factory=dict)
    singular_in_M: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (m,)
    boundary_points: list[BoundaryPoint] = field(default_factory=list)
    geometry: Any = field(default=None, repr=False, compare=False)


@dataclass
class SurfaceSlice(_SliceMixin):
    architecture: Architecture
    degree: int
    form: dict[tuple[int, ...], int]
    coordinates: list[int]
    y0: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    surface: str  # f(s, t, w) as a string
    points: np.ndarray  # (P, 3) real points of the surface in the box (lines t, w = const; membership not tested)
    singular_curve: np.ndarray  # (Q, 3) real points of the singular curve, level by level in w
    singular_in_M: np.ndarray  # (Q,) bool
    boundary: np.ndarray  # (B, 3) refined points where the singular curve leaves M_R
    boundary_points: list[BoundaryPoint] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    geometry: Any = field(default=None, repr=False, compare=False)


# ----------------------------------------------------------------------------------------------
# numerical building blocks


class _RealMap:
    """mu restricted to the kept coordinates, in real arithmetic: values and Jacobian (the derivative
    monomials are collected once; monomials are products of rows of a table of powers)."""

    def __init__(self, P: Any, rows: list[int]):
        C = np.asarray(P.coefficients)[rows].real
        keep = np.any(C != 0, axis=0)
        E = np.asarray(P.exponents)[keep].astype(int)
        self.C = C[:, keep]
        self.E = E
        self.n = int(E.shape[1])
        m = self.C.shape[0]
        blocks, coefs = [], []
        for j in range(self.n):
            mask = E[:, j] > 0
            Ej = E[mask].copy()
            Ej[:, j] -= 1
            blocks.append(Ej)
            coefs.append((j, self.C[:, mask] * E[mask, j][None, :]))
        allE = np.concatenate(blocks) if blocks else np.zeros((0, self.n), dtype=int)
        self.Ed, inv = np.unique(allE, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        Jc = np.zeros((m, self.n, len(self.Ed)))
        pos = 0
        for j, cj in coefs:
            idx = inv[pos : pos + cj.shape[1]]
            for col, ti in enumerate(idx):
                Jc[:, j, ti] += cj[:, col]
            pos += cj.shape[1]
        self.Jc = Jc.reshape(m * self.n, -1)
        self.m = m
        self.maxdeg = int(max(E.max(initial=0), 1))
        self._cols = np.arange(self.n)[None, :]

    def _powers(self, z: np.ndarray) -> np.ndarray:
        return np.cumprod(np.concatenate([np.ones((1, self.n)), np.repeat(z[None, :], self.maxdeg, axis=0)]), axis=0)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        pw = self._powers(np.asarray(z, dtype=float))
        return self.C @ np.prod(pw[self.E, self._cols], axis=1)

    def jac(self, z: np.ndarray) -> np.ndarray:
        pw = self._powers(np.asarray(z, dtype=float))
        return (self.Jc @ np.prod(pw[self.Ed, self._cols], axis=1)).reshape(self.m, self.n)


class _Form:
    """The implicit form F (integer coefficients) as a numerical function: value, gradient, Hessian."""

    def __init__(self, form: dict[tuple[int, ...], int], e: int):
        self.E = np.array(list(form.keys()), dtype=float).reshape(-1, e)
        self.c = np.array(list(form.values()), dtype=float)
        self.e = e
        self.deg = int(self.E.sum(axis=1).max()) if len(self.E) else 0
        eye = np.eye(e)
        self.G_exp = np.maximum(self.E[None] - eye[:, None, :], 0.0)  # (e, T, e)
        self.G_coef = self.c[None, :] * self.E.T  # (e, T)
        Eij = self.E[None, None] - eye[:, None, None, :] - eye[None, :, None, :]  # (e, e, T, e)
        self.H_coef = self.c[None, None, :] * self.E.T[:, None, :] * (self.E.T[None, :, :] - eye[:, :, None])
        self.H_exp = np.maximum(Eij, 0.0)
        self.norm1 = float(np.abs(self.c).sum())

    def value(self, y: np.ndarray) -> float:
        return float(self.c @ np.prod(y[None, :] ** self.E, axis=1))

    def grad(self, y: np.ndarray) -> np.ndarray:
        return np.sum(self.G_coef * np.prod(y[None, None, :] ** self.G_exp, axis=2), axis=1)

    def hess(self, y: np.ndarray) -> np.ndarray:
        return np.sum(self.H_coef * np.prod(y[None, None, None, :] ** self.H_exp, axis=3), axis=2)

    def scale(self, y: np.ndarray, order: int = 0) -> float:
        """Size of F (order 0) or of its gradient (order 1) at y: sum |c| max(1, |y|)^(deg - order)."""
        return self.norm1 * max(1.0, float(np.max(np.abs(y)))) ** (self.deg - order)


def _preimage(R: _RealMap, y: np.ndarray, rng: np.random.Generator, restarts: int, tol: float,
              warm: tuple = (), max_nfev: int = 200) -> tuple[bool, np.ndarray, float]:
    """A real theta with mu(theta) = y (kept coordinates): trust-region least squares from the warm
    starts (tight tolerances), then from ``restarts`` standard normal starts (stopping once the cost
    stalls); at most ``max_nfev`` evaluations per run (successful runs of the families tried need
    fewer than 100, failing ones may drift to infinity); stops at the first residual
    <= tol (1 + |y|_inf).  Returns (found, best theta, best residual)."""
    from scipy.optimize import least_squares

    bound = tol * (1 + float(np.max(np.abs(y))))
    best_x, best_r = None, np.inf
    starts = [np.asarray(w, dtype=float) for w in warm if w is not None] + [None] * restarts
    for z0 in starts:
        # warm starts (continuation near a boundary) with tight tolerances; random starts stop once
        # the cost stalls (a positive local minimum), which is most of the time spent on non-members
        stop = 1e-12 if z0 is not None else 1e-10
        if z0 is None:
            z0 = rng.standard_normal(R.n)
        r = least_squares(lambda z: R(z) - y, z0, jac=R.jac, method="trf", xtol=stop, ftol=stop, gtol=stop,
                          max_nfev=max_nfev if stop < 1e-11 else min(max_nfev, 200))
        res = float(np.max(np.abs(r.fun)))
        if res < best_r:
            best_x, best_r = r.x, res
        if res <= bound:
            return True, r.x, res
    return False, best_x, best_r


def _min_norm(R: _RealMap, theta: np.ndarray, y: np.ndarray, k: int, iters: int = 400) -> np.ndarray:
    """The point of minimum norm on the fiber component of theta (projected gradient descent of
    |theta|^2 along the kernel of d mu, with Gauss-Newton steps back onto mu = y)."""
    th = np.array(theta, dtype=float)
    bound = 1e-13 * (1 + float(np.max(np.abs(y))))
    for _ in range(iters):
        J = R.jac(th)
        Vt = np.linalg.svd(J)[2]
        Z = Vt[k:]
        g = Z.T @ (Z @ th)
        if np.linalg.norm(g) <= 1e-10 * (1 + np.linalg.norm(th)):
            break
        th = th - 0.5 * g
        for _ in range(6):
            r = R(th) - y
            if np.max(np.abs(r)) <= bound:
                break
            th = th - np.linalg.lstsq(R.jac(th), r, rcond=None)[0]
    return th


def _to_fiber(R: _RealMap, th: np.ndarray, y: np.ndarray, iters: int = 8) -> np.ndarray:
    bound = 1e-13 * (1 + float(np.max(np.abs(y))))
    for _ in range(iters):
        r = R(th) - y
        if np.max(np.abs(r)) <= bound:
            break
        th = th - np.linalg.lstsq(R.jac(th), r, rcond=None)[0]
    return th


def _best_conditioned(R: _RealMap, theta: np.ndarray, y: np.ndarray, k: int,
                      iters: int = 100) -> tuple[np.ndarray, float]:
    """A local maximum of sigma_k/sigma_1 of d mu on the fiber through theta (ascent along the kernel
    of d mu with a backtracking step, Gauss-Newton back onto mu = y).  The ratio depends on the
    point of the fiber (a fiber can contain critical strata, e.g. K and Q both of rank 1 over a
    rank-1 attention matrix K^T Q, which is where the minimum norm lies); its best value over the
    fiber tends to 0 only where every preimage becomes critical."""
    th = np.array(theta, dtype=float)

    def g(z: np.ndarray) -> float:
        S = np.linalg.svd(R.jac(z), compute_uv=False)
        return float(np.log(max(S[k - 1], 1e-300) / S[0]))

    cur = g(th)
    eta = 0.1 * (1 + np.linalg.norm(th))
    for _ in range(iters):
        Z = np.linalg.svd(R.jac(th))[2][k:]
        eps = 1e-6 * (1 + np.linalg.norm(th))
        grad = np.array([(g(th + eps * z) - g(th - eps * z)) / (2 * eps) for z in Z])
        d = Z.T @ grad
        nd = np.linalg.norm(d)
        if nd == 0 or not np.isfinite(nd):
            break
        improved = False
        while eta > 1e-6 * (1 + np.linalg.norm(th)):
            cand = _to_fiber(R, th + eta * d / nd, y)
            gc = g(cand)
            if np.max(np.abs(R(cand) - y)) <= 1e-10 * (1 + np.max(np.abs(y))) and gc > cur + 1e-4:
                th, cur, improved = cand, gc, True
                eta *= 1.5
                break
            eta /= 2
        if not improved:
            break
    return th, float(np.exp(cur))


def _slope(x: list[float], y: list[float]) -> float:
    lx, ly = np.log(np.asarray(x)), np.log(np.maximum(np.asarray(y), 1e-300))
    return float(np.polyfit(lx, ly, 1)[0])


class _Geometry:
    """One slice: the affine map p -> y(p), the implicit form, the real parametrisation and the
    membership test; shared by the refinement and labelling of boundary points."""

    def __init__(self, form: _Form, R: _RealMap, y0: np.ndarray, D: np.ndarray, dim: int, rng: np.random.Generator,
                 restarts: int, tol: float):
        self.F, self.R, self.y0, self.D, self.dim = form, R, y0, D, dim
        self.rng, self.restarts, self.tol = rng, restarts, tol

    def y(self, p: np.ndarray) -> np.ndarray:
        return self.y0 + self.D @ p

    def member(self, p: np.ndarray, warm: tuple = (), restarts: int | None = None,
               max_nfev: int = 200) -> tuple[bool, np.ndarray, float]:
        return _preimage(self.R, self.y(p), self.rng, self.restarts if restarts is None else restarts, self.tol, warm,
                         max_nfev=max_nfev)

    def member_sweep(self, groups: Any) -> tuple[list[np.ndarray], list[bool], list[np.ndarray]]:
        """Membership of the points of consecutive groups (lines or levels of the slice), each search
        warm-started from the real preimages found in the previous group: (points, in M, preimages)."""
        pts, member, thetas = [], [], []
        prev_in: list[np.ndarray] = []
        for group in groups:
            cur_in = []
            for p in group:
                ok, th, _ = self.member(p, warm=tuple(prev_in))
                pts.append(p)
                member.append(ok)
                thetas.append(th)
                if ok:
                    cur_in.append(th)
            prev_in = cur_in or prev_in
        return pts, member, thetas

    def f_rel(self, p: np.ndarray) -> float:
        y = self.y(p)
        return abs(self.F.value(y)) / self.F.scale(y)

    def grad_rel(self, p: np.ndarray) -> float:
        y = self.y(p)
        return float(np.max(np.abs(self.F.grad(y)))) / self.F.scale(y, 1)

    def best_ratio(self, p: np.ndarray, theta: np.ndarray, extra_starts: int = 0) -> tuple[float, np.ndarray]:
        """max of sigma_dim/sigma_1 of d mu over the fiber of y(p), locally from theta and from
        ``extra_starts`` independent preimages (random starts); returns (ratio, its theta)."""
        y = self.y(p)
        starts = [theta]
        for _ in range(extra_starts):
            ok, th, _ = self.member(p, restarts=4)
            if ok:
                starts.append(th)
        best = max((_best_conditioned(self.R, z, y, self.dim) for z in starts), key=lambda r: r[1])
        return best[1], best[0]

    def probe(self, p: np.ndarray, restarts: int = 8, theta: np.ndarray | None = None) -> dict[str, Any]:
        ok, th, res = self.member(p, warm=() if theta is None else (theta,), restarts=restarts)
        out: dict[str, Any] = {"in_M": bool(ok), "residual": res}
        if ok:
            thn = _min_norm(self.R, th, self.y(p), self.dim)
            ratio, thb = self.best_ratio(p, th, extra_starts=2)
            out.update(ratio=ratio, theta_norm=float(np.linalg.norm(thn)), theta=thb, theta_min_norm=thn)
        return out

    # moving points back onto the curve, normal to a direction u
    def project_curve(self, q: np.ndarray, u: np.ndarray, max_shift: float) -> np.ndarray | None:
        """The plane curve: the point q + sigma n (n normal to u) with F = 0 and |sigma| smallest."""
        if not np.linalg.norm(u) > 0 or not max_shift > 0:
            return q if self.f_rel(q) <= 1e-12 else None
        n = np.array([-u[1], u[0]]) / np.linalg.norm(u)
        yq, dn = self.y(q), self.D @ n
        deg = self.F.deg
        x = np.cos(np.pi * (np.arange(deg + 1) + 0.5) / (deg + 1))
        vals = [self.F.value(yq + max_shift * xi * dn) for xi in x]
        roots = np.polynomial.chebyshev.chebroots(np.polynomial.chebyshev.chebfit(x, vals, deg))
        real = [r.real for r in np.atleast_1d(roots) if abs(r.imag) < 1e-9 and abs(r.real) <= 1.0]
        if not real:
            return None
        sig = min(real, key=abs) * max_shift
        # Newton polish on the line
        for _ in range(3):
            yy = yq + sig * dn
            g = float(self.F.grad(yy) @ dn)
            if g == 0:
                break
            sig -= self.F.value(yy) / g
        return q + sig * n

    def project_singular(self, q: np.ndarray, u: np.ndarray, max_shift: float, iters: int = 200) -> np.ndarray | None:
        """The singular curve {grad F = 0} of a surface slice: Gauss-Newton in the plane normal to u
        (linear convergence near pinch points, where the Hessian of F drops rank)."""
        if not np.linalg.norm(u) > 0:
            return q if self.grad_rel(q) <= 1e-9 else None
        u = u / np.linalg.norm(u)
        N = np.linalg.svd(u[None, :])[2][1:].T  # (3, 2) orthonormal, normal to u
        sig = np.zeros(2)
        for _ in range(iters):
            y = self.y(q + N @ sig)
            G = self.F.grad(y)
            J = self.F.hess(y) @ self.D @ N
            step = np.linalg.lstsq(J, -G, rcond=None)[0]
            sig = sig + step
            if np.linalg.norm(step) <= 1e-15 * (1 + np.linalg.norm(q)):
                break
        p = q + N @ sig
        if np.linalg.norm(sig) > max_shift or self.grad_rel(p) > 1e-9:
            return None
        return p


def _refine_and_label(geo: _Geometry, project: Any, p_in: np.ndarray, th_in: np.ndarray, p_out: np.ndarray,
                      tol: float, singular: bool, n_approach: int = 5) -> BoundaryPoint:
    """Bisection along the branch between an in-M point and a not-in-M point, then the approach to
    the refined point from the in-M side (minimum-norm preimages, singular values, norms)."""
    L0 = float(np.linalg.norm(p_out - p_in))
    p_in0, th_in0, p_out0 = p_in.copy(), th_in.copy(), p_out.copy()
    steps, reason = 0, ""
    scale = 1 + float(max(np.max(np.abs(p_in)), np.max(np.abs(p_out))))  # tolerance relative to the bracket ends
    while np.linalg.norm(p_out - p_in) > tol * scale and steps < 80:
        chord = p_out - p_in
        q = project((p_in + p_out) / 2, chord, 0.75 * np.linalg.norm(chord))
        if q is None:
            reason = "the midpoint could not be moved back onto the branch"
            break
        # near the bracket the continuation from the in-side preimage finds a preimage if there is one;
        # one random start besides
        ok, th, _ = geo.member(q, warm=(th_in,), restarts=1, max_nfev=CONTINUATION_NFEV)
        if ok:
            p_in, th_in = q, th
        else:
            p_out = q
        steps += 1
    width = float(np.linalg.norm(p_out - p_in))
    chord = p_out - p_in
    b = project((p_in + p_out) / 2, chord, max(width, 1e-12)) if width > 0 else p_in
    if b is None:
        b = (p_in + p_out) / 2
    residual = geo.f_rel(b)
    if singular:
        residual = max(residual, geo.grad_rel(b))
    ev: dict[str, Any] = {"bracket_width": width, "tolerance": tol * scale,
                          "tolerance_rule": f"boundary_tol {tol:g} x (1 + largest |coordinate| of the initial "
                                            "bracket ends)",
                          "bisection_steps": steps,
                          "initial_bracket": L0, "in_side_start": [float(v) for v in p_in0],
                          "out_side_start": [float(v) for v in p_out0],
                          "bracket_meaning": "between the last branch point with a real preimage found and the first "
                                             "without one (warm-started continuation, then a random start); near a "
                                             "boundary at infinity preimages are ill-conditioned and 'not found' is "
                                             "least reliable, so the true boundary can lie beyond the bracket on the "
                                             "not-in-M side"}
    # approach from the in-M side: points of the branch at distances h from b, continuation of the preimage
    u = -chord / np.linalg.norm(chord) if width > 0 else (p_in0 - b) / max(np.linalg.norm(p_in0 - b), 1e-300)
    rows, warm, raw = [], th_in0, th_in0
    hs = [L0 * 0.25 ** j for j in range(1, n_approach + 1)]
    hs = [h for h in hs if h > 20 * width]
    for idx, h in enumerate(hs):
        q = project(b + h * u, u, 0.75 * h)
        if q is None:
            rows.append({"h": h, "in_M": None})
            continue
        ok, th, res = geo.member(q, warm=(raw, th_in, warm), restarts=3, max_nfev=CONTINUATION_NFEV)
        row: dict[str, Any] = {"h": h, "in_M": bool(ok), "residual": res}
        if ok:
            # the best-conditioned point of the fiber: searched from independent preimages at the
            # first point, then continued from point to point
            ratio, thb = geo.best_ratio(q, th, extra_starts=2 if idx == 0 else 0)
            warm, raw = thb, th
            thn = _min_norm(geo.R, th, geo.y(q), geo.dim)
            row.update(ratio=ratio, theta_norm=float(np.linalg.norm(thn)))
        rows.append(row)
    good = [r for r in rows if r.get("in_M")]
    ev["approach"] = [{k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()} for r in rows]
    label = "undecided"
    if reason:
        ev["reason"] = reason
    elif width > tol * scale:
        ev["reason"] = f"bisection stopped after {steps} steps with bracket {width:.2e}"
    elif len(good) < 3:
        ev["reason"] = f"only {len(good)} real preimages found on the in-M side (need 3)"
    else:
        h = [r["h"] for r in good]
        ratios, norms = [r["ratio"] for r in good], [r["theta_norm"] for r in good]
        s_ratio, s_norm = _slope(h, ratios), _slope(h, norms)
        rel = [norms[i + 1] / norms[i] - 1 for i in range(len(norms) - 3, len(norms) - 1)]
        inc = [norms[i + 1] - norms[i] for i in range(len(norms) - 3, len(norms) - 1)]
        diverging = all(r >= 0.03 for r in rel) and inc[1] >= 0.8 * inc[0]
        settled = abs(rel[-1]) < 0.03
        ev.update(ratio_first=ratios[0], ratio_last=ratios[-1], norm_first=norms[0], norm_last=norms[-1],
                  ratio_slope=s_ratio, norm_slope=s_norm, norm_steps=rel,
                  rule="h: distance to the point along the branch, shrinking 4x per step.  at infinity: the "
                       "minimum preimage norm keeps growing (last two steps each >= 3%, increments not "
                       "shrinking); critical value: the best sigma_dim/sigma_1 over the fiber ~ h^s with "
                       "s >= 0.2, dropping >= 5x, while the norm settles (last step < 3%)")
        if diverging:
            label = "at infinity"
        elif s_ratio >= 0.2 and ratios[-1] <= 0.2 * ratios[0] and settled:
            label = "critical value"
        else:
            ev["reason"] = ("neither does the singular-value ratio tend to 0 at a settled preimage, nor does the "
                            "preimage norm diverge")
    ev["status"] = "numerical"
    return BoundaryPoint(np.asarray(b, dtype=float), label, width, float(residual), ev)


def _brackets(pts: np.ndarray, mem: np.ndarray, thr: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (in, out) of neighbouring branch points (each point with its two nearest neighbours
    within thr) with different membership."""
    pairs = set()
    for i in range(len(pts)):
        d = np.linalg.norm(pts - pts[i], axis=1)
        d[i] = np.inf
        for j in np.argsort(d)[:2]:
            j = int(j)
            if np.isfinite(d[j]) and d[j] < thr[i] and mem[i] != mem[j]:
                pairs.add((i, j) if mem[i] else (j, i))
    return sorted(pairs)


def _checked_brackets(geo: _Geometry, pts: np.ndarray, mem: np.ndarray, thetas: list, thr: np.ndarray,
                      restarts: int) -> tuple[list[tuple[int, int]], int]:
    """Brackets whose not-in-M end survives a second, longer preimage search (warm starts from the
    in-M neighbours' preimages, twice the random starts); ends found in M are flipped (``mem`` and
    ``thetas`` are updated in place).  Returns (brackets, number of flipped points)."""
    flipped = 0
    for _ in range(3):
        pairs = _brackets(pts, mem, thr)
        changed = False
        for j in sorted({j for _, j in pairs}):
            warm = tuple(thetas[i] for i, jj in pairs if jj == j)
            ok, th, _ = geo.member(pts[j], warm=warm, restarts=2 * restarts)
            if ok:
                mem[j], thetas[j] = True, th
                flipped += 1
                changed = True
        if not changed:
            return pairs, flipped
    return _brackets(pts, mem, thr), flipped


def _dedupe(bps: list[BoundaryPoint], tol: float) -> list[BoundaryPoint]:
    out: list[BoundaryPoint] = []
    for bp in bps:
        if all(np.linalg.norm(bp.point - o.point) > max(10 * tol, 10 * bp.bracket, 10 * o.bracket) for o in out):
            out.append(bp)
    return out


# ----------------------------------------------------------------------------------------------
# the implicit form


def _exact_rank_columns(Y: np.ndarray) -> list[int]:
    """Pivot columns of an integer matrix (exact row reduction over Q)."""
    import flint

    M = flint.fmpq_mat(Y.shape[0], Y.shape[1], [int(v) for v in Y.reshape(-1)])
    R, rank = M.rref()
    piv = []
    for i in range(rank):
        for j in range(Y.shape[1]):
            if R[i, j] != 0:
                piv.append(j)
                break
    return piv


def _implicit(spec: str | Architecture, seed: int, force: bool = False) -> dict[str, Any]:
    """Architecture, certified invariants, the exact implicit form and the seeded generator."""
    import flint

    from ..architectures import parse_spec
    from ..context import Context
    from ..invariants.cost import check_cost
    from ..invariants.degree import degree
    from ..invariants.dimension import ambient_dimension, dimension
    from ..parametrization.coefficients import coefficient_map

    arch = parse_spec(spec)
    ctx = Context(arch, seed=seed)
    if not force:  # beyond COST_CAP the degree is refused (one line naming --force)
        check_cost(ctx, ["degree"])
    rep = {"dimension": dimension(ctx), "ambient_dimension": ambient_dimension(ctx), "degree": degree(ctx)}
    k, e, deg = rep["dimension"].value, rep["ambient_dimension"].value, rep["degree"].value
    if any(rep[n].status != "certified" for n in ("dimension", "ambient_dimension", "degree")):
        raise InputError(f"{arch.spec()}: dimension, span and degree must be certified for an exact slice")
    if k != e - 1:
        raise InputError(f"{arch.spec()}: M has codimension {e - k} in its span; a plane slice is a curve only for "
                         "hypersurfaces (codimension 1)")
    if deg > 8:
        raise InputError(f"{arch.spec()}: the implicit equation has degree {deg}; plane slices are limited to degree 8")
    cmap = coefficient_map(arch)
    rng = np.random.default_rng(seed)
    N = arch.n_params
    P = cmap.polynomials

    def image(theta: np.ndarray) -> np.ndarray:
        return P.evaluate(np.asarray(theta, dtype=complex)[None, :])[0].real

    n_mono = len(list(combinations_with_replacement(range(e), deg)))
    thetas = rng.integers(-3, 4, size=(n_mono + 40, N))
    Y = np.rint(np.array([image(th) for th in thetas])).astype(object)
    coords = _exact_rank_columns(np.array(Y, dtype=object))
    if len(coords) != e:
        raise InputError(f"{arch.spec()}: sampled images span {len(coords)} dimensions, expected {e}")
    Yc = Y[:, coords]
    monos = list(combinations_with_replacement(range(e), deg))
    rows = [[int(np.prod([int(y[i]) for i in m], dtype=object)) for m in monos] for y in Yc]
    V = flint.fmpz_mat(rows)
    X, nullity = V.nullspace()
    if nullity != 1:
        raise InputError(f"{arch.spec()}: forms of degree {deg} vanishing on M: {nullity} (expected exactly 1)")
    vec = [int(X[i, 0]) for i in range(len(monos))]
    g = 0
    for v in vec:
        g = np.gcd(g, abs(v))
    form: dict[tuple[int, ...], int] = {}
    for m, v in zip(monos, vec):
        if v:
            ex = [0] * e
            for i in m:
                ex[i] += 1
            form[tuple(ex)] = v // int(g)
    return {"arch": arch, "k": k, "e": e, "deg": deg, "form": form, "coords": coords, "rng": rng, "P": P,
            "image": image}


def _symbolic_form(form: dict[tuple[int, ...], int], e: int) -> tuple[Any, Any]:
    """The implicit form F as a sympy polynomial in the coordinates y0..y{e-1} (integer coefficients
    from the exact nullspace; no user text involved)."""
    import sympy

    ys = sympy.symbols(f"y0:{e}")
    return ys, sum(c * sympy.Mul(*[ys[i] ** p for i, p in enumerate(ex)]) for ex, c in form.items())


def _directions(rng: np.random.Generator, e: int, n: int) -> list[np.ndarray]:
    """n random integer directions in R^e, redrawn (rarely) until independent."""
    while True:
        dirs = [rng.integers(-2, 3, size=e).astype(float) for _ in range(n)]
        if np.linalg.matrix_rank(np.array(dirs)) == n:
            return dirs


def _check_interval(name: str, rng_: tuple[float, float]) -> None:
    lo, hi = (float(v) for v in rng_)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InputError(f"{name}=({lo}, {hi}): pass an interval (lo, hi) with lo < hi")


def _validate(n_lines: int, restarts: int, tol: float, boundary_tol: float, name: str = "n_lines") -> None:
    if int(n_lines) < 2:
        raise InputError(f"{name}={n_lines}: pass at least 2")
    if int(restarts) < 1:
        raise InputError(f"restarts={restarts}: pass at least 1 random start for the preimage search")
    if not (0 < tol < 1e-3):
        raise InputError(f"tol={tol}: pass a preimage residual tolerance in (0, 1e-3)")
    if not (0 < boundary_tol < 1e-2):
        raise InputError(f"boundary_tol={boundary_tol}: pass a bisection tolerance in (0, 1e-2)")


# ----------------------------------------------------------------------------------------------
# plane slices


def plane_slice(spec: str | Architecture, *, seed: int = 0, t_range: tuple[float, float] = (-3.0, 3.0),
                n_lines: int = 121, restarts: int = 8, tol: float = 1e-9, boundary_tol: float = 1e-6,
                force: bool = False) -> PlaneSlice:
    """The plane slice curve, its singular points (each tested for membership in M_R), its real
    points (membership in M_R) and the refined, labelled boundary points (see the module docstring)."""
    import sympy

    from ..homotopy import PolynomialSystem, solve_total_degree

    _validate(n_lines, restarts, tol, boundary_tol)
    _check_interval("t_range", t_range)
    imp = _implicit(spec, seed, force)
    arch, k, e, deg, form, coords, rng = (imp[n] for n in ("arch", "k", "e", "deg", "form", "coords", "rng"))
    N = arch.n_params
    ys, F = _symbolic_form(form, e)
    # the plane through a real point of M
    th0 = rng.standard_normal(N)
    y0 = imp["image"](th0)[coords]
    a, b = _directions(rng, e, 2)
    s, t = sympy.symbols("s t")
    y0r = [sympy.Rational(float(v)).limit_denominator(10**12) for v in y0]
    f = sympy.expand(F.subs({ys[i]: y0r[i] + s * int(a[i]) + t * int(b[i]) for i in range(e)}))
    geo = _Geometry(_Form(form, e), _RealMap(imp["P"], coords), y0, np.stack([a, b], axis=1), k, rng, restarts, tol)
    # singular points of the curve: f_s = f_t = 0 (all isolated solutions), then f = 0, real
    fs, ft = sympy.diff(f, s), sympy.diff(f, t)
    sing = []
    if f.free_symbols >= {s, t}:
        sysd = PolynomialSystem.from_sympy([fs, ft], [s, t])
        res = solve_total_degree(sysd, seed=seed)
        cand = np.concatenate([res.solutions, res.singular_solutions]) if len(res.singular_solutions) else res.solutions
        fl = sympy.lambdify((s, t), f, "numpy")
        for z in cand:
            if np.all(np.abs(z.imag) < 1e-7) and abs(fl(z[0].real, z[1].real)) < 1e-7 * (1 + np.abs(z).max() ** deg):
                sing.append(z.real)
    sing_arr = np.array(sing).reshape(-1, 2)
    # real points on lines t = const; membership in M_R by a real preimage search
    poly_s = sympy.Poly(f, s)
    lines = np.linspace(*t_range, n_lines)

    def real_points(tv: float) -> list[np.ndarray]:
        coeffs = [float(c.subs(t, tv)) for c in poly_s.all_coeffs()]
        roots = np.roots(coeffs) if len(coeffs) > 1 else []
        return [np.array([r.real, tv]) for r in roots if abs(r.imag) < 1e-9 * (1 + abs(r))]

    pts, member, thetas = geo.member_sweep(real_points(float(tv)) for tv in lines)
    pts_arr = np.array(pts).reshape(-1, 2)
    mem = np.array(member, dtype=bool)
    # the singular points: in M_R (a node of two real sheets) or not (e.g. an isolated real point)
    sing_mem = np.array([geo.member(p)[0] for p in sing_arr], dtype=bool)
    # boundary: neighbouring points of a branch with different membership, refined by bisection
    dt = (lines[1] - lines[0]) if len(lines) > 1 else 1.0
    thr = 3 * dt * (1 + np.abs(pts_arr).max(axis=1)) if len(pts_arr) else np.zeros(0)
    pairs, flipped = _checked_brackets(geo, pts_arr, mem, thetas, thr, restarts)
    bps = [_refine_and_label(geo, geo.project_curve, pts_arr[i], thetas[i], pts_arr[j], boundary_tol, False)
           for i, j in pairs]
    bps = _dedupe(bps, boundary_tol)
    bnd_arr = np.array([bp.point for bp in bps]).reshape(-1, 2)
    ev = {"dim_M": k, "span": e, "degree": deg, "implicit_equation_terms": len(form),
          "membership": f"real preimage by trust-region least squares from {restarts} random starts, residual <= {tol}",
          "singular_points_in_M": int(sing_mem.sum()), "singular_points_not_in_M": int((~sing_mem).sum()),
          "points_in_M": int(mem.sum()), "points_not_in_M": int((~mem).sum()),
          "not_in_M_found_in_M_on_recheck": flipped,
          "boundary_tolerance": boundary_tol,
          "boundary_labels": {lab: sum(bp.label == lab for bp in bps) for lab in LABELS},
          "status": {"degree, dimension, span": "certified (analyze)",
                     "implicit_equation": "certified (exact nullspace over Q, one-dimensional)",
                     "singular_points": "numerical (homotopy continuation, f checked at the points)",
                     "in_M": "numerical for 'not found' (True: a real preimage with the stated residual)",
                     "boundary": "numerical (bisection along the branch; label from the approach, see evidence)"}}
    return PlaneSlice(arch, deg, form, coords, y0, a, b, str(f), sing_arr, pts_arr, mem, bnd_arr, ev,
                      singular_in_M=sing_mem, boundary_points=bps, geometry=geo)


# ----------------------------------------------------------------------------------------------
# surface slices


def _singular_curve(geo: _Geometry, sysd: Any, box: tuple[float, float], n_levels: int, seed: int) -> dict[str, Any]:
    """Real points of {grad F = 0} on the levels w = const of a 3-space slice: total-degree homotopy on
    f_s = f_t = 0 at each level, real solutions polished by Gauss-Newton on grad F = 0 and kept where
    |grad F| <= 1e-9 relative; levels are bisected where the number of points changes (turning
    points); membership in M_R with warm starts from the previous level."""
    from ..homotopy import solve_total_degree

    D = geo.D
    hom_ev = {"levels": 0, "paths": 0, "failed_paths": 0}

    def level(wv: float) -> list[np.ndarray]:
        res = solve_total_degree(sysd, np.array([wv]), seed=seed)
        hom_ev["levels"] += 1
        hom_ev["paths"] += res.n_paths
        hom_ev["failed_paths"] += res.n_failed
        cand = np.concatenate([res.solutions, res.singular_solutions]) if len(res.singular_solutions) else res.solutions
        out: list[np.ndarray] = []
        for z in cand:
            if np.all(np.abs(z.imag) < 1e-6 * (1 + np.abs(z).max())):
                p = np.array([z[0].real, z[1].real, wv])
                for _ in range(30):  # Gauss-Newton on grad F = 0 in (s, t)
                    y = geo.y(p)
                    step = np.linalg.lstsq(geo.F.hess(y) @ D[:, :2], -geo.F.grad(y), rcond=None)[0]
                    p[:2] += step
                    if np.linalg.norm(step) <= 1e-15 * (1 + np.abs(p).max()):
                        break
                if geo.grad_rel(p) <= 1e-9 and all(np.linalg.norm(p - q) > 1e-6 * (1 + np.abs(p).max()) for q in out):
                    out.append(p)
        return out

    levels = {float(wv): level(float(wv)) for wv in np.linspace(*box, n_levels)}
    dw = (box[1] - box[0]) / (n_levels - 1)
    keys = sorted(levels)
    todo = [(keys[i], keys[i + 1]) for i in range(len(keys) - 1)]
    while todo:
        lo, hi = todo.pop()
        if len(levels[lo]) != len(levels[hi]) and hi - lo > dw / 33:
            mid = (lo + hi) / 2
            levels[mid] = level(mid)
            todo += [(lo, mid), (mid, hi)]
    curve, mem, thetas = geo.member_sweep(levels[wv] for wv in sorted(levels))
    return {"points": np.array(curve).reshape(-1, 3), "in_M": np.array(mem, dtype=bool), "thetas": thetas,
            "dw": dw, "evidence": hom_ev}


def surface_slice(spec: str | Architecture, *, seed: int = 0, box: tuple[float, float] = (-3.0, 3.0),
                  n_levels: int = 25, n_lines: int = 31, restarts: int = 8, tol: float = 1e-9,
                  boundary_tol: float = 1e-6, tries: int = 6, force: bool = False) -> SurfaceSlice:
    """A 3-space slice y0 + s a + t b + w c through a real point y0 of M: a surface with a
    2-dimensional M-part (the seed talk's picture); its singular curve {grad F = 0} (level by level
    w = const in ``box``), the membership of its points in M_R, and the refined, labelled points where
    the singular curve leaves M_R.  3-spaces are drawn from the seeded generator until the singular
    curve in the box has points both in and out of M_R, at most ``tries`` (the evidence lists the
    discarded ones; with tries=1 the first draw is kept).  ``points`` samples the real surface in
    the box on lines t, w = const (for the figure; their membership is not tested)."""
    import sympy

    from ..homotopy import PolynomialSystem

    _validate(n_levels, restarts, tol, boundary_tol, name="n_levels")
    if int(n_lines) < 2:
        raise InputError(f"n_lines={n_lines}: pass at least 2")
    if int(tries) < 1:
        raise InputError(f"tries={tries}: pass at least 1 (the number of 3-spaces drawn)")
    _check_interval("box", box)
    imp = _implicit(spec, seed, force)
    arch, k, e, deg, form, coords, rng = (imp[n] for n in ("arch", "k", "e", "deg", "form", "coords", "rng"))
    N = arch.n_params
    ys, F = _symbolic_form(form, e)
    s, t, w = sympy.symbols("s t w")
    tried = []
    for attempt in range(int(tries)):
        th0 = rng.standard_normal(N)
        y0 = imp["image"](th0)[coords]
        a, b, c = _directions(rng, e, 3)
        D = np.stack([a, b, c], axis=1)
        geo = _Geometry(_Form(form, e), _RealMap(imp["P"], coords), y0, D, k, rng, restarts, tol)
        y0r = [sympy.Rational(float(v)).limit_denominator(10**12) for v in y0]
        f = sympy.expand(F.subs({ys[i]: y0r[i] + s * int(a[i]) + t * int(b[i]) + w * int(c[i]) for i in range(e)}))
        sysd = PolynomialSystem.from_sympy([sympy.diff(f, s), sympy.diff(f, t)], [s, t], [w])
        sc = _singular_curve(geo, sysd, box, n_levels, seed)
        n_in, n_out = int(sc["in_M"].sum()), int((~sc["in_M"]).sum())
        tried.append({"try": attempt + 1, "singular_curve_points": n_in + n_out, "in_M": n_in, "not_in_M": n_out})
        if n_in and n_out:
            break
    curve_arr, mem_arr, thetas = sc["points"], sc["in_M"], sc["thetas"]
    thr = 3 * sc["dw"] * (1 + np.abs(curve_arr).max(axis=1)) if len(curve_arr) else np.zeros(0)
    pairs, flipped = _checked_brackets(geo, curve_arr, mem_arr, thetas, thr, restarts)
    bps = [_refine_and_label(geo, geo.project_singular, curve_arr[i], thetas[i], curve_arr[j], boundary_tol, True)
           for i, j in pairs]
    bps = _dedupe(bps, boundary_tol)
    bnd_arr = np.array([bp.point for bp in bps]).reshape(-1, 3)
    # sample points of the real surface in the box (for the figure)
    pts = []
    grid = np.linspace(*box, n_lines)
    half, mid_s = (box[1] - box[0]) / 2, (box[1] + box[0]) / 2
    nodes = np.cos(np.pi * (np.arange(deg + 1) + 0.5) / (deg + 1))
    for wv in grid[:: max(1, n_lines // 10)]:
        for tv in grid:
            base = y0 + tv * b + wv * c + mid_s * a
            vals = [geo.F.value(base + half * x * a) for x in nodes]
            roots = np.atleast_1d(np.polynomial.chebyshev.chebroots(np.polynomial.chebyshev.chebfit(nodes, vals, deg)))
            for r in roots:
                if abs(r.imag) < 1e-9 and abs(r.real) <= 1:
                    pts.append([mid_s + half * r.real, tv, wv])
    ev = {"dim_M": k, "span": e, "degree": deg, "implicit_equation_terms": len(form),
          "membership": f"real preimage by trust-region least squares from warm starts and {restarts} random starts, "
                        f"residual <= {tol}",
          "slices_tried": tried,
          "singular_curve": {**sc["evidence"], "points": int(len(curve_arr)), "in_M": int(mem_arr.sum()),
                             "not_in_M": int((~mem_arr).sum()), "not_in_M_found_in_M_on_recheck": flipped,
                             "criterion": "f_s = f_t = 0 on the level (homotopy), then |grad F| <= 1e-9 relative"},
          "boundary_tolerance": boundary_tol,
          "boundary_labels": {lab: sum(bp.label == lab for bp in bps) for lab in LABELS},
          "status": {"degree, dimension, span": "certified (analyze)",
                     "implicit_equation": "certified (exact nullspace over Q, one-dimensional)",
                     "singular_curve": "numerical (homotopy continuation level by level, Gauss-Newton polish)",
                     "in_M": "numerical for 'not found' (True: a real preimage with the stated residual)",
                     "boundary": "numerical (bisection along the singular curve; label from the approach)"}}
    return SurfaceSlice(arch, deg, form, coords, y0, a, b, c, str(f), np.array(pts).reshape(-1, 3), curve_arr,
                        mem_arr, bnd_arr, bps, ev, geometry=geo)


__all__ = ["plane_slice", "surface_slice", "PlaneSlice", "SurfaceSlice", "BoundaryPoint", "LABELS"]
