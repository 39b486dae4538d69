"""Voronoi estimator: targets per second and the 95% interval width reached in one minute.

    python benchmarks/voronoi.py [--seconds 60] [--spec "cnn(k=(2,2), s=(1,1), r=1)"]

Reference in the same process: the exact nearest points of the same targets by brute force on a
fine grid is impossible in general; the baseline printed is plain Monte Carlo of the closed-form
event for this architecture (real roots of u0 + u1 t + u2 t^2), i.e. the cost of a sample when the
geometry is known in closed form, to put our per-target cost in proportion.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neuromanifold.landscape.voronoi import voronoi_masses
from neuromanifold.report.landscape import voronoi_text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--spec", default="cnn(k=(2, 2), s=(1, 1), r=1)")
    args = ap.parse_args()
    voronoi_masses(args.spec, n_samples=20)  # warm up
    t0 = time.perf_counter()
    r = voronoi_masses(args.spec, n_samples=200)
    per = (time.perf_counter() - t0) / 200
    n = int(args.seconds / per)
    t0 = time.perf_counter()
    r = voronoi_masses(args.spec, n_samples=n, seed=1)
    dt = time.perf_counter() - t0
    print(voronoi_text(r))
    widths = {k: v["ci95"][1] - v["ci95"][0] for k, v in r.strata.items()}
    print(f"\n{r.n_samples + r.n_uncertain} targets in {dt:.1f} s: {(r.n_samples + r.n_uncertain) / dt:.0f} targets/s; "
          f"95% interval widths {', '.join(f'{k}: {w:.4f}' for k, w in widths.items())}")
    t0 = time.perf_counter()
    u = np.random.default_rng(0).standard_normal((1_000_000, 3))
    np.mean(u[:, 1] ** 2 >= 4 * u[:, 0] * u[:, 2])
    mc = 1_000_000 / (time.perf_counter() - t0)
    print(f"closed-form Monte Carlo of the same event: {mc:.2e} targets/s (ratio ours/closed form {(n / dt) / mc:.1e})")


if __name__ == "__main__":
    main()
