"""Slices of the attention neuromanifold attention(d=2, dout=1, a=2, t=2) (5-dim, a quartic
hypersurface in its 6-dim span): the implicit equation is checked exactly on fresh images, the
singular points of the slice curve against the curve equations and against the local real picture
(node = two real branches in M, isolated real point = not in M), the boundary of M on the singular
curve of a 3-space slice against the Hessian of the quartic (Whitney-umbrella pinch points), and the
boundary of M on a plane curve of mlp(widths=(2,2,1), r=4) against Sylvester's real-rank criterion."""

from math import comb

import numpy as np
import pytest
import sympy

from neuromanifold.architectures import parse_spec
from neuromanifold.parametrization.coefficients import coefficient_map
from neuromanifold.errors import InputError
from neuromanifold.report.plots import plot_plane_slice, plot_surface_slice
from neuromanifold.report.slices import boundary_lines
from neuromanifold.slices import LABELS, plane_slice, surface_slice

SPEC = "attention(d=2, dout=1, a=2, t=2)"


def _form_expr(sl):
    ys = sympy.symbols(f"y0:{len(sl.coordinates)}")
    return ys, sum(c * sympy.Mul(*[ys[i] ** p for i, p in enumerate(ex)]) for ex, c in sl.form.items())


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
    assert len(sl.singular_in_M) == len(sl.singular_points)
    assert sl.evidence["singular_points_in_M"] + sl.evidence["singular_points_not_in_M"] == len(sl.singular_points)
    # every boundary point found (generic plane slices of this quartic have none: the real points
    # outside M form a 4-dimensional set) is refined and labelled
    for bp in sl.boundary_points:
        assert bp.label in LABELS and bp.evidence["approach"]
    assert plot_plane_slice(sl, str(tmp_path / "slice.png"))


def test_singular_points_in_M_are_nodes_the_others_isolated():
    """A real singular point of the slice curve is in M exactly when two real branches cross there
    (indefinite Hessian of f); the isolated real points (definite Hessian) have no real preimage.
    Seed 4 has both kinds."""
    sl = plane_slice(SPEC, seed=4, n_lines=2, restarts=8)
    s, t = sympy.symbols("s t")
    H = sympy.lambdify((s, t), sympy.hessian(sympy.sympify(sl.curve), (s, t)))
    kinds = []
    for p, m in zip(sl.singular_points, sl.singular_in_M):
        ev = np.linalg.eigvalsh(np.array(H(*p), dtype=float))
        node = ev[0] * ev[1] < 0
        assert bool(m) == node, (p, m, ev)
        kinds.append(node)
    assert True in kinds and False in kinds


def test_attention_surface_slice_boundary(tmp_path):
    ss = surface_slice(SPEC, n_levels=13)
    assert ss.degree == 4 and len(ss.singular_curve) > 10
    assert ss.singular_in_M.any() and (~ss.singular_in_M).any()
    assert len(ss.boundary_points) >= 1 and ss.boundary.shape == (len(ss.boundary_points), 3)
    ys, F = _form_expr(ss)
    grad = sympy.lambdify(ys, [sympy.diff(F, v) for v in ys])
    hess = sympy.lambdify(ys, sympy.hessian(F, ys))
    Fl = sympy.lambdify(ys, F)
    D = np.stack([ss.a, ss.b, ss.c], axis=1)

    def hess_gap(p):  # sigma_2 / sigma_1 of the Hessian of F: rank 2 on the double locus, 1 at pinch points
        sv = np.linalg.svd(np.array(hess(*(ss.y0 + D @ p)), dtype=float), compute_uv=False)
        return sv[1] / sv[0]

    crit = []
    for bp in ss.boundary_points:
        y = ss.y0 + D @ bp.point
        size = sum(abs(c) for c in ss.form.values()) * max(1.0, np.abs(y).max()) ** 4
        # on the surface and on its singular curve (grad F = 0), independently of the code's residual
        assert abs(Fl(*y)) < 1e-9 * size
        assert np.abs(grad(*y)).max() < 1e-7 * size
        ends = np.abs(bp.evidence["in_side_start"] + bp.evidence["out_side_start"]).max()
        assert bp.bracket <= bp.evidence["tolerance"] <= 1e-6 * (1 + ends) * (1 + 1e-12)
        assert bp.label in LABELS
        rows = [r for r in bp.evidence["approach"] if r.get("in_M")]
        assert len(rows) >= 3 and all("ratio" in r and "theta_norm" in r for r in rows)
        if bp.label == "critical value":
            ratios = [r["ratio"] for r in rows]
            assert ratios[-1] < 0.05 and ratios[-1] < ratios[0] / 5
            # algebraic check: a pinch point of the Whitney umbrella, the Hessian of F drops to rank 1
            assert hess_gap(bp.point) < 1e-4
            crit.append(ratios[-1])
    assert crit, [bp.label for bp in ss.boundary_points]
    # in-M points of the singular curve far from the boundary: Hessian of rank 2
    far = [p for p, m in zip(ss.singular_curve, ss.singular_in_M)
           if m and min(np.linalg.norm(p - b) for b in ss.boundary) > 0.3 and np.abs(p).max() < 3]
    assert far and min(hess_gap(p) for p in far) > 1e-3
    # points well inside M (samples of the surface away from the singular curve): clearly larger ratio
    rng = np.random.default_rng(1)
    cand = [p for p in ss.points if np.min(np.linalg.norm(ss.singular_curve - p, axis=1)) > 0.5]
    inner = []
    for i in rng.choice(len(cand), size=min(4, len(cand)), replace=False):
        pr = ss.probe(cand[i])
        if pr["in_M"]:
            inner.append(pr["ratio"])
    assert len(inner) >= 2 and min(inner) > 3 * max(crit), (inner, crit)
    assert plot_surface_slice(ss, str(tmp_path / "surface.png"))
    lines = boundary_lines(ss.boundary_points)
    assert len(lines) == len(ss.boundary_points) and all(bp.label in ln for bp, ln in zip(ss.boundary_points, lines))


