"""The homotopy engine on systems with known solution counts (network-independent)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from neuromanifold.errors import InputError
from neuromanifold.homotopy import (
    MonodromyOptions,
    ParameterHomotopy,
    PathStatus,
    PolynomialSystem,
    StraightLineHomotopy,
    cyclic,
    deduplicate,
    katsura,
    load_solutions,
    make_trace_test,
    monodromy_solve,
    solve,
    solve_total_degree,
    total_degree_start_solutions,
    total_degree_start_system,
    trace_test,
    track,
    univariate,
    univariate_family,
)

from systems import katsura_family


def _residual(system, Z, p=None):
    P = np.zeros((len(Z), 0)) if p is None else np.broadcast_to(p, (len(Z), system.n_params))
    return np.max(np.abs(system.evaluate(Z, P)), axis=1)


def _match(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance from a point of a to the nearest point of b, and back (Hausdorff)."""
    D = np.abs(a.reshape(len(a), 1, -1) - b.reshape(1, len(b), -1)).max(axis=2)
    return float(max(D.min(axis=1).max(), D.min(axis=0).max()))


# ---------------------------------------------------------------------- evaluation
def test_polynomial_system_values_and_derivatives_match_sympy():
    x, y, a, b = sp.symbols("x y a b")
    eqs = [x**3 * y - a * x + 2, y**2 - a * b * x + 1j * y]
    S = PolynomialSystem.from_sympy(eqs, [x, y], [a, b])
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 2)) + 1j * rng.standard_normal((5, 2))
    p = rng.standard_normal((5, 2)) + 1j * rng.standard_normal((5, 2))
    F = [sp.lambdify([x, y, a, b], e) for e in eqs]
    Jz = [[sp.lambdify([x, y, a, b], sp.diff(e, v)) for v in (x, y)] for e in eqs]
    Jp = [[sp.lambdify([x, y, a, b], sp.diff(e, v)) for v in (a, b)] for e in eqs]
    for k in range(5):
        args = (*z[k], *p[k])
        np.testing.assert_allclose(S.evaluate(z, p)[k], [f(*args) for f in F], atol=1e-12)
        np.testing.assert_allclose(S.jacobian(z, p)[k], [[f(*args) for f in row] for row in Jz], atol=1e-12)
        np.testing.assert_allclose(S.parameter_jacobian(z, p)[k], [[f(*args) for f in row] for row in Jp], atol=1e-12)
    dp = np.array([0.3, -1j])
    _, _, Fdp = S.evaluate_with_derivatives(z, p, dp)
    np.testing.assert_allclose(Fdp, S.parameter_jacobian(z, p) @ dp, atol=1e-12)
    assert S.degrees.tolist() == [4, 2]


def test_non_square_system_is_rejected_with_a_clear_message():
    x, y, z = sp.symbols("x y z")
    with pytest.raises(InputError, match="not square: 2 equations in 3 unknowns"):
        PolynomialSystem.from_sympy([x + y, y * z - 1], [x, y, z])
    with pytest.raises(ValueError):  # InputError is a ValueError
        PolynomialSystem.from_sympy([x + y, y * z - 1], [x, y, z])
    with pytest.raises(InputError, match="not a polynomial"):
        PolynomialSystem.from_sympy([sp.sin(x)], [x])
    with pytest.raises(InputError, match="start_points must have shape"):
        track(StraightLineHomotopy(katsura(2), total_degree_start_system([1, 2, 2])), np.ones((4, 2)))


# ---------------------------------------------------------------------- total degree
def test_univariate_roots_match_numpy_roots():
    rng = np.random.default_rng(1)
    c = rng.standard_normal(8) + 1j * rng.standard_normal(8)  # degree 7
    res = solve_total_degree(univariate(c), seed=2)
    assert res.n_solutions == 7 and res.n_failed == 0
    assert _match(res.solutions, np.roots(c)[:, None]) < 1e-9


@pytest.mark.parametrize("n", [3, 4, 5])
def test_katsura_has_2_to_the_n_distinct_regular_solutions(n):
    K = katsura(n)
    assert K.bezout_number == 2**n
    res = solve_total_degree(K, seed=n)
    assert res.n_solutions == 2**n, res
    assert res.n_at_infinity == 0 and res.n_failed == 0
    assert np.all(_residual(K, res.solutions) < 1e-10)
    assert len(deduplicate(res.solutions, tol=1e-6)) == 2**n  # distinct
    assert np.all(res.conditions < 1e8)


