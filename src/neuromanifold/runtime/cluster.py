"""Dask scale-out: one way to name a cluster (``local``, ``local:N`` or a scheduler address) and the
client that batched path tracking and atlas sweeps hand their independent work to.

Work sent to the cluster is a pure function of its inputs (paths are tracked independently; every
invariant draws its generic points from its own seeded generator), so a cluster run returns what the
single-process run returns.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from ..errors import InputError

_CLIENT: ContextVar[Any] = ContextVar("neuromanifold_dask_client", default=None)


def connect(cluster: Any) -> tuple[Any, Any, int]:
    """(client, local cluster or None, number of workers) for 'local', 'local:N', an address, or a Client."""
    if not isinstance(cluster, str):  # a distributed.Client the caller owns
        return cluster, None, len(cluster.scheduler_info().get("workers", {})) or 1
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise InputError("--cluster needs dask.distributed: pip install 'dask[distributed]'") from None
    if cluster == "local" or cluster.startswith("local:"):
        n = cluster.partition(":")[2] or str(os.cpu_count() or 1)
        if not n.isdigit() or int(n) < 1:
            raise InputError(f"--cluster {cluster!r}: write local, local:N (N >= 1 workers) or a scheduler address")
        lc = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(lc), lc, int(n)
    if "://" not in cluster:
        raise InputError(f"--cluster {cluster!r}: write local, local:N or a scheduler address such as tcp://host:8786")
    try:
        client = Client(cluster, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {cluster!r} ({exc}); "
                         "give tcp://host:port of a running scheduler, or local[:N]") from None
    return client, None, len(client.scheduler_info().get("workers", {})) or 1


@contextmanager
def using(cluster: Any) -> Iterator[Any]:
    """Within the block, batched path tracking sends its chunks of paths to ``cluster`` (None: no-op).
    A cluster given by name is started (or connected to) here and closed on exit."""
    if cluster is None:
        yield None
        return
    client, local, _ = connect(cluster)
    token = _CLIENT.set(client)
    try:
        yield client
    finally:
        _CLIENT.reset(token)
        if isinstance(cluster, str):
            client.close()
            if local is not None:
                local.close()


def current_client() -> Any:
    """The Dask client path tracking should use here, or None."""
    return _CLIENT.get()


def n_workers(client: Any) -> int:
    return len(client.scheduler_info().get("workers", {})) or 1
