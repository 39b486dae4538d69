"""Voronoi cells of real plane curves {f(x, y) = 0}: the pictures of the seed talk, computed.

For a target u, the nearest point of the curve is either a singular point of the curve (f = f_x =
f_y = 0, found exactly with sympy) or a smooth critical point of the squared distance, a solution
of the Lagrange system

    f(x, y) = 0,   (x - u1) f_y(x, y) - (y - u2) f_x(x, y) = 0,

which we solve completely once at a generic complex target (total-degree homotopy; singular points
of the curve solve it for every u and are handled separately) and move to each grid target by
parameter homotopies.  The Voronoi cell of a point p is the set of targets whose nearest point is p:
a segment of the normal line at a smooth point, possibly a 2-D region at a singular point (a cusp,
whose tangent cone is a single ray) or just the point itself (a node with transversal branches,
whose tangent rays span the plane).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..result import html_badge, html_card, html_evidence, html_table, html_text


@dataclass
class CurveVoronoi:
    """Nearest-point labels of grid targets: -1 smooth point, i >= 0 the i-th singular point."""

    equation: str
    singular_points: np.ndarray  # (m, 2) real singular points
    s: np.ndarray
    t: np.ndarray
    label: np.ndarray  # (T, S) ints; -2: undecided (a path failed)
    nearest: np.ndarray  # (T, S, 2) nearest points
    evidence: dict[str, Any] = field(default_factory=dict)

    def cell_fraction(self, i: int) -> float:
        """Fraction of the grid in the Voronoi cell of singular point i (positive: a 2-D cell)."""
        ok = self.label != -2
        return float(np.mean(self.label[ok] == i)) if ok.any() else 0.0

    def _repr_html_(self) -> str:
        """Jupyter: each real singular point with the fraction of the grid in its Voronoi cell (positive: a 2-D
        cell), the grid, the evidence.  A sampling on a grid: numerical."""
        rows = [(i, f"({p[0]:.6g}, {p[1]:.6g})", f"{self.cell_fraction(i):.4f}",
                 "2-dimensional" if self.cell_fraction(i) > 0 else "no grid target besides the point")
                for i, p in enumerate(self.singular_points)]
        undecided = int(np.sum(self.label == -2))
        body = [f"<p>{len(self.s)} x {len(self.t)} grid of targets on [{self.s[0]:.3g}, {self.s[-1]:.3g}] x "
                f"[{self.t[0]:.3g}, {self.t[-1]:.3g}], {undecided} undecided {html_badge('numerical')}</p>",
                html_table(("#", "singular point", "fraction of the grid in its cell", "cell"), rows)
                if rows else "<p>no real singular point</p>",
                html_evidence(self.evidence)]
        return html_card(f"Voronoi cells of the curve <code>{html_text(self.equation)} = 0</code>", body,
                         kind="curve_voronoi")


def curve_voronoi(
    equation: str,
    *,
    s_range: tuple[float, float] = (-2.0, 2.0),
    t_range: tuple[float, float] = (-2.0, 2.0),
    grid: int = 41,
    seed: int = 0,
) -> CurveVoronoi:
    """Nearest points of the real curve {equation = 0} (a polynomial in x, y) for a grid of targets."""
    import sympy

    from ..homotopy import ParameterHomotopyBatch, PolynomialSystem, solve, solve_total_degree

    from ..arithmetic.polynomial_text import parse_polynomial

    x, y, u1, u2 = sympy.symbols("x y u1 u2")
    f = sympy.expand(parse_polynomial(equation, [x, y]))  # text is read by a whitelist, never evaluated
    if not f.free_symbols <= {x, y} or not f.is_polynomial(x, y) or sympy.Poly(f, x, y).total_degree() < 1:
        raise InputError(f"the curve must be a non-constant polynomial in x and y; got {equation!r}")
    fx, fy = sympy.diff(f, x), sympy.diff(f, y)
    sing = []
    for sol in sympy.solve([f, fx, fy], [x, y], dict=True):
        px, py = complex(sol[x]), complex(sol[y])
        if abs(px.imag) < 1e-12 and abs(py.imag) < 1e-12:
            sing.append((px.real, py.real))
    S = np.array(sing, dtype=float).reshape(-1, 2)
    system = PolynomialSystem.from_sympy([f, (x - u1) * fy - (y - u2) * fx], [x, y], [u1, u2])
    rng = np.random.default_rng(seed)
    ustar = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    base = solve_total_degree(system, ustar, seed=seed)
    Z0 = base.solutions  # regular solutions: smooth critical points (singular points are singular solutions)
    n = len(Z0)
    sv, tv = np.linspace(*s_range, grid), np.linspace(*t_range, grid)
    label = np.full((grid, grid), -2, dtype=int)
    nearest = np.full((grid, grid, 2), np.nan)
    failed = 0
    for j, tt in enumerate(tv):
        U = np.stack([sv, np.full(grid, tt)], axis=1)
        if n:
            Pt = np.repeat(U.astype(complex), n, axis=0)
            gam = np.repeat(np.exp(2j * np.pi * rng.random(grid)), n)
            hom = ParameterHomotopyBatch(system, np.broadcast_to(ustar, Pt.shape).copy(), Pt, gam)
            tr = solve(hom, np.tile(Z0, (grid, 1)), rng=rng)
            Z, ok = tr.endpoints.reshape(grid, n, 2), tr.converged().reshape(grid, n)
        for i in range(grid):
            cands, labs = [], []
            if n:
                if not ok[i].all():
                    failed += 1
                    continue
                real = np.all(np.abs(Z[i].imag) <= 1e-8 * (1 + np.abs(Z[i].real)), axis=1)
                for z in Z[i][real].real:
                    cands.append(z)
                    labs.append(-1)
            for q, p in enumerate(S):
                cands.append(p)
                labs.append(q)
            if not cands:
                continue
            d = np.linalg.norm(np.array(cands) - U[i][None, :], axis=1)
            b = int(np.argmin(d))
            # a smooth critical point converging onto a singular point: the singular point is nearest
            lab = labs[b]
            if lab == -1 and len(S):
                close = np.linalg.norm(S - cands[b][None, :], axis=1) < 1e-6
                if close.any():
                    lab = int(np.argmax(close))
            label[j, i] = lab
            nearest[j, i] = cands[b]
    ev = {"regular_lagrange_solutions": n, "base_solve": base.evidence(), "undecided_targets": failed}
    return CurveVoronoi(str(f), S, sv, tv, label, nearest, ev)


__all__ = ["curve_voronoi", "CurveVoronoi"]
