"""Degrees of neuromanifolds: ours (``analyze(spec, only="degree")``) vs Macaulay2's
NumericalImplicitization (``pseudoWitnessSet`` / ``numericalImageDegree``) on the same networks.

    python benchmarks/degree.py                 # every case below (M2: 10-minute timeout per run)
    python benchmarks/degree.py --quick         # two small cases (smoke test)
    python benchmarks/degree.py --cases cnn-2222 linear-525 --m2-seeds 1,2,3 --timeout 300
    python benchmarks/degree.py --cases attention-2222 --cold-runs 7 --repeats 5   # cold start (issue 21)

Macaulay2 gets the network written independently in its own language (``tests/helpers/m2_networks.py``:
the coefficient map theta -> coefficients of the network function, built from matrices of
parameter variables; only the family parameters are shared with our spec) and computes the
degree of the closure of its image by monodromy and a trace test.  Ours computes the same
degree from the forward pass (pseudo-witness set of mu_S(M), monodromy, two trace tests).

Times: ours ('warm') is the wall time of ``analyze`` in a warm process, the best of ``--repeats`` calls
after a first call of the same spec (imports, compiled kernels and caches loaded; the dimension, the
injectivity check and the witness set are included); Macaulay2's is its own ``elapsedTiming`` of
``pseudoWitnessSet`` (M2 start-up, package loading and building the map excluded).

Cold start: 'cold' is the wall time of a fresh process running the command line,
``neuromanifold analyze SPEC --only degree --seed S`` (interpreter start, imports, loading the
compiled kernels, the computation, printing), the best of ``--cold-runs`` after one unmeasured run
that fills the on-disk caches (.pyc files, numba's kernel cache) -- what a user sees on every run
after the first; 'first' is the first call in a process whose imports are done.  It is compared
with 'M2 proc': the wall time of Macaulay2's whole process for the same degree (start-up, loading
NumericalImplicitization, building the map, pseudoWitnessSet; median over seeds).  The child runs
with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed), as an installed package would.  With
several M2 seeds the M2 value is the majority of the runs whose trace test passed (M2's
monodromy has been seen to return a wrong degree with a passing trace test, its issue #2230) and
its time the median.  'M2/ours' > 1 means we are faster.  Target: >= 10x on every case of
degree >= 20.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))

from m2_networks import M2, m2_image_degree, m2_network, majority, spec_string  # noqa: E402

# name -> (family, parameters)
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "linear-313": ("linear", {"widths": (3, 1, 3)}),
    "linear-423": ("linear", {"widths": (4, 2, 3)}),
    "linear-424": ("linear", {"widths": (4, 2, 4)}),
    "mlp-211-r3": ("mlp", {"widths": (2, 1, 1), "r": 3}),
    "attention-2122": ("attention", {"d": 2, "dout": 1, "a": 2, "t": 2}),
    "attention-2212": ("attention", {"d": 2, "dout": 2, "a": 1, "t": 2}),
    "cnn-32": ("cnn", {"k": (3, 2)}),
    "cnn-33": ("cnn", {"k": (3, 3)}),
    "cnn-222": ("cnn", {"k": (2, 2, 2)}),
    "linear-525": ("linear", {"widths": (5, 2, 5)}),
    "cnn-2222": ("cnn", {"k": (2, 2, 2, 2)}),
    "attention-2222": ("attention", {"d": 2, "dout": 2, "a": 2, "t": 2}),
}
QUICK = ["linear-313", "attention-2122"]
COLD_OVERHEAD_GOAL = 0.5  # seconds a fresh command-line process may add to the warm time (issue 21, part 5)


def ours(spec: str, seed: int, repeats: int) -> dict[str, Any]:
    """Warm: the best of ``repeats`` calls after a first call of the same spec (whose time is 'first')."""
    import neuromanifold as nm

    t0 = time.perf_counter()
    nm.analyze(spec, only="degree", seed=seed)
    first = time.perf_counter() - t0
    best: dict[str, Any] | None = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        d = nm.analyze(spec, only="degree", seed=seed)["degree"]
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        ev = d.evidence
        mon = ev.get("monodromy", {})
        paths = mon.get("paths_tracked", 0) + sum(t.get("paths_tracked", 0) for t in ev.get("trace_tests", []))
        row = {"value": d.value, "status": d.status, "seconds": dt, "cpu": cpu, "paths": paths}
        if best is None or dt < best["seconds"]:
            best = row
    assert best is not None
    best["first"] = first
    return best


def _cli() -> list[str]:
    """The ``neuromanifold`` command of this interpreter (the console script beside it, else ``-m``)."""
    script = Path(sys.executable).with_name("neuromanifold")
    return [str(script)] if script.exists() else [sys.executable, "-m", "neuromanifold"]


def cold(spec: str, seed: int, runs: int, timeout: float = 3600.0) -> dict[str, Any]:
    """Wall time of a fresh process answering ``neuromanifold analyze SPEC --only degree``: the best of
    ``runs`` (after one unmeasured run that fills the .pyc and numba caches), with the median."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = _cli() + ["analyze", spec, "--only", "degree", "--seed", str(seed)]
    times: list[float] = []
    cpus: list[float] = []
    value = None
    for i in range(runs + 1):
        t0, c0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        dt = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"error": (proc.stderr.strip().splitlines() or ["exit status %d" % proc.returncode])[-1]}
        if i:
            times.append(dt)
            cpus.append(_children_cpu() - c0)
        value = _table_degree(proc.stdout)
    return {"seconds": min(times), "median": statistics.median(times), "cpu": min(cpus), "runs": runs, "value": value}


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far (robust to a busy machine, unlike walls)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _table_degree(text: str) -> Any:
    """The degree's value in the table ``analyze`` prints (None if it cannot be read)."""
    m = re.search(r"^\s*degree\s+(\S+)\s", text, flags=re.M)
    if not m:
        return None
    return int(m.group(1)) if m.group(1).isdigit() else m.group(1)


