"""Independent oracle: ED degrees recomputed exactly by Macaulay2.

Macaulay2 gets the network from ``m2_networks.py`` (written independently in its language) and
computes the ED degree of the closure of the image symbolically over QQ, by a different method
than ours: implicitization of M, then the critical ideal of DHOST (FoCM 2016) saturated by the
singular locus, at a random rational data point and with its own random generic metric.  We use
monodromy/total-degree homotopies on a parametrized critical-point system.
"""

from __future__ import annotations

import pytest

import neuromanifold as nm
from m2_networks import M2, m2_ed_degree, m2_network, spec_string

if M2 is None:
    pytest.skip(
        "Macaulay2 (`M2`) is not on the PATH; install it (apt-get install --no-install-recommends macaulay2) "
        "to run the independent ED-degree oracle",
        allow_module_level=True,
    )

pytestmark = pytest.mark.oracle

CASES = [
    ("mlp", {"widths": (2, 1, 1), "r": 3}, ("generic", "euclidean", "bombieri_weyl")),
    ("linear", {"widths": (2, 1, 2)}, ("generic", "euclidean", "bombieri_weyl")),
    ("mlp", {"widths": (3, 1, 1), "r": 2}, ("bombieri_weyl",)),
    ("cnn", {"k": (2, 2), "r": 2}, ("euclidean", "bombieri_weyl")),
]


@pytest.mark.parametrize(
    "family,params,metric", [(f, p, m) for f, p, ms in CASES for m in ms], ids=lambda x: str(x)
)
def test_ed_degree_matches_macaulay2(family, params, metric):
    oracle = m2_ed_degree(m2_network(family, **params), metric, timeout=240)
    assert not oracle.get("timeout"), f"Macaulay2 timed out on {family} {params} {metric}"
    assert oracle["dim"] == 0, oracle  # a finite critical set
    ours = nm.analyze(spec_string(family, **params), only="ed_degree", metric=metric)["ed_degree"]
    assert ours.status in ("certified", "numerical"), ours.evidence
    assert ours.value == oracle["ed"], f"{family} {params} {metric}: ours {ours.value}, Macaulay2 {oracle['ed']}"


@pytest.mark.slow
@pytest.mark.parametrize("family,params", [("cnn", {"k": (2, 2), "r": 2})])  # mlp((3,1,1)): Veronese formula in test_ed_degree
def test_generic_ed_degree_matches_macaulay2(family, params):
    oracle = m2_ed_degree(m2_network(family, **params), "generic", timeout=600)
    assert not oracle.get("timeout")
    ours = nm.analyze(spec_string(family, **params), only="ed_degree", metric="generic")["ed_degree"]
    assert (ours.value, ours.status) == (oracle["ed"], "certified")
