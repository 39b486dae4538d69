"""Issue 16: a `certified` ED degree must be the true one.

Truths come from closed formulas and independent computations (tests/helpers/ed_truth.py, with the
literature references), never from our ED code.  For every run: certified => value == truth;
lower_bound => value <= truth; never an internal error (InputError, or a `failed` result about
witness points) on valid input.  And enough runs must be certified that the checks are not
vacuous (calibrated thresholds below).
"""

from __future__ import annotations

import pytest

import neuromanifold as nm
from neuromanifold.errors import InputError
from assertions import assert_honest
from ed_truth import truth

SEEDS = range(10)

# the reproductions of issue 16 (spec, metric)
REPRODUCTIONS = [
    ("mlp(widths=(2, 3, 1, 1), r=2)", "euclidean"),
    ("mlp(widths=(2, 3, 1, 1), r=2)", "generic"),
    ("mlp(widths=(2, 2, 1, 1), r=2)", "generic"),
    ("mlp(widths=(2, 2, 1, 1), r=2)", "euclidean"),
    ('gcnn(group="C6", layers=2, r=2, output="invariant")', "generic"),
]

# at least this fraction of the seeds must come back certified (generic metric: the trace test
# applies) or certified/numerical (special metrics).  Calibrated on benchmarks/ed_stress.py
# (2026-12-05, seeds 0..9): every case used here was certified on 10 of 10 seeds.
MIN_FRACTION_CERTIFIED_GENERIC = 0.8
MIN_FRACTION_DEFINITE_SPECIAL = 0.8


def run(spec: str, metric: str, seed: int):
    """The ED-degree result; an InputError on these valid inputs is an internal error (a test failure)."""
    try:
        return nm.analyze(spec, only=["ed_degree"], seed=seed, metric=metric)["ed_degree"]
    except InputError as exc:  # e.g. "some witness points do not satisfy F(z; p0) = 0"
        pytest.fail(f"{spec} {metric} seed {seed}: InputError on valid input: {exc}")


def check(spec: str, metric: str, seed: int, true: int):
    res = run(spec, metric, seed)
    where = f"{spec} metric={metric} seed={seed}"
    if res.status == "failed":
        reason = str(res.evidence.get("reason", ""))
        assert "witness point" not in reason and "F(z; p0)" not in reason, f"{where}: internal error: {reason}"
    assert_honest(res, true, where)  # certified == truth, lower_bound <= truth (prints the evidence otherwise)
    return res


def assert_not_vacuous(spec: str, metric: str, results) -> None:
    statuses = [r.status for r in results]
    if metric == "generic":
        n = statuses.count("certified")
        assert n >= MIN_FRACTION_CERTIFIED_GENERIC * len(statuses), f"{spec} {metric}: only {n}/{len(statuses)} certified: {statuses}"
    else:
        n = sum(s in ("certified", "numerical") for s in statuses)
        assert n >= MIN_FRACTION_DEFINITE_SPECIAL * len(statuses), f"{spec} {metric}: only {n}/{len(statuses)} certified/numerical: {statuses}"


def check_over_seeds(spec: str, metric: str, seeds, true: int | None = None) -> None:
    """``check`` on every seed against the truth (the table's unless given), then ``assert_not_vacuous``."""
    true = truth(spec, metric) if true is None else true
    assert true is not None, f"no independent truth for {spec} {metric}"
    assert_not_vacuous(spec, metric, [check(spec, metric, s, true) for s in seeds])


@pytest.mark.slow
@pytest.mark.parametrize("spec,metric", REPRODUCTIONS, ids=lambda x: str(x))
def test_issue16_reproductions_over_ten_seeds(spec, metric):
    check_over_seeds(spec, metric, SEEDS)


