"""BLAS, OpenMP and torch threads: one per process inside the path tracker.

Path tracking parallelises over paths (threads in this process, Dask tasks on workers); a multi-threaded BLAS
inside it adds nothing but a dependence of the last bits on the thread count: OpenBLAS splits a product's sums
differently with 2 threads than with 1, and a Dask worker runs with one BLAS thread (the nanny sets
OPENBLAS_NUM_THREADS=1).  ``single_threaded_blas`` limits BLAS to one thread for a block (threadpoolctl; about
10 microseconds a call), so endpoints are bit-identical wherever the paths run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_CONTROLLER: Any = None
_LOCK = threading.Lock()
_DEPTH = 0  # nested blocks limit once


def _controller() -> Any:
    global _CONTROLLER
    if _CONTROLLER is None or not _CONTROLLER.select(user_api="blas").lib_controllers:
        from threadpoolctl import ThreadpoolController

        import numpy.linalg  # noqa: F401  (loads the BLAS library, so the controller finds it)

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


_LIMITER: Any = None


def _torch_threads(n: int | None) -> int | None:
    """Set torch's intra-op threads to n when torch is loaded (never imports it); the previous count."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None or n is None:
        return None
    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    return before


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with BLAS, OpenMP and torch on one thread; the original limits return when the last open block ends (blocks may
    nest and run concurrently in threads)."""
    global _DEPTH, _LIMITER
    with _LOCK:
        if _DEPTH == 0:
            _LIMITER = (_controller().limit(limits=1), _torch_threads(1))
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0 and _LIMITER is not None:
                _LIMITER[0].restore_original_limits()
                _torch_threads(_LIMITER[1])
                _LIMITER = None


__all__ = ["single_threaded_blas"]
