"""Degrees of neuromanifolds: ours (``analyze(spec, only="degree")``) vs Macaulay2's
NumericalImplicitization (``pseudoWitnessSet`` / ``numericalImageDegree``) on the same networks.

    python benchmarks/degree.py                 # every case below (M2: 10-minute timeout per run)
    python benchmarks/degree.py --quick         # two small cases (smoke test)
    python benchmarks/degree.py --cases cnn-2222 linear-525 --m2-seeds 1,2,3 --timeout 300

Macaulay2 gets the network written independently in its own language (``tests/helpers/m2_networks.py``:
the coefficient map theta -> coefficients of the network function, built from matrices of
parameter variables; only the family parameters are shared with our spec) and computes the
degree of the closure of its image by monodromy and a trace test.  Ours computes the same
degree from the forward pass (pseudo-witness set of mu_S(M), monodromy, two trace tests).

Times: ours is the wall time of ``analyze`` in a warm process (imports done; the dimension, the
injectivity check and the witness set are included); Macaulay2's is its own ``elapsedTiming``
of ``pseudoWitnessSet`` (M2 start-up, package loading and building the map excluded).  With
several M2 seeds the M2 value is the majority of the runs whose trace test passed (M2's
monodromy has been seen to return a wrong degree with a passing trace test, its issue #2230) and
its time the median.  'M2/ours' > 1 means we are faster.  Target: >= 10x on every case of
degree >= 20.
"""

from __future__ import annotations

import argparse
import statistics
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
}
QUICK = ["linear-313", "attention-2122"]


def ours(spec: str, seed: int, repeats: int) -> dict[str, Any]:
    import neuromanifold as nm

    best: dict[str, Any] | None = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        d = nm.analyze(spec, only="degree", seed=seed)["degree"]
        dt = time.perf_counter() - t0
        ev = d.evidence
        mon = ev.get("monodromy", {})
        paths = mon.get("paths_tracked", 0) + sum(t.get("paths_tracked", 0) for t in ev.get("trace_tests", []))
        row = {"value": d.value, "status": d.status, "seconds": dt, "paths": paths}
        if best is None or dt < best["seconds"]:
            best = row
    assert best is not None
    return best


def macaulay2(family: str, params: dict[str, Any], seeds: list[int], timeout: float) -> dict[str, Any]:
    if M2 is None:
        return {"error": "M2 not installed (apt-get install --no-install-recommends macaulay2)"}
    runs: list[dict[str, Any]] = []
    for s in seeds:  # one process per seed: the timeout applies to each run
        try:
            runs += m2_image_degree(m2_network(family, **params), seeds=(s,), timeout=timeout)
        except RuntimeError as exc:
            return {"error": str(exc).splitlines()[0]}
        if runs and runs[-1].get("timeout"):
            return {"error": f"timeout after {timeout:.0f}s", "timeout": timeout}
    value, votes = majority(runs)
    return {
        "value": value,
        "votes": dict(votes),
        "complete": sum(r["complete"] for r in runs),
        "runs": len(runs),
        "seconds": statistics.median(r["seconds"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="*", default=None, help=f"names from: {', '.join(CASES)}")
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per Macaulay2 run")
    ap.add_argument("--m2-seeds", default="1", help="comma-separated setRandomSeed values (majority vote)")
    ap.add_argument("--seed", type=int, default=0, help="our seed")
    ap.add_argument("--repeats", type=int, default=1, help="best of this many runs of ours")
    ap.add_argument("--no-m2", action="store_true", help="skip Macaulay2")
    args = ap.parse_args(argv)
    names = args.cases or (QUICK if args.quick else list(CASES))
    unknown = [n for n in names if n not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choose from {', '.join(CASES)}")
    m2_seeds = [int(s) for s in args.m2_seeds.split(",") if s.strip()]

    import neuromanifold as nm

    nm.analyze("linear(widths=(2, 1, 2))", only="degree")  # warm up: imports (torch), caches

    header = (
        f"{'case':<15}{'spec':<40} | {'ours':>6} {'status':<11}{'s':>8}{'paths':>8}{'paths/s':>8} | "
        f"{'M2':>6} {'trace':<6}{'s':>8} | {'M2/ours':>8}"
    )
    print(header)
    print("-" * len(header))
    ratios: list[tuple[str, int, float | None]] = []
    notes: list[str] = []
    for name in names:
        family, params = CASES[name]
        spec = spec_string(family, **params)
        o = ours(spec, args.seed, args.repeats)
        row = (
            f"{name:<15}{spec:<40} | {str(o['value']):>6} {o['status']:<11}{o['seconds']:>8.2f}{o['paths']:>8}"
            f"{o['paths'] / max(o['seconds'], 1e-9):>8.0f} | "
        )
        m2 = {"error": "skipped"} if args.no_m2 else macaulay2(family, params, m2_seeds, args.timeout)
        ratio = None
        if "error" in m2:
            row += f"{'-':>6} {'-':<6}{'-':>8} | "
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
            row += f"{str(m2['value']):>6} {trace:<6}{m2['seconds']:>8.2f} | {ratio:>7.1f}x"
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
            f"\ndegree >= 20: smallest M2/ours = {worst[1]:.1f}x ({worst[0]}); target >= 10x on every such case: "
            f"{verdict}"
        )
    print(
        "ours = analyze(spec, only='degree') wall time in a warm process; M2 = elapsedTiming of pseudoWitnessSet"
        " on the coefficient map (median over seeds); 'trace' = M2 runs whose trace test passed; '>' = M2 timed out."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
