"""Checkpoint resume saves the work done: fresh run vs (Ctrl-C after t seconds + resume).

Goal (issue 17): a degree run interrupted after t seconds of work and resumed finishes in at most
fresh - 0.8 t.  Prints the times, and the ratio resume / (fresh - 0.8 t) (<= 1 meets the goal), for
SIGINTs at a few fractions of the fresh time.  Usage: python benchmarks/resume.py [SPEC] [--fractions 0.3,0.6]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time


def run(spec: str, ckpt: str | None, interrupt_after: float | None = None) -> tuple[float, dict]:
    """(wall seconds, degree result) of ``neuromanifold analyze SPEC --only degree``, SIGINT after ``interrupt_after``."""
    cmd = [sys.executable, "-m", "neuromanifold.cli", "analyze", spec, "--only", "degree", "--json"]
    if ckpt:
        cmd += ["--checkpoint-dir", ckpt]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if interrupt_after is not None:
        try:
            proc.wait(timeout=interrupt_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate()
    return time.perf_counter() - t0, json.loads(out)["invariants"]["degree"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default="cnn(k=(3,2,2), s=(1,1,1), r=2)")
    ap.add_argument("--fractions", default="0.3,0.6")
    args = ap.parse_args()
    fresh_t, fresh = run(args.spec, None)
    print(f"{args.spec}: fresh {fresh_t:.1f} s, degree {fresh['value']} ({fresh['status']}), "
          f"{fresh['evidence']['monodromy']['paths_tracked']} paths")
    for f in (float(x) for x in args.fractions.split(",")):
        with tempfile.TemporaryDirectory() as d:
            t, cut = run(args.spec, d, interrupt_after=f * fresh_t)
            r_t, res = run(args.spec, d)
        goal = fresh_t - 0.8 * t
        same = (res["value"], res["status"]) == (fresh["value"], fresh["status"])
        print(f"  SIGINT after {t:.1f} s (cut at {cut['value']}, {cut['status']}), resume {r_t:.1f} s; "
              f"goal fresh - 0.8 t = {goal:.1f} s; ratio resume/goal = {r_t / goal:.2f} "
              f"({'meets' if r_t <= goal else 'misses'} the goal); same result as fresh: {same}; "
              f"resumed {res['evidence']['monodromy'].get('resumed', {}).get('mode')}")


if __name__ == "__main__":
    main()
