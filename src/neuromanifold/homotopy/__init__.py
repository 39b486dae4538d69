"""Numerical algebraic geometry, batched: homotopy continuation for square systems F(z; p) = 0.

Independent of networks.  Systems (``ParametrizedSystem``, ``PolynomialSystem``) evaluate values
and Jacobians for a whole batch of points; homotopies (``StraightLineHomotopy``,
``ParameterHomotopy``) and the tracker (``track``, ``solve``: step loop in ``tracker``, compiled
kernels in ``compiled``, threads and Dask in ``dispatch``) move thousands of paths as one array
operation; ``solve_total_degree`` finds all isolated solutions, ``monodromy_solve``
populates a generic fiber from one solution, and ``trace_test`` certifies completeness.
"""

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