def macaulay2(family: str, params: dict[str, Any], seeds: list[int], timeout: float) -> dict[str, Any]:
    if M2 is None:
        return {"error": "M2 not installed (apt-get install --no-install-recommends macaulay2)"}
    runs: list[dict[str, Any]] = []
    walls: list[float] = []
    cpus: list[float] = []
    for s in seeds:  # one process per seed: the timeout applies to each run
        t0, c0 = time.perf_counter(), _children_cpu()
        try:
            runs += m2_image_degree(m2_network(family, **params), seeds=(s,), timeout=timeout)
        except RuntimeError as exc:
            return {"error": str(exc).splitlines()[0]}
        walls.append(time.perf_counter() - t0)  # the whole M2 process: start-up, packages, map, witness set
        cpus.append(_children_cpu() - c0)
        if runs and runs[-1].get("timeout"):
            return {"error": f"timeout after {timeout:.0f}s", "timeout": timeout}
    value, votes = majority(runs)
    return {
        "value": value,
        "votes": dict(votes),
        "complete": sum(r["complete"] for r in runs),
        "runs": len(runs),
        "seconds": statistics.median(r["seconds"] for r in runs),
        "process": statistics.median(walls),
        "process_cpu": statistics.median(cpus),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="*", default=None, help=f"names from: {', '.join(CASES)}")
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per Macaulay2 run")
    ap.add_argument("--m2-seeds", default="1", help="comma-separated setRandomSeed values (majority vote)")
    ap.add_argument("--seed", type=int, default=0, help="our seed")
    ap.add_argument("--repeats", type=int, default=1, help="best of this many runs of ours")
    ap.add_argument("--cold-runs", type=int, default=3,
                    help="fresh CLI processes per case for the 'cold' column, best of them (0: skip)")
    ap.add_argument("--no-m2", action="store_true", help="skip Macaulay2")
    args = ap.parse_args(argv)
    names = args.cases or (QUICK if args.quick else list(CASES))
    unknown = [n for n in names if n not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choose from {', '.join(CASES)}")
    m2_seeds = [int(s) for s in args.m2_seeds.split(",") if s.strip()]

    # cold first: fresh processes, before this one loads anything
    colds = {name: cold(spec_string(CASES[name][0], **CASES[name][1]), args.seed, args.cold_runs)
             if args.cold_runs > 0 else None for name in names}

    import neuromanifold as nm

    nm.analyze("linear(widths=(2, 1, 2))", only="degree")  # warm up: imports, compiled kernels

    header = (
        f"{'case':<15}{'spec':<34} | {'ours':>5} {'status':<10}{'warm s':>7}{'cpu':>6}{'first s':>8}{'cold s':>7}{'cpu':>6}"
        f"{'paths':>6}{'paths/s':>8} | {'M2':>5} {'trace':<6}{'s':>6}{'proc s':>7}{'cpu':>6} | {'M2/warm':>8}{'proc/cold':>10}"
    )
    print(header)
    print("-" * len(header))
    ratios: list[tuple[str, int, float | None]] = []
    notes: list[str] = []
    cold_goal: list[tuple[str, float, float]] = []
    for name in names:
        family, params = CASES[name]
        spec = spec_string(family, **params)
        o = ours(spec, args.seed, args.repeats)
        c = colds[name]
        if c is None or "error" in c:
            cold_s = f"{'-':>7}{'-':>6}"
            if c is not None:
                notes.append(f"{name}: cold run failed: {c['error']}")
        else:
            cold_s = f"{c['seconds']:>7.2f}{c['cpu']:>6.2f}"
            cold_goal.append((name, c["seconds"] - o["seconds"], c["cpu"] - o["cpu"]))
            if c["value"] != o["value"]:
                notes.append(f"{name}: the command line printed degree {c['value']}, analyze returned {o['value']}")
        row = (
            f"{name:<15}{spec:<34} | {str(o['value']):>5} {o['status']:<10}{o['seconds']:>7.2f}{o['cpu']:>6.2f}"
            f"{o['first']:>8.2f}{cold_s}{o['paths']:>6}{o['paths'] / max(o['seconds'], 1e-9):>8.0f} | "
        )
        m2 = {"error": "skipped"} if args.no_m2 else macaulay2(family, params, m2_seeds, args.timeout)
        ratio = None
        if "error" in m2:
            row += f"{'-':>5} {'-':<6}{'-':>6}{'-':>7}{'-':>6} | "
            if m2.get("timeout"):
                ratio = m2["timeout"] / o["seconds"]
                row += f">{ratio:>6.1f}x"
            else:
                row += f"{'-':>8}"
            if not args.no_m2:
                notes.append(f"{name}: M2 {m2['error']}")
        else:
            trace = f"{m2['complete']}/{m2['runs']}"
            ratio = m2["seconds"] / o["seconds"]
            proc_ratio = f"{m2['process'] / c['seconds']:>9.1f}x" if c and "error" not in c else f"{'-':>10}"
            row += (f"{str(m2['value']):>5} {trace:<6}{m2['seconds']:>6.2f}{m2['process']:>7.2f}{m2['process_cpu']:>6.2f} | "
                    f"{ratio:>7.1f}x{proc_ratio}")
            if m2["value"] != o["value"]:
                notes.append(f"{name}: values differ: ours {o['value']} ({o['status']}), M2 votes {m2['votes']}")
        print(row, flush=True)
        ratios.append((name, o["value"] if isinstance(o["value"], int) else -1, ratio))
    for note in notes:
        print(f"note: {note}")
    big = [(n, r) for n, d, r in ratios if d >= 20 and r is not None]
    if big:
        worst = min(big, key=lambda x: x[1])
        verdict = "met" if worst[1] >= 10 else "NOT met"
        print(
            f"\ndegree >= 20: smallest M2/warm = {worst[1]:.1f}x ({worst[0]}); target >= 10x on every such case: "
            f"{verdict}"
        )
    if cold_goal:
        for i, what in ((1, "wall"), (2, "cpu")):
            over = max(cold_goal, key=lambda x: x[i])
            verdict = "met" if over[i] <= COLD_OVERHEAD_GOAL else "NOT met"
            print(f"cold start ({what}): largest cold - warm = {over[i]:.2f} s ({over[0]}); goal <= "
                  f"{COLD_OVERHEAD_GOAL} s on every case: {verdict}")
    print(
        "warm = analyze(spec, only='degree') in a warm process, best of --repeats after a first call ('first');"
        " cold = fresh `neuromanifold analyze SPEC --only degree` process, best of --cold-runs after a cache-filling"
        " run; M2 = elapsedTiming of pseudoWitnessSet on the coefficient map, proc = wall of the whole M2 process"
        " (medians over seeds); 'cpu' = user + system CPU seconds of that process (warm: of this process, both"
        " tracker threads; robust to a busy machine where walls are not); 'trace' = M2 runs whose trace test"
        " passed; '>' = M2 timed out."
    )
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus (times are walls: a busy machine inflates them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
