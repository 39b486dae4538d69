"""Exports: the polynomial systems the toolkit solves (degree, ED degree, critical points of the loss), written
exactly in the input languages of Macaulay2, HomotopyContinuation.jl, Bertini and PHCpack, so that any count
can be checked with another solver (``systems``: the systems; ``formats``: the writers)."""

from __future__ import annotations

from typing import Any

from ..context import Context
from .formats import FORMATS, write_system
from .systems import SYSTEMS, ExportedSystem, build_system


def export_system(spec: str | Context, *, system: str, format: str, seed: int = 0, metric: str = "generic",
                  X: Any = None, Y: Any = None) -> str:
    """The text of ``neuromanifold export SPEC --system SYSTEM --format FORMAT``: the named system of ``spec``
    (``SYSTEMS``: degree, ed, critical; exact rational coefficients, the toolkit's own gauge slice) in the input
    language ``format`` (``FORMATS``: m2, hc, bertini, phc), its header saying which count equals which invariant."""
    return write_system(build_system(spec, system, seed=seed, metric=metric, X=X, Y=Y), format)


__all__ = ["FORMATS", "SYSTEMS", "ExportedSystem", "build_system", "export_system", "write_system"]
