"""Where the paths of ``track`` and ``solve`` run: polynomial homotopies path by path in compiled
code (``compiled.py``, numba; chunks of paths on threads), every other homotopy in the batched numpy
step loop (``tracker.py``; chunks on threads), and, inside ``runtime.cluster.using``, chunks of paths
as Dask tasks.  Paths are independent, so the endpoints do not depend on the split.  ``solve``
re-tracks the paths that failed: once along the same path with a finer step control, then with
fresh random gammas.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from .homotopies import Homotopy, random_gamma
from .linear_algebra import _norm, condition_numbers
from .paths import _STATUS_NAMES, PathStatus, TrackerOptions, TrackResult
from .system import ParametrizedSystem, as_batch
from .tracker import _ACTIVE, _finish, _track_batch

_CPUS = os.cpu_count() or 1


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_POOLS.clear)  # a forked child has none of the pool's threads


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``threads`` workers (starting threads per call costs ~1 ms each)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tracker")
        return pool


def _map(fn: Callable[[Any], Any], items: list, threads: int) -> list:
    """[fn(i) for i in items] on ``threads`` threads (the compiled kernels release the GIL): the
    calling thread and threads - 1 pool workers take the items one by one."""
    if threads < 2 or len(items) < 2 or threading.current_thread().name.startswith("tracker"):
        return [fn(i) for i in items]
    results: list = [None] * len(items)
    counter = itertools.count()  # next() is atomic under the GIL

    def work() -> None:
        for i in iter(counter.__next__, None):
            if i >= len(items):
                return
            results[i] = fn(items[i])

    futures = [_pool(threads - 1).submit(work) for _ in range(threads - 1)]
    work()
    for f in futures:
        f.result()
    return results


def _chunks(B: int, threads: int) -> list[tuple[int, int]]:
    """Ranges of paths for the threads: small chunks balance the load (path lengths vary); the
    result does not depend on them."""
    size = max(4, min(256, -(-B // (8 * threads))))
    bounds = list(range(0, B, size)) + [B]
    return list(zip(bounds[:-1], bounds[1:]))


def _track_compiled(form: tuple, hom: Homotopy, z0: np.ndarray, opts: TrackerOptions, t_end: float,
                    threads: int) -> TrackResult:
    """``_track_batch`` path by path in compiled code (``compiled.py``), chunks of paths in threads."""
    from . import compiled as K

    (straight, gsl, tabF, tabG), Ptgt, DP, GAM = form
    tabs = (complex(gsl), tabF.arrays(), tabG.arrays()) if straight else (tabF.arrays(),)
    B, n = z0.shape
    z = np.ascontiguousarray(z0, dtype=complex).copy()
    t = np.ones(B)
    steps = np.zeros(B, dtype=np.int64)
    rejected = np.zeros(B, dtype=np.int64)
    work = np.zeros(B, dtype=np.int64)  # Jacobian factorisations per path (for profiling)
    code = np.full(B, _ACTIVE, dtype=np.int64)
    s1z, s2z = np.full_like(z, np.nan), np.full_like(z, np.nan)
    s1t, s2t = np.full(B, np.nan), np.full(B, np.nan)
    fo, io = K.float_options(opts, t_end), K.int_options(opts)
    run = lambda r: K.track_range(r[0], r[1], z, t, steps, rejected, work, code, s1z, s2z, s1t, s2t,  # noqa: E731
                                   Ptgt, DP, GAM, tabs, fo, io)
    _map(run, _chunks(B, threads), threads)

    def refine(fin: np.ndarray):
        zf, tf = np.ascontiguousarray(z[fin]), np.ascontiguousarray(t[fin])
        P, D, G = np.ascontiguousarray(Ptgt[fin]), np.ascontiguousarray(DP[fin]), np.ascontiguousarray(GAM[fin])
        upd = np.full(fin.size, np.inf)
        residual, cond = np.empty(fin.size), np.empty(fin.size)
        try:  # Newton, residual and condition number path by path, chunks of paths in threads
            _map(lambda r: K.refine_range(r[0], r[1], zf, tf, upd, residual, cond, P, D, G, tabs,  # noqa: E731
                                           opts.final_iters, opts.final_tol), _chunks(fin.size, threads), threads)
            return zf, residual, cond, upd
        except Exception:  # pragma: no cover - LAPACK failed on some H_z: batched numpy SVD instead
            zf, upd = np.ascontiguousarray(z[fin]), np.full(fin.size, np.inf)
        H = np.empty((fin.size, n), dtype=complex)
        Hz = np.empty((fin.size, n, n), dtype=complex)
        K.newton_iterations(0, fin.size, zf, tf, upd, P, D, G, tabs, opts.final_iters, opts.final_tol, True)
        K.values_range(0, fin.size, zf, tf, H, Hz, P, D, G, tabs)
        residual = np.where(np.all(np.isfinite(H), axis=1), _norm(H), np.inf)
        return zf, residual, condition_numbers(Hz), upd

    return _finish(hom, z0, z, t, code, steps, rejected, (s1z, s2z, s1t, s2t), opts, t_end, refine)


def _options(options: TrackerOptions | None, kwargs: dict[str, Any]) -> TrackerOptions:
    """``options`` (default ``TrackerOptions()``) with the fields in ``kwargs`` replaced."""
    opts = options or TrackerOptions()
    return replace(opts, **kwargs) if kwargs else opts


def track(
    homotopy: Homotopy,
    start_points: np.ndarray,
    *,
    options: TrackerOptions | None = None,
    t_end: float = 0.0,
    **kwargs: Any,
) -> TrackResult:
    """Track every start point of H(., 1) = 0 to t = t_end (default the target H(., 0)).

    ``kwargs`` override fields of ``TrackerOptions`` (e.g. ``max_steps=500``).
    """
    opts = _options(options, kwargs)
    z0 = as_batch(start_points, homotopy.n_vars, "start_points")
    start = time.perf_counter()
    if z0.shape[0] == 0:
        empty = np.zeros(0)
        res = TrackResult(z0, z0.copy(), np.zeros(0, dtype=_STATUS_NAMES.dtype), empty, empty.astype(int),
                          empty.astype(int), empty, empty, empty, np.zeros(z0.shape), gammas=[homotopy.gamma])
    else:
        B = z0.shape[0]
        threads = opts.threads if opts.threads > 0 else min(2, _CPUS)
        from ..runtime.cluster import current_client
        from ..runtime.threads import single_threaded_blas

        client = current_client()
        # one BLAS thread: parallelism is over paths, and the last bits of every endpoint then do not depend on
        # the BLAS thread count of the process that tracks it (here or a Dask worker)
        with single_threaded_blas():
            if client is not None and B >= CLUSTER_MIN_PATHS:
                res = _track_on_cluster(client, homotopy, z0, opts, t_end)
            elif (form := _compiled_form(homotopy, B, opts)) is not None:
                res = _track_compiled(form, homotopy, z0, opts, t_end, threads)
            else:
                n_chunks = max(-(-B // opts.batch_size), min(threads, B // opts.min_paths_per_thread))
                bounds = np.linspace(0, B, max(n_chunks, 1) + 1).astype(int)
                chunks = [(homotopy.subset(slice(a, b)), z0[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
                # independent paths: chunks run concurrently (numpy, scipy and torch release the GIL)
                parts = _map(lambda c: _track_batch(c[0], c[1], opts, t_end), chunks, threads)
                res = parts[0] if len(parts) == 1 else TrackResult.concatenate(parts)
        res.gammas = [homotopy.gamma]
    res.seconds = time.perf_counter() - start
    return res


CLUSTER_MIN_PATHS = 128  # fewer paths than this are tracked here even inside ``cluster.using``


def _track_on_cluster(client: Any, homotopy: Homotopy, z0: np.ndarray, opts: TrackerOptions,
                      t_end: float) -> TrackResult:
    """``track`` with the paths split into chunks that run as Dask tasks on ``client``'s workers.

    Paths are independent and each chunk is tracked by the same code as here (compiled or batched), so
    the endpoints and statuses equal those of the single-process run; the chunks come back in order."""
    from ..runtime.cluster import n_workers

    B = z0.shape[0]
    n_chunks = max(1, min(4 * n_workers(client), -(-B // 32)))  # chunks of >= 32 paths
    bounds = np.linspace(0, B, n_chunks + 1).astype(int)
    hom_future = client.scatter(homotopy, broadcast=True)  # sent once to every worker, not once per chunk
    futures = [client.submit(_track_chunk, hom_future, z0[a:b], a, b, opts, t_end, pure=False)
               for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    parts = client.gather(futures)
    return parts[0] if len(parts) == 1 else TrackResult.concatenate(parts)


def _track_chunk(homotopy: Homotopy, z0: np.ndarray, a: int, b: int, opts: TrackerOptions, t_end: float) -> TrackResult:
    """One Dask task: paths a..b of ``homotopy`` (no cluster client is set on a worker: tracked locally)."""
    return track(homotopy.subset(slice(a, b)), z0, options=opts, t_end=t_end)


def compiled_tracking(system: ParametrizedSystem, *, options: TrackerOptions | None = None, **kwargs: Any) -> bool:
    """Whether parameter homotopies of ``system`` run in the compiled tracker with these options
    (a ``PolynomialSystem``, numba importable, ``compiled`` and an RK4 / Heun predictor)."""
    from . import compiled
    from .polynomial import PolynomialSystem

    opts = _options(options, kwargs)
    return compiled.AVAILABLE and opts.compiled and opts.predictor != "taylor" and isinstance(system, PolynomialSystem)


def _compiled_form(hom: Homotopy, B: int, opts: TrackerOptions) -> tuple | None:
    """The compiled tracker's data for ``hom`` when it applies: numba importable, ``opts.compiled``,
    an RK4 / Heun predictor (the Taylor predictor stays batched) and a polynomial homotopy."""
    if not opts.compiled or opts.predictor == "taylor":
        return None
    from . import compiled

    if not compiled.AVAILABLE:
        return None
    return hom.compiled_form(B)


DEFAULT_RETRY = (PathStatus.FAILED.value, PathStatus.MAX_STEPS.value)


def solve(
    homotopy: Homotopy,
    start_points: np.ndarray,
    *,
    max_tries: int = 3,
    retry: Sequence[str] = DEFAULT_RETRY,
    rng: np.random.Generator | int | None = None,
    options: TrackerOptions | None = None,
    **kwargs: Any,
) -> TrackResult:
    """``track``, then re-track the paths whose status is in ``retry``, up to ``max_tries`` tracks
    per path in all: first along the same path (same gamma) with a finer step control, then with a
    fresh random gamma (same start and target, a different path).

    The same homotopy keeps start points and endpoints in bijection, so the first re-track cannot
    land on a solution another path already reached; a new gamma can (the paths of one start point
    under two gammas may end at different solutions), which callers detect as duplicates.
    The result's ``retries`` counts the re-tracks of each path and ``gammas`` lists every gamma used.
    """
    rng = np.random.default_rng(rng)
    res = track(homotopy, start_points, options=options, **kwargs)
    retry_set = {PathStatus(s).value for s in retry}
    base = _options(options, kwargs)
    fine = replace(base, predictor_tol=base.predictor_tol / 30, max_first_update=base.max_first_update / 10,
                   max_steps=2 * base.max_steps)
    for attempt in range(max_tries - 1):
        # an ill-conditioned endpoint where Newton converged is a solution: no need to re-track it
        settled = res.converged() & ~res.success
        again = np.flatnonzero(np.isin(res.status, list(retry_set)) & ~settled)
        if again.size == 0:
            break
        if attempt == 0:
            hom2, opts2 = homotopy, fine
        else:
            hom2, opts2 = homotopy.with_gamma(random_gamma(rng)), base
        sub = track(hom2.subset(again), res.start_points[again], options=opts2)
        for name in ("endpoints", "status", "t", "steps", "rejected", "residual", "condition", "accuracy", "valuation"):
            arr = getattr(res, name)
            if name == "steps" or name == "rejected":
                arr[again] += getattr(sub, name)
            else:
                arr[again] = getattr(sub, name)
        res.retries[again] += 1
        if attempt:
            res.gammas.append(hom2.gamma)
        res.seconds += sub.seconds
    return res


__all__ = ["track", "solve", "compiled_tracking", "CLUSTER_MIN_PATHS", "DEFAULT_RETRY"]
