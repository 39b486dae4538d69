"""ED degrees of neuromanifolds against closed formulas from the literature.

* Eckart-Young: m x n matrices of rank <= r in the Frobenius norm have ED degree binom(min(m, n), r)
  (reference.md; Draisma-Horobet-Ottaviani-Sturmfels-Thomas, FoCM 2016, Example 2.3).
* Veronese cones v_d(P^{n-1}) = {a (w.x)^d} (the networks mlp((n, 1, 1), r=d)): generic ED degree
  ((2d-1)^n - (d-1)^n) / d, and in the Bombieri-Weyl metric ((d-1)^n - 1) / (d-2) for d > 2, n for
  d = 2 (DHOST, Corollary 8.7 and the count of eigenvectors of symmetric tensors).
* Segre cone P^{m-1} x P^{n-1} (rank-one m x n matrices) in a generic metric: 6 for 2 x 2, 39 for 3 x 3
  (DHOST, Section 8: generic ED degrees of Segre varieties).
"""

from math import comb

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.parametrization.coefficients import coefficient_map, metric_matrix
from neuromanifold.architectures import parse_spec
from neuromanifold.errors import InputError
from assertions import assert_certified


def ed(spec: str, metric: str, seed: int = 0):
    return nm.analyze(spec, only="ed_degree", metric=metric, seed=seed)["ed_degree"]


@pytest.mark.parametrize("widths,m,n,r", [((2, 1, 2), 2, 2, 1), ((3, 1, 3), 3, 3, 1), ((4, 2, 3), 3, 4, 2)])
def test_eckart_young(widths, m, n, r):
    res = ed(f"linear(widths={widths})", "euclidean")
    assert_certified(res, comb(min(m, n), r))
    assert len(res.evidence["trace_tests"][-1]["residuals"]) == 2


@pytest.mark.slow
def test_eckart_young_4x4_rank2():
    res = ed("linear(widths=(4, 2, 4))", "euclidean")
    assert_certified(res, 6)


def veronese_generic(n: int, d: int) -> int:
    return ((2 * d - 1) ** n - (d - 1) ** n) // d


def veronese_bw(n: int, d: int) -> int:
    return n if d == 2 else ((d - 1) ** n - 1) // (d - 2)


@pytest.mark.parametrize("n,d", [(2, 3), (3, 2)])
def test_veronese_generic_and_bombieri_weyl(n, d):
    spec = f"mlp(widths=({n}, 1, 1), r={d})"
    g = ed(spec, "generic")
    assert_certified(g, veronese_generic(n, d))
    bw = ed(spec, "bombieri_weyl")
    assert bw.value == veronese_bw(n, d), bw.evidence
    assert bw.status in ("certified", "numerical")
    assert bw.value <= g.value  # a special metric never has more critical points than a generic one


@pytest.mark.parametrize("widths,expected", [((2, 1, 2), 6), ((3, 1, 3), 39)])
def test_segre_generic(widths, expected):
    res = ed(f"linear(widths={widths})", "generic")
    assert_certified(res, expected)


def test_ed_degree_is_seed_independent_and_reproducible():
    a = ed("cnn(k=(3, 2), s=(1, 1), r=2)", "generic", seed=0)
    b = ed("cnn(k=(3, 2), s=(1, 1), r=2)", "generic", seed=0)
    c = ed("cnn(k=(3, 2), s=(1, 1), r=2)", "generic", seed=3)
    assert a.value == b.value == c.value
    assert_certified(a)
    # the Euclidean metric is special for this cone: fewer critical points than a generic one
    e = ed("cnn(k=(3, 2), s=(1, 1), r=2)", "euclidean")
    assert e.value <= a.value


def test_metric_matrices():
    cmap = coefficient_map(parse_spec("mlp(widths=(2, 1, 1), r=3)"))
    rng = np.random.default_rng(0)
    Q = metric_matrix(cmap, "bombieri_weyl", rng)
    # binary cubics: x^3, x^2 y, x y^2, y^3 have weights 1, 1/3, 1/3, 1
    weights = {a: Q[i, i] for i, (_, a) in enumerate(cmap.monomials)}
    assert weights == pytest.approx({(3, 0): 1.0, (2, 1): 1 / 3, (1, 2): 1 / 3, (0, 3): 1.0})
    G = metric_matrix(cmap, "generic", rng)
    assert np.all(np.linalg.eigvalsh(G) > 0)
    with pytest.raises(InputError, match="unknown metric"):
        metric_matrix(cmap, "l1", rng)


def test_bad_metric_is_a_clear_error():
    with pytest.raises(InputError, match="unknown metric 'taxicab'"):
        nm.analyze("linear(widths=(2, 1, 2))", only="ed_degree", metric="taxicab")
