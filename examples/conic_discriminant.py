"""Worked example: critical points of the MSE loss of f(x) = a (w . x)^2 over a plane of data sets.

The neuromanifold of mlp(widths=(2, 1, 1), r=2) is the cone of rank-one binary quadratic forms
a (w1 x + w2 y)^2 = {b^2 = 4 a c}, the affine cone over a conic.  For any data set in general
position the loss has 4 complex critical points on M (the ED degree of a conic in a generic
metric), and 2 or 4 of them are real: the number changes across the discriminant (the evolute of
the conic, in the coordinates of the data).  Run

    python examples/conic_discriminant.py [--grid 41] [--out docs/figures/conic_discriminant.png]
"""

from __future__ import annotations

import argparse

import numpy as np

from neuromanifold.landscape.discriminant import critical_point_map
from neuromanifold.report.plots import plot_critical_point_map


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", type=int, default=41)
    ap.add_argument("--out", default="docs/figures/conic_discriminant.png")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))  # 8 inputs in R^2, fixed
    Y0, Y1, Y2 = (rng.standard_normal((8, 1)) for _ in range(3))  # targets Y0 + s Y1 + t Y2
    m = critical_point_map("mlp(widths=(2, 1, 1), r=2)", X, Y0, Y1, Y2, s_range=(-3, 3), t_range=(-3, 3),
                           grid=args.grid, progress=True)
    plot_critical_point_map(m, args.out)
    m.save(args.out.rsplit(".", 1)[0] + ".npz")
    summary = m.summary()
    for key in ("complex_pure_values", "real_pure_values", "real_values", "local_minimum_values", "uncertain_cells"):
        print(f"{key:<22} {summary[key]}")


if __name__ == "__main__":
    main()
