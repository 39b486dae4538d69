"""The affine slice y(p) = y0 + D p (p = (s, t) for a plane, (s, t, w) for a 3-space) through a real
point y0 of M, with random integer directions (the columns of D).

``_Geometry`` holds one slice: F and grad F on it relative to their size, membership of slice points
in M_R (real preimages, warm-started along lines or levels), the best conditioning of d mu over a
fiber, and the projections of a point back onto the plane curve f = F(y(p)) = 0 or onto the
singular curve {grad F = 0} of a surface slice, normal to a given direction.  Also the checks of the
options shared by plane and surface slices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .implicit import _Form
from .real_fiber import _best_conditioned, _min_norm, _preimage, _RealMap


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
