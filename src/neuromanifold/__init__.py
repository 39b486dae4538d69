"""neuromanifold: the geometry of neural-network function spaces, with certificates."""

from .analysis import INVARIANTS, AnalysisInterrupted, Report, analyze
from .architectures import Architecture, parse_spec
from .context import AnalysisOptions, Context
from .errors import InputError, NeuromanifoldError, SpecError
from .landscape.critical_points import critical_points
from .invariants.conservation import conservation_laws_of_map
from .atlas.comparison import compare_equivariant
from .invariants.membership import contains
from .result import Result

from .version import __version__


def __getattr__(name: str):  # torch is imported only when a torch module is analysed
    if name == "analyze_module":
        from .invariants.torch_module import analyze_module

        return analyze_module
    raise AttributeError(f"module 'neuromanifold' has no attribute {name!r}")


__all__ = [
    "AnalysisInterrupted",
    "AnalysisOptions",
    "Context",
    "INVARIANTS",
    "Architecture",
    "InputError",
    "NeuromanifoldError",
    "Report",
    "Result",
    "SpecError",
    "analyze",
    "analyze_module",
    "compare_equivariant",
    "conservation_laws_of_map",
    "contains",
    "critical_points",
    "parse_spec",
]
