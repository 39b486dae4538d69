"""Ctrl-C, budget cuts and progress of long ``analyze`` runs (issue 17), in subprocesses without a TTY."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.analysis import mark_cut
from neuromanifold.result import Result

LONG = "cnn(k=(2,2,2,2), s=(1,1,1,1), r=2)"  # degree 1536: a minute of monodromy


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "neuromanifold.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def interrupted_run() -> dict:
    """analyze LONG --only dimension,degree,ed_degree, SIGINT once monodromy has run a while."""
    proc = _cli("analyze", LONG, "--only", "dimension,degree,ed_degree", "--json",
                env={"NEUROMANIFOLD_PROGRESS_INTERVAL": "1"})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        if sum("monodromy:" in ln for ln in lines) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    t_int = time.monotonic()
    out = proc.stdout.read()
    proc.wait(timeout=60)
    reader.join(timeout=10)
    return {"code": proc.returncode, "out": out, "err": "".join(lines), "after_sigint": time.monotonic() - t_int}


def test_first_ctrl_c_ends_the_whole_run_labelled(interrupted_run):
    assert interrupted_run["code"] == 130
    assert interrupted_run["after_sigint"] < 30  # promptly: not the 13 more minutes of issue 17
    rep = json.loads(interrupted_run["out"])
    assert rep["interrupted"] is True
    inv = rep["invariants"]
    assert inv["dimension"]["status"] == "certified" and "interrupted" not in inv["dimension"]["evidence"]
    deg = inv["degree"]
    assert deg["status"] == "lower_bound" and 0 < deg["value"] < 1536
    assert deg["evidence"]["interrupted"] is True and deg["evidence"]["cut"] == "interrupted"
    assert deg["evidence"]["monodromy"]["stopping_rule"] == "interrupted"
    ed = inv["ed_degree"]  # never started
    assert ed["status"] == "not_computed" and ed["evidence"]["interrupted"] is True
    assert "interrupted" in ed["evidence"]["reason"]
    assert "Traceback" not in interrupted_run["err"] and "interrupted" in interrupted_run["err"]


def test_progress_without_tty_is_periodic_and_honest(interrupted_run):
    lines = [ln for ln in interrupted_run["err"].splitlines() if "monodromy:" in ln]
    assert len(lines) >= 3
    assert all("solutions" in ln and "paths/s" in ln for ln in lines)
    assert not any("/20000" in ln or "ETA" in ln or "%" in ln for ln in lines)  # no fake total
    assert any("1/3 invariants" in ln and "degree" in ln for ln in lines)  # the honest outer total


def test_api_raises_keyboard_interrupt_carrying_the_labelled_report():
    code = (
        "import os, signal, threading, neuromanifold as nm\n"
        "threading.Timer(6.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        f"try:\n    nm.analyze({LONG!r}, only='degree,fiber_points')\n"
        "except nm.AnalysisInterrupted as e:\n"
        "    r = e.report\n"
        "    print(isinstance(e, KeyboardInterrupt), r.interrupted, r['degree'].status,"
        " r['degree'].evidence.get('interrupted'), r['fiber_points'].status)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.split()
    # the degree is cut: a lower bound, or not_computed if the Ctrl-C came before monodromy started
    assert out[:2] == ["True", "True"] and out[2] in ("lower_bound", "not_computed")
    assert out[3:] == ["True", "not_computed"]


def test_budget_cut_fiber_points_is_a_lower_bound(monkeypatch):
    from neuromanifold.errors import BudgetExceeded
    from neuromanifold.invariants import witness_set as ws

    real = ws.monodromy_solve
    calls = []

    def cut_after_first_batch(*args, **kwargs):
        def checkpoint(snapshot):
            calls.append(snapshot.n_solutions)
            if len(calls) == 1:
                raise BudgetExceeded()  # the budget runs out after the first batch of paths

        return real(*args, **{**kwargs, "checkpoint": checkpoint})

    monkeypatch.setattr(ws, "monodromy_solve", cut_after_first_batch)
    rep = nm.analyze("cnn(k=(2,2,2), s=(1,1,1), r=2)", only="fiber_points", budget=600)
    f = rep["fiber_points"]
    assert calls and f.value is not None
    assert f.status == "lower_bound"  # never "numerical" when cut
    assert f.evidence["interrupted"] is True and f.evidence["cut"] == "budget"
    assert f.evidence["monodromy"]["stopping_rule"] == "budget" and not rep.interrupted


def test_max_degree_capped_fiber_points_is_a_lower_bound():
    f = nm.analyze("cnn(k=(2,2,2), s=(1,1,1), r=2)", only="fiber_points", max_degree=1)["fiber_points"]
    assert f.status == "lower_bound" and f.evidence["monodromy"]["stopping_rule"] == "target_count"


def test_mark_cut_turns_a_numerical_count_into_a_lower_bound():
    r = mark_cut(Result("fiber_points", 4, "numerical", {}), "budget")
    assert (r.status, r.evidence["interrupted"], r.evidence["cut"]) == ("lower_bound", True, "budget")
    c = mark_cut(Result("dimension", 5, "certified", {}), "interrupted")
    assert c.status == "certified" and c.evidence["interrupted"] is True


# degree 1920: ~30 s of monodromy on 2 cores, so that the Ctrl-C after a few progress lines always lands inside it
# (the degree-384 network used before finished in 3.4 s on a fast machine, before the signal)
MID = "cnn(k=(3,3,2), s=(1,1,1), r=2)"


def _json_run(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "neuromanifold.cli", *args], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_checkpoint_resume_after_ctrl_c_skips_the_work_done(tmp_path):
    ckpt = str(tmp_path / "ckpt")
    proc = _cli("analyze", MID, "--only", "degree", "--json", "--checkpoint-dir", ckpt,
                env={"NEUROMANIFOLD_PROGRESS_INTERVAL": "1"})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120 and proc.poll() is None:
        if sum("monodromy:" in ln for ln in lines) >= 3:  # a few seconds of monodromy
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    cut = json.loads(proc.stdout.read())
    assert proc.wait(timeout=60) == 130
    cut_deg = cut["invariants"]["degree"]
    assert cut_deg["status"] == "lower_bound" and cut_deg["evidence"]["interrupted"] is True
    cut_paths = cut_deg["evidence"]["monodromy"]["paths_tracked"]

    resumed = _json_run("analyze", MID, "--only", "degree", "--json", "--checkpoint-dir", ckpt)["invariants"]["degree"]
    fresh = _json_run("analyze", MID, "--only", "degree", "--json")["invariants"]["degree"]
    assert (resumed["value"], resumed["status"]) == (fresh["value"], fresh["status"]) == (1920, "certified")
    mono, fresh_paths = resumed["evidence"]["monodromy"], fresh["evidence"]["monodromy"]["paths_tracked"]
    info = mono["resumed"]
    assert info["mode"] == "full" and info["loops"] >= 1
    before = info["paths_tracked_before"]
    assert before >= 0.6 * cut_paths > 0  # the interrupted run's work was kept (all but the batch in flight)
    this_run = mono["paths_tracked"] - before
    assert this_run + before <= 1.05 * fresh_paths  # and not redone
    assert this_run <= fresh_paths - before + 0.05 * fresh_paths


def test_checkpoint_of_another_system_is_refused(tmp_path):
    from neuromanifold.homotopy import MonodromyOptions, monodromy_solve
    from neuromanifold.homotopy.system import ParametrizedSystem
    from systems import katsura_family

    F, c0, z0 = katsura_family(2, seed=1)
    ckpt = tmp_path / "k.npz"
    monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(target_count=2), seed=0, checkpoint=ckpt)

    class Doubled(ParametrizedSystem):  # another system, same number of variables and parameters
        n_vars, n_params = F.n_vars, F.n_params

        def evaluate(self, z, p):
            return 2 * F.evaluate(z, p)

        def jacobian(self, z, p):
            return 2 * F.jacobian(z, p)

        def parameter_jacobian(self, z, p):
            return 2 * F.parameter_jacobian(z, p)

    G = Doubled()
    with pytest.raises(nm.InputError, match="another (system|p0)"):
        monodromy_solve(G, c0, z0[None, :], seed=0, resume=ckpt)
    # other options: only the solutions are reused, and the evidence says so
    res = monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(target_count=4), seed=1, resume=ckpt)
    assert res.resumed["mode"] == "solutions_only" and "seed" in res.resumed["reason"]


def test_compare_equivariant_shows_progress_per_model(capsys, monkeypatch):
    from neuromanifold.runtime import progress as prog
    from neuromanifold.cli import main

    monkeypatch.setattr(prog, "DELAY", 0.0)  # every job prints its closing line
    assert main(["compare-equivariant", 'gcnn(group="C2", layers=2)', "--only", "dimension"]) == 0
    err = capsys.readouterr().err
    assert "model 1/2, equivariant" in err and "model 2/2, unconstrained" in err
    assert "1/1 invariants" in err or "0/1 invariants" in err  # each analysis, with its honest total


@pytest.mark.parametrize("cut_at_call", [3, 5, 8, 12])
def test_resume_after_a_cut_between_legs_of_a_push_is_exact(tmp_path, monkeypatch, cut_at_call):
    """A Ctrl-C in the middle of a push keeps the legs already tracked (saved after each leg): the resumed
    run continues from the next leg and ends exactly as an uninterrupted run."""
    from neuromanifold.homotopy import MonodromyOptions, make_trace_test, monodromy
    from systems import katsura_family

    F, c0, z0 = katsura_family(4, seed=2)

    def run(**kw):
        return monodromy.monodromy_solve(F, c0, z0[None, :], trace_test=make_trace_test(F, seed=1), seed=0,
                                         options=MonodromyOptions(loops_without_new=3), **kw)

    ref = run()
    ckpt = tmp_path / "m.npz"
    real, calls = monodromy.solve, []

    def cut(*args, **kwargs):
        calls.append(1)
        if len(calls) == cut_at_call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(monodromy, "solve", cut)
    part = run(checkpoint=ckpt)
    monkeypatch.setattr(monodromy, "solve", real)
    assert part.stopping_rule == "interrupted"
    res = run(checkpoint=ckpt, resume=ckpt)
    assert res.resumed["mode"] == "full"
    if cut_at_call % 3 != 1:  # cut at the 2nd or 3rd leg of a push (3 legs per loop)
        assert "push_resumed_at_leg" in res.resumed
    np.testing.assert_array_equal(res.solutions, ref.solutions)
    assert (res.stopping_rule, res.trace_test_passed, res.loops, res.pushes) == (
        ref.stopping_rule, ref.trace_test_passed, ref.loops, ref.pushes)
    assert (res.paths_tracked, res.path_failures, res.history) == (ref.paths_tracked, ref.path_failures, ref.history)


def test_ed_degree_retries_checkpoint_to_their_own_files(tmp_path, monkeypatch):
    """Every retry of the ED monodromy resumes its own loop state (one file per attempt, as the degree's
    restarts), and the trace test's random state is restored on resume (the guarded callback forwards it)."""
    from neuromanifold import homotopy
    from neuromanifold.invariants import critical_system as landscape
    from neuromanifold.context import Context
    from neuromanifold.invariants.ed_degree import ed_critical_system

    cs = ed_critical_system(Context("mlp(widths=(2,1,1), r=3)"), "generic")
    seen = []

    class Stagnated:
        stopping_rule, trace_test_passed = "stagnation", False
        solutions = np.ones((1, cs.k), dtype=complex)

        def evidence(self):
            return {}

    def fake(*args, checkpoint=None, resume=None, trace_test=None, **kwargs):
        assert callable(getattr(trace_test, "get_state", None)) and callable(getattr(trace_test, "set_state", None))
        seen.append((checkpoint, resume))
        return Stagnated()

    monkeypatch.setattr(homotopy, "monodromy_solve", fake)
    ckpt = tmp_path / "ed_degree-generic-0123.npz"
    _, attempts = landscape.critical_monodromy(cs, np.ones(cs.system.n_params, dtype=complex),
                                               np.ones((1, cs.k), dtype=complex), np.random.default_rng(0),
                                               retries=2, checkpoint=ckpt)
    assert len(attempts) == 3
    assert seen == [(p, p) for p in (ckpt, tmp_path / "ed_degree-generic-0123-attempt2.npz",
                                     tmp_path / "ed_degree-generic-0123-attempt3.npz")]
