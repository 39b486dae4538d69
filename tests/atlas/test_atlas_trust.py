"""Issue 17: Ctrl-C ends an atlas sweep (exit 130) without storing a cut value as final; concurrent
sweeps share the work through claims; bad paths and huge patterns are refused in one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neuromanifold.atlas import Atlas, sweep
from neuromanifold.atlas.store import NOT_FINAL, options_key
from neuromanifold.atlas.sweep import SweepInterrupted, cut_short, result_options
from neuromanifold.cli import build_parser, main

EXE = [sys.executable, "-m", "neuromanifold.cli"]
# 2nd: degree 384, ~3.5 s of monodromy (the degree-175 mlp used before took 0.7 s on a fast machine: the Ctrl-C
# 1 s after the first spec then came after the sweep had finished)
LONG = ["mlp(widths=(3,2,1), r=2)", "cnn(k=(3,2,2), s=(1,1,1), r=2)", "mlp(widths=(3,2,1), r=3)"]
ONLY = "dimension,degree"


def _rows(db: Path) -> dict[tuple[str, str], tuple[object, str]]:
    with Atlas(db, create=False, readonly=True) as a:
        return {(r.spec, r.invariant): (r.value, r.status) for r in a.rows()}


def _content(db: Path) -> list:
    with Atlas(db, create=False, readonly=True) as a:
        return a.content()


def test_sigint_ends_the_sweep_keeps_finished_results_and_a_rerun_completes(tmp_path):
    db, ref = tmp_path / "a.sqlite", tmp_path / "ref.sqlite"
    cmd = EXE + ["atlas", "sweep", *LONG, "--only", ONLY, "--db", str(db)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    while True:  # progress lines arrive on a pipe (no terminal): wait until the first spec is done
        line = proc.stderr.readline()
        seen.append(line)
        if line.startswith("[1/3]") or not line:
            break
    assert seen[0].startswith("sweep: 3 specs x 2 invariants") and "3 specs to compute" in seen[0], seen
    time.sleep(1.0)  # inside the degree of the cnn (a few seconds)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert time.monotonic() - t0 < 30  # the first Ctrl-C ends the whole sweep
    assert "Traceback" not in err and "run the same command again to resume" in err
    rows = _rows(db)
    first, second, third = ("mlp(widths=(3, 2, 1), r=2, bias=False)", "cnn(k=(3, 2, 2), s=(1, 1, 1), r=2, n=5)",
                            "mlp(widths=(3, 2, 1), r=3, bias=False)")
    assert {s for s, _ in rows} == {first, second}  # the third spec was never started
    assert rows[(first, "dimension")][1] == rows[(first, "degree")][1] == "certified"
    value, status = rows[(second, "degree")]
    # labelled, not stored as final (on a loaded machine the cut can come after the last point was found but
    # before the trace test: the value may then already be the degree 384, still labelled)
    assert status == NOT_FINAL and value <= 384, (value, status)
    assert f"{second}  " in err and "degree interrupted" in err
    with Atlas(db) as a:
        assert (second, "degree") not in a.done(0, result_options())
        assert a.conn.execute("SELECT count(*) FROM claims").fetchone()[0] == 0  # claims released

    rerun = subprocess.run(cmd + ["--json", "--quiet"], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["computed"] == 3 and summary["skipped"] == 3  # the cut degree and the third spec
    sweep(LONG, only=ONLY, db=ref)
    assert _content(db) == _content(ref)  # equal to an uninterrupted run, evidence included
    assert _rows(db)[(second, "degree")] == (384, "certified")


def test_two_concurrent_cli_sweeps_compute_every_spec_once(tmp_path):
    db, ref = tmp_path / "shared.sqlite", tmp_path / "ref.sqlite"
    pattern = "mlp(widths=(2..3, 1..3, 1), r=2..3)"  # 12 specs
    cmd = EXE + ["atlas", "sweep", pattern, "--only", ONLY, "--db", str(db), "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e for _, e in outs]
    summaries = [json.loads(o) for o, _ in outs]
    # every result computed by exactly one of the two (each counts only what it computed itself)
    assert sum(s["computed"] for s in summaries) == 2 * 12
    for s in summaries:
        assert s["computed"] + s["skipped"] + s["elsewhere"] == 2 * 12
    for _, err in outs:  # each prints one line per spec: 12, honest total
        assert len([ln for ln in err.splitlines() if ln.startswith("[")]) == 12
        assert "[12/12]" in err
    sweep(pattern, only=ONLY, db=ref)
    assert _content(db) == _content(ref)
    with Atlas(db) as a:
        assert a.conn.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


def _claim(db: Path, spec: str, names: list[str], pid: int, beat: float, options: dict) -> None:
    with Atlas(db) as a:
        for n in names:
            a.conn.execute("INSERT INTO claims VALUES (?,?,?,?,?,?,?,?,?)",
                           (spec, n, 0, options_key(options), f"{socket.gethostname()}:{pid}:test",
                            socket.gethostname(), pid, beat, beat))


def test_claims_of_live_sweeps_are_waited_for_and_stale_ones_taken_over(tmp_path):
    db = tmp_path / "a.sqlite"
    names = ["dimension", "expected_dimension"]
    opts = result_options()
    specs = ["mlp(widths=(2, 1, 1), r=2, bias=False)", "mlp(widths=(2, 2, 1), r=2, bias=False)",
             "mlp(widths=(3, 1, 1), r=2, bias=False)"]
    Atlas(db).close()
    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = subprocess.Popen(["sleep", "3"])  # a live "sweep" that dies without storing
    _claim(db, specs[0], names, dead.pid, time.time(), opts)  # owner gone
    _claim(db, specs[1], names, os.getpid(), time.time() - 1000, opts)  # no heartbeat for 1000 s
    _claim(db, specs[2], names, owner.pid, time.time(), opts)  # alive: wait for it
    lines: list[str] = []
    t0 = time.monotonic()
    summary = sweep("mlp(widths=(2..3, 1..2, 1), r=2)", only=names, db=db, progress=lines.append, stale_after=60)
    assert time.monotonic() - t0 >= 2.0  # it waited for the live owner instead of computing its spec
    assert any(ln.startswith("waiting for 1 specs") for ln in lines), lines
    assert summary.taken_over == 3 * len(names) and summary.computed == 4 * len(names)
    assert len(_rows(db)) == 4 * len(names)
    owner.wait()


def test_interrupted_and_legacy_cut_rows_are_recomputed_never_final(tmp_path):
    db = tmp_path / "a.sqlite"
    opts = result_options()
    spec = "mlp(widths=(2, 2, 1), r=2, bias=False)"
    cut = {"value": 1, "status": NOT_FINAL, "evidence": {"interrupted": {"status_when_stopped": "lower_bound"}}}
    legacy = {"value": 1, "status": "lower_bound", "evidence": {"monodromy": {"stopping_rule": "interrupted"}}}
    with Atlas(db) as a:
        a.put(spec, "mlp", 4, "dimension", 0, opts, cut, "0")
        a.put(spec, "mlp", 4, "expected_dimension", 0, opts, legacy, "0")
        assert a.done(0, opts) == set()
    assert cut_short(legacy["evidence"]) and not cut_short({"monodromy": {"stopping_rule": "trace_test"}})
    summary = sweep("mlp(widths=(2, 2, 1), r=2)", only="dimension,expected_dimension", db=db)  # a plain rerun
    assert summary.computed == 2
    rows = _rows(db)
    assert rows[(spec, "dimension")] == (3, "certified") and rows[(spec, "expected_dimension")][1] == "certified"
    with Atlas(db) as a:  # an interrupted result never replaces a final one
        assert not a.put(spec, "mlp", 4, "dimension", 0, opts, cut, "0")
    assert _rows(db)[(spec, "dimension")] == (3, "certified")


def test_keyboard_interrupt_in_python_raises_sweep_interrupted_with_summary(tmp_path):
    def stop(payload):
        raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        sweep("mlp(widths=(2, 1..3, 1), r=2)", only="dimension", db=tmp_path / "a.sqlite", on_result=stop)
    assert info.value.summary.stopped and info.value.summary.computed == 1
    with Atlas(tmp_path / "a.sqlite") as a:
        assert a.conn.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


def _one_line_error(capsys, argv: list[str], *fragments: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("neuromanifold: error:") and "Traceback" not in err, err
    for f in fragments:
        assert f in err, err
    return err


def test_bad_paths_and_huge_patterns_are_refused_in_one_line(tmp_path, capsys):
    spec = "mlp(widths=(2,1,1), r=2)"
    missing = tmp_path / "no" / "such"
    _one_line_error(capsys, ["atlas", "sweep", spec, "--db", str(missing / "a.sqlite")], "does not exist", "mkdir -p")
    assert not missing.exists()  # nothing created silently

    db = tmp_path / "a.sqlite"
    assert main(["atlas", "sweep", spec, "--only", "dimension", "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert "1 specs to compute" in err and "[1/1]" in err  # progress without a terminal
    db.chmod(0o444)
    try:
        _one_line_error(capsys, ["atlas", "sweep", spec, "--db", str(db)], "read-only", "chmod u+w")
        assert main(["atlas", "show", "--db", str(db)]) == 0  # reading still works
        assert "(certified)" in capsys.readouterr().out
    finally:
        db.chmod(0o644)
    ro_dir = tmp_path / "ro"
    ro_dir.mkdir()
    ro_dir.chmod(0o555)
    try:
        _one_line_error(capsys, ["atlas", "sweep", spec, "--db", str(ro_dir / "a.sqlite")], "read-only", "writable")
    finally:
        ro_dir.chmod(0o755)
    assert not (ro_dir / "a.sqlite").exists()

    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    assert main(["atlas", "export", "--db", str(db), "--format", "json", "--out", str(out_dir)]) == 0
    assert f"written to {out_dir / 'atlas.json'}" in capsys.readouterr().out
    assert len(json.loads((out_dir / "atlas.json").read_text())) == 1
    _one_line_error(capsys, ["atlas", "export", "--db", str(db), "--out", str(missing / "x.csv")], "does not exist")

    _one_line_error(capsys, ["atlas", "sweep", "mlp(widths=(1..100000, 1))", "--db", str(db)],
                    "100000 specs", "--max-specs 100000")
    _one_line_error(capsys, ["atlas", "sweep", "mlp(widths=(2, 1..3, 1), r=2)", "--max-specs", "2", "--db", str(db)],
                    "3 specs", "--max-specs 3")
    assert main(["atlas", "sweep", "mlp(widths=(2, 1..3, 1), r=2)", "--only", "dimension", "--max-specs", "3",
                 "--db", str(db), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_huge_pattern_refused_by_the_installed_command_without_traceback(tmp_path):
    res = subprocess.run(EXE + ["atlas", "sweep", "mlp(widths=(1..100000, 1))", "--db", str(tmp_path / "a.sqlite")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "100000 specs" in res.stderr and not (tmp_path / "a.sqlite").exists()


def test_every_atlas_option_has_help():
    parser = build_parser()
    atlas = next(a for a in parser._subparsers._group_actions[0].choices["atlas"]._actions
                 if getattr(a, "choices", None) and "sweep" in a.choices)
    for name, sub in atlas.choices.items():
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, f"atlas {name} {action.option_strings or action.dest} has no help"
