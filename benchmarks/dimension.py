"""Benchmark: certified dimension, and the same exact Jacobian rank computed in Macaulay2.

Run ``python benchmarks/dimension.py`` (15-20 minutes, most of it two M2 timeouts); ``--quick``
runs only the two smallest sizes of each ladder, skips the two headline cases and lowers the M2
limit to 30 s per run (a smoke test of about a minute).

Part 1 (headline).  Times ``neuromanifold.analyze(spec, only="dimension")`` for
``mlp(widths=(20,40,40,10), r=2)`` and ``attention(widths=(16,16,16), a=(8,8), t=4)`` and prints
value, status, seconds and ``evidence["seconds_split"]`` (build_exact_jacobian: the exact
forward-mode Jacobian of mu_S over Z/p; rank_exact_jacobian: its rank mod p; numerical_rank:
float64 Jacobian and SVD).

Part 2 (Macaulay2).  For a ladder of sizes in each family -- mlp widths (d, 2d, 2d, max(1, d/2)),
r = 2, d = 2, 3, 4, 8, 12, 20; attention widths (d, d, d), a = (max(1, d/2),) * 2, t = 4,
d = 2, 3, 4, 8, 12, 16 -- the exact lower bound of our certificate, the rank over Z/p of the
Jacobian of mu_S at a random point, is recomputed in Macaulay2.  The M2 programs are written in
the M2 language from the spec parameters only (nothing is generated from our forward pass).
Common to both M2 methods:

* ``F = ZZ/p`` with p = 2147483629, the prime our code uses (M2 1.21 accepts it: ``isField F``
  and its engine linear algebra, ``hasEngineLinearAlgebra F``, are both true);
* S random input samples with entries uniform in F (``random(F^a, F^b)``, as ours), where S is
  the number of samples our run used for its exact Jacobian (``evidence["lower_bound"]["samples"]``:
  the smallest S with S * outputs >= 1.15 * upper bound + 8, doubled once if that rank fell
  short), and a random parameter point theta0 in F^N;
* the result is ``rank`` of the (S * outputs) x N Jacobian over F, compared with ours.

Method "symbolic" (the literal recipe: substitute the inputs, differentiate symbolically,
substitute the point, rank):
  1. expand: ``R = F[th_1..th_N]``; mu_S(theta) as S * outputs polynomials in R -- the network on
     the numeric inputs with matrices of parameter variables (products, entrywise x^r for mlp;
     V (H H^T) (K^T Q H) per attention layer);
  2. jacobian: ``jacobian matrix{mu_S}`` (symbolic differentiation, an N x (S*outputs) matrix over R);
  3. substitute: ``sub(J, theta0)``;
  4. rank: ``rank`` over F.
Method "forward" (the same Jacobian by the chain rule, numerically in F, as our code does): each
sample's activations and their N tangent directions are matrices over F, propagated through the
layers with the product rule (Kronecker products ``**`` for the row-major tangents; for mlp
W T + [id ** h^T] and diag(r h^(r-1)) for the activation), the per-sample blocks stacked with
``matrix``, then ``rank``.

Each M2 run has a wall-clock limit (``--m2-timeout``, default 300 s, 30 s with ``--quick``;
enforced by killing the process) and a 16 GB address-space limit; each method's ladder stops
at its first failure (the other method goes on).  Per size the table prints our seconds (``ours``: analyze total;
``ours_ex``: build + rank of the exact Jacobian, the part M2 repeats), for each M2 method the
sum of its timed steps (M2's own ``elapsedTiming``, without the ~0.3 s start-up), the ratio
M2 steps / ours_ex (our evidence rounds to milliseconds and the ratio divides by at least
1 ms, so ratios of sub-millisecond cases are lower bounds), and the ranks (ours, symbolic,
forward), which agree unless a random point is unlucky.  Timings depend on machine load.
Nothing is run in M2 if ``M2`` is not on the PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import neuromanifold as nm

PRIME = 2147483629
M2_MEMORY = 16 * 2**30
HEADLINE = ["mlp(widths=(20,40,40,10), r=2)", "attention(widths=(16,16,16), a=(8,8), t=4)"]
LADDERS = {
    "mlp": [f"mlp(widths=({d},{2 * d},{2 * d},{max(1, d // 2)}), r=2)" for d in (2, 3, 4, 8, 12, 20)],
    "attention": [
        f"attention(widths=({d},{d},{d}), a=({max(1, d // 2)},{max(1, d // 2)}), t=4)" for d in (2, 3, 4, 8, 12, 16)
    ],
}
METHODS = ("symbolic", "forward")

M2_LIBRARY = r"""
F = ZZ/PRIME;
setRandomSeed 20250101;

