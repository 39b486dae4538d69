"""Atlas sweep throughput (architectures per minute): this process vs Dask LocalClusters of 1 and 2 workers.

    python benchmarks/atlas.py                       # 18 linear networks, dimension and degree
    python benchmarks/atlas.py --pattern "mlp(widths=(2..5, 1..5, 1..2), r=2..3)" --only dimension

Each run fills a fresh atlas in a temporary directory with the same pattern; the Dask runs must
store the same contents as the in-process run (checked, printed).  Ratios are against the
in-process run of the same shell.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from neuromanifold.atlas import Atlas, sweep


def run(pattern: str, only: str, cluster, directory: Path, name: str) -> tuple[float, int, list]:
    db = directory / f"{name}.sqlite"
    t0 = time.perf_counter()
    summary = sweep(pattern, only=only, db=db, cluster=cluster)
    dt = time.perf_counter() - t0
    with Atlas(db) as a:
        content = a.content()
    return dt, summary.specs, content


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pattern", default="linear(widths=(2..4, 1..2, 2..4))")
    ap.add_argument("--only", default="dimension,degree")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        base_dt, n, base = run(args.pattern, args.only, None, d, "in-process")
        print(f"pattern {args.pattern}: {n} architectures, invariants {args.only}")
        print(f"{'run':<22} {'seconds':>8} {'arch/min':>9} {'vs in-process':>14}  same atlas")
        print(f"{'in-process':<22} {base_dt:8.2f} {60 * n / base_dt:9.1f} {1.0:13.2f}x  -")
        from distributed import Client, LocalCluster

        for workers in (1, 2):
            t0 = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as lc, Client(lc) as client:
                start = time.perf_counter() - t0
                dt, _, content = run(args.pattern, args.only, client, d, f"dask-{workers}")
            label = f"dask {workers} worker{'s' if workers > 1 else ''}"
            print(f"{label:<22} {dt:8.2f} {60 * n / dt:9.1f} {base_dt / dt:13.2f}x  {content == base}"
                  f"   (+{start:.1f} s to start the cluster)")
    print("arch/min = architectures per minute; cluster start-up is excluded from the sweep times and printed.")


if __name__ == "__main__":
    main()
