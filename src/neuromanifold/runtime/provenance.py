"""Provenance of a result: what produced it and where (issue 21).

``provenance()`` records the package version, the versions of the libraries that compute (read from the
installed distributions' metadata, so nothing is imported for it), the Python version and platform, the host,
the cores seen, and the UTC time; callers add the seed, the prime and the wall time of their run.  Everything is
plain JSON data; nothing in it comes from user text.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any

DEPENDENCIES = ("numpy", "scipy", "sympy", "python-flint", "torch", "tqdm", "dask", "distributed")


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def provenance(**extra: Any) -> dict[str, Any]:
    """What produced a result: package and dependency versions, Python, platform, host, cores, UTC time, and
    ``extra`` (seed, prime, wall seconds, ...)."""
    from ..version import __version__

    return {
        "neuromanifold": __version__,
        "dependencies": {d: _version(d) for d in DEPENDENCIES},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cores": os.cpu_count(),
        "utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


__all__ = ["DEPENDENCIES", "provenance"]