def _apolar_discriminant(sl, y):
    """Sylvester: a real binary quartic of border rank 2 is w1 l1^4 + w2 l2^4 with real l1, l2 iff the
    kernel quadratic of its catalecticant has real roots (positive discriminant); zero discriminant:
    the tangential variety (l^3 m), reached only with parameters going to infinity."""
    cmap = coefficient_map(sl.architecture)
    c = np.zeros(len(cmap.monomials))
    c[np.array(sl.coordinates)] = y
    a = [0.0] * 5
    for (o, alpha), v in zip(cmap.monomials, c):
        a[alpha[0]] = v / comb(4, alpha[0])
    C = np.array([[a[0], a[1], a[2]], [a[1], a[2], a[3]], [a[2], a[3], a[4]]])
    u = np.linalg.svd(C)[2][-1]
    return u[1] ** 2 - 4 * u[0] * u[2]


def test_mlp_plane_slice_boundary_at_infinity(tmp_path):
    spec = "mlp(widths=(2,2,1), r=4)"
    sl = plane_slice(spec, t_range=(-1.6, -1.3), n_lines=5, boundary_tol=1e-5)
    D = np.stack([sl.a, sl.b], axis=1)
    assert len(sl.coordinates) == 5  # all coefficients of the binary quartic kept
    # membership agrees with the real-rank criterion at every sampled point
    for p, m in zip(sl.points, sl.in_M):
        assert bool(m) == (_apolar_discriminant(sl, sl.y0 + D @ p) > 0)
    assert len(sl.boundary_points) >= 1
    s, t = sympy.symbols("s t")
    f = sympy.lambdify((s, t), sympy.sympify(sl.curve))
    for bp in sl.boundary_points:
        assert abs(f(*bp.point)) < 1e-8 * (1 + np.abs(bp.point).max() ** 3)
        assert bp.bracket <= bp.evidence["tolerance"]
        assert bp.label == "at infinity", bp.evidence
        norms = [r["theta_norm"] for r in bp.evidence["approach"] if r.get("in_M")]
        assert len(norms) >= 3 and norms[-1] > 1.2 * norms[0]
        d_in = _apolar_discriminant(sl, sl.y0 + D @ np.array(bp.evidence["in_side_start"]))
        d_out = _apolar_discriminant(sl, sl.y0 + D @ np.array(bp.evidence["out_side_start"]))
        d_b = _apolar_discriminant(sl, sl.y0 + D @ bp.point)
        assert d_in > 0 > d_out and abs(d_b) < 0.05 * min(d_in, -d_out)
    assert plot_plane_slice(sl, str(tmp_path / "mlp.png"))


@pytest.mark.parametrize("kwargs, word", [({"n_lines": 1}, "n_lines"), ({"t_range": (1.0, -1.0)}, "t_range"),
                                          ({"boundary_tol": 0.0}, "boundary_tol"), ({"restarts": 0}, "restarts")])
def test_plane_slice_bad_input(kwargs, word):
    with pytest.raises(InputError, match=word):
        plane_slice(SPEC, **kwargs)


def test_cli_slice(tmp_path, capsys):
    import json

    from neuromanifold.cli import main

    png = tmp_path / "slice.png"
    assert main(["slice", SPEC, "--out", str(png), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["kind"] == "plane" and d["degree"] == 4 and png.stat().st_size > 5000
    assert len(d["singular"]) == len(d["singular_in_M"]) and isinstance(d["boundary_points"], list)
    # the exact curve of the JSON vanishes at its singular points
    s, t = sympy.symbols("s t")
    f = sympy.sympify(d["equation"])
    for p in d["singular"]:
        assert abs(float(f.subs({s: p[0], t: p[1]}))) < 1e-6 * (1 + max(abs(v) for v in p) ** 4)
    assert main(["slice", SPEC]) == 0
    text = capsys.readouterr().out
    assert "degree 4 (certified" in text and "; numerical)" in text and "M; numerical" in text
    assert main(["slice", "mlp(widths=(2,2,1), r=2)"]) == 2  # fills its span: no hypersurface to slice
    assert "error" in capsys.readouterr().err
