"""Checkpoint resume saves the work done: fresh run vs (Ctrl-C after t seconds of work + resume).

Goal (issue 17): a degree run interrupted after t seconds of work and resumed finishes in at most
fresh - 0.8 t.  Prints the times, and the ratio resume / (fresh - 0.8 t) (<= 1 meets the goal), for
SIGINTs at a few fractions of the fresh work time.

What counts as work: t runs from the moment the analysis starts (``analyze`` in the CLI, after the
interpreter start, the imports and the cost estimate -- process startup that every run, fresh or
resumed, pays alike and that no checkpoint can hold) to the moment the SIGINT is sent (the exit after
it is not work either).  The analysis start is read off the CLI's own progress lines ("analyze ...,
2.0 s": printed at a known elapsed time of the analysis).  It includes the setup of the degree run
(dimension, slice, numba's cache load), which a resumed run repeats.  For comparison the ratio with t
counted from the process start to the end of the cut run (the previous definition, ``t_proc``) is
printed too, and the ratio with t counted from the start of the monodromy loop (``t_mono``: after the
setup and after numba's cache load, which take ~1-2 s per process and which a resumed run repeats, except
the coefficient map, kept in the checkpoint directory).  fresh and resume are whole wall times of their
processes.
Usage: python benchmarks/resume.py [SPEC] [--fractions 0.3,0.6] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

# "analyze <spec>: 0/1 invariants, degree, 2.0 s" (or "1 min 05 s"): the analysis' own elapsed time
_ELAPSED = re.compile(r"neuromanifold: analyze .*?(?:(\d+) min (\d+) s|(\d+(?:\.\d+)?) s)(?: \(|$| >)")


# "... monodromy: 361 solutions, ..., 792 paths/s, 2.8 s": the monodromy loop's elapsed time
_MONO = re.compile(r".*monodromy: .*, (\d+(?:\.\d+)?) s(?: \(\w+\))?$")


def _elapsed(line: str) -> float | None:
    m = _ELAPSED.match(line.rstrip())
    if not m:
        return None
    return float(m.group(1)) * 60 + float(m.group(2)) if m.group(1) else float(m.group(3))


def run(spec: str, ckpt: str | None, work_before_sigint: float | None = None) -> dict:
    """``neuromanifold analyze SPEC --only degree``, SIGINT after ``work_before_sigint`` seconds of work:
    wall (s, process), work_start (s after the process start), sigint (s after the process start or None),
    degree (the result)."""
    cmd = [sys.executable, "-m", "neuromanifold.cli", "analyze", spec, "--only", "degree", "--json"]
    if ckpt:
        cmd += ["--checkpoint-dir", ckpt]
    env = {**os.environ, "NEUROMANIFOLD_PROGRESS_INTERVAL": "0.25"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    starts: list[float] = []
    mono: list[float] = []
    seen = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            now = time.perf_counter() - t0
            e = _elapsed(line)
            mm = _MONO.match(line.rstrip())
            if mm:
                mono.append(now - float(mm.group(1)) - 0.05)
            if e is not None:
                starts.append(now - e - 0.05)  # the elapsed time is printed rounded to 0.1 s
                seen.set()
        seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sigint = None
    if work_before_sigint is not None:
        seen.wait()  # the first line comes 2 s into the analysis
        while proc.poll() is None and starts:
            left = min(starts) + work_before_sigint - (time.perf_counter() - t0)
            if left <= 0:
                sigint = time.perf_counter() - t0
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(min(left, 0.02))
    out = proc.stdout.read()
    proc.wait()
    wall = time.perf_counter() - t0
    reader.join(timeout=5)
    return {"wall": wall, "work_start": min(starts) if starts else 0.0, "sigint": sigint,
            "mono_start": min(mono) if mono else None,
            "degree": json.loads(out)["invariants"]["degree"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", nargs="?", default="cnn(k=(3,2,2), s=(1,1,1), r=2)")
    ap.add_argument("--fractions", default="0.3,0.6")
    ap.add_argument("--repeat", type=int, default=1, help="measure every fraction (and the fresh run) N times")
    args = ap.parse_args()
    for _ in range(args.repeat):
        f_run = run(args.spec, None)
        fresh_t, fresh = f_run["wall"], f_run["degree"]
        fresh_work = fresh_t - f_run["work_start"]
        print(f"{args.spec}: fresh {fresh_t:.1f} s (startup {f_run['work_start']:.1f} s, work and exit "
              f"{fresh_work:.1f} s), degree {fresh['value']} ({fresh['status']}), "
              f"{fresh['evidence']['monodromy']['paths_tracked']} paths", flush=True)
        for f in (float(x) for x in args.fractions.split(",")):
            with tempfile.TemporaryDirectory() as d:
                c = run(args.spec, d, work_before_sigint=f * fresh_work)
                r = run(args.spec, d)
            cut, res, r_t = c["degree"], r["degree"], r["wall"]
            if c["sigint"] is None:
                print(f"  fraction {f}: the run ended before the SIGINT", flush=True)
                continue
            t = c["sigint"] - c["work_start"]
            goal, goal_proc = fresh_t - 0.8 * t, fresh_t - 0.8 * c["wall"]
            same = (res["value"], res["status"]) == (fresh["value"], fresh["status"])
            info = res["evidence"]["monodromy"].get("resumed", {})
            print(f"  SIGINT after {t:.1f} s of work (cut at {cut['value']}, {cut['status']}), resume {r_t:.1f} s; "
                  f"goal fresh - 0.8 t = {goal:.1f} s; ratio resume/goal = {r_t / goal:.2f} "
                  f"({'meets' if r_t <= goal else 'misses'} the goal); same result as fresh: {same}; "
                  f"resumed {info.get('mode')}"
                  + (f" at leg {info['push_resumed_at_leg']}" if "push_resumed_at_leg" in info else "")
                  + f" [t_proc {c['wall']:.1f} s: ratio {r_t / goal_proc:.2f}]"
                  + (f" [t_mono {c['sigint'] - c['mono_start']:.1f} s: ratio "
                     f"{r_t / (fresh_t - 0.8 * (c['sigint'] - c['mono_start'])):.2f}]" if c["mono_start"] else ""),
                  flush=True)


if __name__ == "__main__":
    main()