def test_cyclic5_has_70_roots_and_50_paths_to_infinity():
    C = cyclic(5)
    res = solve_total_degree(C, seed=0)
    assert res.n_paths == 120
    assert res.n_solutions == 70, res
    assert res.n_at_infinity == 50 and res.n_failed == 0 and len(res.singular_solutions) == 0
    assert np.all(_residual(C, res.solutions) < 1e-10)
    assert len(deduplicate(res.solutions, tol=1e-6)) == 70
    # the roots are closed under the cyclic shift, a check independent of the tracker
    shifted = np.roll(res.solutions, 1, axis=1)
    assert _match(shifted, res.solutions) < 1e-8


def test_multiple_roots_are_reported_as_singular_with_their_multiplicity():
    x, y = sp.symbols("x y")
    S = PolynomialSystem.from_sympy([(x - 1) ** 3 * (x + 2), y**2 - x], [x, y])  # Bezout 8
    res = solve_total_degree(S, seed=0)
    assert res.n_solutions == 2  # (-2, +-i sqrt 2)
    assert _match(res.solutions, np.array([[-2, 1j * np.sqrt(2)], [-2, -1j * np.sqrt(2)]])) < 1e-10
    assert len(res.singular_solutions) == 2 and sorted(res.multiplicities.tolist()) == [3, 3]
    assert _match(res.singular_solutions, np.array([[1, 1], [1, -1]])) < 1e-3
    assert res.n_duplicates == 6 and res.n_at_infinity == 0


def test_same_seed_same_answer_with_any_number_of_threads():
    a = solve_total_degree(cyclic(5), seed=4, threads=1)
    b = solve_total_degree(cyclic(5), seed=4, threads=2)
    assert np.array_equal(a.solutions, b.solutions)
    assert np.array_equal(a.track_result.status, b.track_result.status)


def test_affine_tracking_of_a_black_box_system_reports_divergent_paths():
    # x^2 + y^2 = 1, x y = 1/4 ... plus a system with a root at infinity: x*y - 1, x - 1 -> one finite root
    x, y = sp.symbols("x y")
    S = PolynomialSystem.from_sympy([x * y - 1, x - 2], [x, y])
    res = solve_total_degree(S, projective=False, degrees=[2, 1], seed=0)
    assert res.n_paths == 2 and res.n_solutions == 1 and res.n_at_infinity == 1
    np.testing.assert_allclose(res.solutions[0], [2, 0.5], atol=1e-10)


# ---------------------------------------------------------------------- homotopies, retries
def test_parameter_homotopy_moves_the_roots_of_a_quadratic():
    Q = univariate_family(2)  # a0 + a1 z + a2 z^2
    p_start = np.array([-6.0, -1.0, 1.0])  # z^2 - z - 6 = (z - 3)(z + 2)
    p_target = np.array([2 + 1j, 0.5, 1.0 - 0.3j])
    res = track(ParameterHomotopy(Q, p_start, p_target, rng=3), np.array([[3.0], [-2.0]]))
    assert np.all(res.success)
    expected = np.roots(p_target[::-1])[:, None]
    assert _match(res.endpoints, expected) < 1e-10
    assert res.counts[PathStatus.SUCCESS.value] == 2


def test_a_failed_path_is_retried_with_a_fresh_gamma():
    # gamma = 1: the straight segment from z^2 - 1 to z^2 + 1 crosses the discriminant a0 = 0
    Q = univariate_family(2)
    hom = ParameterHomotopy(Q, np.array([-1.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0]), gamma=1.0)
    starts = np.array([[1.0], [-1.0]])
    first = track(hom, starts)
    assert not np.any(first.success)  # both paths run into the double root z = 0
    res = solve(hom, starts, max_tries=3, rng=0)
    assert np.all(res.success) and res.n_retried == 2 and len(res.gammas) >= 2
    assert _match(res.endpoints, np.array([[1j], [-1j]])) < 1e-10
    assert res.evidence()["paths_retried"] == 2


def test_straight_line_homotopy_of_total_degree_in_affine_space():
    K = katsura(3)
    G = total_degree_start_system(K.degrees)
    res = track(StraightLineHomotopy(K, G, rng=7), total_degree_start_solutions(K.degrees))
    assert res.counts["success"] == 8
    assert len(deduplicate(res.solutions(), tol=1e-6)) == 8


# ---------------------------------------------------------------------- trace test
def _plane_curve(d: int, seed: int):
    """f(x, y) = 0 of degree d cut by the lines a x + b y = p (p the parameter)."""
    x, y, p = sp.symbols("x y p")
    rng = np.random.default_rng(seed)
    f = sum(complex(*rng.standard_normal(2)) * x**i * y**j for i in range(d + 1) for j in range(d + 1 - i))
    a, b = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    return PolynomialSystem.from_sympy([f, a * x + b * y - p], [x, y], [p])


