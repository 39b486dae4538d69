"""A 2-D slice of a neuromanifold that is a hypersurface in its span: the curve, its singular
points, and where the real curve leaves the (semialgebraic) real neuromanifold.

1. Coordinates: D coefficients of the network function; M spans a linear space of dimension e.
   We keep e coefficient coordinates on which the span projects injectively (exact row reduction).
2. Implicit equation: when dim M = e - 1, the Zariski closure of M is {F = 0} for one polynomial F;
   M is a cone (scaling the last layer), so F is a form.  Its coefficients are the nullspace, over Q
   and exactly (python-flint), of the monomials of degree deg F evaluated at images of random integer
   parameters.  deg F is the degree of M (the witness-set invariant), checked: the nullspace of degree
   deg F has dimension one and lower degrees have none.
3. The slice: a plane y(s, t) = y0 + s a + t b through a point y0 of M with random integer directions;
   the curve f(s, t) = F(y(s, t)) = 0, its singular points (f = f_s = f_t = 0; homotopy continuation)
   and its real points along lines t = const (roots of a univariate polynomial).
4. Membership of real curve points in the real image M_R (M is only semialgebraic): a real
   preimage is searched by nonlinear least squares from several random real starts; residual below
   ``tol`` means in M_R (certain up to the tolerance), none found means "not found" (numerical).
   Boundary points: where consecutive points of one branch change membership.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from typing import Any

import numpy as np

from .architectures import Architecture
from .errors import InputError


@dataclass
class PlaneSlice:
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
    boundary: np.ndarray  # (B, 2) approximate points where the curve leaves M_R
    evidence: dict[str, Any] = field(default_factory=dict)


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


def plane_slice(spec: str | Architecture, *, seed: int = 0, t_range: tuple[float, float] = (-3.0, 3.0),
                n_lines: int = 121, restarts: int = 8, tol: float = 1e-9) -> PlaneSlice:
    import flint
    import sympy

    from .analysis import analyze
    from .architectures import parse_spec
    from .coefficients import coefficient_map, real_least_squares
    from .homotopy import PolynomialSystem, solve_total_degree

    arch = parse_spec(spec)
    rep = analyze(arch, only="dimension,ambient_dimension,degree", seed=seed)
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
    ys = sympy.symbols(f"y0:{e}")
    F = sum(c * sympy.Mul(*[ys[i] ** p for i, p in enumerate(ex)]) for ex, c in form.items())
    # the plane through a real point of M
    th0 = rng.standard_normal(N)
    y0 = image(th0)[coords]
    a, b = rng.integers(-2, 3, size=e).astype(float), rng.integers(-2, 3, size=e).astype(float)
    s, t = sympy.symbols("s t")
    y0r = [sympy.Rational(float(v)).limit_denominator(10**12) for v in y0]
    f = sympy.expand(F.subs({ys[i]: y0r[i] + s * int(a[i]) + t * int(b[i]) for i in range(e)}))
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
    pts, member = [], []
    lines = np.linspace(*t_range, n_lines)

    def in_M(y: np.ndarray) -> bool:
        r = real_least_squares(P, y, rng, restarts, rows=coords, stop_tol=tol)
        return bool(np.max(np.abs(r.fun)) <= tol * (1 + np.max(np.abs(y))))

    for tv in lines:
        coeffs = [float(c.subs(t, tv)) for c in poly_s.all_coeffs()]
        roots = np.roots(coeffs) if len(coeffs) > 1 else []
        for r in roots:
            if abs(r.imag) < 1e-9 * (1 + abs(r)):
                pt = np.array([r.real, tv])
                pts.append(pt)
                member.append(in_M(y0 + pt[0] * a + pt[1] * b))
    pts_arr = np.array(pts).reshape(-1, 2)
    mem = np.array(member, dtype=bool)
    # boundary: nearest-neighbour pairs (along the curve) with different membership
    bnd = []
    for i in range(len(pts_arr)):
        d = np.linalg.norm(pts_arr - pts_arr[i], axis=1)
        d[i] = np.inf
        j = int(np.argmin(d))
        if mem[i] != mem[j] and d[j] < 3 * (lines[1] - lines[0]) * (1 + np.abs(pts_arr[i]).max()):
            bnd.append((pts_arr[i] + pts_arr[j]) / 2)
    bnd_arr = np.unique(np.round(np.array(bnd).reshape(-1, 2), 6), axis=0)
    ev = {"dim_M": k, "span": e, "degree": deg, "implicit_equation_terms": len(form),
          "membership": f"real preimage by trust-region least squares from {restarts} random starts, residual <= {tol}",
          "status": {"degree, dimension, span": "certified (analyze)",
                     "implicit_equation": "certified (exact nullspace over Q, one-dimensional)",
                     "singular_points": "numerical (homotopy continuation, f checked at the points)",
                     "in_M": "numerical for 'not found' (True: a real preimage with the stated residual)"}}
    return PlaneSlice(arch, deg, form, coords, y0, a, b, str(f), sing_arr, pts_arr, mem, bnd_arr, ev)


__all__ = ["plane_slice", "PlaneSlice"]
