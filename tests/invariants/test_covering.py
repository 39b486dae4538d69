"""Covering numbers of M cap B_R: the bound from dimension and degree, and the Monte-Carlo eps-net."""

import math

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.parametrization.coefficients import coefficient_map
from neuromanifold.errors import InputError
from neuromanifold.invariants.covering import forward_degree, greedy_separated, log_packing_bound


def test_segment_bound_and_net_against_exact_packing_number():
    # linear(widths=(1,1,1)): M = R (x -> a b x), so M cap B_R = [-R, R]; the largest set of points pairwise
    # more than eps apart in an interval of length L has ceil(L / eps) points.
    R = 1.0
    rep = nm.analyze("linear(widths=(1,1,1))", only=["dimension", "log_covering_number", "epsilon_net"],
                     eps=0.15, radius=R)
    assert rep["dimension"].value == 1
    for row in rep["epsilon_net"].evidence["by_eps"]:
        exact = math.ceil(2 * R / row["eps"])
        assert row["net_size"] <= exact
        assert row["net_size"] >= 0.8 * R / row["eps"]  # a maximal eps-separated set has gaps <= 2 eps
        assert row["log_bound"] >= math.log(exact) - 1e-12
    assert rep["log_covering_number"].status == "upper_bound"
    assert rep["log_covering_number"].value == pytest.approx(math.log1p(2 * R / 0.15), rel=1e-6)


def test_net_bounded_by_formula_over_eps_twisted_cubic_cone():
    # mlp(widths=(2,1,1), r=3): cubes of binary linear forms, the cone over the twisted cubic (dim 2, degree 3)
    rep = nm.analyze("mlp(widths=(2,1,1), r=3)", only=["dimension", "degree", "log_covering_number", "epsilon_net"],
                     eps=0.05, radius=1.0)
    assert (rep["dimension"].value, rep["degree"].value) == (2, 3)
    net = rep["epsilon_net"]
    assert net.status == "numerical" and net.evidence["samples"] == 2000
    rows = net.evidence["by_eps"]
    assert len(rows) >= 6 and rows[0]["eps"] == pytest.approx(0.05)
    for row in rows:
        assert row["log_net_size"] <= row["log_bound"]
    sizes = [r["net_size"] for r in rows]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 50 * sizes[-1]
    assert rep["log_covering_number"].evidence["degree"]["used"].startswith("certified degree")


def test_bound_formula_veronese_surface_cone():
    # mlp(widths=(3,1,1), r=4): fourth powers of ternary linear forms, cone over the Veronese surface
    # nu_4(P^2): dim 3, degree 4^2 = 16 (closed formula); span = ternary quartics, dimension 15.
    eps, R = 0.1, 1.0
    rep = nm.analyze("mlp(widths=(3,1,1), r=4)", only=["dimension", "degree", "log_covering_number"], eps=eps, radius=R)
    res = rep["log_covering_number"]
    assert res.evidence["degree_upper_bound"] == 16 == 4**2
    assert res.evidence["mu0_norm"] == 0.0
    expected = min(math.log(16) + 2 * 3 * math.log(1 + 2 * R / eps), 15 * math.log(1 + 2 * R / eps))
    assert res.value == pytest.approx(expected, rel=1e-6)
    # without the degree invariant: Bezout (deg_theta mu)^dim = 5^3
    rep2 = nm.analyze("mlp(widths=(3,1,1), r=4)", only=["log_covering_number"], eps=eps, radius=R)
    assert rep2["log_covering_number"].evidence["degree_upper_bound"] == 125
    assert rep2["log_covering_number"].value >= res.value


@pytest.mark.parametrize("spec", ["mlp(widths=(2,2,2,1), r=2, bias=True)", "attention(d=2, dout=1, a=2, t=2)",
                                  "cnn(k=(2,2), s=(1,1), r=2)", "linear(widths=(2,1,2))"])
def test_degree_arithmetic_matches_symbolic_expansion(spec):
    arch = nm.parse_spec(spec)
    assert forward_degree(arch) == int(coefficient_map(arch).polynomials.degrees.max())


def test_greedy_separated_and_bound_monotone():
    pts = np.array([[0.0], [0.05], [0.2], [0.21], [1.0]])
    idx = greedy_separated(pts, 0.1)
    assert idx.tolist() == [0, 2, 4]
    a = log_packing_bound(2, 3, 4, 0.1, 1.0, 0.0)
    b = log_packing_bound(2, 3, 4, 0.05, 1.0, 0.0)
    assert b["value"] > a["value"] and a["rho"] == 1.0
    assert log_packing_bound(2, 3, 4, 0.1, 1.0, None)["rho"] == 2.0


def test_bad_eps_and_large_net(tmp_path):
    with pytest.raises(InputError, match="eps must be a positive"):
        nm.analyze("mlp(widths=(2,1,1), r=3)", only=["log_covering_number"], eps=0.0)
    with pytest.raises(InputError, match="radius must be a positive"):
        nm.analyze("mlp(widths=(2,1,1), r=3)", only=["log_covering_number"], radius=float("nan"))
    rep = nm.analyze("linear(widths=(7,7))", only=["epsilon_net", "log_covering_number"])
    assert rep["epsilon_net"].status == "failed" and "small cases" in rep["epsilon_net"].evidence["reason"]
    assert rep["log_covering_number"].status == "upper_bound"


def test_plot_covering(tmp_path):
    from neuromanifold.report.plots import plot_covering

    rep = nm.analyze("linear(widths=(1,1,1))", only=["epsilon_net", "log_covering_number"])
    out = plot_covering(rep["epsilon_net"], tmp_path / "cov.png", bound=rep["log_covering_number"])
    assert (tmp_path / "cov.png").stat().st_size > 1000 and out.endswith("cov.png")
