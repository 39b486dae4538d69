"""ED degree of the neuromanifold: the number of complex critical points of the squared distance
1/2 |c - u|_Q^2 from a generic data point u to the smooth locus of M (Draisma, Horobet, Ottaviani,
Sturmfels, Thomas, FoCM 2016), in one of the metrics of ``coefficients.metric_matrix``.

The critical points are gathered by monodromy on the critical-point system of ``landscape`` (the
data point is the parameter; solutions deduplicated by their point c(z) of M, so symmetric
parameter points count once) started from random smooth critical pairs (z, u).  Monodromy from
smooth critical points stays on the ED correspondence {(x, u): x in M_smooth, u - x normal at x},
so critical points of the parametrization (rank J_c < k) are never counted.  Completeness is
checked by two trace tests along independent random pencils of data points u0 + s v: the sum
of the critical points is affine-linear in s exactly for unions of monodromy orbits of the
correspondence.  Status ``certified`` after both pass, else ``lower_bound`` (with the stopping rule).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..coefficients import METRICS, coefficient_map, metric_matrix
from ..context import Context
from ..errors import InputError
from ..landscape import CriticalSystem, critical_monodromy, critical_system, solve_critical
from ..result import Result
from .dimension import dimension_data
from .witness_set import checkpoint_path

DEFAULT_MAX_ED = 20000
TOTAL_DEGREE_LIMIT = 2000  # Bezout numbers up to this: complete total-degree solve


def ed_critical_system(ctx: Context, metric: str) -> CriticalSystem:
    """The critical-point system of the squared distance in ``metric`` (cached per metric)."""
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose from: {', '.join(METRICS)}")

    def build() -> CriticalSystem:
        d = dimension_data(ctx)
        if not d.certified:
            raise InputError(
                f"{ctx.arch.spec()}: the ED degree needs a certified dimension, but only "
                f"{d.lower} <= dim M <= {d.upper} is known"
            )
        cmap = ctx.cached("coefficient_map", lambda: coefficient_map(ctx.arch))
        Q = metric_matrix(cmap, metric, ctx.rng(f"metric-{metric}"))
        return critical_system(ctx.arch, cmap, Q, d.lower, ctx.rng(f"critical-slice-{metric}"))

    return ctx.cached(f"critical_system_{metric}", build)


def ed_degree(ctx: Context) -> Result:
    t0 = time.perf_counter()
    metric = str(ctx.options.get("metric", "generic"))
    try:
        cs = ed_critical_system(ctx, metric)
    except InputError as exc:
        return Result("ed_degree", None, "failed", {"reason": str(exc), "metric": metric},
                      time.perf_counter() - t0, ctx.seed)
    rng = ctx.rng(f"ed-degree-{metric}")
    k, D = cs.k, cs.cmap.dimension
    system = cs.system
    # a random smooth critical pair (z0, p0): z0 generic, u0 = c(z0) + a random normal vector
    z0 = (rng.standard_normal((1, k)) + 1j * rng.standard_normal((1, k))) / np.sqrt(2)
    z0, p0 = cs.start_pairs(z0, rng)
    p0 = p0[0]
    ev: dict[str, Any] = {
        "metric": metric,
        "counts": "critical points of the squared distance on the smooth locus of M (distinct points of "
        "M); critical points of the parametrization (spurious) are not counted",
        "coefficients": D,
        "slice": cs.slice_info,
        "equation_degrees": system.degrees.tolist(),
        "bezout_number": system.bezout_number,
    }
    limit = int(ctx.options.get("total_degree_limit", TOTAL_DEGREE_LIMIT))
    starts = z0
    if system.bezout_number <= limit:
        # a complete solve first: every isolated critical point over p0, up to lost paths
        crit = solve_critical(cs, p0, seed=int(rng.integers(2**31)))
        ev["total_degree_solve"] = crit.evidence()
        reps = np.flatnonzero(crit.full_rank)
        if len(reps):
            reps = reps[np.unique(crit.image_labels[reps], return_index=True)[1]]
            starts = crit.z[reps]
    value, status = _by_monodromy(ctx, cs, p0, starts, rng, metric, ev)
    return Result("ed_degree", value, status, ev, time.perf_counter() - t0, ctx.seed)


def _by_monodromy(ctx: Context, cs: CriticalSystem, p0: np.ndarray, z0: np.ndarray, rng: np.random.Generator,
                  metric: str, ev: dict[str, Any]) -> tuple[int, str]:
    """Monodromy over the data point from the start solutions z0 (with random smooth critical
    pairs), stopped by the trace test or by stagnation."""
    ckpt = checkpoint_path(ctx, f"ed_degree-{metric}")
    res, attempts = critical_monodromy(
        cs, p0, z0, rng, progress=ctx.progress, loops_without_new=int(ctx.options.get("loops_without_new", 8)),
        retries=2 if metric == "generic" else 0, target_count=int(ctx.options.get("max_degree", DEFAULT_MAX_ED)),
        checkpoint=ckpt,
    )
    ev["method"] = (
        ("total-degree homotopy at a generic data point u, then " if "total_degree_solve" in ev else "")
        + "monodromy on J_c(z)^T (Q c(z) - Q u) = 0 over the data point u with random smooth critical pairs "
        "(coordinate slice of parameter space), solutions with rank J_c = dim M deduplicated by image point "
        "c(z); trace tests"
    )
    ev["monodromy"] = res.evidence()
    if len(attempts) > 1:
        ev["monodromy_attempts"] = attempts
    ev["trace_tests"] = [t.evidence() for t in res.trace_tests if hasattr(t, "evidence")]
    if res.trace_test_passed:
        ev["certificate"] = "two trace tests along independent random pencils of data points passed"
        return res.n_solutions, "certified"
    if metric != "generic" and res.stopping_rule == "stagnation":
        ev["stopping_rule"] = (
            f"no new critical point in {res.loops_without_new} monodromy loops"
            + (" after a total-degree solve" if "total_degree_solve" in ev else "")
            + "; the trace test is not conclusive for a special metric (critical points can escape to "
            "infinity along a pencil of data points, making the trace non-linear on a complete set)"
        )
        return res.n_solutions, "numerical"
    ev["why_lower_bound"] = f"trace test not passed (monodromy stopped by {res.stopping_rule})"
    return res.n_solutions, "lower_bound"


__all__ = ["ed_degree", "ed_critical_system"]
