"""Every number of ../shared/design/reference.md, computed (formulas only cross-check)."""

from math import comb, factorial

import pytest


def determinantal_dim(m, n, r):
    return r * (m + n - r)


# linear(widths) has W in C^{d_h x d_0} of rank <= min d_i
LINEAR_CASES = [
    ((2, 1, 2), 2, 2, 1, 3),
    ((3, 1, 3), 3, 3, 1, 5),
    ((4, 2, 3), 3, 4, 2, 10),
    ((4, 2, 4), 4, 4, 2, 12),
    ((4, 3, 2, 4), 4, 4, 2, 12),  # deeper, same rank bound
]


@pytest.mark.parametrize("widths,m,n,r,dim", LINEAR_CASES)
def test_linear_dimension_matches_determinantal_variety(analyze_cached, widths, m, n, r, dim):
    rep = analyze_cached(f"linear(widths={widths})")
    d = rep["dimension"]
    assert d.status == "certified"
    assert d.value == dim == determinantal_dim(m, n, r)
    assert rep["ambient_dimension"].value == m * n
    assert rep["ambient_dimension"].status == "certified"
    assert rep["fiber_dimension"].value == sum(a * b for a, b in zip(widths, widths[1:])) - dim


@pytest.mark.parametrize(
    "widths,r,dim",
    [((2, 2, 1), 2, 3), ((2, 2, 2), 2, 6), ((3, 3, 3), 2, 15), ((2, 1, 1), 3, 2)],
)
def test_polynomial_mlp_reference_dimensions(analyze_cached, widths, r, dim):
    rep = analyze_cached(f"mlp(widths={widths}, r={r})")
    assert rep["dimension"].value == dim
    assert rep["dimension"].status == "certified"
    h = len(widths) - 1
    D = r ** (h - 1)
    ambient = widths[-1] * comb(widths[0] + D - 1, D)
    assert rep["ambient_dimension"].value == ambient
    edim = min(widths[-1] + sum((widths[i] - 1) * widths[i + 1] for i in range(h)), ambient)
    assert rep["expected_dimension"].value == edim


def test_filling_flag(analyze_cached):
    ev = analyze_cached("mlp(widths=(2, 2, 1), r=2)")["dimension"].evidence
    assert ev["filling"] is True
    ev = analyze_cached("mlp(widths=(3, 3, 3), r=2)")["dimension"].evidence
    assert ev["filling"] is False


def test_attention_seed_talk_example(analyze_cached):
    rep = analyze_cached("attention(d=2, dout=1, a=2, t=2)")
    assert rep["dimension"].value == 5 and rep["dimension"].status == "certified"
    # generic fiber: GL(2) on (Q, K) plus one rescaling between V and K^T Q
    assert rep["fiber_dimension"].value == 10 - 5 == 2 * 2 + 1
    assert rep["hidden_symmetries"].value == 0
    assert rep["hidden_symmetries"].status == "certified"


@pytest.mark.parametrize(
    "k,s,r",
    [((3, 2), (2, 1), 2), ((2, 2, 2), (1, 1, 1), 2), ((3, 3), (1, 1), 3), ((4, 2), (2, 2), 2), ((2, 3, 2), (2, 1, 1), 2)],
)
def test_polynomial_cnn_dimension_is_filters_minus_rescalings(analyze_cached, k, s, r):
    rep = analyze_cached(f"cnn(k={k}, s={s}, r={r})")
    assert rep["dimension"].status == "certified"
    assert rep["dimension"].value == sum(k) - len(k) + 1
    assert rep["hidden_symmetries"].value == 0


def test_bottleneck_twisted_cubic(analyze_cached):
    rep = analyze_cached("mlp(widths=(2, 1, 1), r=3)")
    assert rep["dimension"].value == 2
    assert rep["ambient_dimension"].value == 4  # binary cubics: cone over the twisted cubic in P^3


def test_alexander_hirschowitz_defect_is_not_certified_wrongly(analyze_cached):
    # shallow (d0, d1, 1), r = 2, 2 <= d1 < d0: quadratic forms of rank <= d1, dim = d1 d0 - C(d1, 2)
    for d0, d1 in [(3, 2), (4, 2), (4, 3)]:
        rep = analyze_cached(f"mlp(widths=({d0}, {d1}, 1), r=2)")
        true_dim = d1 * d0 - comb(d1, 2)
        expected = min(d0 * d1, comb(d0 + 1, 2))
        assert true_dim < expected
        d = rep["dimension"]
        assert d.value == true_dim
        assert d.status in ("certified", "lower_bound")
        assert d.evidence["numerical"]["rank"] == true_dim
        assert rep["expected_dimension"].value == expected
        # the hidden symmetries are the orthogonal group O(d1) of the quadratic form: C(d1, 2) of them
        assert rep["hidden_symmetries"].value == comb(d1, 2)


def test_linear_fiber_is_gl_orbit(analyze_cached):
    # hidden width 3 between 2 and 2: GL(3) acts with a one-dimensional stabiliser
    rep = analyze_cached("linear(widths=(2, 3, 2))")
    assert rep["dimension"].value == 4
    assert rep["fiber_dimension"].value == 12 - 4
    assert rep["hidden_symmetries"].value == 0


def test_factorials_in_degree_formula_are_consistent():
    # cross-check helper for later degree tests: Harris' formula for 2 x 2, rank 1 gives 2
    m, n, r = 2, 2, 1
    deg = 1
    for i in range(n - r):
        deg *= factorial(i) * factorial(m + i) // (factorial(r + i) * factorial(m - r + i))
    assert deg == 2
