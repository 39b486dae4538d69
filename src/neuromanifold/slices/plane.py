"""Plane slices: the curve f(s, t) = F(y0 + s a + t b) = 0 of a plane through a real point y0 of M,
its singular points (f = f_s = f_t = 0, homotopy continuation on f_s = f_t = 0), its real points on
the lines t = const (roots of a univariate polynomial) with their membership in M_R, and the refined,
labelled points where the curve leaves M_R.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..context import Context, as_context
from .affine import _check_interval, _directions, _Geometry, _validate
from .boundary import LABELS, BoundaryPoint, _checked_brackets, _dedupe, _refine_and_label, _SliceMixin
from .implicit import _Form, _implicit, _symbolic_form
from .real_fiber import _RealMap


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


def plane_slice(spec: str | Architecture | Context, *, seed: int | None = None, t_range: tuple[float, float] = (-3.0, 3.0),
                n_lines: int = 121, restarts: int = 8, tol: float = 1e-9, boundary_tol: float = 1e-6,
                force: bool = False) -> PlaneSlice:
    """The plane slice curve, its singular points (each tested for membership in M_R), its real
    points (membership in M_R) and the refined, labelled boundary points (see the module docstring)."""
    import sympy

    from ..homotopy import PolynomialSystem, solve_total_degree

    _validate(n_lines, restarts, tol, boundary_tol)
    _check_interval("t_range", t_range)
    imp = _implicit(spec, seed, force)
    seed = imp["seed"]
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
