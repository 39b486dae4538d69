"""Names the command line's help text and argument choices need, without importing what computes them.

Building the parser (every command, ``--help`` included) must stay light: ``analysis`` and the coefficient
map pull in numpy and every invariant module.  These copies are checked against their sources
(``analysis.INVARIANTS``, ``analysis.DEFAULT_INVARIANTS``, ``context.METRICS``, ``atlas.ranges.MAX_SPECS``,
``atlas.tables.PRESETS``) by tests/test_cold_start.py.
"""

from __future__ import annotations

INVARIANT_NAMES = (
    "dimension",
    "expected_dimension",
    "ambient_dimension",
    "fiber_dimension",
    "hidden_symmetries",
    "degree",
    "fiber_points",
    "ed_degree",
    "singularities",
    "log_covering_number",
    "epsilon_net",
    "conservation_laws",
    "subnetwork_conjecture",
    "identifiability",
    "activation_threshold",
)
DEFAULT_INVARIANTS = ("dimension", "expected_dimension", "ambient_dimension", "fiber_dimension", "hidden_symmetries")
METRICS = ("generic", "bombieri_weyl", "euclidean")
ATLAS_MAX_SPECS = 10_000  # atlas.ranges.MAX_SPECS: default cap on the specs of one sweep
ATLAS_PRESETS = {  # atlas.tables.PRESETS: preset table -> what it shows
    "mlp-dimensions": (
        "dimensions of shallow polynomial MLPs, x^2 and x^3 (Kileel-Trager-Bruna 2019); defects: "
        "Alexander-Hirschowitz (quadrics of rank <= d1, 2 <= d1 < d0) and width-one bottlenecks"
    ),
    "mlp-deep": (
        "dimensions of depth-3 quadratic MLPs (Kileel-Trager-Bruna 2019, Section 5)"
    ),
    "mlp-thresholds": (
        "activation thresholds of shallow single-output MLPs (smallest r from which on dim = "
        "edim; Finkel, Rodriguez, Wu, Yahl 2025); computed up to a proven bound, the r of the "
        "spec is ignored"
    ),
    "mlp-thresholds-deep": (
        "activation thresholds of depth-3 single-output MLPs (computed up to the bound of Usevich "
        "et al. 2025)"
    ),
}

__all__ = ["INVARIANT_NAMES", "DEFAULT_INVARIANTS", "METRICS", "ATLAS_MAX_SPECS", "ATLAS_PRESETS"]
