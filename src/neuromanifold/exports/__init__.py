"""Exports: the polynomial systems the toolkit solves (degree, ED degree, critical points of the loss), written
exactly in the input languages of Macaulay2, HomotopyContinuation.jl, Bertini and PHCpack, so that any count
can be checked with another solver (``systems``: the systems; ``formats``: the writers)."""

from __future__ import annotations

from .formats import FORMATS, write_system
from .systems import SYSTEMS, ExportedSystem, build_system

__all__ = ["FORMATS", "SYSTEMS", "ExportedSystem", "build_system", "write_system"]
