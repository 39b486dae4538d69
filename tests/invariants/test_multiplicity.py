"""Multiplicity (local degree) of a variety at a point, against closed forms.

* Plane curves given by parametrizations: the cusp (t^2, t^3) and the node (t^2 - 1, t (t^2 - 1)) have
  multiplicity 2 at the origin (the order of vanishing of y^2 - x^3, y^2 - x^2 (x + 1) there) and 1 at
  their other points.  The cusp is unibranch: one limiting tangent line, invisible to a tangent-cone test.
* 3 x 3 matrices of rank <= 2 (linear(widths=(3, 2, 3))) form the hypersurface det = 0, whose
  multiplicity at a matrix of rank r is 3 - r (det vanishes to order n - r there).
* attention(d=2, dout=1, a=2, t=2): its Zariski closure is a quartic F = 0 (computed exactly in
  ``slices``); at the images of rank-1 attention the gradient of F vanishes and its Hessian does not,
  so the multiplicity there is 2 (a singular point the tangent-cone test does not see).
"""

import numpy as np
import pytest
import sympy

from neuromanifold.context import Context
from neuromanifold.homotopy.witness import PolynomialImageSliceSystem, random_unitary_like
from neuromanifold.invariants.multiplicity import local_multiplicity, network_multiplicity


def curve_witness(E, C, rng):
    """Witness set of a parametrized plane curve t -> (P1(t), P2(t)): roots of R P(t) = b0."""
    R = random_unitary_like(rng, (1, 2))
    b0 = rng.standard_normal(1) + 1j * rng.standard_normal(1)
    t = sympy.Symbol("t")
    poly = sum(complex(R[0, a] * C[a, i]) * t ** int(E[i, 0]) for a in range(2) for i in range(len(E))) - complex(b0[0])
    coeffs = [complex(c) for c in sympy.Poly(poly, t).all_coeffs()]
    return PolynomialImageSliceSystem(E, C, R), np.roots(coeffs)[:, None], b0


@pytest.mark.parametrize(
    "E,C,points",
    [
        (np.array([[2], [3]]), np.eye(2), [((0, 0), 2), ((1, 1), 1), ((4, -8), 1)]),  # cusp (t^2, t^3)
        # node: (t^2 - 1, t^3 - t): monomials t^0..t^3
        (np.array([[0], [1], [2], [3]]), np.array([[-1, 0, 1, 0], [0, -1, 0, 1]]), [((0, 0), 2), ((3, 6), 1)]),
    ],
)
def test_plane_curves(E, C, points):
    rng = np.random.default_rng(3)
    system, roots, b0 = curve_witness(E, C.astype(complex), rng)
    for y, m in points:
        out = local_multiplicity(system, roots, b0, np.array(y, dtype=float), rng)
        assert out["multiplicity"] == m, out
        assert out["verdict"] == ("singular" if m > 1 else "smooth") and out["status"] == "numerical"


def test_determinantal_hypersurface():
    ctx = Context("linear(widths=(3, 2, 3))", seed=0)
    rng = np.random.default_rng(11)
    for r in (0, 1, 2):  # W = W2 W1 with W1 (2 x 3), W2 (3 x 2): keep r hidden neurons
        W1, W2 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
        W1[r:], W2[:, r:] = 0, 0
        theta = np.concatenate([W1.ravel(), W2.ravel()]).astype(complex)
        out = network_multiplicity(ctx, theta, rng)
        assert out["multiplicity"] == 3 - r, out


def test_attention_rank_one_is_a_singular_point_of_the_quartic():
    import neuromanifold as nm
    from neuromanifold.architectures import parse_spec
    from neuromanifold.parametrization.coefficients import coefficient_map
    from neuromanifold.slices import plane_slice

    spec = "attention(d=2, dout=1, a=2, t=2)"
    res = nm.analyze(spec, only="singularities")["singularities"]
    fam = {f["family"]: f for f in res.evidence["families"]}["layer 1: attention rank 1 of 2"]
    assert fam["singular"] is True and fam["multiplicity"]["multiplicity"] == 2
    # independent check on the exact implicit quartic F: grad F = 0, Hessian != 0 at rank-1 images
    sl = plane_slice(spec, n_lines=2, restarts=1)
    ys = sympy.symbols(f"y0:{len(sl.coordinates)}")
    F = sum(c * sympy.Mul(*[ys[i] ** p for i, p in enumerate(ex)]) for ex, c in sl.form.items())
    grad = sympy.lambdify(ys, [sympy.diff(F, v) for v in ys])
    hess = sympy.lambdify(ys, sympy.hessian(F, ys))
    arch = parse_spec(spec)
    cmap = coefficient_map(arch)
    rng = np.random.default_rng(5)
    theta = rng.integers(1, 5, arch.n_params) * rng.choice([-1, 1], arch.n_params)
    theta[[arch.index(M, (1, c)) for M in ("Q1", "K1") for c in range(2)]] = 0  # attention rank 1
    y = [int(v) for v in np.rint(cmap.polynomials.evaluate(theta[None].astype(complex))[0].real)[sl.coordinates]]
    assert all(g == 0 for g in grad(*y))  # exact integer arithmetic
    assert np.any(np.array(hess(*y)) != 0)