-- ---- method "symbolic": mu_S as polynomials in R = F[th_1..th_N], then jacobian, sub, rank ----

-- the next m*n generators of R as an m x n matrix
freshMatrix = (R, counter, m, n) -> matrix table(m, n, (i, j) -> (
        counter#0 = counter#0 + 1;
        R_(counter#0 - 1)));

entrywisePower = (H, r) -> matrix apply(entries H, row -> apply(row, e -> e^r));

-- mu_S of the dense network x -> W_h s(... s(W_1 x)), s(z) = z^r; the samples are the columns of X
mlpOutputs = (R, widths, r, X) -> (
    counter := new MutableList from {0};
    h := #widths - 1;
    H := promote(X, R);
    for i from 1 to h do (
        H = freshMatrix(R, counter, widths#i, widths#(i-1)) * H;
        if i < h then H = entrywisePower(H, r);
        );
    assert(counter#0 == numgens R);
    flatten entries transpose H
    );

-- mu_S of deep lightning self-attention, each layer H -> V (H H^T) (K^T Q H); Xs: list of d0 x t inputs
attentionOutputs = (R, widths, a, Xs) -> (
    counter := new MutableList from {0};
    layers := for i from 0 to #a - 1 list (
        Q := freshMatrix(R, counter, a#i, widths#i);
        K := freshMatrix(R, counter, a#i, widths#i);
        V := freshMatrix(R, counter, widths#(i+1), widths#i);
        {V, transpose K * Q}
        );
    assert(counter#0 == numgens R);
    flatten apply(Xs, X -> (
            H := promote(X, R);
            for L in layers do H = L#0 * ((H * transpose H) * (L#1 * H));
            flatten entries H
            ))
    );

symbolicJacobianRank = (N, mu) -> (
    (tJ, J) := toSequence elapsedTiming jacobian matrix{mu};
    theta0 := random(F^1, F^N);
    (tS, Jp) := toSequence elapsedTiming sub(J, theta0);
    (tR, rk) := toSequence elapsedTiming rank Jp;
    << "M2RESULT rank=" << rk << " rows=" << #mu << " terms=" << sum(mu, f -> #terms f)
       << " jacobian=" << tJ << " substitute=" << tS << " rank_seconds=" << tR << endl;
    );

-- ---- method "forward": the chain rule with matrices over F at the point theta ----
-- tangents of matrices are (entries, row-major) x N matrices over F

paramTangent = (o, k, N) -> map(F^k, F^o, 0) | id_(F^k) | map(F^k, F^(N - o - k), 0);
unpack = (theta, o, m, n) -> matrix table(m, n, (i, j) -> theta#(o + i * n + j));
mulT = (A, TA, B, TB) -> (A * B, (A ** id_(F^(numColumns B))) * TB + (id_(F^(numRows A)) ** transpose B) * TA);
transT = (A, TA) -> (transpose A, TA^(flatten table(numColumns A, numRows A, (j, i) -> i * numColumns A + j)));

forwardMlp = (widths, r, X, theta) -> (
    h := #widths - 1; N := #theta;
    matrix for s from 0 to numColumns X - 1 list (
        hv := X_{s};
        T := map(F^(widths#0), F^N, 0);
        o := 0;
        for i from 1 to h do (
            m := widths#i; n := widths#(i-1);
            W := unpack(theta, o, m, n);
            T = W * T + (map(F^m, F^o, 0) | (id_(F^m) ** transpose hv) | map(F^m, F^(N - o - m * n), 0));
            hv = W * hv;
            o = o + m * n;
            if i < h then (
                T = diagonalMatrix(F, apply(flatten entries hv, z -> r * z^(r-1))) * T;
                hv = matrix apply(entries hv, row -> apply(row, z -> z^r));
                );
            );
        {T})
    );

forwardAttention = (widths, a, Xs, theta) -> (
    N := #theta;
    matrix for X in Xs list (
        H := X; TH := map(F^(numRows X * numColumns X), F^N, 0);
        o := 0;
        for i from 0 to #a - 1 do (
            d := widths#i; dout := widths#(i+1); ai := a#i;
            Q := unpack(theta, o, ai, d); TQ := paramTangent(o, ai * d, N); o = o + ai * d;
            K := unpack(theta, o, ai, d); TK := paramTangent(o, ai * d, N); o = o + ai * d;
            V := unpack(theta, o, dout, d); TV := paramTangent(o, dout * d, N); o = o + dout * d;
            (Kt, TKt) := transT(K, TK);
            (A, TA) := mulT(Kt, TKt, Q, TQ);
            (Ht, THt) := transT(H, TH);
            (G, TG) := mulT(H, TH, Ht, THt);
            (AH, TAH) := mulT(A, TA, H, TH);
            (GAH, TGAH) := mulT(G, TG, AH, TAH);
            (H, TH) = mulT(V, TV, GAH, TGAH);
            );
        {TH})
    );

forwardRank = J -> (
    (tR, rk) := toSequence elapsedTiming rank J;
    << "M2RESULT rank=" << rk << " rows=" << numRows J << " terms=0 jacobian=0 substitute=0 rank_seconds=" << tR << endl;
    );
"""


def m2_list(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def m2_script(arch, n_samples: int, method: str) -> str:
    """The M2 program for one architecture, sample count and method (spec parameters only)."""
    N = arch.n_params
    out = [M2_LIBRARY.replace("PRIME", str(PRIME))]
    if arch.family == "mlp":
        out.append(f"X = random(F^{arch.widths[0]}, F^{n_samples});")
    elif arch.family == "attention":
        out.append(f"Xs = for s from 1 to {n_samples} list random(F^{arch.widths[0]}, F^{arch.t});")
    else:
        raise ValueError(f"no M2 model for {arch.family}")
    if method == "symbolic":
        out.append(f"R = F[th_1..th_{N}];")
        if arch.family == "mlp":
            call = f"mlpOutputs(R, {m2_list(arch.widths)}, {arch.r}, X)"
        else:
            call = f"attentionOutputs(R, {m2_list(arch.widths)}, {m2_list(arch.a)}, Xs)"
        out.append(f"(tB, mu) = toSequence elapsedTiming {call};")
        out.append('<< "M2BUILD seconds=" << tB << endl;')
        out.append(f"symbolicJacobianRank({N}, mu);")
    elif method == "forward":
        out.append(f"theta0 = flatten entries random(F^1, F^{N});")
        if arch.family == "mlp":
            call = f"forwardMlp({m2_list(arch.widths)}, {arch.r}, X, theta0)"
        else:
            call = f"forwardAttention({m2_list(arch.widths)}, {m2_list(arch.a)}, Xs, theta0)"
        out.append(f"(tB, J) = toSequence elapsedTiming {call};")
        out.append('<< "M2BUILD seconds=" << tB << endl;')
        out.append(f"assert(numColumns J == {N});")
        out.append("forwardRank J;")
    else:
        raise ValueError(method)
    return "\n".join(out) + "\n"


RESULT = re.compile(
    r"M2RESULT rank=(\d+) rows=(\d+) terms=(\d+) jacobian=(\S+) substitute=(\S+) rank_seconds=(\S+)"
)


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (M2_MEMORY, M2_MEMORY))


def run_m2(m2: str, script: str, timeout: float) -> dict:
    """Run one M2 script; returns the parsed timings, or {"failed": reason}."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.m2"
        path.write_text(script)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [m2, "--script", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=_limit_memory,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the session of the M2 process started just above
            proc.communicate()
            return {"failed": f"timeout after {timeout:.0f} s", "wall": time.perf_counter() - t0}
        wall = time.perf_counter() - t0
    m = RESULT.search(out)
    b = re.search(r"M2BUILD seconds=(\S+)", out)
    if proc.returncode != 0 or not m or not b:
        tail = (err.strip().splitlines() or out.strip().splitlines() or ["no output"])[-1]
        return {"failed": f"M2 exit {proc.returncode}: {tail[:120]}", "wall": wall}
    rank, rows, terms = map(int, m.groups()[:3])
    jac, sub, rk = map(float, m.groups()[3:])
    build = float(b.group(1))
    return {
        "rank": rank,
        "rows": rows,
        "terms": terms,
        "build": build,
        "jacobian": jac,
        "substitute": sub,
        "rank_seconds": rk,
        "steps": build + jac + sub + rk,
        "wall": wall,
    }


def time_ours(spec: str) -> dict:
    """analyze(spec, only='dimension'); the best of up to 3 runs when a run is short."""
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        d = nm.analyze(spec, only="dimension")["dimension"]
        total = time.perf_counter() - t0
        split = d.evidence["seconds_split"]
        run = {
            "value": d.value,
            "status": d.status,
            "total": total,
            "split": split,
            "exact": split.get("build_exact_jacobian", 0.0) + split.get("rank_exact_jacobian", 0.0),
            "samples": d.evidence["lower_bound"]["samples"],
            "shape": d.evidence["lower_bound"]["jacobian_shape"],
        }
        if best is None or run["total"] < best["total"]:
            best = run
        if total > 2.0:
            break
    return best


def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def headline() -> None:
    print("== certified dimension: neuromanifold.analyze(spec, only='dimension') ==")
    for spec in HEADLINE:
        r = time_ours(spec)
        print(spec)
        print(f"  value {r['value']}  status {r['status']}  seconds {r['total']:.2f}")
        print(
            "  seconds_split: "
            + ", ".join(f"{k} {v:.2f}" for k, v in r["split"].items())
            + f"  (exact Jacobian {r['shape'][0]} x {r['shape'][1]}, {r['samples']} samples)"
        )
    print()


def ladder(m2: str, name: str, specs: list[str], timeout: float) -> None:
    print(f"== {name} ladder: ours vs Macaulay2 (rank over ZZ/{PRIME} of the Jacobian of mu_S at a random point) ==")
    print(
        f"{'spec':44s} {'N':>5s} {'S':>4s} {'ours':>7s} {'ours_ex':>7s} | {'M2 symb':>7s} {'ratio':>7s} | "
        f"{'M2 fwd':>7s} {'ratio':>6s} | ranks ours/symb/fwd | symbolic expand/jac/sub/rank s, terms"
    )
    stopped: dict[str, str] = {}
    largest: dict[str, str | None] = {m: None for m in METHODS}
    for spec in specs:
        arch = nm.parse_spec(spec)
        ours = time_ours(spec)
        res = {}
        for method in METHODS:
            if method in stopped:
                res[method] = {"failed": "not run (ladder stopped)"}
                continue
            res[method] = run_m2(m2, m2_script(arch, ours["samples"], method), timeout)
            if "failed" in res[method]:
                stopped[method] = spec
            else:
                largest[method] = spec
        cells, ranks = [], [str(ours["value"])]
        for method in METHODS:
            r = res[method]
            if "failed" in r:
                cells.append(f"{'-':>7s} {'-':>7s}" if method == "symbolic" else f"{'-':>7s} {'-':>6s}")
                ranks.append("-")
            else:
                ratio = r["steps"] / max(ours["exact"], 1e-3)
                w = 7 if method == "symbolic" else 6
                cells.append(f"{fmt_s(r['steps']):>7s} {ratio:>{w}.1f}")
                ranks.append(str(r["rank"]))
        sym = res["symbolic"]
        detail = (
            f"{sym['build']:.2f}/{sym['jacobian']:.2f}/{sym['substitute']:.2f}/{sym['rank_seconds']:.2f}, {sym['terms']}"
            if "failed" not in sym
            else sym["failed"]
        )
        print(
            f"{spec:44s} {arch.n_params:5d} {ours['samples']:4d} {fmt_s(ours['total']):>7s} {fmt_s(ours['exact']):>7s} | "
            f"{cells[0]} | {cells[1]} | {'/'.join(ranks):19s} | {detail}"
        )
        fwd = res["forward"]
        if "failed" in fwd and fwd["failed"] != "not run (ladder stopped)":
            print(f"  forward method failed: {fwd['failed']}")
        bad = [m for m in METHODS if "rank" in res[m] and res[m]["rank"] != ours["value"]]
        if bad:
            print(f"  note: rank differs from ours for {', '.join(bad)} (an unlucky random point, or a bug: investigate)")
    for method in METHODS:
        tail = f"; stopped at {stopped[method]}" if method in stopped else ""
        print(f"  largest case M2 ({method}) finished: {largest[method] or 'none'}{tail}")
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time the certified dimension and compare with Macaulay2.")
    ap.add_argument("--quick", action="store_true", help="only the two smallest sizes of each ladder, no headline cases")
    ap.add_argument(
        "--m2-timeout", type=float, default=None, help="seconds per M2 run (default 300; 30 with --quick)"
    )
    args = ap.parse_args(argv)
    if args.m2_timeout is None:
        args.m2_timeout = 30.0 if args.quick else 300.0
    nm.analyze("mlp(widths=(2,2,1), r=2)", only="dimension")  # warm-up: imports and first-call costs
    if not args.quick:
        headline()
    m2 = shutil.which("M2")
    if m2 is None:
        print("Macaulay2 (M2) is not on the PATH: skipping the comparison with Macaulay2.")
        return 0
    print(f"Macaulay2: {m2}; prime p = {PRIME}; per M2 run: {args.m2_timeout:.0f} s, {M2_MEMORY // 2**30} GB")
    print(
        "seconds: ours = analyze total; ours_ex = build + rank of our exact Jacobian; M2 symb / M2 fwd = the timed "
        "steps of the symbolic / forward M2 method (without M2 start-up); ratio = M2 / ours_ex"
    )
    print()
    for name, specs in LADDERS.items():
        ladder(m2, name, specs[:2] if args.quick else specs, args.m2_timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
