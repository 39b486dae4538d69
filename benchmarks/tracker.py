"""Path-tracker throughput (paths per second) on katsura-n and cyclic-n: ours vs Macaulay2 and PHCpack.

    python benchmarks/tracker.py            # katsura-8/9/10, cyclic-5/6/7
    python benchmarks/tracker.py --quick    # katsura-6/8, cyclic-5/6
    python benchmarks/tracker.py --systems katsura-9 cyclic-6 --timeout 120

Ours: the best wall time of ``--repeats`` (default 3) identical runs (``--seed``: the same gamma,
chart and paths each time) of ``solve_total_degree`` (projective total-degree homotopy, all
prod d_i paths, with final refinement, classification and deduplication) on min(2, cores)
threads -- the same job as Macaulay2's NumericalAlgebraicGeometry ``solveSystem`` (total degree,
its M2 engine).  PHCpack's blackbox ``phc -b`` uses a polyhedral homotopy (mixed volume paths,
fewer than the Bezout number on cyclic-n); its paths/s is computed on the paths it tracked.
Reference tools run once each in a subprocess with a timeout; a missing tool is reported and
skipped.  The header gives the core count and the load average, and each row the load before
it: other processes on the machine slow every column.  HomotopyContinuation.jl tracks about
3,000 paths per second on such systems: the bar.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


from neuromanifold.homotopy import PolynomialSystem, cyclic, katsura, solve_total_degree

HC_JL_PATHS_PER_SECOND = 3000.0


def build(name: str) -> PolynomialSystem:
    kind, n = name.split("-")
    return {"katsura": katsura, "cyclic": cyclic}[kind](int(n))


def _poly_string(system: PolynomialSystem, poly: dict, power: str) -> str:
    names = system.variable_names
    terms = []
    for e, c in poly.items():
        if c.imag != 0:
            raise ValueError("benchmark systems have real coefficients")
        coef = c.real
        mono = "*".join(f"{names[j]}{power}{k}" if k > 1 else names[j] for j, k in enumerate(e) if k)
        mag = abs(coef)
        cs = f"{int(mag)}" if float(mag).is_integer() else repr(mag)
        body = mono if (mono and mag == 1) else (f"{cs}*{mono}" if mono else cs)
        terms.append(("- " if coef < 0 else "+ ") + body)
    s = " ".join(terms)
    return s[2:] if s.startswith("+ ") else "-" + s[2:]


def ours(system: PolynomialSystem, repeats: int = 1, predictor: str = "rk4", compiled: bool = True, seed: int = 0) -> dict:
    """Best wall time of ``repeats`` identical runs (same seed: same gamma, chart and paths)."""
    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = solve_total_degree(system, seed=seed, predictor=predictor, compiled=compiled)
        dt = time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, res)
    dt, res = best
    tr = res.track_result
    return {
        "seconds": dt,
        "paths": res.n_paths,
        "solutions": res.n_solutions,
        "at_infinity": res.n_at_infinity,
        "failed": res.n_failed,
        "steps_per_path": float((tr.steps + tr.rejected).mean()),
    }


def macaulay2(system: PolynomialSystem, timeout: float) -> dict | None:
    if shutil.which("M2") is None:
        return {"error": "M2 not installed"}
    vars_ = ",".join(system.variable_names)
    eqs = ", ".join(_poly_string(system, p, "^") for p in system.polynomials)
    script = (
        'needsPackage "NumericalAlgebraicGeometry";\n'
        f"R = CC[{vars_}];\n"
        f"F = {{{eqs}}};\n"
        "(t, sols) = toSequence elapsedTiming solveSystem F;\n"
        'print("RESULT " | toString(#sols) | " " | toString(#select(sols, s -> status s === Regular)) | " " | toString(t));\n'
    )
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.m2")
        with open(path, "w") as f:
            f.write(script)
        try:
            out = subprocess.run(["M2", "--script", path], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timeout after {timeout:.0f}s"}
    m = re.search(r"RESULT (\d+) (\d+) ([0-9.e-]+)", out.stdout)
    if not m:
        return {"error": (out.stderr or out.stdout).strip()[-200:]}
    return {"seconds": float(m.group(3)), "paths": system.bezout_number, "solutions": int(m.group(2))}


def run_phc(text: str, timeout: float) -> tuple[str | None, float | str]:
    """``phc -b`` on a system in PHCpack's input format: (its report, wall seconds) or (None, error)."""
    with tempfile.TemporaryDirectory() as d:
        inp, outp = os.path.join(d, "in.txt"), os.path.join(d, "out.txt")
        with open(inp, "w") as f:
            f.write(text)
        t0 = time.perf_counter()
        try:
            subprocess.run(["phc", "-b", inp, outp], capture_output=True, text=True, timeout=timeout, cwd=d)
        except subprocess.TimeoutExpired:
            return None, f"timeout after {timeout:.0f}s"
        wall = time.perf_counter() - t0
        if not os.path.exists(outp):
            return None, "phc wrote no output"
        return open(outp).read(), wall


