"""ED degree of the neuromanifold: the number of complex critical points of the squared distance
1/2 |c - u|_Q^2 from a generic data point u to the smooth locus of M (Draisma, Horobet, Ottaviani,
Sturmfels, Thomas, FoCM 2016), in one of the metrics of
``parametrization.coefficients.metric_matrix``.

The critical points are gathered by monodromy on the critical-point system (``critical_system``; the
data point is the parameter; solutions deduplicated by their point c(z) of M, so symmetric
parameter points count once) started from random smooth critical pairs (z, u).  Every endpoint is
decided scale-free (``critical_system.classify_points``: rank of J_c and size of c(z) against the size of
their terms, the round-off scale) and only smooth critical points are kept: critical points of the
parametrization (rank J_c < k) and the zero function (c(z) = 0, a regular solution whose image is the
vertex of the cone for every data point, invisible to the trace) never enter the set.  Completeness
is checked by two trace tests along independent random pencils of data points u0 + s v on the kept
set: the sum of the critical points is affine-linear in s exactly for unions of monodromy orbits of
the correspondence.  ``certified`` needs, besides, an independent count that agrees (another slice of
parameter space, another data point, its own trace tests) and every counted point re-refined and
decided smooth; otherwise the value is a ``lower_bound`` with both counts in the evidence.

With the option ``ed_exact`` the count is also made exactly over two primes (``ed_exact``: Groebner basis of
the critical ideal over GF(p), small cases only): for the special metrics, where the trace test can fail on a
complete set, this is the route to ``certified`` (a probabilistic modular certificate, ``evidence["exact"]``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..parametrization.coefficients import METRICS, metric_matrix
from ..context import Context
from ..errors import InputError
from .critical_system import CriticalSystem, critical_monodromy, critical_system, solve_critical
from ..result import Result
from .dimension import dimension_data
from .witness_set import cached_coefficient_map, checkpoint_path

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
        cmap = cached_coefficient_map(ctx)  # on disk with a checkpoint directory: a resumed run skips it
        Q = metric_matrix(cmap, metric, ctx.rng(f"metric-{metric}"))
        return critical_system(ctx.arch, cmap, Q, d.lower, ctx.rng(f"critical-slice-{metric}"))

    return ctx.cached(f"critical_system_{metric}", build)


def ed_degree(ctx: Context) -> Result:
    """The ED degree in the metric ``ctx.options.metric`` with its certificate (module docstring).

    ``certified`` needs two independent counts that agree: run A on the cached critical system and run
    B on another coordinate slice at another data point, each passing two trace tests, and every
    counted point of both re-refined and decided smooth (``CriticalSystem.classify``).  Otherwise the
    larger count of verified points is a ``lower_bound`` and both counts are in the evidence.  Errors on
    valid input become a ``failed`` result with the reason."""
    from ..runtime.budget import cut_mark

    t0 = time.perf_counter()
    mark = cut_mark()
    metric = ctx.options.metric
    try:
        cs = ed_critical_system(ctx, metric)
    except InputError as exc:
        return Result("ed_degree", None, "failed", {"reason": str(exc), "metric": metric},
                      time.perf_counter() - t0, ctx.seed)
    ev: dict[str, Any] = {
        "metric": metric,
        "counts": "critical points of the squared distance on the smooth locus of M (distinct points of "
        "M); critical points of the parametrization (spurious), the zero function (the vertex of the cone) "
        "and points too close to the singular locus to decide are not counted",
        "coefficients": cs.cmap.dimension,
        "slice": cs.slice_info,
        "equation_degrees": cs.system.degrees.tolist(),
        "bezout_number": cs.system.bezout_number,
    }
    try:
        a = _count(ctx, cs, ctx.rng(f"ed-degree-{metric}"), metric, "")
        ev.update(a.evidence)
        runs = [a]
        if a.complete_by and a.verified:
            # the independent confirmation: another slice of parameter space, another data point
            cs_b = ctx.cached(f"critical_system_{metric}_confirmation", lambda: _other_slice(ctx, cs))
            b = _count(ctx, cs_b, ctx.rng(f"ed-degree-{metric}-confirmation"), metric, "-confirmation")
            runs.append(b)
            ev["confirmation"] = {"slice": cs_b.slice_info, **b.evidence}
    except InputError as exc:
        ev["reason"] = f"the critical-point computation failed on valid input: {exc}"
        return Result("ed_degree", None, "failed", ev, time.perf_counter() - t0, ctx.seed)
    value, status = _decide(runs, metric, ev)
    if ctx.options.ed_exact:
        value, status = _exact(ctx, cs, metric, value, status, ev, mark)
    if "certification" in ev:
        n = ev["certification"]["certified_lower_bound"]
        ev["certification"]["every_counted_point_certified"] = n == value
        ev["certification"]["meaning_of_lower_bound"] = (
            "distinct smooth critical points of M at the data point of the first run, each in a certified box: a "
            "rigorous lower bound on the ED degree (regular critical points persist to nearby generic data)")
    return Result("ed_degree", value, status, ev, time.perf_counter() - t0, ctx.seed)


def _exact(ctx: Context, cs: CriticalSystem, metric: str, value: int, status: str,
           ev: dict[str, Any], mark: int | None = None) -> tuple[int, str]:
    """The modular count (``ed_exact``) beside the numerical one: ``certified`` when the counts over two
    primes agree and either equal the numerical count or exceed a numerical lower bound (the numerical route
    missed points, e.g. when the trace test does not apply to a special metric); when they contradict a
    certified numerical count or fall below the verified numerical points, the numerical value is kept as a
    ``lower_bound`` with the conflict in ``evidence["exact"]``; otherwise the status is unchanged."""
    from ..runtime.budget import cut_kind, cuts_since, record_cut
    from .ed_exact import exact_ed_counts, exact_primes

    if mark is not None and cuts_since(mark):
        ev["exact"] = {"applied": False, "reason": "not applied: the numerical count was cut short (budget or Ctrl-C)"}
        return value, status
    rng = ctx.rng(f"ed-exact-{metric}")
    try:
        ex = exact_ed_counts(cs.cmap, cs.free, cs.k, metric, exact_primes(ctx.prime, rng), rng,
                             cs.system.bezout_number)
    except InputError as exc:
        ex = {"applied": False, "reason": f"not applied: {exc}"}
    except KeyboardInterrupt as exc:  # budget or Ctrl-C: keep the numerical result, labelled as cut
        record_cut(cut_kind(exc))
        ex = {"applied": False, "reason": "not applied: the exact count was cut short"}
    ev["exact"] = ex
    if not ex.get("applied"):
        return value, status
    if not ex["agree"]:
        ex["verdict"] = f"the counts over two primes differ ({ex['counts']}); the status is unchanged"
        return value, status
    n = ex["value"]
    if status == "lower_bound" and value <= n and "why_lower_bound" in ev:
        ev["numerical_why_lower_bound"] = ev.pop("why_lower_bound")
    if n == value:
        ex["verdict"] = f"the exact counts agree with the numerical count {value} ({status})"
        ev["certificate"] = (ev.get("certificate", "") + "; " if status == "certified" else "") + (
            "modular counts over two primes agree with the numerical count (a probabilistic certificate: "
            "evidence['exact']['argument'])")
        return n, "certified"
    if status == "lower_bound" and value < n:
        ex["verdict"] = (f"the exact count {n} exceeds the numerical lower bound {value}: the numerical route "
                         "missed critical points; the exact count is reported")
        ev["certificate"] = ("modular counts over two primes agree (a probabilistic certificate: "
                             "evidence['exact']['argument']); the numerical count was lower")
        ev["numerical_value"] = value
        return n, "certified"
    ex["verdict"] = (f"conflict: the exact count {n} contradicts the numerical count {value} ({status}); the "
                     "numerical value is kept as a lower bound (its points were verified smooth critical points)")
    old = ev.get("why_lower_bound")
    ev["why_lower_bound"] = ex["verdict"] + (f"; numerically: {old}" if old else "")
    return value, "lower_bound"


def _other_slice(ctx: Context, cs: CriticalSystem) -> CriticalSystem:
    """The critical-point system of the same metric Q on an independently drawn coordinate slice."""
    from .critical_system import critical_system

    return critical_system(ctx.arch, cs.cmap, cs.Q, cs.k, ctx.rng("critical-slice-confirmation"))


class _Count:
    """One count of the critical points at one data point: value, trace verdict, smoothness check."""

    def __init__(self, value: int, trace_passed: bool, stopping_rule: str, verified: bool,
                 evidence: dict[str, Any], total_degree_complete: bool = False):
        self.value, self.trace_passed, self.stopping_rule = value, trace_passed, stopping_rule
        self.verified, self.evidence = verified, evidence
        self.total_degree_complete = total_degree_complete

    @property
    def complete_by(self) -> str | None:
        """What shows the set complete: two trace tests, or a complete total-degree solve (no failed
        path, no two paths at one endpoint) whose smooth points are exactly the counted ones; None."""
        if self.trace_passed:
            return "trace tests"
        if self.total_degree_complete:
            return "complete total-degree homotopy"
        return None


def _count(ctx: Context, cs: CriticalSystem, rng: np.random.Generator, metric: str, tag: str) -> _Count:
    """Total-degree solve (small systems) and monodromy at a random data point; the counted points are
    re-refined by Newton's method and decided smooth at the end."""
    from ..homotopy.start import newton_refine

    k = cs.k
    # a random smooth critical pair (z0, p0): z0 generic, u0 = c(z0) + a random normal vector
    z0 = (rng.standard_normal((1, k)) + 1j * rng.standard_normal((1, k))) / np.sqrt(2)
    z0, p0 = cs.start_pairs(z0, rng)
    p0 = p0[0]
    ev: dict[str, Any] = {}
    limit = TOTAL_DEGREE_LIMIT
    starts = z0
    if cs.system.bezout_number <= limit:
        # a complete solve first: every isolated critical point over p0, up to lost paths
        crit = solve_critical(cs, p0, seed=int(rng.integers(2**31)))
        ev["total_degree_solve"] = crit.evidence()
        reps = np.flatnonzero(crit.full_rank)
        if len(reps):
            reps = reps[np.unique(crit.image_labels[reps], return_index=True)[1]]
            starts = np.concatenate([crit.z[reps], z0])
    res, attempts = critical_monodromy(
        cs, p0, starts, rng, progress=ctx.progress, loops_without_new=ctx.options.loops_without_new or 8,
        retries=2 if metric == "generic" else 0, target_count=ctx.options.max_degree or DEFAULT_MAX_ED,
        checkpoint=checkpoint_path(ctx, f"ed_degree-{metric}{tag}"),
    )
    ev["method"] = (
        ("total-degree homotopy at a generic data point u, then " if "total_degree_solve" in ev else "")
        + "monodromy on J_c(z)^T (Q c(z) - Q u) = 0 over the data point u with random smooth critical pairs "
        "(coordinate slice of parameter space), only smooth critical points kept (scale-free rank of J_c, "
        "c(z) != 0), deduplicated by image point c(z); trace tests on the kept set"
    )
    ev["monodromy"] = res.evidence()
    if len(attempts) > 1:
        ev["monodromy_attempts"] = attempts
    ev["trace_tests"] = [t.evidence() for t in res.trace_tests if hasattr(t, "evidence")]
    # every counted point once more: Newton at p0, then the scale-free decisions
    Z = res.solutions
    if len(Z):
        Zr, resid, cond, _ = newton_refine(cs.system, Z, p0, return_update=True)
        types = cs.classify(Zr)
        refined = np.isfinite(resid) & (resid <= 1e-8 * (1 + np.max(np.abs(Zr), axis=1)))
        verified = bool(np.all(types.smooth & refined))
        ev["counted_points_check"] = {**types.evidence(), "refined_by_newton": int(refined.sum()),
                                      "points": int(len(Z)), "all_smooth": verified}
        if ctx.options.certify:
            cp = cs.certify(Zr, p0)
            ev["certification"] = {**cp.evidence(), "certified_lower_bound": cp.certified_functions(cp.smooth)}
    else:
        verified = False
        ev["counted_points_check"] = {"points": 0, "all_smooth": False}
    td_complete = False
    if "total_degree_solve" in ev:
        td = ev["total_degree_solve"]
        agrees = bool(td["distinct_points_of_M_full_rank"] == len(Z))
        ev["total_degree_agrees"] = agrees
        # every path of the total-degree homotopy ended (none failed, none shared an endpoint) and no
        # endpoint was too close to call: the smooth isolated critical points over p0 are all known
        td_complete = (agrees and td["total_degree"]["failed"] == 0 and td["total_degree"]["duplicate_endpoints"] == 0
                       and td["point_types"]["undecided"] == 0)
    return _Count(int(len(Z)), bool(res.trace_test_passed), str(res.stopping_rule), verified, ev, td_complete)


