"""Empirical NTK throughput (pairs of inputs per second): torch.func (vmap(jacrev) contraction, and NTK-vector
products vjp + jvp) against a per-sample, per-output torch.autograd.grad loop, in the same process.

    python benchmarks/ntk.py            # MLP and CNN on 8x8 inputs, 48 x 48 pairs
    python benchmarks/ntk.py --n 16     # quicker

Every method computes the full (k x k)-valued kernel Theta(x, x') for all n x n pairs; the results are checked
to agree (max abs difference printed).
"""

from __future__ import annotations

import argparse
import time

import torch

from neuromanifold.dynamics.ntk import empirical_ntk, ntk_loop


def models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                              torch.nn.Tanh(), torch.nn.Linear(64, 10))
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv2d(8, 8, 3, padding=1),
                              torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(8 * 64, 10))
    return {"mlp 64-64-64-10": mlp, "cnn 1-8-8 + linear": cnn}


def timed(fn, repeat: int) -> tuple[float, torch.Tensor]:
    out = fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - t0) / repeat, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=48, help="inputs per side (n x n pairs)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    x = torch.rand(args.n, 1, 8, 8)
    pairs = args.n * args.n
    print(f"{'model':<20} {'method':<10} {'pairs/s':>10} {'vs loop':>8} {'max |diff|':>11}")
    for name, model in models().items():
        t_loop, ref = timed(lambda: ntk_loop(model, x, x), 1)
        print(f"{name:<20} {'loop':<10} {pairs / t_loop:>10.0f} {1.0:>8.1f} {0.0:>11.1e}")
        for method in ("jacobian", "vjp"):
            t, K = timed(lambda: empirical_ntk(model, x, x, method=method), args.repeat)
            diff = float((K - ref).abs().max())
            print(f"{name:<20} {method:<10} {pairs / t:>10.0f} {t_loop / t:>8.1f} {diff:>11.1e}")


if __name__ == "__main__":
    main()
