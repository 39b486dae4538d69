"""The compiled tracker's evaluation tables (real and complex coefficients kept apart) and its
threaded final refinement (Newton, residual and condition number path by path) against numpy."""

import numpy as np
import pytest

from neuromanifold.homotopy import PolynomialSystem, StraightLineHomotopy, katsura, track
from neuromanifold.homotopy import compiled
from neuromanifold.homotopy.linear_algebra import condition_numbers
from neuromanifold.homotopy.start import total_degree_start_solutions, total_degree_start_system

needs_numba = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba is not installed")


def _mixed_system() -> PolynomialSystem:
    """Two unknowns, two parameters; real and complex coefficients in the same rows."""
    return PolynomialSystem(
        [
            {(2, 0, 0, 0): 1.0, (1, 1, 1, 0): 2 - 1j, (0, 0, 0, 1): 3.0, (0, 0, 0, 0): -1j},
            {(0, 3, 0, 0): 1j, (1, 0, 1, 1): -2.0, (1, 1, 0, 0): 0.5, (0, 0, 2, 0): 1.5 + 0.5j},
        ],
        2,
        2,
    )


@needs_numba
def test_compiled_parameter_evaluation_matches_numpy():
    S = _mixed_system()
    rng = np.random.default_rng(1)
    z = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    ptgt = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    dp = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    gam, t = complex(np.exp(0.7j)), 0.3
    form = (compiled.Tables(S).arrays(),)
    ws = compiled._workspace(form, 2, 2)
    H, Ht, Hz = np.empty(2, complex), np.empty(2, complex), np.empty((2, 2), complex)
    compiled._evaluate_parameter(z, t, ptgt, dp, gam, form, ws, H, Hz, Ht, True)
    # H = F(z; p(t)), p(t) = ptgt + s(t) dp, s = gam t / (1 + (gam - 1) t)
    s = lambda t: gam * t / (1 + (gam - 1) * t)  # noqa: E731
    F, Fz, Fdp = S.evaluate_with_derivatives(z[None], (ptgt + s(t) * dp)[None], dp)
    ds = gam / (1 + (gam - 1) * t) ** 2
    np.testing.assert_allclose(H, F[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(Hz, Fz[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(Ht, Fdp[0] * ds, rtol=1e-13, atol=1e-13)


@needs_numba
def test_compiled_straight_line_evaluation_matches_numpy():
    S = _mixed_system().specialize(np.array([0.3 - 1j, 2.0]))
    G = total_degree_start_system(S.degrees.tolist())
    hom = StraightLineHomotopy(S, G, 0.6 + 0.8j)
    (_, gsl, tabF, tabG), P, D, GAM = hom.compiled_form(1)
    form = (complex(gsl), tabF.arrays(), tabG.arrays())
    rng = np.random.default_rng(2)
    z = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    ws = compiled._workspace(form, 2, 0)
    H, Ht, Hz = np.empty(2, complex), np.empty(2, complex), np.empty((2, 2), complex)
    compiled._evaluate_straight(z, 0.4, P[0], D[0], GAM[0], form, ws, H, Hz, Ht, True)
    H0, Hz0, Ht0 = hom.evaluate_all(z[None], np.array([0.4]))
    np.testing.assert_allclose(H, H0[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(Hz, Hz0[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(Ht, Ht0[0], rtol=1e-13, atol=1e-13)


@needs_numba
@pytest.mark.parametrize("threads", [1, 2])
def test_threaded_refinement_reports_the_numpy_condition_numbers(threads):
    K = katsura(4)
    hom = StraightLineHomotopy(K, total_degree_start_system(K.degrees), rng=5)
    res = track(hom, total_degree_start_solutions(K.degrees), threads=threads)
    assert res.success.all()
    H, Hz = hom.evaluate_and_jacobian(res.endpoints, res.t)
    np.testing.assert_allclose(res.condition, condition_numbers(Hz), rtol=1e-8)
    np.testing.assert_allclose(res.residual, np.max(np.abs(H), axis=1), rtol=1e-6, atol=1e-15)
    assert np.all(res.accuracy <= 1e-12)


@needs_numba
def test_condition_is_infinite_for_singular_or_nonfinite_matrices():
    work = np.empty((2, 2), complex)
    assert compiled._condition(np.array([[1, 2], [2, 4]], dtype=complex), work) > 1e15
    assert compiled._condition(np.array([[1, 0], [0, 0]], dtype=complex), work) == np.inf
    assert compiled._condition(np.array([[1, np.nan], [0, 1]], dtype=complex), work) == np.inf
    A = np.array([[2, 1j], [0.5, 3]], dtype=complex)
    assert np.isclose(compiled._condition(A, work), condition_numbers(A[None])[0], rtol=1e-12)
