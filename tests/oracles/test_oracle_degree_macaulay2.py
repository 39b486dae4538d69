"""Independent oracle: degrees of neuromanifolds recomputed by Macaulay2's NumericalImplicitization.

Each network is written a second time in the Macaulay2 language (``m2_networks.py``: matrices of
parameter variables, products, entrywise powers, explicit convolution sums; the coordinates of
mu(theta) are the coefficients of the network function in its inputs).  Only the family
parameters are shared with our spec strings.  Macaulay2 computes the degree of the closure of
the image with its own monodromy and trace test (``pseudoWitnessSet``).

Macaulay2's monodromy has been seen to report a wrong degree with a passing trace test in about
1 run in 10 (its issue #2230).  So every case runs M2 with three seeds (``setRandomSeed``), and
two more if the first three have no strict majority; the oracle's answer is the value a strict
majority of the runs with a passing trace test agree on.
"""

from __future__ import annotations

import pytest

import neuromanifold as nm
from m2_networks import M2, m2_image_degree, m2_network, majority, spec_string

if M2 is None:
    pytest.skip(
        "Macaulay2 (`M2`) is not on the PATH; install it (apt-get install --no-install-recommends macaulay2) "
        "to run the independent degree oracle",
        allow_module_level=True,
    )

pytestmark = pytest.mark.oracle

M2_TIMEOUT = 120  # seconds per M2 process (each case below takes well under 15 s)


def oracle_degree(family: str, **params) -> tuple[int, dict]:
    """Majority degree of Macaulay2 runs with seeds 1, 2, 3 (then 4, 5 if needed)."""
    network = m2_network(family, **params)
    runs = m2_image_degree(network, seeds=(1, 2, 3), timeout=M2_TIMEOUT)
    value, votes = majority(runs)
    if value is None or votes[value] < 2:
        runs += m2_image_degree(network, seeds=(4, 5), timeout=M2_TIMEOUT)
        value, votes = majority(runs)
    assert not any(r.get("timeout") for r in runs), f"Macaulay2 timed out on {network}"
    assert value is not None and 2 * votes[value] > len(runs), (
        f"Macaulay2 gives no majority degree for {network}: {runs}"
    )
    return value, dict(votes)


def check(family: str, **params) -> None:
    expected, votes = oracle_degree(family, **params)
    spec = spec_string(family, **params)
    d = nm.analyze(spec, only="degree")["degree"]
    assert d.status == "certified", (spec, d.evidence)
    assert d.value == expected, f"{spec}: ours {d.value}, Macaulay2 votes {votes}"


# ---------------------------------------------------------------------- the oracle itself
def test_m2_model_reproduces_closed_form_degrees():
    # rank <= 1 matrices 3 x 3 (Segre P2 x P2: degree 6) and the twisted-cubic cone
    assert oracle_degree("linear", widths=(3, 1, 3))[0] == 6
    assert oracle_degree("mlp", widths=(2, 1, 1), r=3)[0] == 3


# ---------------------------------------------------------------------- ours vs Macaulay2
def cases(*items):
    return [pytest.param(family, params, id=spec_string(family, **params)) for family, params in items]


@pytest.mark.parametrize(
    "family,params",
    cases(
        ("linear", {"widths": (4, 2, 3)}),
        ("mlp", {"widths": (2, 1, 1), "r": 2, "bias": True}),
        ("mlp", {"widths": (3, 2, 1), "r": 2}),
        ("cnn", {"k": (3, 2)}),
        ("attention", {"d": 2, "dout": 1, "a": 2, "t": 2}),
    ),
)
def test_degree_agrees_with_macaulay2(family, params):
    check(family, **params)


@pytest.mark.slow
@pytest.mark.parametrize(
    "family,params",
    cases(
        ("attention", {"d": 2, "dout": 2, "a": 1, "t": 2}),
        ("cnn", {"k": (3, 3)}),
        ("cnn", {"k": (2, 2, 2)}),
    ),
)
def test_degree_agrees_with_macaulay2_degree_20_and_more(family, params):
    check(family, **params)