def test_trace_test_passes_on_a_complete_witness_set_and_fails_on_an_incomplete_one():
    S = _plane_curve(5, seed=3)
    p0 = np.array([0.4 - 0.7j])
    W = solve_total_degree(S, p0, seed=1).solutions
    assert len(W) == 5
    full = trace_test(S, p0, W, repeats=2, seed=0)
    assert full.passed and full.residual < 1e-8 and len(full.residuals) == 2
    assert full.path_failures == 0 and full.paths_tracked == 2 * 2 * 5
    for drop in range(5):
        part = trace_test(S, p0, np.delete(W, drop, axis=0), repeats=1, seed=drop)
        assert not part.passed and part.residual > 1e-4
    # the trace of an image function (here the point's x-coordinate) is tested the same way
    assert trace_test(S, p0, W, image=lambda z, p: z[:, :1]).passed
    assert not trace_test(S, p0, W[:3], image=lambda z, p: z[:, :1]).passed


# ---------------------------------------------------------------------- monodromy
def test_monodromy_recovers_all_katsura4_solutions_and_stops_by_the_trace_test():
    F, c0, z0 = katsura_family(4, seed=0)
    res = monodromy_solve(F, c0, z0[None, :], trace_test=make_trace_test(F, repeats=2), seed=1)
    assert res.n_solutions == 16, res
    assert res.stopping_rule == "trace_test" and res.trace_test_passed and res.complete
    assert np.all(_residual(F, res.solutions, c0) < 1e-9)
    assert len(deduplicate(res.solutions, tol=1e-6)) == 16
    # every failed trace test happened with fewer than 16 points
    assert all(not t.passed for t in res.trace_tests[:-1])
    ev = res.evidence()
    assert ev["paths_tracked"] > 0 and ev["stopping_rule"] == "trace_test" and ev["trace_test"]["passed"]


def test_monodromy_stops_after_k_loops_without_new_solutions():
    F, c0, z0 = katsura_family(4, seed=2)
    res = monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(loops_without_new=3), seed=5)
    assert res.stopping_rule == "stagnation" and res.loops_without_new == 3
    assert res.n_solutions == 16 and not res.trace_test_passed
    assert res.paths_tracked >= 3 * 16  # the last loop pushed all 16 around


def test_monodromy_interrupt_checkpoint_and_resume(tmp_path):
    F, c0, z0 = katsura_family(3, seed=4)
    ckpt = tmp_path / "sols.npz"
    calls = []

    def stop_early(snapshot):
        calls.append(snapshot.n_solutions)
        snapshot.save(ckpt)
        if len(calls) == 2:
            raise KeyboardInterrupt

    part = monodromy_solve(F, c0, z0[None, :], checkpoint=stop_early, seed=0)
    assert part.stopping_rule == "interrupted" and not part.complete
    assert 1 <= part.n_solutions < 8
    saved, p_saved = load_solutions(ckpt)
    np.testing.assert_allclose(p_saved, c0)
    assert len(saved) >= 1
    full = monodromy_solve(F, c0, z0[None, :], resume=ckpt, options=MonodromyOptions(target_count=8), seed=3)
    assert full.stopping_rule == "target_count" and full.complete and full.n_solutions == 8
    with pytest.raises(InputError, match="another p0"):
        monodromy_solve(F, c0 + 1, z0[None, :], resume=ckpt)


def test_monodromy_progress_bar(capsys, monkeypatch):
    from neuromanifold.runtime import progress as prog

    monkeypatch.setattr(prog, "DELAY", 0.0)  # without a TTY, plain lines for jobs longer than DELAY
    F, c0, z0 = katsura_family(2, seed=1)
    res = monodromy_solve(F, c0, z0[None, :], options=MonodromyOptions(target_count=4), progress=True, seed=0)
    assert res.n_solutions == 4
    err = capsys.readouterr().err
    assert "monodromy: 4 solutions" in err and "paths/s" in err
    assert "/4" not in err  # target_count is a cap, not a known total


