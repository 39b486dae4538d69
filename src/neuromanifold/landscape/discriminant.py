"""Real critical points over a 2-D family of data sets, and the discriminant where they change.

For fixed inputs X and targets Y(s, t) = Y0 + s Y1 + t Y2, the critical-point system of the
mean-squared loss (``critical_points``) has parameters p(s, t) = p0 + s p1 + t p2 (affine in
(s, t)) and a fixed metric Q.  Over C the number of isolated critical points is the same for all
(s, t) off a complex discriminant hypersurface; over R the number and the types of the real ones
change only where (s, t) crosses its real part (the discriminant curves).

We solve the system once, completely, at a generic complex parameter p* (total-degree homotopy,
pure critical points completed by monodromy and certified by trace tests), then move every
solution to every grid point by one batch of parameter homotopies p* -> p(s_i, t_j) (a fresh
random gamma per path, so the paths avoid the complex discriminant with probability one).  Each
endpoint is classified: real or not, pure or spurious (rank of J_c), its type (Hessian on M).
Cells where paths failed, two paths met, or a critical point lies within numerical distance of the
singular locus of M (``classify_points`` calls it neither smooth nor spurious: sigma_k(J_c) or |c(z)|
in the band between the scale-free thresholds) are flagged ``uncertain``.  The discriminant is drawn
between neighbouring grid cells with different counts or types.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..context import Context, as_context
from ..parametrization.coefficients import coefficient_map
from .critical_points import (
    REAL_TOL,
    base_solutions,
    classify,
    hessians,
    loss_data,
    move_solutions,
    second_derivatives,
    tangent_hessian_eigenvalues,
)
from ..errors import InputError
from ..invariants.critical_system import IMAGE_TOL, RANK_GAP, classify_points, critical_system
from ..result import jsonable

COUNT_FIELDS = (
    "complex", "complex_pure", "real", "real_pure", "real_spurious",
    "local_minimum", "strict_saddle", "local_maximum", "degenerate", "failed", "uncertain",
)
CERTIFIED_FIELDS = ("certified", "certified_real", "certified_real_pure")
MAX_GRID_POINTS = 250_000



@dataclass
class CriticalPointMap:
    """Counts of critical points on a grid of data sets Y(s, t) = Y0 + s Y1 + t Y2."""

    architecture: Architecture
    s: np.ndarray  # (S,)
    t: np.ndarray  # (T,)
    counts: dict[str, np.ndarray]  # field -> (T, S) int arrays (row j: t[j], column i: s[i])
    base_solutions: int
    base_pure: int
    evidence: dict[str, Any] = field(default_factory=dict)

    def discriminant_edges(self, *, fields: tuple[str, ...] = ("real", "real_pure", "local_minimum")) -> np.ndarray:
        """Midpoints (E, 2) of the grid edges across which any of ``fields`` changes, in (s, t);
        edges touching an uncertain cell are left out."""
        change_h = np.zeros((len(self.t), len(self.s) - 1), dtype=bool)
        change_v = np.zeros((len(self.t) - 1, len(self.s)), dtype=bool)
        for f in fields:
            c = self.counts[f]
            change_h |= c[:, 1:] != c[:, :-1]
            change_v |= c[1:, :] != c[:-1, :]
        unc = self.counts["uncertain"] > 0
        change_h &= ~(unc[:, 1:] | unc[:, :-1])
        change_v &= ~(unc[1:, :] | unc[:-1, :])
        jh, ih = np.nonzero(change_h)
        jv, iv = np.nonzero(change_v)
        pts_h = np.stack([(self.s[ih] + self.s[ih + 1]) / 2, self.t[jh]], axis=1)
        pts_v = np.stack([self.s[iv], (self.t[jv] + self.t[jv + 1]) / 2], axis=1)
        return np.concatenate([pts_h, pts_v])

    def summary(self) -> dict[str, Any]:
        ok = self.counts["uncertain"] == 0
        out: dict[str, Any] = {
            "architecture": self.architecture.spec(),
            "grid": [int(len(self.s)), int(len(self.t))],
            "s_range": [float(self.s[0]), float(self.s[-1])],
            "t_range": [float(self.t[0]), float(self.t[-1])],
            "base_solutions_over_C": self.base_solutions,
            "base_pure_over_C": self.base_pure,
            "uncertain_cells": int((~ok).sum()),
            "status": "numerical (counts from parameter homotopies per cell; uncertain cells excluded; the base "
            "solve's pure points " + ("trace-certified" if self.evidence.get("base_pure_trace_test_passed")
                                      else "NOT trace-certified: counts may be lower bounds") + ")",
        }
        for f in ("complex", "complex_pure", "real", "real_pure", "local_minimum"):
            vals, cnt = np.unique(self.counts[f][ok], return_counts=True)
            out[f"{f}_values"] = {int(v): int(c) for v, c in zip(vals, cnt)}
        if "certified" in self.counts:
            real_ok = self.counts["certified_real"] == self.counts["real"]
            every = self.counts["certified"] == self.counts["complex"]
            out["certified"] = {
                "cells_every_point_certified": int(np.sum(every & ok)),
                "cells_real_count_certified": int(np.sum(real_ok & every & ok)),
                "certified_real_values": {int(v): int(c) for v, c in zip(*np.unique(self.counts["certified_real"],
                                                                                     return_counts=True))},
                "meaning": "per cell, certified / certified_real / certified_real_pure count points with a Krawczyk "
                "box (a rigorous lower bound on each count); where every endpoint of a cell is certified, its real "
                "count is exact on the points found (completeness rests on the base solve's trace test)",
            }
        out["discriminant_edge_points"] = int(len(self.discriminant_edges()))
        out["evidence"] = self.evidence
        return jsonable(out)

    def save(self, path: str | Path) -> Path:
        """Write the grids (``.npz``) and a JSON summary next to it (``.json``)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, s=self.s, t=self.t, discriminant=self.discriminant_edges(),
                 **{f"count_{k}": v for k, v in self.counts.items()})
        path.with_suffix(".json").write_text(json.dumps(self.summary(), indent=2))
        return path


