"""ED degrees in every metric: ours beside independent solvers.

    python benchmarks/critical.py                   # cnn(k=(3,2)), mlp(widths=(3,1,1), r=2); every metric
    python benchmarks/critical.py --timeout 120     # seconds per reference run
    python benchmarks/critical.py --no-reference

Columns:
* ours: ``analyze(spec, only="ed_degree", metric=...)`` wall time in a warm process (coefficient map,
  critical system, total-degree solve when small, monodromy, trace tests).
* M2 exact: Macaulay2 computes the ED degree symbolically over QQ from the network written in its
  own language (``tests/helpers/m2_networks.py``: implicitization + DHOST critical ideal + saturation); its
  cpu time.
* PHCpack: ``phc -b`` (polyhedral homotopy) on *our* critical-point equations J_c^T (Q c - p) = 0 at
  a random real data point (same equations, independent solver); compared with the number of regular
  solutions of our total-degree solve of the same system (pure + spurious).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from m2_networks import M2, m2_ed_degree, m2_network, spec_string  # noqa: E402
from tracker import run_phc  # noqa: E402  (benchmarks/tracker.py)

CASES = {
    "cnn-32": ("cnn", {"k": (3, 2), "r": 2}),
    "mlp-311": ("mlp", {"widths": (3, 1, 1), "r": 2}),
}
METRICS = ("generic", "euclidean", "bombieri_weyl")


def _poly_text(system, p) -> str:
    """PHCpack input of the system at real parameters p (real coefficients)."""
    n = system.n_vars
    names = [f"z{j}" for j in range(n)]
    lines = []
    for poly in system.polynomials:
        terms = {}
        for e, c in poly.items():
            val = c * np.prod(np.asarray(p, dtype=complex) ** np.asarray(e[n:]))
            terms[e[:n]] = terms.get(e[:n], 0) + val
        parts = []
        for e, c in terms.items():
            if abs(c) == 0:
                continue
            mono = "*".join(f"{names[j]}^{k}" if k > 1 else names[j] for j, k in enumerate(e) if k)
            coef = f"({c.real:.17g}{c.imag:+.17g}*i)"
            parts.append(f"{coef}*{mono}" if mono else coef)
        lines.append(" + ".join(parts) + ";")
    return f"{n}\n" + "\n".join(lines) + "\n"


def phcpack_count(system, p, timeout: float) -> dict:
    if shutil.which("phc") is None:
        return {"error": "phc not installed"}
    report, wall = run_phc(_poly_text(system, p), timeout)
    if report is None:
        return {"error": wall}
    regular = [int(v) for v in re.findall(r"^Number of regular solutions\s*:\s*(\d+)", report, re.M)]
    return {"seconds": wall, "regular": sum(regular) if regular else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--metrics", nargs="*", default=list(METRICS))
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args(argv)

    import neuromanifold as nm
    from neuromanifold.context import Context
    from neuromanifold.invariants.ed_degree import ed_critical_system
    from neuromanifold.invariants.critical_system import solve_critical

    nm.analyze("linear(widths=(2, 1, 2))", only="ed_degree")  # warm up
    header = (f"{'case':<9}{'metric':<15}| {'ours':>5} {'status':<11}{'s':>7} | {'M2 exact':>8}{'s':>9}{'M2/ours':>9} | "
              f"{'regular (ours/PHC)':>19}{'PHC s':>8}")
    print(header)
    print("-" * len(header))
    for name in args.cases:
        family, params = CASES[name]
        spec = spec_string(family, **params)
        for metric in args.metrics:
            t0 = time.perf_counter()
            r = nm.analyze(spec, only="ed_degree", metric=metric)["ed_degree"]
            ours_s = time.perf_counter() - t0
            row = f"{name:<9}{metric:<15}| {r.value!s:>5} {r.status:<11}{ours_s:>7.2f} | "
            if args.no_reference or M2 is None:
                row += f"{'-':>8}{'-':>9}{'-':>9} | "
            else:
                m2 = m2_ed_degree(m2_network(family, **params), metric, timeout=args.timeout)
                if m2.get("timeout"):
                    row += f"{'timeout':>8}{'>' + str(int(args.timeout)):>9}{'>' + format(args.timeout / ours_s, '.0f') + 'x':>9} | "
                else:
                    flag = "" if m2["ed"] == r.value else " (differs!)"
                    row += f"{m2['ed']:>8}{m2['seconds']:>9.2f}{m2['seconds'] / ours_s:>8.1f}x | {flag}"
            if args.no_reference:
                row += f"{'-':>19}{'-':>8}"
            else:
                ctx = Context(spec, options={"metric": metric})
                cs = ed_critical_system(ctx, metric)
                rng = np.random.default_rng(7)
                p = cs.parameters(rng.standard_normal(cs.cmap.dimension))
                crit = solve_critical(cs, p, seed=1)
                phc = phcpack_count(cs.system, p.real, args.timeout)
                if "error" in phc:
                    row += f"{crit.solve.n_solutions:>10}/{'-':<8}{'-':>8}"
                else:
                    row += f"{crit.solve.n_solutions:>10}/{phc['regular']!s:<8}{phc['seconds']:>8.2f}"
            print(row, flush=True)
    print("\nours = analyze(..., only='ed_degree') wall time; M2 exact = Macaulay2 cpu time of the symbolic ED "
          "degree (implicitize + saturate);\nregular = regular solutions of our critical equations at one real data "
          "point: our total-degree solve / PHCpack's blackbox solver.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
