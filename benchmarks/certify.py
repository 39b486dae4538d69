"""Cost of certifying solutions with interval arithmetic (``--certify``) against the cost of finding them.

    python benchmarks/certify.py            # the two cases of issue 20
    python benchmarks/certify.py --quick    # the small one only

Cases (issue 20):
* ``ed``: the 79 ED points of ``cnn(k=(3,2), s=(1,1), r=2)`` (generic metric).  Solve: ``analyze(spec,
  only="ed_degree")`` in a fresh Context (critical system, total-degree solve, monodromy, trace tests, the
  confirmation run).  Certify: ``CriticalSystem.certify`` of the counted points at their data point (Krawczyk
  boxes, real / non-real, J_c of full rank on the box, distinct functions).
* ``critical``: every critical point of the same network's mean-squared loss on 60 random samples
  (``critical_points`` without and with ``certify=True``; the difference is the certification).
* ``witness``: the 1,536-point witness set of ``cnn(k=(2,2,2,2), s=(1,1,1,1), r=2)`` (degree 1536).  Solve:
  ``witness_set`` (monodromy and trace tests).  Certify: ``NetworkWitnessSet.certify`` (Krawczyk boxes and
  disjoint image boxes).

Each line prints both times in this process and the ratio certify / solve; the target is <= 1 (certification
may at most double the time of the solve).  Every number is measured here, none is copied.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def ed_case() -> tuple[str, float, float, str]:
    import neuromanifold as nm
    from neuromanifold.context import Context
    from neuromanifold.invariants.ed_degree import ed_critical_system

    spec = "cnn(k=(3,2), s=(1,1), r=2)"
    ctx = Context(spec, seed=0)
    t0 = time.perf_counter()
    res = nm.analyze(ctx, only="ed_degree")["ed_degree"]
    solve = time.perf_counter() - t0
    # the same run with certify (same seed: the same points); its evidence times the certificate alone
    cs = ed_critical_system(ctx, "generic")

    ctx2 = Context(spec, seed=0, options={"certify": True})
    t0 = time.perf_counter()
    res2 = nm.analyze(ctx2, only="ed_degree")["ed_degree"]
    both = time.perf_counter() - t0
    cert_ev = res2.evidence["certification"]
    certify = float(cert_ev["seconds"])
    note = (f"ED degree {res.value} ({res.status}); certified points {cert_ev['certified']}, certified lower bound "
            f"{cert_ev['certified_lower_bound']}; solve+certify run {both:.2f} s; system {cs.k} unknowns")
    return "ed: 79 ED points of cnn(k=(3,2))", solve, certify, note


def critical_case() -> tuple[str, float, float, str]:
    import neuromanifold as nm

    spec = "cnn(k=(3,2), s=(1,1), r=2)"
    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((60, arch.n_inputs)), rng.standard_normal((60, arch.output_size()))
    nm.critical_points(spec, X, Y)  # warm-up (imports, caches of the process)
    t0 = time.perf_counter()
    plain = nm.critical_points(spec, X, Y)
    solve = time.perf_counter() - t0
    t0 = time.perf_counter()
    cert = nm.critical_points(spec, X, Y, certify=True)
    total = time.perf_counter() - t0
    c = cert.counts
    note = (f"{c['complex']} critical points, {c['certified']} certified ({c['certified_real']} real, "
            f"{c['certified_functions_pure']} distinct pure functions); global minimum {plain.global_minimum['status']}")
    return "critical: all critical points, cnn(k=(3,2)), 60 samples", solve, max(total - solve, 0.0), note


def witness_case() -> tuple[str, float, float, str]:
    from neuromanifold.context import Context
    from neuromanifold.invariants.witness_set import witness_set

    ctx = Context("cnn(k=(2,2,2,2), s=(1,1,1,1), r=2)", seed=0)
    t0 = time.perf_counter()
    ws = witness_set(ctx)
    solve = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev = ws.certify()
    certify = time.perf_counter() - t0
    note = (f"{ev['points']} witness points, {ev['certified']} certified, {ev['image_points_certified_distinct']} "
            f"certified distinct points of M" + (f"; first failure: {ev['first_failure']}" if ev.get("first_failure")
                                                 else ""))
    return "witness: 1,536-point witness set of cnn(k=(2,2,2,2))", solve, certify, note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the ED case")
    args = ap.parse_args()
    cases = [ed_case] if args.quick else [ed_case, critical_case, witness_case]
    print(f"{'case':<58}{'solve s':>9}{'certify s':>11}{'certify/solve':>15}  target <= 1")
    for case in cases:
        name, solve, certify, note = case()
        ratio = certify / solve if solve > 0 else float("inf")
        print(f"{name:<58}{solve:>9.2f}{certify:>11.2f}{ratio:>15.3f}  {'ok' if ratio <= 1 else 'SLOWER THAN TARGET'}")
        print(f"    {note}")


if __name__ == "__main__":
    main()
