"""Numerical algebraic geometry, batched: homotopy continuation for square systems F(z; p) = 0.

Independent of networks.  Systems (``ParametrizedSystem``, ``PolynomialSystem``) evaluate values
and Jacobians for a whole batch of points; homotopies (``StraightLineHomotopy``,
``ParameterHomotopy``) and the tracker (``track``, ``solve``) move thousands of paths as one
array operation; ``solve_total_degree`` finds all isolated solutions, ``monodromy_solve``
populates a generic fiber from one solution, and ``trace_test`` certifies completeness.
"""

from .monodromy import MonodromyResult, load_solutions, monodromy_solve
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
from .tracker import (
    Homotopy,
    ParameterHomotopy,
    ParameterHomotopyBatch,
    PathStatus,
    StraightLineHomotopy,
    TrackerOptions,
    TrackResult,
    batched_solve,
    condition_numbers,
    random_gamma,
    solve,
    track,
)

__all__ = [
    "Homotopy",
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