# small cases with closed-formula truths (Eckart-Young, Segre, Veronese): the property over many seeds
PROPERTY_CASES = [
    ("linear(widths=(2, 1, 2))", "euclidean"),
    ("linear(widths=(2, 1, 2))", "generic"),
    ("linear(widths=(3, 1, 3))", "euclidean"),
    ("linear(widths=(3, 2, 3))", "euclidean"),
    ("linear(widths=(2, 1, 3))", "bombieri_weyl"),
    ("mlp(widths=(2, 1, 1), r=2)", "generic"),
    ("mlp(widths=(2, 1, 1), r=3)", "generic"),
    ("mlp(widths=(2, 1, 1), r=3)", "bombieri_weyl"),
    ("mlp(widths=(3, 1, 1), r=2)", "bombieri_weyl"),
    ('gcnn(group="C3", layers=2, r=2, output="invariant")', "euclidean"),
]
PROPERTY_SEEDS = range(12)


@pytest.mark.parametrize("spec,metric", PROPERTY_CASES, ids=lambda x: str(x))
def test_certified_is_the_truth_over_many_seeds(spec, metric):
    check_over_seeds(spec, metric, PROPERTY_SEEDS)


# -- the truths themselves, rechecked independently ------------------------------------------------

def test_gcnn_invariant_is_a_linear_space():
    """gcnn(..., output="invariant") with one channel: the span of sampled points of M has the
    dimension of M (Jacobian rank), so the closure of M is that linear space and its ED degree is 1."""
    import numpy as np

    from neuromanifold.architectures import parse_spec
    from neuromanifold.parametrization.coefficients import coefficient_map

    rng = np.random.default_rng(1)
    for g, dim in (("C3", 2), ("C6", 4)):
        P = coefficient_map(parse_spec(f'gcnn(group="{g}", layers=2, r=2, output="invariant")')).polynomials
        Z = rng.standard_normal((40, P.n_vars))
        span = np.linalg.matrix_rank(P.evaluate(Z).real, tol=1e-8)
        jac = np.linalg.matrix_rank(P.jacobian(Z[:1])[0].real, tol=1e-8)
        assert span == jac == dim  # dim: symmetric circulants of order |G| (Fourier eigenvalues)


@pytest.mark.oracle
@pytest.mark.parametrize("metric", ["generic", "bombieri_weyl", "euclidean"])
def test_truth_table_against_macaulay2(metric):
    """The formula truths (Veronese) and the issue-16 values (squares of binary quadrics) recomputed
    exactly by Macaulay2 from a parametric critical ideal (seconds)."""
    from ed_truth import PARAMETRIC_MODELS, m2_parametric_ed, veronese_model
    from m2_networks import M2

    if M2 is None:
        pytest.skip("Macaulay2 (`M2`) is not on the PATH; install it (apt-get install macaulay2) for this oracle")
    got = m2_parametric_ed(PARAMETRIC_MODELS["squares_of_binary_quadrics"], metric)
    assert got == truth("mlp(widths=(2, 3, 1, 1), r=2)", metric) == truth("mlp(widths=(2, 2, 1, 1), r=2)", metric)
    for n, d in ((2, 2), (2, 3), (3, 2)):
        m2 = m2_parametric_ed(veronese_model(d, n), metric)
        expected = truth(f"mlp(widths=({n}, 1, 1), r={d})", metric)
        if expected is not None:
            assert m2 == expected, (n, d, metric)


@pytest.mark.oracle
def test_euclidean_veronese_certified_is_the_macaulay2_value():
    """Veronese cones in the Euclidean (monomial) metric: no closed formula used; Macaulay2's value."""
    from ed_truth import m2_parametric_ed, veronese_model
    from m2_networks import M2

    if M2 is None:
        pytest.skip("Macaulay2 (`M2`) is not on the PATH; install it (apt-get install macaulay2) for this oracle")
    true = m2_parametric_ed(veronese_model(3, 2), "euclidean")
    assert true is not None
    check_over_seeds("mlp(widths=(2, 1, 1), r=3)", "euclidean", range(8), true)
