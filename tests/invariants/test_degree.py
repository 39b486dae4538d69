"""Degrees of neuromanifolds by monodromy + trace test, against reference.md formulas."""

from math import factorial

import pytest

import neuromanifold as nm
from assertions import assert_certified


def harris_degree(m, n, r):
    """Degree of the m x n matrices of rank <= r (Harris, Algebraic Geometry, Ex. 19.10)."""
    deg = 1
    for i in range(n - r):
        num = factorial(i) * factorial(m + i)
        den = factorial(r + i) * factorial(m - r + i)
        deg = deg * num // den if (deg * num) % den == 0 else deg * num / den
    return int(round(deg))


@pytest.mark.parametrize(
    "widths,m,n,r",
    [((2, 1, 2), 2, 2, 1), ((3, 1, 3), 3, 3, 1), ((4, 2, 3), 3, 4, 2), ((4, 2, 4), 4, 4, 2)],
)
def test_determinantal_degrees(widths, m, n, r):
    rep = nm.analyze(f"linear(widths={widths})", only="degree")
    d = rep["degree"]
    assert_certified(d, harris_degree(m, n, r))
    ev = d.evidence
    assert ev["monodromy"]["trace_test_passed"] is True
    assert len(ev["trace_tests"][-1]["residuals"]) == 2  # two independent directions


def test_twisted_cubic_cone():
    d = nm.analyze("mlp(widths=(2, 1, 1), r=3)", only="degree")["degree"]
    assert_certified(d, 3)


def test_filling_architecture_has_degree_one():
    d = nm.analyze("mlp(widths=(2, 2, 1), r=2)", only="degree")["degree"]
    assert_certified(d, 1)


def test_degree_does_not_depend_on_seed():
    values = {nm.analyze("attention(d=2, dout=1, a=2, t=2)", only="degree", seed=s)["degree"].value for s in (0, 1)}
    assert len(values) == 1


def test_budget_gives_labelled_lower_bound():
    d = nm.analyze("linear(widths=(3, 1, 3))", only="degree", max_degree=2)["degree"]
    assert d.status == "lower_bound"
    assert d.value <= 2
    assert "trace test not passed" in d.evidence["why_lower_bound"]


def test_checkpoint_resume_gives_same_answer(tmp_path):
    a = nm.analyze("linear(widths=(3, 1, 3))", only="degree", checkpoint_dir=str(tmp_path))["degree"]
    assert list(tmp_path.glob("degree-*.npz"))
    b = nm.analyze("linear(widths=(3, 1, 3))", only="degree", checkpoint_dir=str(tmp_path))["degree"]
    assert a.value == 6
    assert_certified(b, 6)


def test_fiber_points_count_neuron_permutations():
    # (2,2,2), r=2: two binary quadrics are combinations of the squares of two linear forms,
    # determined up to order: the gauge-fixed generic fiber has 2! points
    f = nm.analyze("mlp(widths=(2, 2, 2), r=2)", only="fiber_points")["fiber_points"]
    assert f.value == 2
    assert f.evidence["gauge"]["complete"] is True


def test_degree_needs_certified_dimension_or_fails_clearly():
    # cubics in 5 variables as sums of 7 cubes (the odd Alexander-Hirschowitz case): no kernel field, equation or
    # containing architecture closes the bound, so the dimension stays a lower bound (see test_activation_threshold)
    rep = nm.analyze("mlp(widths=(5, 7, 1), r=3)", only="dimension,degree")
    assert rep["dimension"].status == "lower_bound"
    d = rep["degree"]
    assert d.status == "failed" and d.value is None
    assert "certified dimension" in d.evidence["reason"]


def test_cnn_degree_certified_through_coefficients_and_through_samples():
    spec = "cnn(k=(2,2,2), s=(1,1,1), r=2)"
    rep = nm.analyze(spec, only="ambient_dimension,degree")
    assert rep["ambient_dimension"].status == "numerical"
    d = rep["degree"]
    assert_certified(d)
    assert "exact coefficient map" in d.evidence["injectivity"]["method"]  # small network: sliced in coefficient space
    # through mu_S instead: span(M) is smaller than the monomial support here; evaluation is checked
    # injective on the support, which is enough for deg mu_S(M) = deg M -- and the two agree
    from neuromanifold.context import Context
    from neuromanifold.invariants.witness_set import witness_set

    ws = witness_set(Context(spec), coefficients=False)
    assert ws.injective and ws.injectivity_evidence["injective"] is True
    assert ws.result.trace_test_passed and ws.n_image_points == d.value
    # independent seed agrees
    assert nm.analyze(spec, only="degree", seed=3)["degree"].value == d.value


def test_fiber_points_refuses_without_complete_gauge():
    # hidden width 3 between 2 and 2: no coordinate gauge freezes GL(3); the random-slice count is
    # the fiber's degree, which must not be reported as the number of fiber points
    f = nm.analyze("linear(widths=(2, 3, 2))", only="fiber_points")["fiber_points"]
    assert f.status == "failed" and f.value is None
    assert f.evidence["fiber_degree_on_random_slice"] >= 1


def test_every_monodromy_attempt_is_recorded():
    from neuromanifold.context import Context
    from neuromanifold.invariants.witness_set import witness_set

    # one loop of patience: runs may stagnate before the trace test passes and restart with more
    ws = witness_set(Context("linear(widths=(4, 2, 4))", options={"loops_without_new": 1}))
    assert 1 <= len(ws.attempts) <= 3
    assert ws.attempts[-1]["solutions"] == ws.result.n_solutions
    d = nm.analyze("linear(widths=(4, 2, 4))", only="degree")["degree"]
    assert d.value == 20
