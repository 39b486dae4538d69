"""Batched gradient descent (vmap) vs Voronoi masses."""

import numpy as np
import pytest

from neuromanifold.errors import InputError
from neuromanifold.landscape.implicit_bias import implicit_bias
from neuromanifold.report.landscape import implicit_bias_text
from neuromanifold.report.plots import plot_implicit_bias


def test_fractions_and_masses(tmp_path):
    r = implicit_bias("cnn(k=(2, 2), s=(1, 1), r=1)", n_targets=30, n_inits=8, steps=1500, voronoi_samples=150)
    assert r.runs == 240
    assert sum(g["fraction"] for g in r.gd.values()) == pytest.approx(1.0)
    assert sum(v["mass"] for v in r.voronoi.strata.values()) == pytest.approx(1.0)
    # both see the two strata of this semialgebraic M: the interior and the double-root boundary
    assert "smooth" in r.gd and any(n.startswith("critical of mu") for n in r.gd)
    assert any(n.startswith("critical of mu") for n in r.voronoi.strata)
    # gradient descent reaches a critical point (the loss stops decreasing) on most runs
    assert r.evidence["gradient_descent"]["median_final_loss"] < 1e-3
    # ground truth per run: a target u0 + u1 t + u2 t^2 with real roots lies in M (descent ends on it, a
    # regular point when the roots are distinct); one with complex roots projects onto the double-root
    # boundary, images of critical points of mu.  Classified runs must agree; unclassified ones are few
    # and reported with a reason.
    U = r.targets
    inside = U[:, 1] ** 2 >= 4 * U[:, 0] * U[:, 2]
    lab = np.array(r.labels)
    classified = (lab == "smooth") | np.char.startswith(lab.astype(str), "critical of mu")
    assert classified.mean() >= 0.8
    agree = (lab[classified] == "smooth") == inside[classified]
    assert agree.mean() >= 0.97, agree.mean()
    unc = r.evidence["classification"]["unclassified"]
    assert sum(unc.values()) == int(np.sum(lab == "unclassified"))
    path = plot_implicit_bias(r, str(tmp_path / "bias.png"))
    assert (tmp_path / "bias.png").stat().st_size > 5000 and path.endswith(".png")
    assert "GD fraction" in implicit_bias_text(r)


def test_bad_arguments():
    with pytest.raises(InputError, match="positive"):
        implicit_bias("linear(widths=(2, 1, 2))", steps=0)
