"""Voronoi masses of strata, against closed-form geometry.

* Linear networks in the Frobenius norm: the nearest point of {rank <= r} is the truncated SVD
  (Eckart-Young), a smooth point for almost every target: the smooth stratum has mass 1.
* The stride-1 linear CNN with filters (2, 2): its functions are the quadratics u0 x0 + u1 x1 + u2 x2
  whose polynomial u0 + u1 t + u2 t^2 factors over R, i.e. u1^2 >= 4 u0 u2 (a semialgebraic set).  A
  Gaussian target with real roots is its own nearest point (smooth stratum); one with complex roots
  projects to the boundary (double roots), images of critical points of mu.  So the smooth mass is
  P(u1^2 >= 4 u0 u2), computed here by plain Monte Carlo on 10^6 Gaussian vectors.
"""

import numpy as np
import pytest

from neuromanifold.errors import InputError
from neuromanifold.landscape.voronoi import voronoi_masses, wilson_interval
from neuromanifold.report.landscape import voronoi_text


def test_wilson_interval():
    lo, hi = wilson_interval(50, 100)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(0.19, abs=0.01)
    assert wilson_interval(100, 100)[1] == 1.0


def test_linear_network_nearest_points_are_smooth():
    r = voronoi_masses("linear(widths=(2, 1, 2))", n_samples=120)
    assert r.n_samples >= 110
    assert set(r.strata) == {"smooth"} and r.strata["smooth"]["mass"] == 1.0
    assert r.strata["smooth"]["cell_dimension"] == 4 - 3  # normal space of a 3-fold in R^4
    assert r.to_dict()["status"] == "numerical" and "status: numerical" in voronoi_text(r)


def test_masses_sum_to_one_and_match_the_real_root_probability():
    r = voronoi_masses("cnn(k=(2, 2), s=(1, 1), r=1)", n_samples=300, seed=1)
    assert sum(s["mass"] for s in r.strata.values()) == pytest.approx(1.0)
    u = np.random.default_rng(123).standard_normal((1_000_000, 3))
    p_real = float(np.mean(u[:, 1] ** 2 >= 4 * u[:, 0] * u[:, 2]))
    lo, hi = r.strata["smooth"]["ci95"]
    assert lo <= p_real <= hi, (p_real, r.strata)
    boundary = [s for name, s in r.strata.items() if name.startswith("critical of mu")]
    assert boundary and sum(s["mass"] for s in boundary) == pytest.approx(1 - r.strata["smooth"]["mass"])
    # cells: M is full-dimensional (interior points: 0-dimensional cells, codim M = 0); the double-root
    # boundary is a surface whose points have the outward normal ray as cell: 1 > codim M (singular stratum)
    assert r.strata["smooth"]["cell_dimension"] == 0
    assert all(s["cell_dimension"] == 1 and s["cell_dimension_status"] == "numerical" for s in boundary)


def test_bad_distribution():
    with pytest.raises(InputError, match="lives in R\\^3"):
        voronoi_masses("cnn(k=(2, 2), s=(1, 1), r=1)", distribution=lambda rng, n: rng.standard_normal((n, 5)))
    with pytest.raises(InputError, match="unknown distribution"):
        voronoi_masses("cnn(k=(2, 2), s=(1, 1), r=1)", distribution="cauchy")


def test_voronoi_cells_of_points():
    from neuromanifold.landscape.voronoi import voronoi_cell

    spec = "cnn(k=(2, 2), s=(1, 1), r=1)"  # quadratics u0 + u1 t + u2 t^2 with real roots
    interior = voronoi_cell(spec, [1.0, 3.0, 2.0], n_samples=80)  # (1 + t)(1 + 2t): M is full-dimensional here
    assert interior.smooth and interior.dimension == 0
    boundary = voronoi_cell(spec, [1.0, 2.0, 1.0], n_samples=80)  # (1 + t)^2: the double-root boundary
    assert not boundary.smooth and boundary.dimension == 1  # the outward normal ray
    hit, total = boundary.fraction_normal
    lo, hi = wilson_interval(hit, total)
    assert lo <= 0.5 <= hi  # one of the two normal directions leaves M
    cone = voronoi_cell("mlp(widths=(2, 1, 1), r=2)", [1.0, -2.0, 1.0], n_samples=60)  # (x - y)^2 on a 2-D cone in R^3
    assert cone.smooth and cone.dimension == 1
    with pytest.raises(InputError, match="not on the real neuromanifold"):
        voronoi_cell(spec, [1.0, 0.0, 1.0])  # 1 + t^2 has no real roots
    with pytest.raises(InputError, match="length 3"):
        voronoi_cell(spec, [1.0, 2.0])


def test_optimisation_fallback_is_labelled_and_agrees():
    # pretend the complete solve does not fit: nearest points from many-restart optimisation instead
    r = voronoi_masses("cnn(k=(2, 2), s=(1, 1), r=1)", n_samples=150, seed=2, total_degree_limit=1)
    assert r.evidence["nearest_point"].startswith("optimisation")
    u = np.random.default_rng(7).standard_normal((1_000_000, 3))
    p_real = float(np.mean(u[:, 1] ** 2 >= 4 * u[:, 0] * u[:, 2]))
    lo, hi = r.strata["smooth"]["ci95"]
    assert lo <= p_real <= hi
    # cell dimensions from continuing the local optima: the same as with exact nearest points
    assert r.strata["smooth"]["cell_dimension"] == 0
    assert [s["cell_dimension"] for n, s in r.strata.items() if n.startswith("critical of mu")] == [1]
