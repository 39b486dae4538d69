"""The tracker kernels of ``compiled.py`` compiled ahead of time (numba's ``pycc``) into an ordinary extension
module that loads without numba: a fresh process then pays neither numba's import nor its one-time set-up of the
JIT (about 0.5 s of CPU together, against ~0.1 s for a small degree computation).

One extension module per machine and version: its file name holds a hash of ``compiled.py`` and this file, the
numba / llvmlite / numpy / Python versions and the CPU (it is compiled for the host CPU with the host's ISA
features, as numba's JIT compiles, so the endpoints are bit-identical to the JIT kernels').  It lives in
``$NEUROMANIFOLD_AOT_DIR``, else ``$NUMBA_CACHE_DIR/neuromanifold-aot``, else the user's cache directory
(``$XDG_CACHE_HOME`` or ``~/.cache``: ``neuromanifold/aot``; a per-user directory under the temporary directory
when that is not writable).

``load`` (at the import of ``compiled``) imports the module when it exists; otherwise a process that ran numba's
JIT kernels starts the build in the background when it exits (``maybe_build``): a detached process (own session,
``nice``), output to ``<name>.log`` beside the module, a lock file so that one build runs at a time, the finished
module renamed into place atomically (and the modules of older sources for this platform removed); a failed build
leaves ``<name>.failed`` (with the reason) and is not retried for this version.  A build takes ~10 s of CPU when
numba's own cache of the kernels is warm (as it is when the process that ran them exits), ~60 s when it is cold.
The AOT functions take exactly the argument types they were compiled for (one exported function per kernel and
kind of ``form``, ``_SPECS``); ``function`` checks them, and a call with other types runs numba's JIT kernel.
(pycc's default target, the generic CPU, has no FMA: its endpoints differ from the JIT's in the last bits.)

``NEUROMANIFOLD_AOT``: ``0`` neither loads nor builds; ``nobuild`` loads but never builds; anything else (the
default) loads and builds.  No build starts inside a pytest run (``PYTEST_CURRENT_TEST`` set, which child
processes inherit; pytest >= 8.2 also sets ``PYTEST_VERSION`` for the whole session) unless a test calls
``start_build`` / ``build``.

``_refine_range`` computes condition numbers with LAPACK, which numba's helpers take from scipy's
``scipy.linalg.cython_lapack``; importing that by name imports all of ``scipy.linalg`` (~0.15 s), so the first
call loads just that extension (``_lapack``), lets the AOT module look its functions up and removes it from
``sys.modules`` again (a later ``import scipy.linalg`` gets the same module object).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..runtime.processes import alive

ENV = "NEUROMANIFOLD_AOT"
DIR_ENV = "NEUROMANIFOLD_AOT_DIR"
_FORMAT = 1  # bump to invalidate every built module
_HERE = Path(__file__).resolve().parent
_SOURCES = ("compiled.py", "aot.py")
_LOCK_STALE = 3600.0  # seconds after which a build lock whose process cannot be checked counts as abandoned

# argument types of the exported kernels: C = complex128, F = float64, I = int64 arrays (C-contiguous, aligned)
# with their dimension; i / f / b = Python int / float / bool; "form" = the ``form`` tuple (its kind picks the
# export: "_s" straight line (gamma, tables F, tables G), "_p" parameter homotopy (tables F,))
_SPECS = {
    "_track_range": ("i", "i", "C2", "F1", "I1", "I1", "I1", "I1", "C2", "C2", "F1", "F1", "C2", "C2", "C1", "form",
                     "F1", "I1"),
    "_newton_iterations": ("i", "i", "C2", "F1", "F1", "C2", "C2", "C1", "form", "i", "f", "b"),
    "_values_range": ("i", "i", "C2", "F1", "C2", "C3", "C2", "C2", "C1", "form"),
    "_refine_range": ("i", "i", "C2", "F1", "F1", "F1", "F1", "C2", "C2", "C1", "form", "i", "f"),
}


def mode() -> str:
    """'off' (``NEUROMANIFOLD_AOT=0``), 'load' (``=nobuild``) or 'on'."""
    v = os.environ.get(ENV, "").strip().lower()
    if v in ("0", "off", "no", "false"):
        return "off"
    if v in ("nobuild", "load", "no-build"):
        return "load"
    return "on"


def _user_cache() -> Path:
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")


def directories() -> list[Path]:
    """Where the module is looked for, in order (the first writable one is where it is built)."""
    if os.environ.get(DIR_ENV):
        return [Path(os.environ[DIR_ENV])]
    if os.environ.get("NUMBA_CACHE_DIR"):
        first = Path(os.environ["NUMBA_CACHE_DIR"]) / "neuromanifold-aot"
    else:
        try:
            first = _user_cache() / "neuromanifold" / "aot"
        except RuntimeError:  # pragma: no cover - no home directory
            first = None
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    fallback = Path(tempfile.gettempdir()) / f"neuromanifold-aot-{user}"
    return [d for d in (first, fallback) if d is not None]


def _cpu() -> str:
    """The CPU model and its feature flags (the module is compiled for them)."""
    try:
        keep = []
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                if line.split(":")[0].strip() in ("vendor_id", "cpu family", "model", "model name", "stepping",
                                                  "flags", "Features", "CPU implementer", "CPU part"):
                    keep.append(line.strip())
        if keep:
            return "\n".join(keep)
    except OSError:
        pass
    import platform

    return f"{platform.machine()} {platform.processor()}"


def _distributions() -> str:
    """The installed numba and llvmlite versions (their dist-info names), without importing them."""
    spec = importlib.util.find_spec("numba")
    if spec is None or not spec.submodule_search_locations:
        return "no numba"
    site = Path(list(spec.submodule_search_locations)[0]).parent
    try:
        names = sorted(n for n in os.listdir(site) if n.startswith(("numba-", "llvmlite-")) and n.endswith("-info"))
    except OSError:  # pragma: no cover
        names = []
    return " ".join(names) or str(site)


_PREFIX = "_nm_kernels_"


@lru_cache(maxsize=None)
def module_name() -> str:
    """The module's name (and file name stem): ``_nm_kernels_<platform hash>_<source hash>``, hashes of everything
    its code depends on: the numba / llvmlite / numpy / Python versions and the CPU, and the sources."""
    env = hashlib.sha256()
    for part in (str(_FORMAT), _distributions(), np.__version__, sys.version, sys.implementation.cache_tag,
                 sys.platform, _cpu()):
        env.update(part.encode() + b"\0")
    src = hashlib.sha256()
    for name in _SOURCES:
        src.update((_HERE / name).read_bytes())
    return f"{_PREFIX}{env.hexdigest()[:10]}_{src.hexdigest()[:16]}"


def _remove_stale(directory: Path, name: str) -> None:
    """Remove the modules (and logs) of other sources built for this platform than module ``name``: no process
    loads them again."""
    platform_prefix = name[: len(_PREFIX) + 11]
    for p in directory.glob(platform_prefix + "*"):
        if not p.name.startswith(name) and p.is_file() and p.suffix != ".lock":
            try:
                p.unlink()
            except OSError:  # pragma: no cover - in use elsewhere (Windows) or gone
                pass


def file_name() -> str:
    return module_name() + importlib.machinery.EXTENSION_SUFFIXES[0]


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _private(path: Path) -> bool:
    """Whether only this user can have written ``path`` (POSIX: owned by us, not group- or world-writable), so that
    nobody else can plant a module to load (e.g. in the shared temporary directory)."""
    if os.name != "posix":
        return True
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def load():
    """The AOT module when it is built for this version and machine (and not disabled), else None."""
    if mode() == "off":
        return None
    try:
        name = module_name()
        for d in directories():
            path = d / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
            if path.is_file() and _private(d) and _private(path):
                mod = _import(path, name)
                if all(hasattr(mod, k[1:] + s) for k in _SPECS for s in ("_p", "_s")):
                    return mod
                return None  # pragma: no cover - not one of ours
    except Exception:  # a damaged file, a missing shared library, ...: numba's JIT kernels instead
        return None
    return None


# -- calls ------------------------------------------------------------------------------------------------------------


def _check(arg, code: str) -> bool:
    if code == "i":
        return isinstance(arg, (int, np.integer)) and not isinstance(arg, (bool, np.bool_))
    if code == "f":
        return isinstance(arg, (float, np.floating))
    if code == "b":
        return isinstance(arg, (bool, np.bool_))
    dtype = {"C": np.complex128, "F": np.float64, "I": np.int64}[code[0]]
    return (isinstance(arg, np.ndarray) and arg.dtype == dtype and arg.ndim == int(code[1])
            and arg.flags.c_contiguous and arg.flags.aligned)


def _table(tab) -> bool:
    return isinstance(tab, tuple) and len(tab) == 2 and _check(tab[0], "I1") and _check(tab[1], "F1")


def _form_kind(form) -> str | None:
    if not isinstance(form, tuple):
        return None
    if len(form) == 3 and isinstance(form[0], complex) and _table(form[1]) and _table(form[2]):
        return "_s"
    if len(form) == 1 and _table(form[0]):
        return "_p"
    return None


def function(mod, name: str, args: tuple, form_arg: int):
    """The AOT module's function for kernel ``name`` called with ``args``, None when their types are not the
    ones it was compiled for (the caller then runs numba's JIT kernel)."""
    spec = _SPECS.get(name)
    if spec is None or len(args) != len(spec):
        return None
    kind = _form_kind(args[form_arg])
    if kind is None or not all(c == "form" or _check(a, c) for a, c in zip(args, spec)):
        return None
    if name == "_refine_range":
        _lapack(mod)
    return getattr(mod, name[1:] + kind)


_LAPACK_LOCK = threading.Lock()
_LAPACK_DONE = False


def _lapack(mod) -> None:
    """Let the AOT module look up scipy's LAPACK functions (numba's helpers import
    ``scipy.linalg.cython_lapack`` by name) without importing all of ``scipy.linalg``."""
    global _LAPACK_DONE
    if _LAPACK_DONE:
        return
    with _LAPACK_LOCK:
        if _LAPACK_DONE:
            return
        name = "scipy.linalg.cython_lapack"
        added = False
        if name not in sys.modules:
            try:
                import scipy

                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    path = Path(scipy.__path__[0]) / "linalg" / ("cython_lapack" + suffix)
                    if path.is_file():
                        spec = importlib.util.spec_from_file_location(name, path)
                        lapack = importlib.util.module_from_spec(spec)
                        sys.modules[name] = lapack
                        added = True
                        spec.loader.exec_module(lapack)
                        break
            except Exception:  # pragma: no cover - the helpers import it by name instead
                if added:
                    sys.modules.pop(name, None)
                    added = False
        try:
            mod.lapack_warmup()
        finally:
            if added:
                sys.modules.pop(name, None)
            _LAPACK_DONE = True


# -- building ---------------------------------------------------------------------------------------------------------

_BUILD_TRIED = False
_compiled = None  # ``compiled``, for the exported wrappers (set by ``build``)


def maybe_build() -> None:
    """Start the background build when this process exits (then numba's own cache of the kernels is warm and the
    build does not compete with the computation), once per process, unless it is disabled
    (``NEUROMANIFOLD_AOT``), inside a pytest run, or the module exists, is being built or failed to build for
    this version (``start_build``)."""
    global _BUILD_TRIED
    if _BUILD_TRIED:
        return
    _BUILD_TRIED = True
    if mode() != "on" or "PYTEST_CURRENT_TEST" in os.environ or "PYTEST_VERSION" in os.environ:
        return
    atexit.register(_build_at_exit)


def _build_at_exit() -> None:
    try:
        start_build()
    except Exception:  # pragma: no cover - never let the cache disturb a computation
        pass


def _writable_dir() -> Path | None:
    for d in directories():
        try:
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=d).close()
            if _private(d):
                return d
        except OSError:
            continue
    return None


