"""The ahead-of-time compiled tracker kernels (``homotopy/aot.py``): built into a temporary directory, loaded in
fresh processes without numba, bit-identical to numba's JIT kernels; the JIT fallback when the module is absent,
stale, damaged or disabled; no background build inside the test suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from neuromanifold.homotopy import aot, compiled

needs_numba = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")

# tracks both kinds of homotopy (straight line: total degree; parameter: a batch of univariate targets) and the
# unguarded Newton of ``start.newton_refine``; saves every result array; reports what the process loaded
PROBE = r"""
import json, sys
import numpy as np
from neuromanifold.homotopy import (ParameterHomotopyBatch, compiled, katsura, cyclic, solve_total_degree, track,
                                    univariate_family)
from neuromanifold.homotopy.start import newton_refine

out = {}
for name, system in (("katsura4", katsura(4)), ("cyclic5", cyclic(5))):
    res = solve_total_degree(system, seed=2)
    r = res.track_result
    for f in ("endpoints", "status", "t", "steps", "residual", "condition", "accuracy"):
        out[f"{name}_{f}"] = np.asarray(getattr(r, f))
    out[f"{name}_solutions"] = np.asarray(res.solutions)
F = univariate_family(4)
rng = np.random.default_rng(0)
B = 12
target = rng.standard_normal((B, 5)) + 1j * rng.standard_normal((B, 5))
hom = ParameterHomotopyBatch(F, np.tile([-1.0, 0, 0, 0, 1.0], (B, 1)).astype(complex), target,
                             np.exp(2j * np.pi * rng.random(B)))
r = track(hom, np.exp(2j * np.pi * (np.arange(B) % 4) / 4)[:, None])
for f in ("endpoints", "status", "steps", "residual", "condition"):
    out[f"param_{f}"] = np.asarray(getattr(r, f))
for name, a in zip(("z", "residual", "condition", "update"),
                   newton_refine(F, r.endpoints + 1e-6, target, return_update=True)):
    out[f"newton_{name}"] = np.asarray(a)
np.savez(sys.argv[1], **out)
print(json.dumps({"aot": compiled._AOT is not None, "numba": "numba" in sys.modules,
                  "llvmlite": "llvmlite" in sys.modules, "scipy.linalg": "scipy.linalg" in sys.modules}))
"""


def _run(code: str, env: dict, *args: str) -> dict:
    full = dict(os.environ, **env)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600, env=full)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The AOT module, built once (in a child process, as the background build does, but waited for)."""
    d = tmp_path_factory.mktemp("aot")
    proc = aot.start_build(d, wait=True)
    log = "".join(p.read_text() for p in d.glob("*.log"))
    assert proc is not None and proc.returncode == 0, log
    return d


@needs_numba
@pytest.mark.slow
def test_built_module_loads_without_numba_and_matches_the_jit_kernels(built, tmp_path):
    files = sorted(p.name for p in built.iterdir())
    assert files == sorted([aot.file_name(), aot.module_name() + ".log"]), files  # no lock, no build directory left
    got = _run(PROBE, {aot.DIR_ENV: str(built), aot.ENV: "nobuild"}, str(tmp_path / "aot.npz"))
    assert got == {"aot": True, "numba": False, "llvmlite": False, "scipy.linalg": False}, got
    ref = _run(PROBE, {aot.DIR_ENV: str(built), aot.ENV: "0"}, str(tmp_path / "jit.npz"))
    assert ref["aot"] is False and ref["numba"] is True
    a, b = np.load(tmp_path / "aot.npz"), np.load(tmp_path / "jit.npz")
    assert sorted(a.files) == sorted(b.files)
    differing = [k for k in a.files if a[k].dtype != b[k].dtype or a[k].tobytes() != b[k].tobytes()]
    assert differing == [], differing  # bit-identical endpoints, statuses, residuals, condition numbers


