"""Boundary points: where a real branch of a slice (the plane curve, or the singular curve of a
surface slice) leaves M_R.

Neighbouring branch points with different membership bracket a boundary point; the not-in-M end is
searched again (longer), then the bracket is bisected along the branch (midpoints moved back onto
the branch normal to the chord) until narrower than ``boundary_tol`` (1 + |p|).  The boundary of M_R
in the real hypersurface lies in the critical values of mu together with the limits of mu(theta),
|theta| -> infinity: approaching the point from inside at distances h shrinking 4x per step, a
diverging minimum preimage norm labels it "at infinity", a best sigma_dim/sigma_1 of d mu over the
fiber tending to 0 (as a power of h) at a settled norm "critical value", anything else "undecided".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .affine import _Geometry
from .real_fiber import _min_norm

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


def _slope(x: list[float], y: list[float]) -> float:
    lx, ly = np.log(np.asarray(x)), np.log(np.maximum(np.asarray(y), 1e-300))
    return float(np.polyfit(lx, ly, 1)[0])


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