def _acquire(lock: Path) -> bool:
    """Create the lock file (exclusive); an abandoned one (its process gone, or older than an hour) is taken over."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()} {time.time()}\n")
            return True
        except FileExistsError:
            try:
                pid = int(lock.read_text().split()[0])
                age = time.time() - lock.stat().st_mtime
            except (OSError, ValueError, IndexError):
                pid, age = -1, _LOCK_STALE + 1
            if age < _LOCK_STALE and (pid <= 0 or alive(pid)):
                return False
            try:
                lock.unlink()
            except OSError:
                return False
    return False


def start_build(directory: Path | None = None, *, wait: bool = False):
    """Build the module in a detached background process (``wait``: in a child process, waiting for it);
    returns the ``Popen`` or None when nothing was started."""
    d = Path(directory) if directory is not None else _writable_dir()
    if d is None:
        return None
    d.mkdir(parents=True, exist_ok=True)
    name = module_name()
    target = d / file_name()
    if target.exists() or (d / (name + ".failed")).exists():
        return None
    lock = d / (name + ".lock")
    if not _acquire(lock):
        return None
    env = dict(os.environ)
    env[ENV] = "0"  # the builder runs the JIT kernels and starts no build itself
    env.pop("PYTEST_CURRENT_TEST", None)
    env.pop("PYTEST_VERSION", None)
    root = str(_HERE.parent.parent)  # the tree this package is imported from
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-c", "from neuromanifold.homotopy.aot import _main; _main()", str(target), str(lock)]
    try:
        with open(d / (name + ".log"), "ab") as log:
            kwargs = {"start_new_session": True} if os.name == "posix" else {
                "creationflags": getattr(subprocess, "DETACHED_PROCESS", 0)
                | getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    close_fds=True, **kwargs)
    except Exception:
        lock.unlink(missing_ok=True)
        raise
    if wait:
        proc.wait()
    return proc


def _main() -> None:
    """The background builder: ``_main()`` with argv [target, lock]."""
    target, lock = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        lock.write_text(f"{os.getpid()} {time.time()}\n")
        if hasattr(os, "nice"):
            os.nice(10)
        start = time.time()
        if target.name != file_name():  # the sources changed since the build was started: the next run starts one
            print(f"sources changed: not building {target.name}", flush=True)
            return
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} building {target}", flush=True)
        build(target)
        print(f"built in {time.time() - start:.1f} s ({time.process_time():.1f} s cpu)", flush=True)
        _remove_stale(target.parent, module_name())
    except BaseException as e:  # noqa: BLE001 - recorded: not retried for this version
        import traceback

        traceback.print_exc()
        try:
            target.with_name(target.name[: -len(importlib.machinery.EXTENSION_SUFFIXES[0])] + ".failed").write_text(
                f"{type(e).__name__}: {e}\n")
        except OSError:
            pass
        sys.exit(1)
    finally:
        lock.unlink(missing_ok=True)


# the exported functions: each calls the JIT kernel of ``compiled`` (compiled with its own options, fastmath)
def _x_track_range(lo, hi, Z, T, steps, rejected, work, code, S1Z, S2Z, S1T, S2T, Ptgt, DP, GAM, form, fo, io):
    _compiled._track_range(lo, hi, Z, T, steps, rejected, work, code, S1Z, S2Z, S1T, S2T, Ptgt, DP, GAM, form, fo, io)


def _x_newton_iterations(lo, hi, Z, T, upd, Ptgt, DP, GAM, form, iters, tol, guarded):
    _compiled._newton_iterations(lo, hi, Z, T, upd, Ptgt, DP, GAM, form, iters, tol, guarded)


def _x_values_range(lo, hi, Z, T, Hout, Hzout, Ptgt, DP, GAM, form):
    _compiled._values_range(lo, hi, Z, T, Hout, Hzout, Ptgt, DP, GAM, form)


def _x_refine_range(lo, hi, Z, T, upd, resid, cond, Ptgt, DP, GAM, form, iters, tol):
    _compiled._refine_range(lo, hi, Z, T, upd, resid, cond, Ptgt, DP, GAM, form, iters, tol)


def _x_lapack_warmup():
    return np.linalg.cond(np.eye(2, dtype=np.complex128))


def build(target: Path, *, target_cpu: str = "host") -> Path:
    """Compile the module into ``target`` (a file name ending in the extension suffix; its stem is the module
    name), in a temporary directory beside it, then renamed into place."""
    global _compiled
    import shutil

    import numba
    import numba.pycc.compiler as pcc
    from numba import typeof
    from numba.core import codegen
    from numba.pycc import CC

    from . import compiled

    compiled._jit()
    _compiled = compiled
    target = Path(target)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    assert target.name.endswith(suffix), target
    name = target.name[: -len(suffix)]

    ints, floats = np.zeros(1, np.int64), np.zeros(1)
    c1, c2, c3 = np.zeros(1, complex), np.zeros((1, 1), complex), np.zeros((1, 1, 1), complex)
    samples = {"i": 0, "f": 0.0, "b": True, "C1": c1, "C2": c2, "C3": c3, "F1": floats, "I1": ints}
    forms = {"_p": ((ints, floats),), "_s": (1j, (ints, floats), (ints, floats))}
    wrappers = {"_track_range": _x_track_range, "_newton_iterations": _x_newton_iterations,
                "_values_range": _x_values_range, "_refine_range": _x_refine_range}

    class Flags(pcc.Flags):  # the Python wrappers release the GIL (the kernels run on threads), as nogil=True
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True

    def host_features(self):  # the host's ISA features, as numba's JIT (not just those of the CPU model)
        return self._get_host_cpu_features()

    saved = pcc.Flags, codegen.AOTCPUCodegen._customize_tm_features
    pcc.Flags = Flags
    if target_cpu == "host":
        codegen.AOTCPUCodegen._customize_tm_features = host_features
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        cc = CC(name)
        cc.output_dir = str(tmp)
        cc.output_file = target.name
        cc.target_cpu = target_cpu
        for kernel, spec in _SPECS.items():
            for kind, form in forms.items():
                sig = numba.void(*(typeof(form if c == "form" else samples[c]) for c in spec))
                cc.export(kernel[1:] + kind, sig)(wrappers[kernel])
        cc.export("lapack_warmup", "f8()")(_x_lapack_warmup)
        cc.compile()
        built = tmp / target.name
        mod = _import(built, name)  # loads, and has every function
        assert all(hasattr(mod, k[1:] + s) for k in _SPECS for s in ("_p", "_s")) and mod.lapack_warmup() > 0
        os.replace(built, target)
    finally:
        pcc.Flags, codegen.AOTCPUCodegen._customize_tm_features = saved
        shutil.rmtree(tmp, ignore_errors=True)
    return target


__all__ = ["load", "maybe_build", "start_build", "build", "module_name", "file_name", "directories", "mode"]