@needs_numba
@pytest.mark.slow
def test_a_second_build_is_not_started_and_unexpected_arguments_fall_back_to_the_jit(built):
    assert aot.start_build(built) is None  # the module exists
    code = r"""
import json, sys
import numpy as np
from neuromanifold.homotopy import aot, compiled
mod = compiled._AOT
tab = (np.zeros(61, np.int64), np.zeros(0))
args = [0, 0, np.zeros((1, 1), complex), np.zeros(1), np.zeros(1), np.zeros((1, 1), complex),
        np.zeros((1, 1), complex), np.zeros(1, complex), (tab,), 3, 1e-12, True]
ok = aot.function(mod, "_newton_iterations", tuple(args), 8) is mod.newton_iterations_p
args2 = list(args); args2[2] = np.zeros((1, 1), np.complex64)
wrong_dtype = aot.function(mod, "_newton_iterations", tuple(args2), 8)
args3 = list(args); args3[9] = 3.0
wrong_scalar = aot.function(mod, "_newton_iterations", tuple(args3), 8)
straight = (1j, tab, tab)
args4 = list(args); args4[8] = straight
s = aot.function(mod, "_newton_iterations", tuple(args4), 8) is mod.newton_iterations_s
print(json.dumps({"ok": ok, "s": s, "wrong": [wrong_dtype is None, wrong_scalar is None],
                  "numba": "numba" in sys.modules}))
"""
    got = _run(code, {aot.DIR_ENV: str(built), aot.ENV: "nobuild"})
    assert got == {"ok": True, "s": True, "wrong": [True, True], "numba": False}, got


LOADED = r"""
import json, sys
from neuromanifold.homotopy import compiled
print(json.dumps({"aot": compiled._AOT is not None, "numba": "numba" in sys.modules}))
"""


@needs_numba
def test_absent_damaged_or_disabled_module_falls_back_to_the_jit(tmp_path):
    env = {aot.DIR_ENV: str(tmp_path), aot.ENV: "nobuild"}
    assert _run(LOADED, env) == {"aot": False, "numba": True}  # absent
    (tmp_path / aot.file_name()).write_bytes(b"not a shared library")
    assert _run(LOADED, env) == {"aot": False, "numba": True}  # damaged
    assert _run(LOADED, dict(env, **{aot.ENV: "0"})) == {"aot": False, "numba": True}  # disabled


def test_the_name_changes_with_the_code_the_versions_and_the_cpu(monkeypatch):
    name = aot.module_name()
    assert name.startswith("_nm_kernels_") and aot.file_name().startswith(name)
    monkeypatch.setattr(aot, "_cpu", lambda: "another cpu")
    aot.module_name.cache_clear()
    try:
        assert aot.module_name() != name  # a module built elsewhere (or for other sources) is never loaded
    finally:
        monkeypatch.undo()
        aot.module_name.cache_clear()
    assert aot.module_name() == name


def test_directories_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(aot.DIR_ENV, raising=False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "nb"))
    assert aot.directories()[0] == tmp_path / "nb" / "neuromanifold-aot"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and sys.platform != "darwin":
        assert aot.directories()[0] == tmp_path / "xdg" / "neuromanifold" / "aot"
    monkeypatch.setenv(aot.DIR_ENV, str(tmp_path / "mine"))
    assert aot.directories() == [tmp_path / "mine"]


