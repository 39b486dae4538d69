"""JSON and text of a plane or 3-space slice of a hypersurface M (``slices.PlaneSlice``, ``slices.SurfaceSlice``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..result import jsonable


def slice_dict(sl: Any, surface: bool, *, figure: Any = None) -> dict[str, Any]:
    """The slice as JSON-ready data: equation, singular points (and which lie in M), boundary points, evidence."""
    sing_in = np.asarray(sl.singular_in_M, dtype=bool)
    d = {"spec": sl.architecture.spec(), "kind": "surface" if surface else "plane", "degree": sl.degree,
         "equation": sl.surface if surface else sl.curve,
         "singular": (sl.singular_curve if surface else sl.singular_points).tolist(),
         "singular_in_M": sing_in.tolist(), "boundary_points": [b.to_dict() for b in sl.boundary_points],
         "evidence": sl.evidence, "figure": None if figure is None else str(figure)}
    return jsonable(d)


def boundary_lines(boundary_points: list[Any]) -> list[str]:
    """One line per refined boundary point (``slices.BoundaryPoint``): where, what, and the evidence in brief."""
    out = []
    for bp in boundary_points:
        ev = bp.evidence
        nan = float("nan")
        out.append(f"{np.round(bp.point, 6).tolist()}: {bp.label} (bracket {bp.bracket:.1e}; "
                   f"sigma ratio {ev.get('ratio_first', nan):.2e} -> {ev.get('ratio_last', nan):.2e}, "
                   f"|theta| {ev.get('norm_first', nan):.3g} -> {ev.get('norm_last', nan):.3g})")
    return out


def slice_text(sl: Any, surface: bool, *, figure: Any = None) -> str:
    """The degree, the equation (6 digits), the singular points in and out of M, the boundary points and the
    figure written (if any)."""
    from ..arithmetic.polynomial_text import parse_polynomial

    sing_in = np.asarray(sl.singular_in_M, dtype=bool)
    kind = "3-space y0 + s a + t b + w c" if surface else "plane y0 + s a + t b"
    lines = [f"{sl.architecture.spec()}: hypersurface of degree {sl.degree} (certified; implicit equation exact over Q) "
             f"cut by the {kind} through a real point of M"]
    # the toolkit's own exact equation (str of a sympy polynomial), read back by the whitelist parser
    eq = parse_polynomial(sl.surface if surface else sl.curve, ["s", "t", "w"], max_length=None,
                          max_degree=None).evalf(6)  # exact in --json
    lines.append(f"  {'surface f(s,t,w)' if surface else 'curve f(s,t)'} = {eq}")
    what = "points of the singular curve" if surface else "singular points of the curve"
    lines.append(f"  {what}: {len(sing_in)} ({int(sing_in.sum())} in M, {int((~sing_in).sum())} not; numerical)")
    lines.append(f"  boundary points (where the real {'singular curve' if surface else 'curve'} leaves M; numerical, "
                 f"refined by bisection): {len(sl.boundary_points)}")
    lines += [f"    {line}" for line in boundary_lines(sl.boundary_points)]
    if figure is not None:
        lines.append(f"  figure: {figure}")
    return "\n".join(lines)
