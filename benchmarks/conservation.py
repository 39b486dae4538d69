"""Benchmark: number of conservation laws of gradient flows for networks with >= 200 parameters.

Run ``python benchmarks/conservation.py`` (about a minute; ``--quick``: only the first network).

For each network, ``neuromanifold.analyze(spec, only="conservation_laws", law_degree=0)`` (the count
D - dim Lie(W_phi)(theta) and the drift check along an integrated gradient flow; no polynomial search,
whose degree-2 monomials in 200 variables are ~20,000 unknowns) is timed against the 60 s target of
issue 6.  Then the Lie-algebra rank alone is computed twice in the same process from the same seed:
batched (``torch.func.vmap`` over random bracket words, as the invariant does) and as the reference, the
same words evaluated one at a time in a Python loop (``vectorize=False``); the ranks must agree and the
ratio loop / batched is printed.  The expected counts are closed forms: sum over hidden layers of
d_i (d_i + 1) / 2 for linear networks (entries of W_{i+1}^T W_{i+1} - W_i W_i^T) and one law per hidden
neuron for ReLU networks (Marcotte, Gribonval, Peyre, NeurIPS 2023).  Timings depend on machine load.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import neuromanifold as nm
from neuromanifold.invariants import conservation as cl

TARGET = 60.0
NETWORKS = [
    ("linear(widths=(5,10,10,5))", lambda w: sum(d * (d + 1) // 2 for d in w[1:-1])),
    ("relu(widths=(10,10,10,1))", lambda w: sum(w[1:-1])),
    ("relu(widths=(8,12,8), bias=True)", lambda w: sum(w[1:-1])),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the first network")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rows = []
    for spec, expected in NETWORKS[: 1 if args.quick else None]:
        arch = nm.parse_spec(spec)
        t0 = time.perf_counter()
        res = nm.analyze(spec, only="conservation_laws", law_degree=0)["conservation_laws"]
        t_full = time.perf_counter() - t0
        exp = expected(arch.widths)
        fam = cl.family_of_architecture(arch, np.random.default_rng(0))
        theta = np.random.default_rng(1).standard_normal(arch.n_params)
        t0 = time.perf_counter()
        fast = cl.lie_algebra_trace(fam, theta, np.random.default_rng(2), vectorize=True)
        t_fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        slow = cl.lie_algebra_trace(fam, theta, np.random.default_rng(2), vectorize=False)
        t_slow = time.perf_counter() - t0
        drift = res.evidence["drift"]
        rows.append((spec, arch.n_params, res.value, exp, res.evidence["lie_algebra"]["gap"], t_full,
                     t_full / TARGET, fast.rank == slow.rank, t_fast, t_slow, t_slow / t_fast,
                     drift["control"]["drift"], drift["flow"]["nfev"]))
        print(f"{spec}: {arch.n_params} parameters, {res.value} laws (closed form {exp}), "
              f"Lie rank {res.evidence['lie_algebra']['rank']} (gap {res.evidence['lie_algebra']['gap']:.1e}), "
              f"levels {[lv['new_directions'] for lv in res.evidence['lie_algebra']['levels']]}", flush=True)
        print(f"  analyze: {t_full:.2f} s = {t_full / TARGET:.3f} x the {TARGET:.0f} s target; "
              f"Lie rank batched {t_fast:.2f} s vs one word at a time {t_slow:.2f} s: ratio {t_slow / t_fast:.1f}x "
              f"(ranks {fast.rank} / {slow.rank})", flush=True)
    print()
    print(f"{'network':<34} {'D':>4} {'laws':>5} {'closed':>6} {'s':>7} {'/60s':>6} {'batched':>8} {'loop':>8} {'ratio':>6}")
    for r in rows:
        print(f"{r[0]:<34} {r[1]:>4} {r[2]:>5} {r[3]:>6} {r[5]:>7.2f} {r[6]:>6.3f} {r[8]:>8.2f} {r[9]:>8.2f} {r[10]:>6.1f}")
    ok = all(r[2] == r[3] and r[7] for r in rows) and all(r[5] < TARGET for r in rows)
    print("all counts match the closed forms and run under the target" if ok else "MISMATCH or over target")


if __name__ == "__main__":
    main()
