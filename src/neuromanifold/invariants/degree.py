"""Degree of the neuromanifold and the discrete generic fiber, from pseudo-witness sets.

degree: the number of points of M ∩ L for a generic affine linear space L of codimension
dim M (the degree of the affine cone over the Zariski closure of M), gathered by monodromy.
Status ``certified`` only after two trace tests with independent directions pass and mu_S is
checked injective on span(M); otherwise ``lower_bound``.

fiber_points: the number of points of a generic fiber of mu inside the gauge slice that
freezes the known continuous symmetries (neuron permutations, sign patterns, 2:1 maps).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from ..context import Context
from ..errors import InputError
from ..result import Result
from .witness_set import witness_set


def _failed(name: str, ctx: Context, t0: float, exc: Exception) -> Result:
    return Result(name, None, "failed", {"reason": str(exc)}, time.perf_counter() - t0, ctx.seed)


def degree(ctx: Context) -> Result:
    t0 = time.perf_counter()
    try:
        ws = witness_set(ctx, per_fiber=False)
    except InputError as exc:
        return _failed("degree", ctx, t0, exc)
    res = ws.result
    value = ws.n_image_points
    ev: dict[str, Any] = {
        "method": "pseudo-witness set of mu_S(M) by monodromy (image points deduplicated), trace test",
        "monodromy": res.evidence(),
        "trace_tests": [t.evidence() for t in res.trace_tests if hasattr(t, "evidence")],
        "samples": ws.n_samples,
        "injectivity": ws.injectivity_evidence,
        "gauge": ws.gauge,
    }
    if len(ws.attempts) > 1:
        # restarts after a stagnating run with a failing trace test: the counters of every run
        ev["monodromy_attempts"] = ws.attempts
        ev["paths_tracked_all_attempts"] = sum(a.get("paths_tracked", 0) for a in ws.attempts)
    if res.trace_test_passed and ws.injective:
        status = "certified"
        ev["certificate"] = "two trace tests with independent random directions passed; mu_S injective on span(M)"
    else:
        status = "lower_bound"
        reasons = []
        if not res.trace_test_passed:
            reasons.append(f"trace test not passed (monodromy stopped by {res.stopping_rule})")
        if not ws.injective:
            reasons.append("mu_S not checked injective on span(M): deg mu_S(M) <= deg M")
        ev["why_lower_bound"] = "; ".join(reasons)
    if res.stopping_rule in ("interrupted", "budget"):
        ev["interrupted"], ev["cut"] = True, res.stopping_rule
    if ctx.options.certify:
        ev["certification"] = ws.certify()
    return Result("degree", value, status, ev, time.perf_counter() - t0, ctx.seed)


def fiber_points(ctx: Context) -> Result:
    """Points of a generic fiber of mu in the gauge slice (numerical, by monodromy on theta)."""
    t0 = time.perf_counter()
    try:
        ws = witness_set(ctx, per_fiber=True)
    except InputError as exc:
        return _failed("fiber_points", ctx, t0, exc)
    res = ws.result
    labels = ws.image_labels()
    counts = Counter(labels[labels >= 0].tolist())
    sizes = Counter(counts.values())
    ev: dict[str, Any] = {
        "method": "monodromy on the gauge-fixed slice system keeping every parameter point; points grouped "
        "by image point",
        "monodromy": res.evidence(),
        "image_points": len(counts),
        "points_per_image_point": {str(k): v for k, v in sorted(sizes.items())},
        "gauge": ws.gauge,
    }
    if not ws.gauge["complete"]:
        # without a gauge that freezes every continuous symmetry the count is the degree of the
        # fiber (its points on a random linear slice), a different number: do not report it as this one
        ev["fiber_degree_on_random_slice"] = max(sizes) if sizes else None
        ev["reason"] = (
            "no gauge freezes all continuous symmetries here (hidden symmetries, or a layer wider than its "
            f"neighbours; gauge: {ws.gauge}); the number above counts the fiber on a random linear slice"
        )
        return Result("fiber_points", None, "failed", ev, time.perf_counter() - t0, ctx.seed)
    if ctx.options.certify:
        ev["certification"] = ws.certify()
    if len(sizes) != 1:
        return Result("fiber_points", max(sizes) if sizes else None, "lower_bound", ev, time.perf_counter() - t0, ctx.seed)
    value = next(iter(sizes))
    status = "numerical"
    if not res.complete or res.stopping_rule == "target_count":
        # cut short (budget, Ctrl-C, max_loops, the --max-degree cap): the points found so far
        status = "lower_bound"
        ev["why_lower_bound"] = f"monodromy cut short (stopped by {res.stopping_rule}): the points found so far"
        if res.stopping_rule in ("interrupted", "budget"):
            ev["interrupted"], ev["cut"] = True, res.stopping_rule
    return Result("fiber_points", value, status, ev, time.perf_counter() - t0, ctx.seed)


def degree_cost_estimate(ctx: Context, *, name: str = "degree") -> dict[str, Any] | None:
    """An upper bound on the number of solutions the monodromy of ``name`` (degree, fiber_points or
    ed_degree) has to gather, before running it: the Bezout bound (deg_theta mu)^dim for the degree, and
    (2 deg_theta mu - 1)^dim (the Bezout number of the critical-point system) for the ED degree.
    None when the dimension is not certified (those invariants then fail at once, cheaply)."""
    from .covering import forward_degree
    from .dimension import dimension_data

    try:
        d = dimension_data(ctx)
    except InputError:
        return None
    if not d.certified:
        return None
    d_mu, k = forward_degree(ctx.arch), int(d.upper)
    if name == "ed_degree":
        return {"invariant": name, "bound": (2 * d_mu - 1) ** k, "deg_theta_mu": d_mu, "dim": k,
                "formula": "(2 deg_theta mu - 1)^dim (Bezout number of the critical-point system)"}
    return {"invariant": name, "bound": d_mu ** k, "deg_theta_mu": d_mu, "dim": k,
            "formula": "(deg_theta mu)^dim (Bezout bound)"}
