"""Scale benchmark (issue 21 part 1): certified dimension of large networks, time and peak memory, against the
previous method in the same run.

    python benchmarks/scale.py                 # every case, previous method where it ends within --timeout
    python benchmarks/scale.py --quick         # the 2,800-parameter MLP only, both methods
    python benchmarks/scale.py --cases mlp-11200 --timeout 900

Each case runs ``analyze(spec, only="dimension")`` in a fresh child process (peak memory = the child's maximum
resident set, ``ru_maxrss``), with a wall-clock limit.  Methods:

* ``now``: the exact Jacobian of mu_S over Z/p by backpropagation for dense networks
  (``parametrization.backprop``; forward mode otherwise), its rank by blocked elimination with GEMM updates
  above 4e6 entries (``arithmetic.elimination``), the float SVD only up to 2,000 parameters (``svd`` option);
* ``previous``: forward-mode Jacobian, python-flint's ``nmod_mat.rank`` (the matrix as Python integers), and the
  float SVD always -- the method before this issue, run by switching those three off in the child.

The table prints parameters, value, status, seconds, peak GB, the time split from the evidence and the ratio
previous / now (``>`` when the previous method hit the limit).  Timings depend on the machine's load: the
header prints ``os.getloadavg()``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CASES = {
    "mlp-2800": "mlp(widths=(20,40,40,10), r=2)",
    "mlp-6600": "mlp(widths=(30,60,60,20), r=2)",
    "mlp-11200": "mlp(widths=(40,80,80,20), r=2)",
    "attention-4096": "attention(widths=(32,32,32), a=(16,16), t=4)",
}


def child(spec: str, method: str) -> None:
    """Run one case in this process and print one JSON line."""
    from neuromanifold import analyze
    from neuromanifold.arithmetic import modular
    from neuromanifold.parametrization import backprop

    options = {}
    if method == "previous":
        backprop.supports_backprop = lambda arch: False
        modular.FLINT_RANK_ENTRIES = float("inf")
        options["svd"] = True
    t0 = time.perf_counter()
    r = analyze(spec, only=["dimension"], seed=0, options=options)["dimension"]
    seconds = time.perf_counter() - t0
    ev = r.evidence
    print(json.dumps({
        "value": r.value, "status": r.status, "seconds": seconds,
        "split": ev.get("seconds_split", {}),
        "upper": ev["upper_bound"]["value"],
        "samples": ev["lower_bound"]["samples"],
        "rounds": ev["lower_bound"]["sample_rounds"],
        "why": ev["lower_bound"]["samples_chosen_because"],
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }))


def run(spec: str, method: str, timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, __file__, "--child", spec, method], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout, "seconds": time.perf_counter() - t0}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"error": (out.stderr.strip().splitlines() or ["no output"])[-1], "seconds": time.perf_counter() - t0}
    return json.loads(lines[-1])


def _row(name: str, spec: str, method: str, res: dict, n_params: int) -> str:
    if "timeout" in res:
        return f"{name:15s} {n_params:7d} {method:9s} {'-':>6s} {'not done':11s} {'>' + str(int(res['timeout'])):>8s}"
    if "error" in res:
        return f"{name:15s} {n_params:7d} {method:9s} error: {res['error']}"
    split = " ".join(f"{k}={v:.1f}" for k, v in res["split"].items())
    return (f"{name:15s} {n_params:7d} {method:9s} {res['value']:6d} {res['status']:11s} {res['seconds']:8.1f} "
            f"{res['peak_gb']:6.2f}  samples={res['samples']} upper={res['upper']}  {split}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    ap.add_argument("--quick", action="store_true", help="the 2,800-parameter MLP only")
    ap.add_argument("--timeout", type=float, default=900.0, help="wall-clock limit per run (s)")
    ap.add_argument("--no-previous", action="store_true", help="skip the previous method")
    args = ap.parse_args()
    from neuromanifold.architectures import parse_spec

    cases = ["mlp-2800"] if args.quick else args.cases
    print(f"# cores {os.cpu_count()}, load {os.getloadavg()}, timeout {args.timeout:.0f} s per run")
    print(f"{'case':15s} {'params':>7s} {'method':9s} {'dim':>6s} {'status':11s} {'seconds':>8s} {'peakGB':>6s}")
    for name in cases:
        spec = CASES[name]
        n = parse_spec(spec).n_params
        now = run(spec, "now", args.timeout)
        print(_row(name, spec, "now", now, n), flush=True)
        if "rounds" in now:
            print(f"{'':15s} samples: {now['rounds']} ({now['why']})")
        if args.no_previous:
            continue
        prev = run(spec, "previous", args.timeout)
        print(_row(name, spec, "previous", prev, n), flush=True)
        if "seconds" in now and "error" not in now and "timeout" not in now:
            sign = ">" if "timeout" in prev else ""
            print(f"{'':15s} ratio previous/now: {sign}{prev['seconds'] / now['seconds']:.1f}x", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