def _family(arch, cmap, X, Y0, Y1, Y2):
    base = loss_data(arch, cmap, X, Y0)
    dirs = []
    for name, Yd in (("Y1", Y1), ("Y2", Y2)):
        Yd = np.asarray(Yd, dtype=float)
        if Yd.shape != np.asarray(Y0).shape:
            raise InputError(f"{name} must have the shape of Y0 {np.asarray(Y0).shape}; got {Yd.shape}")
        dirs.append(loss_data(arch, cmap, X, Yd).p)
    return base, dirs[0], dirs[1]


def critical_point_map(
    spec: str | Architecture | Context,
    X: Any,
    Y0: Any,
    Y1: Any,
    Y2: Any,
    *,
    s_range: tuple[float, float] = (-1.0, 1.0),
    t_range: tuple[float, float] = (-1.0, 1.0),
    grid: int | tuple[int, int] = 41,
    seed: int | None = None,
    total_degree_limit: int = 50_000,
    progress: bool = False,
    certify: bool = False,
) -> CriticalPointMap:
    """Number and types of the real critical points of the MSE loss for Y(s, t) = Y0 + s Y1 + t Y2.

    ``certify``: certify every endpoint with interval arithmetic (``CriticalSystem.certify`` at its cell's
    data): the counts gain ``certified`` (points with a Krawczyk box), ``certified_real`` and
    ``certified_real_pure`` per cell, each a rigorous lower bound on the corresponding count of the cell."""
    from ..homotopy.solutions import deduplicate
    from ..invariants.dimension import dimension_data

    t_start = time.perf_counter()
    gs, gt = (grid, grid) if isinstance(grid, (int, np.integer)) else (int(grid[0]), int(grid[1]))
    if gs < 2 or gt < 2:
        raise InputError("the grid needs at least 2 points per direction")
    if gs * gt > MAX_GRID_POINTS:
        raise InputError(f"a {gs} x {gt} grid has more than {MAX_GRID_POINTS} points; use a coarser grid")
    for name, r in (("s_range", s_range), ("t_range", t_range)):
        if len(r) != 2 or not np.all(np.isfinite(r)) or r[0] >= r[1]:
            raise InputError(f"{name} must be (low, high) with low < high; got {r}")
    ctx = as_context(spec, seed=seed, progress=progress)
    arch = ctx.arch
    cmap = coefficient_map(arch)
    base, p1, p2 = _family(arch, cmap, X, Y0, Y1, Y2)
    d = dimension_data(ctx)
    if not d.certified:
        raise InputError(f"{arch.spec()}: needs a certified dimension; only {d.lower} <= dim M <= {d.upper}")
    cs = critical_system(arch, cmap, base.Q, d.lower, ctx.rng("critical-slice-data"))
    if cs.system.bezout_number > total_degree_limit:
        raise InputError(
            f"{arch.spec()}: the critical-point system has Bezout number {cs.system.bezout_number} > "
            f"total_degree_limit = {total_degree_limit}; a complete solve at the base point is needed for the map "
            "(raise total_degree_limit)"
        )
    rng = ctx.rng("discriminant")
    D = cmap.dimension
    # a generic complex base parameter at the centre of the family, perturbed on the family's scale
    sc, tc = (s_range[0] + s_range[1]) / 2, (t_range[0] + t_range[1]) / 2
    centre = base.p + sc * p1 + tc * p2
    spread = (np.abs(centre).mean() + (s_range[1] - s_range[0]) * np.abs(p1).mean()
              + (t_range[1] - t_range[0]) * np.abs(p2).mean() + 1e-3) / 4
    pstar = centre + spread * (rng.standard_normal(D) + 1j * rng.standard_normal(D))
    base_sol = base_solutions(ctx, cs, pstar, rng)
    S, n_pure = base_sol.z, base_sol.n_pure
    ev: dict[str, Any] = {
        **base_sol.evidence,
        "method": "complete solve at a generic complex data point, then parameter homotopies to every grid point",
        "slice": cs.slice_info,
    }
    svals = np.linspace(s_range[0], s_range[1], gs)
    tvals = np.linspace(t_range[0], t_range[1], gt)
    fields = COUNT_FIELDS + (CERTIFIED_FIELDS if certify else ())
    counts = {f: np.zeros((gt, gs), dtype=int) for f in fields}
    cert_seconds = 0.0
    seconds_slice = second_derivatives(cs.c)
    n_sol = len(S)
    from ..runtime.progress import Bar

    # on stderr, a bar on a terminal, else a plain line every few seconds: rows of the grid (each row tracks
    # grid * n_sol paths)
    rows = Bar(range(gt), desc=f"critical-point map {gs}x{gt} ({n_sol} paths per cell)", unit="rows",
               enabled=progress)
    tracked = failures = retracked = 0
    for j in rows:
        P = base.p[None, :] + svals[:, None] * p1[None, :] + tvals[j] * p2[None, :]  # (gs, D)
        Pt = np.repeat(P.astype(complex), n_sol, axis=0)
        Z, ok, stats = move_solutions(cs, base_sol, P, rng)
        tracked += stats["paths_tracked"]
        retracked += stats["paths_retracked_after_jumps"]
        failures += int((~ok).sum())
        real = ok & np.all(np.abs(Z.imag) <= REAL_TOL * (1 + np.abs(Z.real)), axis=1)
        # pure = J_c of full rank and c(z) != 0, decided scale-free (``classify_points``: thresholds on
        # sigma_k(J_c) / |J_abs| and |c| / |c_abs|, so neither the zero function nor a rank-deficient
        # point passes on round-off); a point in the undecided band (e.g. a real ED point passing through
        # the vertex of a cone as the data move) cannot be called pure or spurious reliably: flag its cell
        # (its count falls back to the ratio sigma_k / sigma_1 > RANK_GAP, which the flag marks unreliable)
        Zok = np.where(ok[:, None], Z, 0)
        kinds = classify_points(cs, Zok)
        sv = np.linalg.svd(cs.c.jacobian(Zok), compute_uv=False)
        ratio = sv[:, -1] / np.maximum(sv[:, 0], 1e-300)
        near_singular = ok & kinds.undecided
        full = ok & (kinds.smooth | (kinds.undecided & (ratio > RANK_GAP)))
        if certify:
            t_c = time.perf_counter()
            cidx = np.flatnonzero(ok)
            c_ok, c_real, c_pure = (np.zeros(len(Z), dtype=bool) for _ in range(3))
            if len(cidx):
                cp = cs.certify(Z[cidx], Pt[cidx])
                c_ok[cidx] = cp.certified
                c_real[cidx] = np.array([v is True for v in cp.real], dtype=bool)
                c_pure[cidx] = cp.smooth
            cert_seconds += time.perf_counter() - t_c
        types = np.full(len(Z), "", dtype=object)
        ridx = np.flatnonzero(real)
        if len(ridx):
            zr = Z[ridx].real.astype(complex)
            Hs = hessians(cs.c, seconds_slice, zr, base.Q, Pt[ridx].real).real
            fr = full[ridx]
            eig = np.linalg.eigvalsh(Hs)
            if fr.any():
                eig_t = tangent_hessian_eigenvalues(cs, Hs[fr], zr[fr])
                eig = eig.astype(float)
                eig[fr] = eig_t
            types[ridx] = [classify(e) for e in eig]
        for i in range(gs):
            sl = slice(i * n_sol, (i + 1) * n_sol)
            oks = ok[sl]
            counts["failed"][j, i] = int((~oks).sum())
            zc = Z[sl][oks]
            distinct = len(deduplicate(zc, tol=IMAGE_TOL)) if len(zc) else 0
            jumps = int(oks.sum()) - distinct
            counts["uncertain"][j, i] = int(counts["failed"][j, i] > 0 or jumps > 0 or near_singular[sl].any())
            counts["complex"][j, i] = distinct
            counts["complex_pure"][j, i] = int(full[sl].sum())
            counts["real"][j, i] = int(real[sl].sum())
            counts["real_pure"][j, i] = int((real & full)[sl].sum())
            counts["real_spurious"][j, i] = int((real & ~full)[sl].sum())
            ts = types[sl][real[sl]]
            counts["local_minimum"][j, i] = int(np.sum(ts == "local minimum"))
            counts["strict_saddle"][j, i] = int(np.sum(ts == "strict saddle"))
            counts["local_maximum"][j, i] = int(np.sum(ts == "local maximum"))
            counts["degenerate"][j, i] = int(sum(str(x).startswith("non-strict") for x in ts))
            if certify:
                counts["certified"][j, i] = int(c_ok[sl].sum())
                counts["certified_real"][j, i] = int(c_real[sl].sum())
                counts["certified_real_pure"][j, i] = int((c_real & c_pure)[sl].sum())
    ev["paths_tracked"] = tracked
    ev["paths_retracked_after_jumps"] = retracked
    ev["paths_failed"] = failures
    if certify:
        ev["certification"] = {
            "method": "Krawczyk boxes in ball arithmetic for every endpoint at its cell's data "
            "(homotopy.certification; CriticalSystem.certify): existence and uniqueness of a regular critical "
            "point, real by a conjugation-symmetric box, pure by a ball determinant of a k x k minor of J_c",
            "points": int(np.sum(counts["certified"])),
            "seconds": round(cert_seconds, 3),
        }
    ev["seconds"] = round(time.perf_counter() - t_start, 3)
    return CriticalPointMap(arch, svals, tvals, counts, n_sol, n_pure, ev)


__all__ = ["CriticalPointMap", "critical_point_map"]
