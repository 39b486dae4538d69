"""neuromanifold: the geometry of neural-network function spaces, with certificates."""

from .analysis import INVARIANTS, Report, analyze
from .architectures import Architecture, parse_spec
from .errors import InputError, NeuromanifoldError, SpecError
from .critical_points import critical_points
from .membership import contains
from .result import Result

__version__ = "0.1.0"

__all__ = [
    "INVARIANTS",
    "Architecture",
    "InputError",
    "NeuromanifoldError",
    "Report",
    "Result",
    "SpecError",
    "analyze",
    "contains",
    "critical_points",
    "parse_spec",
]
