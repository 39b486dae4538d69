"""Numerical algebraic geometry, batched: homotopy continuation for square systems F(z; p) = 0.

Independent of networks.  Systems (``ParametrizedSystem``, ``PolynomialSystem``) evaluate values
and Jacobians for a whole batch of points; homotopies (``StraightLineHomotopy``,
``ParameterHomotopy``) and the tracker (``track``, ``solve``: step loop in ``tracker``, compiled
kernels in ``compiled``, threads and Dask in ``dispatch``) move thousands of paths as one array
operation; ``solve_total_degree`` finds all isolated solutions, ``monodromy_solve``
populates a generic fiber from one solution, and ``trace_test`` certifies completeness.

The names below are imported on first use (PEP 562 ``__getattr__``): ``from ..homotopy import
monodromy_solve`` loads ``monodromy`` and what it needs, not ``certification`` (python-flint) or the
other modules a caller does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the eager form, for type checkers and readers
    from .certification import Certification, MapEnclosure, certify_solutions, disjoint_boxes, enclose_map, full_rank_on_boxes
    from .dispatch import solve, track
    from .homotopies import Homotopy, ParameterHomotopy, ParameterHomotopyBatch, StraightLineHomotopy, random_gamma
    from .linear_algebra import batched_solve, condition_numbers
    from .monodromy import MonodromyOptions, MonodromyResult, load_solutions, monodromy_solve
    from .paths import PathStatus, TrackerOptions, TrackResult
    from .polynomial import (
        PolynomialSystem,
        cyclic,
        katsura,
        univariate,
        univariate_family,
        with_constant_parameters,
    )
    from .solutions import PointSet, deduplicate
    from .start import (
        TotalDegreeResult,
        newton_refine,
        solve_total_degree,
        total_degree_start_solutions,
        total_degree_start_system,
    )
    from .system import ParametrizedSystem
    from .trace import TraceTestResult, make_trace_test, trace_test

# public name -> the submodule that defines it
_LAZY = {
    "Certification": ".certification",
    "MapEnclosure": ".certification",
    "certify_solutions": ".certification",
    "disjoint_boxes": ".certification",
    "enclose_map": ".certification",
    "full_rank_on_boxes": ".certification",
    "solve": ".dispatch",
    "track": ".dispatch",
    "Homotopy": ".homotopies",
    "ParameterHomotopy": ".homotopies",
    "ParameterHomotopyBatch": ".homotopies",
    "StraightLineHomotopy": ".homotopies",
    "random_gamma": ".homotopies",
    "batched_solve": ".linear_algebra",
    "condition_numbers": ".linear_algebra",
    "MonodromyOptions": ".monodromy",
    "MonodromyResult": ".monodromy",
    "load_solutions": ".monodromy",
    "monodromy_solve": ".monodromy",
    "PathStatus": ".paths",
    "TrackerOptions": ".paths",
    "TrackResult": ".paths",
    "PolynomialSystem": ".polynomial",
    "cyclic": ".polynomial",
    "katsura": ".polynomial",
    "univariate": ".polynomial",
    "univariate_family": ".polynomial",
    "with_constant_parameters": ".polynomial",
    "PointSet": ".solutions",
    "deduplicate": ".solutions",
    "TotalDegreeResult": ".start",
    "newton_refine": ".start",
    "solve_total_degree": ".start",
    "total_degree_start_solutions": ".start",
    "total_degree_start_system": ".start",
    "ParametrizedSystem": ".system",
    "TraceTestResult": ".trace",
    "make_trace_test": ".trace",
    "trace_test": ".trace",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Certification",
    "MapEnclosure",
    "disjoint_boxes",
    "enclose_map",
    "full_rank_on_boxes",
    "Homotopy",
    "MonodromyOptions",
    "MonodromyResult",
    "ParameterHomotopy",
    "ParameterHomotopyBatch",
    "ParametrizedSystem",
    "PathStatus",
    "PointSet",
    "PolynomialSystem",
    "StraightLineHomotopy",
    "TotalDegreeResult",
    "TraceTestResult",
    "TrackResult",
    "TrackerOptions",
    "batched_solve",
    "certify_solutions",
    "condition_numbers",
    "cyclic",
    "deduplicate",
    "katsura",
    "load_solutions",
    "make_trace_test",
    "monodromy_solve",
    "newton_refine",
    "random_gamma",
    "solve",
    "solve_total_degree",
    "total_degree_start_solutions",
    "total_degree_start_system",
    "trace_test",
    "track",
    "univariate",
    "univariate_family",
    "with_constant_parameters",
]