def phcpack(system: PolynomialSystem, timeout: float) -> dict | None:
    if shutil.which("phc") is None:
        return {"error": "phc not installed (apt-get install -y --no-install-recommends phcpack)"}
    text = f"{system.n_vars}\n" + "".join(" " + _poly_string(system, p, "^") + ";\n" for p in system.polynomials)
    report, wall = run_phc(text, timeout)
    if report is None:
        return {"error": wall}
    mv = re.search(r"^stable mixed volume : (\d+)", report, re.M) or re.search(r"^mixed volume : (\d+)", report, re.M)
    td = re.search(r"^total degree : (\d+)", report, re.M)
    paths = int(mv.group(1)) if mv else (int(td.group(1)) if td else None)
    cont = 0.0
    for m in re.finditer(r"TIMING INFORMATION for (?:stable )?continuation\s*\nUser time in seconds was\s+([0-9.]+)", report):
        cont += float(m.group(1))
    # phc -b reports the solutions with zero coordinates (stable part) and the rest separately
    regular = [int(v) for v in re.findall(r"^Number of regular solutions\s*:\s*(\d+)", report, re.M)]
    return {
        "seconds": cont if cont > 0 else wall,
        "wall": wall,
        "paths": paths,
        "solutions": sum(regular) if regular else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", nargs="*", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs of ours (same seed)")
    ap.add_argument("--seed", type=int, default=0, help="seed of our gamma and projective chart")
    ap.add_argument("--no-reference", action="store_true", help="skip Macaulay2 and PHCpack")
    ap.add_argument("--predictor", default="rk4", choices=["rk4", "heun", "taylor"], help="our predictor")
    ap.add_argument("--numpy", action="store_true",
                    help="also time our batched numpy tracker (TrackerOptions(compiled=False)) in the same run")
    args = ap.parse_args(argv)
    systems = args.systems or (
        ["katsura-6", "katsura-8", "cyclic-5", "cyclic-6"]
        if args.quick
        else ["katsura-8", "katsura-9", "katsura-10", "cyclic-5", "cyclic-6", "cyclic-7"]
    )
    solve_total_degree(katsura(3), seed=0)  # warm up (imports, caches, the compiled kernel)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}: {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min); ours: best of {args.repeats} runs, seed "
          f"{args.seed}, threads min(2, cores)\n")
    header = f"{'system':<11}{'paths':>6}{'sols':>6} | {'ours s':>8}{'paths/s':>9}{'steps':>6} | " \
             f"{'M2 s':>8}{'paths/s':>9}{'M2/ours':>8} | {'PHC s':>8}{'paths':>6}{'paths/s':>9}{'PHC/ours':>9} | {'vs HC.jl':>8}"
    print(header)
    print("-" * len(header))
    rates: dict[str, tuple[float, int]] = {}
    for name in systems:
        S = build(name)
        load = os.getloadavg()[0]
        o = ours(S, args.repeats, args.predictor, seed=args.seed)
        ours_rate = o["paths"] / o["seconds"]
        row = f"{name:<11}{o['paths']:>6}{o['solutions']:>6} | {o['seconds']:>8.2f}{ours_rate:>9.0f}{o['steps_per_path']:>6.0f} | "
        if args.no_reference:
            m2 = phc = {"error": "skipped"}
        else:
            m2 = macaulay2(S, args.timeout)
            phc = phcpack(S, args.timeout)
        if "error" in m2:
            row += f"{'-':>8}{'-':>9}{'-':>8} | "
        else:
            row += f"{m2['seconds']:>8.2f}{m2['paths'] / m2['seconds']:>9.0f}{m2['seconds'] / o['seconds']:>7.1f}x | "
        if "error" in phc or not phc.get("paths"):
            row += f"{'-':>8}{'-':>6}{'-':>9}{'-':>9} | "
        else:
            rate = phc["paths"] / max(phc["seconds"], 1e-9)
            row += f"{phc['seconds']:>8.2f}{phc['paths']:>6}{rate:>9.0f}{ours_rate / rate:>8.1f}x | "
        row += f"{ours_rate / HC_JL_PATHS_PER_SECOND:>7.2f}x"
        print(row, flush=True)
        notes = []
        rates[name] = (ours_rate, o["solutions"])
        notes.append(f"load average {load:.2f} before this row; ours {o['steps_per_path']:.1f} steps per path "
                     f"(accepted + rejected), {o['failed']} failed, {o['at_infinity']} at infinity")
        if o["failed"]:
            notes.append(f"ours: {o['failed']} failed paths")
        if "error" in m2:
            notes.append(f"M2: {m2['error']}")
        elif m2.get("solutions") != o["solutions"]:
            notes.append(f"M2 found {m2.get('solutions')} regular solutions, ours {o['solutions']}")
        if "error" in phc:
            notes.append(f"PHCpack: {phc['error']}")
        elif phc.get("solutions") is not None and phc["solutions"] != o["solutions"]:
            notes.append(f"PHCpack found {phc['solutions']} regular solutions, ours {o['solutions']}")
        for note in notes:
            print(f"{'':<11}  note: {note}")
    if args.numpy:
        # a separate pass: torch's worker threads, busy for a while after the numpy tracker's
        # batched solves, would slow the compiled runs that follow
        print("\nours with the batched numpy tracker (TrackerOptions(compiled=False)), same process:")
        solve_total_degree(katsura(3), seed=0, compiled=False)
        for name in systems:
            o_np = ours(build(name), args.repeats, args.predictor, compiled=False, seed=args.seed)
            rate_np = o_np["paths"] / o_np["seconds"]
            print(f"{name:<11} numpy: {o_np['seconds']:>7.2f} s {rate_np:>7.0f} paths/s {o_np['solutions']:>5} sols | "
                  f"compiled/numpy = {rates[name][0] / rate_np:.1f}x")
    print(
        "\nours = solve_total_degree (projective total degree: track + refine + classify + deduplicate);"
        " M2 = NumericalAlgebraicGeometry solveSystem (total degree); PHC = phc -b (polyhedral, continuation"
        " user time);\nM2/ours > 1 means we are faster; 'vs HC.jl' = our paths/s divided by 3,000."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
