"""Voronoi cells of a cusp and a node, against brute force on explicit parametrizations.

cusp y^2 = x^3: (t^2, t^3); node y^2 = x^2 (x + 1): (t^2 - 1, t (t^2 - 1)), the node at t = +-1.
The cusp's tangent cone is one ray, so its Voronoi cell is 2-dimensional (the targets "behind" it);
the node's branches cross transversally, their tangent rays span the plane and its cell is the node
itself (no grid target away from it).
"""

import numpy as np
import pytest

from neuromanifold.errors import InputError
from neuromanifold.landscape.plane_curves import curve_voronoi
from neuromanifold.report.plots import plot_curve_voronoi


def brute_force_labels(cv, param):
    t = np.linspace(-4, 4, 400_001)
    P = np.stack(param(t), axis=1)
    out = np.zeros(cv.label.shape, dtype=bool)
    for j, tt in enumerate(cv.t):
        for i, ss in enumerate(cv.s):
            d = np.hypot(P[:, 0] - ss, P[:, 1] - tt)
            out[j, i] = np.hypot(ss, tt) <= d.min() + 1e-9  # the singular point (origin) is nearest
    return out


@pytest.mark.parametrize(
    "eq,param,two_dimensional",
    [
        ("y**2 - x**3", lambda t: (t**2, t**3), True),
        ("y**2 - x**2*(x + 1)", lambda t: (t**2 - 1, t * (t**2 - 1)), False),
    ],
)
def test_singular_cells_match_brute_force(eq, param, two_dimensional, tmp_path):
    cv = curve_voronoi(eq, grid=21)
    assert np.allclose(cv.singular_points, [[0.0, 0.0]])
    ours = cv.label == 0
    decided = cv.label != -2
    assert decided.mean() > 0.9
    truth = brute_force_labels(cv, param)
    agree = np.mean(ours[decided] == truth[decided])
    assert agree >= 0.97, agree
    assert (cv.cell_fraction(0) > 0.2) is two_dimensional
    assert plot_curve_voronoi(cv, str(tmp_path / "c.png"))


def test_bad_curve():
    with pytest.raises(InputError, match="polynomial in x and y"):
        curve_voronoi("sin(x) - y")
