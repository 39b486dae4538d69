"""A degree >= 10,000 certified in under 30 minutes (issue 21, part 1).

    python benchmarks/degree_large.py                                  # cnn(k=(4,3,2), r=2): degree 15,360
    python benchmarks/degree_large.py "cnn(k=(3,3,2), r=2)" --compare none
    python benchmarks/degree_large.py SPEC --budget 1800 --compare "cnn(k=(3,3,2), r=2)" --previous

Runs ``analyze(SPEC, only="degree", certify=True)`` in a child process (one per case, so that the peak
memory, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, is that of the case alone) and prints the number of
parameters, dim M, the degree with its status and certificate, the wall time, the peak memory, the time split
(monodromy loops, trace tests, Krawczyk certification with the image boxes, the rest: dimension, coefficient
map, slice), the paths tracked, and the proven upper bound of ``invariants.degree.multiprojective_bound``
(m!/prod (k_i-1)! * prod (r^(L-i))^(k_i-1) for cnn with x^r: the closed form the count is checked against).
With ``--compare`` a smaller case runs the same way and the ratios (time, time per witness point) are printed.
Every number is measured in this run; the machine load (``os.getloadavg``) is printed before and after, as the
times depend on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

DEFAULT = "cnn(k=(4,3,2), r=2)"
SMALLER = "cnn(k=(3,3,2), r=2)"  # degree 1920, the same family one filter tap shorter


def one(spec: str, budget: float | None, seed: int, previous: bool = False,
        checkpoint_dir: str | None = None) -> dict[str, Any]:
    """Run the case in this process; a JSON-ready summary.  ``previous``: the method before the proven bound
    stopped the monodromy (monodromy until the trace tests pass, then the certificates)."""
    import resource

    t0 = time.perf_counter()
    import neuromanifold as nm

    if previous:
        import neuromanifold.invariants.degree as dg

        plain = dg.witness_set
        dg.witness_set = lambda ctx, **kw: plain(ctx, **{**kw, "stop_at_bound": False})

    t_import = time.perf_counter() - t0
    try:
        rep = nm.analyze(spec, only="dimension,degree", certify=True, budget=budget, force=True, seed=seed,
                         checkpoint_dir=checkpoint_dir)
    except nm.AnalysisInterrupted as exc:  # Ctrl-C (SIGINT to the child): the labelled partial result
        rep = exc.report
    wall = time.perf_counter() - t0
    d, dim = rep["degree"], rep["dimension"]
    ev = d.evidence
    mono = ev.get("monodromy", {})
    traces = ev.get("trace_tests", [])
    cert = ev.get("certification", {})
    t_mono = float(mono.get("seconds", 0.0))
    t_trace = float(sum(t.get("seconds", 0.0) for t in traces))
    t_cert = float(cert.get("seconds_total", cert.get("seconds", 0.0)) or 0.0)
    return {
        "spec": nm.parse_spec(spec).spec(),
        "n_params": nm.parse_spec(spec).n_params,
        "dim": dim.value, "dim_status": dim.status,
        "degree": d.value, "status": d.status,
        "certificate": ev.get("certificate") or ev.get("why_not_certified") or ev.get("why_lower_bound"),
        "upper_bound": (ev.get("upper_bound") or {}).get("value"),
        "upper_bound_formula": (ev.get("upper_bound") or {}).get("formula"),
        "witness_points": mono.get("solutions"), "stopping_rule": mono.get("stopping_rule"),
        "trace_test_passed": mono.get("trace_test_passed"),
        "trace_residuals": [t.get("residuals") for t in traces],
        "certified": cert.get("certified"), "certified_distinct": cert.get("certified_lower_bound"),
        "first_failure": cert.get("first_failure"),
        "paths_loops": int(mono.get("paths_tracked", 0)),
        "paths_trace": int(sum(t.get("paths_tracked", 0) for t in traces)),
        "loops": mono.get("loops"), "path_failures": mono.get("path_failures"),
        "wall": wall, "import": t_import, "degree_seconds": d.seconds,
        "t_monodromy_loops": t_mono - t_trace, "t_trace": t_trace, "t_certify": t_cert,
        "t_krawczyk": float(cert.get("seconds", 0.0) or 0.0),
        "t_other": wall - t_import - (t_mono + t_cert),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu": resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime,
        "load_end": os.getloadavg()[0],
    }


def run_child(spec: str, budget: float | None, seed: int, previous: bool = False,
              checkpoint_dir: str | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, spec, "--child", "--seed", str(seed)] + (["--previous"] if previous else [])
    if checkpoint_dir:
        cmd += ["--checkpoint-dir", checkpoint_dir]
    if budget is not None:
        cmd += ["--budget", str(budget)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{spec}: the child failed\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(r: dict[str, Any]) -> None:
    print(f"{r['spec']}: {r['n_params']} parameters, dim M = {r['dim']} ({r['dim_status']})")
    print(f"  degree {r['degree']} ({r['status']}); {r['certificate']}")
    print(f"  proven upper bound {r['upper_bound']} ({r['upper_bound_formula']})")
    print(f"  witness points {r['witness_points']} (stopped by {r['stopping_rule']}, trace test passed: "
          f"{r['trace_test_passed']}, residuals {r['trace_residuals']}); Krawczyk: {r['certified']} certified, "
          f"{r['certified_distinct']} certified distinct image points"
          + (f"; first failure: {r['first_failure']}" if r["first_failure"] else ""))
    print(f"  wall {r['wall']:.1f} s = import {r['import']:.1f} + monodromy loops {r['t_monodromy_loops']:.1f} + "
          f"trace tests {r['t_trace']:.1f} + certification {r['t_certify']:.1f} (Krawczyk {r['t_krawczyk']:.1f}) + "
          f"rest (dimension, coefficient map, slice) {r['t_other']:.1f}; peak memory {r['peak_rss_mb']:.0f} MB")
    print(f"  CPU time {r['cpu']:.1f} s (user + system of the process; wall / CPU = {r['wall'] / r['cpu']:.2f} under "
          f"load, load average {r['load_end']:.2f} at its end)")
    print(f"  paths: {r['paths_loops']} monodromy ({r['loops']} loops, {r['path_failures']} failed), "
          f"{r['paths_trace']} trace tests; {r['wall'] / max(1, r['witness_points'] or 1) * 1e3:.1f} ms per witness point")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", nargs="?", default=DEFAULT)
    ap.add_argument("--budget", type=float, default=None, help="seconds (default: none; the goal is 1800)")
    ap.add_argument("--compare", default=SMALLER, help="a smaller case for the ratios ('none': skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--previous", action="store_true",
                    help="also run the previous method on SPEC (monodromy until the trace tests pass, then certify)")
    ap.add_argument("--checkpoint-dir", default=None, help="monodromy checkpoints of the main case (resumable)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(one(a.spec, a.budget, a.seed, a.previous, a.checkpoint_dir), default=str))
        return
    print(f"# python benchmarks/degree_large.py {a.spec!r}" + (f" --budget {a.budget:g}" if a.budget else "")
          + f" --compare {a.compare!r}" + (" --previous" if a.previous else "")
          + f"; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    big = run_child(a.spec, a.budget, a.seed, checkpoint_dir=a.checkpoint_dir)
    show(big)
    print(f"  goal: certified in under 30 minutes: {'met' if big['status'] == 'certified' and big['wall'] < 1800 else 'NOT met'}"
          f"; load average {os.getloadavg()[0]:.2f} at the end")
    if a.compare and a.compare != "none":
        small = run_child(a.compare, None, a.seed)
        show(small)
        per = (big["wall"] / big["witness_points"]) / (small["wall"] / small["witness_points"])
        print(f"ratio {a.spec} / {a.compare}: degree {big['degree'] / small['degree']:.1f}x, wall "
              f"{big['wall'] / small['wall']:.1f}x, time per witness point {per:.2f}x, peak memory "
              f"{big['peak_rss_mb'] / small['peak_rss_mb']:.1f}x; load average {os.getloadavg()[0]:.2f}")
    if a.previous:
        print("previous method (no stop at the proven bound: monodromy until the trace tests pass, then certify):")
        prev = run_child(a.spec, a.budget, a.seed, previous=True)
        show(prev)
        print(f"ratio new / previous: wall {big['wall'] / prev['wall']:.2f}, CPU {big['cpu'] / prev['cpu']:.2f}, paths "
              f"{(big['paths_loops'] + big['paths_trace']) / (prev['paths_loops'] + prev['paths_trace']):.2f}")


if __name__ == "__main__":
    main()
