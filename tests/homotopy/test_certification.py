"""Certified solutions by the Krawczyk test in ball arithmetic (homotopy.certification)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from flint import acb, arb

from neuromanifold.errors import InputError
from neuromanifold.homotopy.certification import Certification, certify_solutions
from neuromanifold.homotopy.polynomial import PolynomialSystem, univariate, univariate_family
from neuromanifold.homotopy.start import solve_total_degree


def _box_contains(cert: Certification, b: int, root) -> bool:
    """Exact test (ball arithmetic, no rounding) that the certified box b contains the point ``root``."""
    r = float(cert.radii[b])
    for mid, x in zip(cert.midpoints[b], np.atleast_1d(root)):
        box = acb(arb(float(mid.real), r), arb(float(mid.imag), r))
        if not box.contains(acb(complex(x))):
            return False
    return True


def _squares() -> tuple[PolynomialSystem, np.ndarray]:
    """z0^2 = 4, z1^2 = -1, z2^2 = 2.25: eight roots known exactly (they are doubles)."""
    S = PolynomialSystem(
        [{(2, 0, 0): 1.0, (0, 0, 0): -4.0}, {(0, 2, 0): 1.0, (0, 0, 0): 1.0}, {(0, 0, 2): 1.0, (0, 0, 0): -2.25}], 3
    )
    roots = np.array(list(itertools.product([2.0, -2.0], [1j, -1j], [1.5, -1.5])), dtype=complex)
    return S, roots


def _poly_mul(a: dict, b: dict) -> dict:
    out: dict = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb))
            out[e] = out.get(e, 0) + ca * cb
    return out


def _known_roots_system(n: int, d: int, rng: np.random.Generator) -> tuple[PolynomialSystem, np.ndarray]:
    """F(w) = A G(L w), G_i(u) = prod_k (u_i - c_ik): dense in w, degree d, its d^n roots in closed form."""
    c = rng.standard_normal((n, d)) + 1j * rng.standard_normal((n, d))
    L = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    A = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    unit = [tuple(int(k == j) for k in range(n)) for j in range(n)]
    G = []
    for i in range(n):
        g = {(0,) * n: 1.0 + 0j}
        for k in range(d):
            lin = {unit[j]: L[i, j] for j in range(n)}
            lin[(0,) * n] = -c[i, k]
            g = _poly_mul(g, lin)
        G.append(g)
    F = []
    for i in range(n):
        f: dict = {}
        for k in range(n):
            for e, v in G[k].items():
                f[e] = f.get(e, 0) + A[i, k] * v
        F.append(f)
    U = np.array(list(itertools.product(*c)))
    return PolynomialSystem(F, n, 0), np.linalg.solve(L, U.T).T


def test_boxes_contain_closed_form_roots():
    S, roots = _squares()
    rng = np.random.default_rng(0)
    approx = roots + 1e-9 * (rng.standard_normal(roots.shape) + 1j * rng.standard_normal(roots.shape))
    cert = certify_solutions(S, approx)
    assert cert.certified.all() and cert.distinct.all()
    assert all(_box_contains(cert, b, roots[b]) for b in range(len(roots)))
    assert np.all(cert.radii < 1e-10)
    # the z1 coordinate is +-i: every root is certified non-real
    assert list(cert.real) == [False] * len(roots)
    s = cert.summary()
    assert s["certified"] == 8 and s["distinct"] == 8 and s["non_real"] == 8 and "Krawczyk" in s["method"]
    assert cert.evidence() == s
    assert cert.reason == [""] * 8


def test_real_and_nonreal_roots_of_a_real_univariate():
    roots = np.array([1.0, 2.0, -3.0, 1j, -1j])
    U = univariate(np.real(np.poly(roots)))  # z^5 + ... with integer coefficients
    approx = np.roots(np.real(np.poly(roots)))[:, None]
    cert = certify_solutions(U, approx)
    assert cert.certified.all() and cert.distinct.all() and cert.real_system
    for b in range(5):
        true = roots[np.argmin(np.abs(roots - approx[b, 0]))]
        assert _box_contains(cert, b, true)
        assert cert.real[b] is bool(true.imag == 0)
    # a real root given with a small spurious imaginary part is still certified real
    c2 = certify_solutions(U, np.array([[2.0 + 1e-13j], [-3.0 - 1e-11j]]))
    assert list(c2.real) == [True, True]


def test_complex_coefficients_are_never_certified_real():
    U = univariate([1.0, -(1 + 1e-3j) * 2, (1 + 1e-3j) ** 2 - 1])  # roots (1 + 1e-3 i) +- 1
    cert = certify_solutions(U, np.array([[2.0], [0.0]]))
    assert cert.certified.all() and not cert.real_system
    assert all(v in (None, False) for v in cert.real)


def test_parameters():
    fam = univariate_family(2)  # a0 + a1 z + a2 z^2
    p = np.array([-2.0, 0.0, 1.0])
    cert = certify_solutions(fam, np.array([[1.41], [-1.41]]), p)
    assert cert.certified.all() and cert.distinct.all() and list(cert.real) == [True, True]
    assert abs(cert.midpoints[0, 0] - np.sqrt(2)) <= cert.radii[0]
    cert = certify_solutions(fam, np.array([[1.41j]]), np.array([2.0, 0.0, 1.0]))
    assert cert.certified.all() and list(cert.real) == [False]


@pytest.mark.parametrize("newton_steps", [0, 1, 2])
def test_perturbed_point_is_refused_or_certified_around_a_true_root(newton_steps):
    S, roots = _squares()
    rng = np.random.default_rng(1)
    approx = roots + 1e-2 * (rng.standard_normal(roots.shape) + 1j * rng.standard_normal(roots.shape))
    cert = certify_solutions(S, approx, newton_steps=newton_steps)
    for b in range(len(roots)):
        if cert.certified[b]:
            # the unique root in the box is one of the true roots (never a wrong root)
            assert sum(_box_contains(cert, b, r) for r in roots) == 1
        else:
            assert cert.reason[b]
    if newton_steps:
        assert cert.certified.all()


def test_far_point_is_never_certified_wrongly():
    S, roots = _squares()
    cert = certify_solutions(S, np.array([[0.5, 0.3, 0.1], [7.0, -2.0, 3.0]]), newton_steps=0)
    for b in range(2):
        assert not cert.certified[b] or any(_box_contains(cert, b, r) for r in roots)
        assert cert.certified[b] or "K(X)" in cert.reason[b]


def test_duplicates_are_not_distinct():
    S, roots = _squares()
    pts = np.concatenate([roots, roots[[0]], roots[[3]] + 1e-12])
    cert = certify_solutions(S, pts)
    assert cert.certified.all()
    assert not cert.distinct[0] and not cert.distinct[8] and not cert.distinct[3] and not cert.distinct[9]
    assert cert.distinct[[1, 2, 4, 5, 6, 7]].all()
    assert cert.summary()["certified_not_distinct"] == 4


def test_singular_roots_are_not_certified():
    U = univariate([1.0, 0.0, 0.0])  # z^2 = 0, a double root
    cert = certify_solutions(U, np.array([[0.0], [1e-7], [1e-3 + 1e-3j]]))
    assert not cert.certified.any() and np.isnan(cert.radii).all() and not cert.distinct.any()
    assert all("singular" in r for r in cert.reason)
    assert all(v is None for v in cert.real)
    # a double root of a 2 x 2 system: (z0^2 - z1, z1) at the origin
    S = PolynomialSystem([{(2, 0): 1.0, (0, 1): -1.0}, {(0, 1): 1.0}], 2)
    cert = certify_solutions(S, np.array([[1e-5, 1e-9], [0.0, 0.0]]))
    assert not cert.certified.any() and all("singular" in r for r in cert.reason)


@pytest.mark.parametrize("real_coefficients", [False, True])
def test_total_degree_solutions_are_certified(real_coefficients):
    rng = np.random.default_rng(7)
    n, degrees = 3, [2, 2, 3]
    polys = []
    for d in degrees:
        terms = {}
        for e in itertools.product(range(d + 1), repeat=n):
            if sum(e) <= d:
                terms[e] = rng.standard_normal() + (0 if real_coefficients else 1j * rng.standard_normal())
        polys.append(terms)
    S = PolynomialSystem(polys, n)
    res = solve_total_degree(S, seed=3)
    assert res.n_solutions == 12
    cert = certify_solutions(S, res.solutions)
    assert cert.certified.all() and cert.distinct.all(), cert.reason
    assert np.max(np.abs(cert.midpoints - res.solutions)) < 1e-8
    if real_coefficients:
        assert all(v is not None for v in cert.real)  # every root decided real / non-real
        n_real = sum(v is True for v in cert.real)
        assert n_real % 2 == 0  # 12 roots, non-real ones in conjugate pairs
        nonreal = cert.midpoints[[v is False for v in cert.real]]
        assert len(nonreal) == 0 or np.min(np.abs(nonreal.imag).max(axis=1)) > 0
    else:
        assert all(v is not True for v in cert.real)


def test_precision_and_inflation_options():
    S, roots = _squares()
    for prec, infl in [(53, 1e3), (212, 10.0), (106, 1e6)]:
        cert = certify_solutions(S, roots, precision=prec, inflation=infl)
        assert cert.certified.all() and cert.precision == prec
        assert all(_box_contains(cert, b, roots[b]) for b in range(len(roots)))


def test_certify_80_points_in_6_unknowns_of_degree_3():
    rng = np.random.default_rng(11)
    S, W = _known_roots_system(6, 3, rng)
    pts = W[rng.choice(len(W), 80, replace=False)]
    approx = pts + 1e-10 * rng.standard_normal(pts.shape)
    certify_solutions(S, approx[:2])  # warm-up (imports)
    t0 = time.perf_counter()
    cert = certify_solutions(S, approx)
    seconds = time.perf_counter() - t0
    print(f"\ncertified {cert.n_certified}/80 points (6 unknowns, degree 3, {S._n_monomials} monomials) "
          f"in {seconds:.3f} s; max radius {np.nanmax(cert.radii):.1e}")
    assert cert.certified.all() and cert.distinct.all()
    # the boxes (radius ~1e-12) are those of the roots of the stored double-coefficient system; the
    # closed-form roots of the unrounded system, computed in floating point, are ~1e-9 away (the expanded
    # coefficients cancel heavily), so they are only compared with a tolerance, and each box matches its own
    dist = np.abs(cert.midpoints[:, None, :] - pts[None, :, :]).max(axis=2)
    assert np.all(np.argmin(dist, axis=1) == np.arange(80)) and np.all(np.diag(dist) < 1e-6)
    assert np.all(cert.radii < 1e-10)


def test_empty_batch_and_non_finite_points():
    S, roots = _squares()
    cert = certify_solutions(S, np.zeros((0, 3)))
    assert cert.n_points == 0 and cert.summary()["certified"] == 0
    cert = certify_solutions(S, np.array([[np.nan, 1j, 1.5], roots[0]]))
    assert list(cert.certified) == [False, True] and "not finite" in cert.reason[0]


def test_input_errors():
    S, roots = _squares()
    with pytest.raises(InputError, match="shape"):
        certify_solutions(S, np.zeros((4, 2)))
    with pytest.raises(InputError, match="no parameters"):
        certify_solutions(S, roots, np.ones(2))
    fam = univariate_family(2)
    with pytest.raises(InputError, match="parameters"):
        certify_solutions(fam, np.ones((1, 1)))
    with pytest.raises(InputError, match="shape"):
        certify_solutions(fam, np.ones((1, 1)), np.ones(2))
    with pytest.raises(InputError, match="PolynomialSystem"):
        certify_solutions(object(), roots)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="precision"):
        certify_solutions(S, roots, precision=20)
    with pytest.raises(InputError, match="inflation"):
        certify_solutions(S, roots, inflation=0.5)
    with pytest.raises(InputError, match="newton_steps"):
        certify_solutions(S, roots, newton_steps=-1)
    for exc in (InputError,):
        try:
            certify_solutions(S, np.zeros((4, 2)))
        except exc as e:
            assert "\n" not in str(e)


def test_one_parameter_row_per_point():
    """Points of different systems of one family: each is certified against its own row."""
    fam = univariate_family(2)  # a0 + a1 z + a2 z^2
    P = np.array([[-1.0, 0.0, 1.0], [-4.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-4.0, 0.0, 1.0]])
    z = np.array([[1.0], [2.0], [-1.0], [1.0]])  # the last is a root of z^2 = 1, not of z^2 = 4
    cert = certify_solutions(fam, z, P, newton_steps=0, refine_steps=0)
    assert list(cert.certified) == [True, True, True, False]
    assert cert.extra["systems"] == 2
    # the same point for two systems is not a duplicate: distinct compares within one system only
    cert = certify_solutions(fam, np.array([[1.0], [1.0]]), np.array([[-1.0, 0, 1], [-1.0, 0.5, 1]]))
    assert cert.certified.all() and cert.distinct.all()
    with pytest.raises(InputError, match="shape"):
        certify_solutions(fam, z, P[:3])


def test_map_enclosures_contain_the_values_and_full_rank_is_decided():
    """Ball enclosures of a polynomial map over boxes contain its values at points of the box (exact
    check in ball arithmetic); the full-rank test fails where the Jacobian is singular in the box."""
    from neuromanifold.homotopy.certification import disjoint_boxes, enclose_map, full_rank_on_boxes

    rng = np.random.default_rng(5)
    E = np.array([[0, 0], [1, 0], [0, 1], [2, 1], [0, 3]])
    C = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
    mid = rng.standard_normal((4, 2)) + 1j * rng.standard_normal((4, 2))
    rad = np.array([1e-3, 1e-6, 2.0**-20, 0.25])
    enc = enclose_map(E, C, mid, rad)
    for b in range(4):
        for _ in range(5):
            w = mid[b] + rad[b] * (rng.uniform(-1, 1, 2) + 1j * rng.uniform(-1, 1, 2))
            val = (np.prod(w[None, :] ** E, axis=1)) @ C.T
            assert np.all(np.abs(val.real - enc.centres[b].real) <= enc.re_radii[b])
            assert np.all(np.abs(val.imag - enc.centres[b].imag) <= enc.im_radii[b])
    # x -> (x0^2, x0 x1, x1^2): Jacobian of rank 2 away from 0, rank 0 at 0
    E2 = np.array([[2, 0], [1, 1], [0, 2]])
    dx0 = (np.array([[1, 0], [0, 1]]), np.array([[2, 0], [0, 1], [0, 0]], dtype=complex))
    dx1 = (np.array([[1, 0], [0, 1]]), np.array([[0, 0], [1, 0], [0, 2]], dtype=complex))
    pts = np.array([[1.0, 2.0], [1e-9, 1e-9], [1.0, 1.0]], dtype=complex)
    full = full_rank_on_boxes([dx0, dx1], pts, np.array([1e-6, 1e-6, 0.1]))
    assert list(full) == [True, False, True]
    enc2 = enclose_map(E2, np.eye(3, dtype=complex), pts, np.array([1e-6, 1e-6, 1e-6]))
    assert list(enc2.excludes_zero) == [True, False, True]
    # disjoint boxes: the two near-equal images overlap unless they carry one label
    C3 = np.array([[0.0, 1.0], [1e-12, 1.0], [5.0, 5.0]], dtype=complex)
    assert list(disjoint_boxes(C3, np.full(3, 1e-9))) == [False, False, True]
    assert list(disjoint_boxes(C3, np.full(3, 1e-9), labels=np.array([0, 0, 1]))) == [True, True, True]


def test_badly_scaled_roots_are_certified_about_high_precision_centres():
    """F = (z0 - 1e10, (z1 - 1)(z1 - 1 - 1e-5)): boxes have one radius for all coordinates, at least ~eps |z|_inf =
    1e-6 about a double centre -- too wide for the z1 roots 1e-5 apart (I - Y J(X) does not contract).  About a
    centre refined at the working precision the boxes shrink to ~1e-20 and both roots are certified, distinct."""
    S = PolynomialSystem([{(1, 0): 1.0, (0, 0): -1e10},
                          {(0, 2): 1.0, (0, 1): -(2 + 1e-5), (0, 0): 1 + 1e-5}], 2)
    z = np.array([[1e10, 1.0], [1e10, 1.0 + 1e-5]], dtype=complex)
    cert = certify_solutions(S, z)
    assert cert.certified.all() and cert.distinct.all()
    # a double centre's box is at least 4 eps (1 + 1e10) ~ 9e-6 wide: these boxes come from refined centres
    assert np.all(cert.uniqueness_radii <= cert.radii) and np.all(cert.radii < 1e-15)
    centres = cert.midpoints + cert.centre_low
    np.testing.assert_allclose(centres[:, 1].real, [1.0, 1.0 + 1e-5], rtol=0, atol=1e-9)
    # ordinary points keep the plain contract: the uniqueness box is the reported box
    S2, roots = _squares()
    c2 = certify_solutions(S2, roots)
    np.testing.assert_array_equal(c2.uniqueness_radii, c2.radii)
    assert np.all(c2.centre_low == 0)