def test_no_background_build_inside_pytest_or_when_disabled(monkeypatch, tmp_path):
    registered = []
    monkeypatch.setattr(aot, "atexit", types.SimpleNamespace(register=registered.append))
    monkeypatch.setenv(aot.DIR_ENV, str(tmp_path))
    for env in ({aot.ENV: "1"}, {aot.ENV: "0"}, {aot.ENV: "nobuild"}):
        for k in (aot.ENV, "PYTEST_VERSION"):
            monkeypatch.delenv(k, raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("PYTEST_CURRENT_TEST", "x")  # as inside any test (and its child processes)
        monkeypatch.setattr(aot, "_BUILD_TRIED", False)
        aot.maybe_build()
    assert registered == []
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.delenv("PYTEST_VERSION", raising=False)
    for value in ("0", "nobuild"):
        monkeypatch.setenv(aot.ENV, value)
        monkeypatch.setattr(aot, "_BUILD_TRIED", False)
        aot.maybe_build()
    assert registered == []
    monkeypatch.setenv(aot.ENV, "1")
    monkeypatch.setattr(aot, "_BUILD_TRIED", False)
    aot.maybe_build()
    aot.maybe_build()  # once per process
    assert registered == [aot._build_at_exit]  # started when the process exits


@needs_numba
@pytest.mark.slow
def test_a_process_that_ran_the_jit_kernels_starts_the_build_when_it_exits(tmp_path):
    code = r"""
import os, sys
for k in ("PYTEST_CURRENT_TEST", "PYTEST_VERSION", "NEUROMANIFOLD_AOT"):
    os.environ.pop(k, None)
from neuromanifold.homotopy import compiled, katsura, solve_total_degree
assert compiled._AOT is None
solve_total_degree(katsura(3), seed=0)
print('{"ran": true}')
"""
    env = {aot.DIR_ENV: str(tmp_path)}
    assert _run(code, env) == {"ran": True}
    import time

    deadline = time.time() + 600
    lock = tmp_path / (aot.module_name() + ".lock")
    while (lock.exists() or not (tmp_path / aot.file_name()).exists()) and time.time() < deadline:
        time.sleep(1)
    log = "".join(p.read_text() for p in tmp_path.glob("*.log"))
    assert (tmp_path / aot.file_name()).exists() and not lock.exists(), log
    assert _run(LOADED, dict(env, **{aot.ENV: "nobuild"})) == {"aot": True, "numba": False}


def test_the_build_lock(tmp_path):
    lock = tmp_path / "x.lock"
    assert aot._acquire(lock)
    assert not aot._acquire(lock)  # held by a live process (this one)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_text(f"{int(dead.stdout)} 0\n")
    assert aot._acquire(lock)  # its process is gone: taken over
    assert lock.read_text().split()[0] == str(os.getpid())


def test_a_failed_build_is_not_retried(tmp_path):
    (tmp_path / (aot.module_name() + ".failed")).write_text("no compiler\n")
    assert aot.start_build(tmp_path) is None
    assert not (tmp_path / (aot.module_name() + ".lock")).exists()


def test_function_checks_the_argument_types():
    mod = types.SimpleNamespace(values_range_p="p", values_range_s="s")
    tab = (np.zeros(3, np.int64), np.zeros(2))
    args = [0, 1, np.zeros((1, 2), complex), np.zeros(1), np.zeros((1, 2), complex), np.zeros((1, 2, 2), complex),
            np.zeros((1, 0), complex), np.zeros((1, 0), complex), np.zeros(1, complex), (tab,)]
    assert aot.function(mod, "_values_range", tuple(args), 9) == "p"
    assert aot.function(mod, "_values_range", tuple(args[:9] + [(1j, tab, tab)]), 9) == "s"
    bad = [np.asfortranarray(np.zeros((2, 2), complex)), np.zeros(1, np.float32), 1.0, (tab, tab), ((tab[1], tab[0]),)]
    for k, b in zip((2, 3, 0, 9, 9), bad):
        a = list(args)
        a[k] = b
        assert aot.function(mod, "_values_range", tuple(a), 9) is None, k
    assert aot.function(mod, "_no_such_kernel", tuple(args), 9) is None


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_module_others_could_have_written_is_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv(aot.DIR_ENV, str(tmp_path))
    monkeypatch.setenv(aot.ENV, "nobuild")
    loaded = []
    monkeypatch.setattr(aot, "_import", lambda path, name: loaded.append(path))
    target = tmp_path / aot.file_name()
    target.write_bytes(b"")
    tmp_path.chmod(0o777)  # a world-writable directory (as the shared temporary directory)
    assert aot.load() is None and loaded == []
    tmp_path.chmod(0o700)
    aot.load()
    assert loaded == [target]
