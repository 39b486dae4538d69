"""Surface slices: the surface f(s, t, w) = F(y0 + s a + t b + w c) = 0 of a 3-space through a real
point y0 of M and its singular curve Sing(H) n slice = {grad F = 0}, level by level w = const
(homotopy continuation on f_s = f_t = 0, kept where the whole gradient of F vanishes), with the
membership of its points in M_R and the refined, labelled points where it leaves M_R.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..context import Context, as_context
from ..errors import InputError
from .affine import _check_interval, _directions, _Geometry, _validate
from .boundary import LABELS, BoundaryPoint, _checked_brackets, _dedupe, _refine_and_label, _SliceMixin
from .implicit import _Form, _implicit, _symbolic_form
from .real_fiber import _RealMap


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


def surface_slice(spec: str | Architecture | Context, *, seed: int | None = None, box: tuple[float, float] = (-3.0, 3.0),
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
    seed = imp["seed"]
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
