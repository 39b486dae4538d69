"""neuromanifold: the geometry of neural-network function spaces, with certificates.

The names below are imported on first use (PEP 562 ``__getattr__``): ``import neuromanifold`` (and the
command line, which imports it first) loads no submodule, so a process pays only for what it uses --
``analyze(spec, only="degree")`` never imports the torch, plotting, atlas or landscape modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the eager form, for type checkers and readers
    from .analysis import INVARIANTS, AnalysisInterrupted, Report, analyze
    from .architectures import Architecture, parse_spec
    from .atlas.comparison import compare_equivariant
    from .context import AnalysisOptions, Context
    from .errors import InputError, NeuromanifoldError, SpecError
    from .exports import export_system
    from .invariants.conservation import conservation_laws_of_map
    from .invariants.membership import contains
    from .invariants.torch_module import analyze_module
    from .landscape.critical_points import critical_points
    from .result import Result
    from .version import __version__

# public name -> the module that defines it
_LAZY = {
    "INVARIANTS": ".analysis",
    "AnalysisInterrupted": ".analysis",
    "Report": ".analysis",
    "analyze": ".analysis",
    "Architecture": ".architectures",
    "parse_spec": ".architectures",
    "AnalysisOptions": ".context",
    "Context": ".context",
    "InputError": ".errors",
    "NeuromanifoldError": ".errors",
    "SpecError": ".errors",
    "export_system": ".exports",
    "critical_points": ".landscape.critical_points",
    "conservation_laws_of_map": ".invariants.conservation",
    "compare_equivariant": ".atlas.comparison",
    "contains": ".invariants.membership",
    "analyze_module": ".invariants.torch_module",  # torch is imported only when a torch module is analysed
    "Result": ".result",
    "__version__": ".version",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    try:  # a submodule not imported yet (``neuromanifold.analysis`` after ``import neuromanifold``)
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# Jupyter: the result types show as HTML.  Each has its own small ``_repr_html_``; when IPython runs, the full
# rendering of ``report.notebook`` (figures, the dictionary's sections) is registered with IPython's HTML formatter
# by class name (``for_type_by_name``), so nothing is imported until an object is shown.
NOTEBOOK_TYPES = (
    ("neuromanifold.analysis", "Report"),
    ("neuromanifold.result", "Result"),
    ("neuromanifold.landscape.critical_points", "CriticalPointsResult"),
    ("neuromanifold.invariants.critical_system", "CriticalPoints"),
    ("neuromanifold.landscape.voronoi", "VoronoiResult"),
    ("neuromanifold.landscape.voronoi", "VoronoiCell"),
    ("neuromanifold.landscape.plane_curves", "CurveVoronoi"),
    ("neuromanifold.atlas.store", "Rows"),
    ("neuromanifold.atlas.store", "Row"),
)


def _notebook_html(obj: Any) -> str | None:
    from .report.notebook import to_html

    return to_html(obj)


def _register_notebook_html() -> None:
    """Register ``report.notebook.to_html`` for NOTEBOOK_TYPES with the running IPython shell, if any (IPython
    already imported: this never imports it)."""
    import sys

    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters or "text/html" not in formatters:
        return
    for module, name in NOTEBOOK_TYPES:
        formatters["text/html"].for_type_by_name(module, name, _notebook_html)


_register_notebook_html()


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
    "export_system",
    "parse_spec",
]
