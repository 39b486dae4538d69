"""Text of the loss-landscape results: critical points, Voronoi masses, implicit bias, the critical-point map
summary of ``neuromanifold discriminant``."""

from __future__ import annotations

from typing import Any


def critical_points_text(res: Any) -> str:
    """A ``landscape.critical_points.CriticalPointsResult``: counts, the real points with their types, the
    global minimum."""
    c = res.counts
    lines = [
        f"{res.architecture.spec()}: critical points of the mean-squared loss ({res.status})",
        f"  complex isolated critical points (parameter slice): {c['complex']}  "
        f"[pure {c['complex_pure']}, spurious {c['complex_spurious']}]",
        f"  distinct critical functions: pure (ED points) {c['functions_pure']}, spurious {c['functions_spurious']}",
        f"  real critical points: {c['real']}  [pure {c['real_pure']}, spurious {c['real_spurious']}]",
    ]
    if c.get("positive_dimensional_components"):
        lines.append(f"  positive-dimensional critical components met: {c['positive_dimensional_components']}")
    if "certified" in c:
        lines.append(f"  certified (interval arithmetic, Krawczyk boxes): {c['certified']} of {c['complex']} points  "
                     f"[real {c['certified_real']}, non-real {c['certified_non_real']}, pure {c['certified_pure']}, "
                     f"real pure {c['certified_real_pure']}; distinct pure functions {c['certified_functions_pure']}]")
    lines.append("")
    lines.append(f"  {'#':>3}  {'kind':<9} {'loss':>14}  {'type':<40} Hessian eigenvalues (on M; spurious: on the slice)")
    real = sorted(res.real_points, key=lambda q: q.loss.real)
    for i, q in enumerate(real):
        e = q.tangent_hessian_eigenvalues if q.tangent_hessian_eigenvalues is not None else q.slice_hessian_eigenvalues
        eig = ", ".join(f"{v:.3g}" for v in (e if e is not None else []))
        mark = "" if q.certified is None else ("  certified" if q.certified and q.certified_real is True else
                                               "  NOT certified")
        lines.append(f"  {i:>3}  {q.kind:<9} {q.loss.real:>14.8g}  {str(q.type):<40} [{eig}]{mark}")
    if res.global_minimum is not None:
        g = res.global_minimum
        lines.append("")
        lines.append(f"  global minimum: loss {g['loss']:.10g} ({g['status']}: {g['why']})")
    return "\n".join(lines)


def voronoi_text(res: Any) -> str:
    """A ``landscape.voronoi.VoronoiResult``: one line per stratum with its mass and 95% interval."""
    how = "exact nearest points" if res.evidence.get("nearest_point", "").startswith("exact") else \
        "nearest points by local optimisation"
    lines = [f"{res.architecture.spec()}: Voronoi masses of the strata of M ({res.metric} metric, "
             f"{res.n_samples} targets, {res.n_uncertain} uncertain)",
             f"  status: {res.status} (Monte Carlo with Wilson 95% intervals; {how})"]
    lines.append(f"  {'stratum':<24}{'targets':>8}{'mass':>9}  {'95% interval':<18}{'cell dim':>9}")
    for name, s in sorted(res.strata.items(), key=lambda kv: -kv[1]["count"]):
        lo, hi = s["ci95"]
        cd = "-" if s.get("cell_dimension") is None else str(s["cell_dimension"])
        lines.append(f"  {name:<24}{s['count']:>8}{s['mass']:>9.4f}  [{lo:.4f}, {hi:.4f}]   {cd:>6}")
    return "\n".join(lines)


def implicit_bias_text(res: Any) -> str:
    """A ``landscape.implicit_bias.ImplicitBiasResult``: gradient-descent fractions beside Voronoi masses."""
    lines = [f"{res.architecture.spec()}: where {res.runs} gradient-descent runs end vs Voronoi masses",
             "  status: numerical (fractions of runs / Monte Carlo masses, Wilson 95% intervals)",
             f"  {'stratum':<26}{'GD fraction':>12}  {'95% interval':<17}{'Voronoi mass':>13}  95% interval"]
    for n, gf, gci, vm, vci in res.table():
        lines.append(f"  {n:<26}{gf:>12.4f}  [{gci[0]:.3f}, {gci[1]:.3f}]  {vm:>12.4f}  [{vci[0]:.3f}, {vci[1]:.3f}]")
    return "\n".join(lines)


def critical_point_map_text(summary: dict[str, Any], figure: Any, data: Any) -> str:
    """The ``summary()`` of a ``landscape.discriminant.CriticalPointMap`` with where its figure and grids went."""
    lines = [f"{summary['architecture']}: {summary['grid'][0]} x {summary['grid'][1]} grid, "
             f"{summary['uncertain_cells']} uncertain cells"]
    for f in ("complex_pure", "real_pure", "real", "local_minimum"):
        lines.append(f"  {f:<14} {summary[f + '_values']}  (value: number of cells)")
    if "certified" in summary:
        cs = summary["certified"]
        lines.append(f"  certified: every point of {cs['cells_every_point_certified']} cells certified; certified real "
                     f"points {cs['certified_real_values']}  (value: number of cells)")
    lines.append(f"  figure: {figure}\n  data:   {data} (+ {data.with_suffix('.json').name})")
    return "\n".join(lines)