def _decide(runs: list[_Count], metric: str, ev: dict[str, Any]) -> tuple[int, str]:
    """certified when both counts pass their trace tests, agree and consist of verified smooth points;
    else the larger verified count as a lower bound, with the reason."""
    a = runs[0]
    ev["counts_by_run"] = [r.value for r in runs]
    if len(runs) == 2:
        b = runs[1]
        if b.complete_by and b.verified and a.value == b.value:
            ev["certificate"] = (
                "two independent counts agree: on two coordinate slices of parameter space at two random data "
                f"points, each set shown complete ({a.complete_by}; {b.complete_by}), and every counted point "
                "re-refined and decided smooth (J_c of full rank, c(z) != 0, scale-free)"
            )
            return a.value, "certified"
        why = ("the confirmation run " + ("was not shown complete" if not b.complete_by else
                                          "counted a point it could not verify smooth" if not b.verified else
                                          f"found {b.value} critical points, the first run {a.value}"))
        verified = [r.value for r in runs if r.verified]
        ev["why_lower_bound"] = why + "; the larger count of verified smooth critical points is a lower bound"
        return (max(verified) if verified else a.value), "lower_bound"
    if not a.complete_by:
        ev["why_lower_bound"] = f"trace test not passed (monodromy stopped by {a.stopping_rule})" + (
            "" if "total_degree_solve" not in ev else
            ", and the total-degree solve was not complete (failed or shared paths) or found fewer points")
        if metric != "generic" and a.stopping_rule == "stagnation":
            ev["why_lower_bound"] += (
                "; for a special metric the trace test can fail on a complete set (critical points can escape to "
                "infinity along a pencil of data points), so the count may be exact, but it is not shown"
            )
    else:
        ev["why_lower_bound"] = "a counted point could not be verified smooth after refinement"
    return a.value, "lower_bound"


__all__ = ["ed_degree", "ed_critical_system"]
