"""Names the command line's help text and argument choices need, without importing what computes them.

Building the parser (every command, ``--help`` included) must stay light: ``analysis`` and the coefficient
map pull in numpy and every invariant module.  These copies are checked against their sources
(``analysis.INVARIANTS``, ``analysis.DEFAULT_INVARIANTS``, ``context.METRICS``) by tests/test_cold_start.py.
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

__all__ = ["INVARIANT_NAMES", "DEFAULT_INVARIANTS", "METRICS"]
