"""The real fiber mu^-1(y) n R^N of a point y of the slice, and membership of y in M_R = mu(R^N).

mu is restricted to the kept coefficient coordinates and evaluated in real arithmetic with its
Jacobian (``_RealMap``).  A real preimage theta with mu(theta) = y is searched by trust-region
least squares (``_preimage``: residual <= tol (1 + |y|_inf) means y in M_R).  On the fiber component
of theta: the point of minimum norm |theta| (``_min_norm``) and a local maximum of the conditioning
sigma_dim/sigma_1 of d mu (``_best_conditioned``), both by steps along the kernel of d mu followed
by Gauss-Newton back onto mu = y (``_to_fiber``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


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