def test_monodromy_deduplicates_by_a_key_function():
    # z^4 = c: keyed by z^2 the four roots collapse to two classes
    Q = univariate_family(4)
    p0 = np.array([-2.0 + 1j, 0, 0, 0, 1])
    z0 = np.roots(p0[::-1])[:1, None]
    res = monodromy_solve(Q, p0, z0, key=lambda z, p: z**2, options=MonodromyOptions(loops_without_new=3), seed=0)
    assert res.n_solutions == 2 and res.keys.shape == (2, 1)
    res_all = monodromy_solve(Q, p0, z0, options=MonodromyOptions(target_count=4), seed=0)
    assert res_all.n_solutions == 4 and _match(res_all.solutions, np.roots(p0[::-1])[:, None]) < 1e-9


def test_monodromy_rejects_start_points_that_are_not_solutions():
    F, c0, z0 = katsura_family(2, seed=0)
    with pytest.raises(InputError, match="no start solution"):
        monodromy_solve(F, c0, (z0 + 1)[None, :])


# ---------------------------------------------------------------------- Taylor predictor, LU helpers
def test_path_taylor_series_solves_the_homotopy_to_its_order():
    """H(sum_{k<=K} x_k s^k, t - s) = O(s^{K+1}) for the coefficients of ``taylor_coefficients``."""
    from neuromanifold.homotopy.linear_algebra import lu_factor, lu_solve

    K = katsura(3)
    hom = StraightLineHomotopy(K, total_degree_start_system(K.degrees), rng=1)
    assert hom.has_taylor
    z = track(hom, total_degree_start_solutions(K.degrees), t_end=0.5).endpoints
    t = np.full(len(z), 0.5)
    _, Hz, Ht = hom.evaluate_all(z, t)
    LU, piv = lu_factor(Hz)
    x1 = lu_solve(LU, piv, Ht)  # x_1 = -dz/dt = H_z^{-1} H_t
    np.testing.assert_allclose(x1, np.linalg.solve(Hz, Ht[..., None])[..., 0], atol=1e-10)
    xs = hom.taylor_coefficients(z, t, x1, lambda c: lu_solve(LU, piv, c), 4)
    coeffs = [z, x1, *xs]
    for order in (1, 2, 3, 4):
        res = []
        for s in (1e-2, 5e-3):
            x = sum(c * s**k for k, c in enumerate(coeffs[: order + 1]))
            res.append(np.abs(hom.evaluate_and_jacobian(x, t - s)[0]).max())
        assert res[0] / res[1] > 2 ** (order + 1) * 0.7, (order, res)  # residual ~ s^(order+1)


def test_taylor_predictor_finds_the_same_solutions_and_rk4_remains_the_fallback():
    K = katsura(4)
    a = solve_total_degree(K, seed=3)
    b = solve_total_degree(K, seed=3, predictor="taylor")
    assert b.n_solutions == a.n_solutions == 16 and b.n_failed == 0
    assert _match(a.solutions, b.solutions) < 1e-9
    # a homotopy without series evaluation ignores predictor="taylor" and uses RK4
    Q = univariate_family(2)
    hom = ParameterHomotopy(Q, np.array([-6.0, -1.0, 1.0]), np.array([2 + 1j, 0.5, 1.0 - 0.3j]), rng=3)
    assert not hom.has_taylor
    starts = np.array([[3.0], [-2.0]])
    np.testing.assert_allclose(
        track(hom, starts, predictor="taylor").endpoints, track(hom, starts).endpoints, atol=1e-10
    )
    with pytest.raises(InputError):
        track(hom, starts, predictor="pade")


def test_lu_factor_marks_singular_matrices_with_nan_solutions():
    from neuromanifold.homotopy.linear_algebra import lu_factor, lu_solve

    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 4, 4)) + 1j * rng.standard_normal((3, 4, 4))
    A[1] = 0.0
    b = rng.standard_normal((3, 4, 2)) + 0j
    LU, piv = lu_factor(A)
    x = lu_solve(LU, piv, b)
    for i in (0, 2):
        np.testing.assert_allclose(A[i] @ x[i], b[i], atol=1e-12)
    assert np.all(np.isnan(x[1]))
    np.testing.assert_allclose(lu_solve(LU, piv, b[:, :, 0])[0], x[0, :, 0], atol=1e-14)


@pytest.mark.parametrize("seed", [3, 8])
def test_retries_keep_the_bijection_on_cyclic7(seed):
    # with these seeds a few paths to infinity fail near t ~ 1e-3; re-tracking them with a fresh gamma
    # used to land on solutions other paths had reached (923 / 920 roots with duplicates).  The first
    # re-track now follows the same path with finer steps.
    from neuromanifold.homotopy import cyclic, solve_total_degree

    r = solve_total_degree(cyclic(7), seed=seed)
    assert (r.n_solutions, r.n_duplicates, r.n_failed) == (924, 0, 0)
