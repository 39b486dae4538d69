"""Degree of the neuromanifold and the discrete generic fiber, from pseudo-witness sets.

degree: the number of points of M ∩ L for a generic affine linear space L of codimension
dim M (the degree of the affine cone over the Zariski closure of M), gathered by monodromy.
Status ``certified`` only after two trace tests with independent directions pass and mu_S is
checked injective on span(M); otherwise ``lower_bound``.

With ``--certify`` (``ctx.options.certify``) the witness points are Krawczyk-certified
(``NetworkWitnessSet.certify``: roots of the exact slice system of the exact coefficient map, image boxes
of the exact image points) and the status says what the certificates give (``apply_certificate``):
  * ``certified``: the trace tests passed and every witness point is certified, with pairwise disjoint
    image boxes (``evidence["certification"]["every_witness_point_certified"]``); or the certified distinct
    points reach the proven upper bound ``multiprojective_bound`` (a sandwich: certified lower bound = upper
    bound; no trace test needed -- with a bound the monodromy stops as soon as it has that many points,
    ``witness_set(stop_at_bound=True)``);
  * ``numerical``: the trace tests passed, or the count reached the bound, but some witness points are not
    certified (or the slice system cannot be certified); ``evidence["certification"]["certified_lower_bound"]``
    is the number of certified distinct points, a rigorous lower bound for the random linear space used;
  * ``lower_bound``: as without ``--certify``.

multiprojective_bound: for ``cnn`` with activation x^r and no bias, mu is multi-homogeneous of degree
r^(L-i) in the filter w_i and never vanishes when every filter is nonzero (lex-leading monomials of the
signal entries stay pairwise distinct through every convolution and power), so it is a morphism
P^(k_1-1) x ... x P^(k_L-1) -> P(span) onto P(M); when dim M = sum(k_i - 1) + 1 (certified) it is
generically finite and deg(map) * deg M = (d_1 H_1 + ... + d_L H_L)^m
= m! / prod (k_i - 1)! * prod d_i^(k_i - 1) (m = sum(k_i - 1), d_i = r^(L-i)): an upper bound on deg M,
equal to it when the map is birational (as the trace-tested counts of cnn(k=(2,2,2,2)), 1536, cnn(k=(3,3,2)),
1920, and cnn(k=(3,2,2)), 384, show for r = 2; benchmarks/degree_large.py: cnn(k=(4,3,2)), 15360).
The base-point argument holds for any strides (with x_1 > x_2 > ... in lex order the leading monomials of the
entries decrease along the signal; a nonzero filter keeps them distinct and decreasing, and so do powers).
Shahverdi, Marchetti, Kohn (arXiv:2410.00722) show, under their hypotheses, that this parametrization is an
isomorphism almost everywhere up to rescaling the filters -- birational, so the bound is the degree there;
only the upper bound is used here, and the certified lower bound must meet it.

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
        # --certify: the monodromy may stop at a proven upper bound (certified distinct points reaching it prove
        # the degree; the trace tests would only repeat that)
        ws = witness_set(ctx, per_fiber=False, stop_at_bound=bool(ctx.options.certify))
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
    bound = multiprojective_bound(ctx)
    if bound is not None:
        ev["upper_bound"] = bound
        if value > bound["value"]:
            # more numerically distinct points than the proven upper bound: some are one point
            status = "numerical"
            ev["inconsistent"] = (f"{value} witness points exceed the proven upper bound {bound['value']}: "
                                  "some of them are one point (deduplication tolerance)")
        elif res.stopping_rule == "target_count" and value == bound["value"] and status == "lower_bound":
            ev["reached_upper_bound"] = True  # stopped there (``witness_set(stop_at_bound=True)``), no trace test
    if ctx.options.certify:
        ev["certification"] = ws.certify()
        value, status = apply_certificate(value, status, ev, bound)
    return Result("degree", value, status, ev, time.perf_counter() - t0, ctx.seed)


def apply_certificate(value: int, status: str, ev: dict[str, Any], bound: dict[str, Any] | None) -> tuple[int, str]:
    """The degree's (value, status) once its witness points went through ``NetworkWitnessSet.certify``
    (``ev["certification"]``; module docstring): ``certified`` needs the trace tests and every witness point
    certified distinct, or certified distinct points reaching the proven upper bound ``bound``; a passed trace
    test with some points not certified is ``numerical``.  Adds ``certified_lower_bound`` and
    ``every_witness_point_certified`` to the certification evidence (and ``why_not_certified``)."""
    cert = ev["certification"]
    n_dist = cert.get("image_points_certified_distinct") if cert.get("certified") is not None else None
    cert["certified_lower_bound"] = n_dist
    cert["every_witness_point_certified"] = n_dist is not None and n_dist == value and cert.get("points") == value
    if n_dist is not None:
        cert["meaning_of_lower_bound"] = (
            "image points of certified regular roots of the slice system, in pairwise disjoint boxes: that many "
            "distinct points of M on the (random) linear space used, so deg M >= it when that space meets M in "
            "finitely many points")
    if bound is not None and n_dist is not None and n_dist > bound["value"]:
        # impossible for a linear space meeting M in finitely many points: claim nothing
        ev["inconsistent"] = (f"{n_dist} certified distinct points exceed the proven upper bound {bound['value']}: "
                              "the linear space is not generic")
        ev.pop("certificate", None)
        return value, "numerical"
    if bound is not None and n_dist is not None and n_dist == bound["value"]:
        # n_dist <= deg M <= bound: the degree is proven, with or without the trace tests
        ev["certificate"] = (
            f"sandwich: {n_dist} image points Krawczyk-certified distinct (a lower bound) = the upper bound "
            f"{bound['value']} ({bound['formula']})"
            + ("; the two trace tests passed as well" if status == "certified" else ""))
        ev.pop("why_lower_bound", None)
        return int(bound["value"]), "certified"
    if ev.get("reached_upper_bound"):
        # as many numerically distinct points as the proven upper bound, not all certified: numerical
        ev["why_not_certified"] = (
            f"the monodromy stopped at the proven upper bound {bound['value']} (no trace test); "
            + (f"{n_dist} of them certified distinct" if n_dist is not None else "they could not be certified")
            + (f" ({cert['first_failure']})" if cert.get("first_failure") else ""))
        ev.pop("why_lower_bound", None)
        return value, "numerical"
    if status == "certified":
        if cert["every_witness_point_certified"]:
            ev["certificate"] += "; every witness point Krawczyk-certified with pairwise disjoint image boxes"
            return value, status
        ev.pop("certificate", None)
        if n_dist is None:
            ev["why_not_certified"] = ("--certify: the witness points could not be certified ("
                                       + str(cert.get("reason", "no certificate")) + "); the trace tests passed")
        else:
            ev["why_not_certified"] = (
                f"--certify: {value - n_dist} of {value} witness points not certified distinct "
                f"({cert.get('first_failure', 'boxes overlap')}); the trace tests passed; certified lower bound "
                f"{n_dist}")
        return value, "numerical"
    return value, status


def multiprojective_bound(ctx: Context) -> dict[str, Any] | None:
    """A proven upper bound on deg M (module docstring) for ``cnn`` with activation x^r and no bias, when the
    dimension is certified equal to sum(k_i - 1) + 1; None otherwise."""
    from math import factorial, prod

    from .dimension import dimension_data

    arch = ctx.arch
    if getattr(arch, "family", None) != "cnn" or getattr(arch, "bias", True) or getattr(arch, "act", 1) is not None:
        return None
    k, r, L = tuple(arch.k), int(arch.r), len(arch.k)
    m = sum(ki - 1 for ki in k)
    try:
        d = dimension_data(ctx)
    except InputError:
        return None
    if not d.certified or int(d.upper) != m + 1:
        return None
    mult = factorial(m) // prod(factorial(ki - 1) for ki in k)
    degs = [r ** (L - 1 - i) for i in range(L)]
    value = mult * prod(di ** (ki - 1) for di, ki in zip(degs, k))
    return {
        "value": int(value),
        "formula": (f"m!/prod (k_i-1)! * prod d_i^(k_i-1) = {mult} * "
                    + " * ".join(f"{di}^{ki - 1}" for di, ki in zip(degs, k)) + f", m = {m}, d_i = r^(L-i)"),
        "meaning": ("deg(map) * deg M for the morphism prod P^(k_i-1) -> P(M) (multi-homogeneous of degrees d_i, "
                    "no base locus, generically finite as dim M = m + 1 is certified): an upper bound on deg M, "
                    "equal when the map is birational"),
    }


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
