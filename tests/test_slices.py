"""A plane slice of the attention neuromanifold attention(d=2, dout=1, a=2, t=2) (5-dim, a quartic
hypersurface in its 6-dim span): the implicit equation is checked exactly on fresh images, the
singular points of the slice curve against the curve equations, and the points called "in M" have
real preimages."""

import numpy as np
import sympy

from neuromanifold.architectures import parse_spec
from neuromanifold.coefficients import coefficient_map
from neuromanifold.report.plots import plot_plane_slice
from neuromanifold.slices import plane_slice

SPEC = "attention(d=2, dout=1, a=2, t=2)"


def test_attention_plane_slice(tmp_path):
    sl = plane_slice(SPEC, n_lines=31, restarts=20)
    assert sl.degree == 4 and sl.evidence["span"] == 6
    # the implicit form vanishes exactly on images of fresh integer parameters (and is not zero)
    cmap = coefficient_map(parse_spec(SPEC))
    rng = np.random.default_rng(99)
    for _ in range(5):
        th = rng.integers(-5, 6, size=cmap.arch.n_params)
        y = np.rint(cmap.polynomials.evaluate(th[None, :].astype(complex))[0].real).astype(int)[sl.coordinates]
        val = sum(c * int(np.prod([int(y[i]) ** p for i, p in enumerate(ex)])) for ex, c in sl.form.items())
        assert val == 0
    assert any(sl.form.values())
    # singular points of the curve solve f = f_s = f_t = 0
    s, t = sympy.symbols("s t")
    f = sympy.sympify(sl.curve)
    for p in sl.singular_points:
        for g in (f, sympy.diff(f, s), sympy.diff(f, t)):
            assert abs(float(g.subs({s: p[0], t: p[1]}))) < 1e-6 * (1 + np.abs(p).max() ** 4)
    assert len(sl.points) > 20 and sl.in_M.sum() > 0
    assert plot_plane_slice(sl, str(tmp_path / "slice.png"))
