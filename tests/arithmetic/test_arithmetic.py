"""Number systems: exact Z/p products, forward-mode Jacobians, one forward pass for all."""

import numpy as np
import pytest
import sympy

import neuromanifold as nm
from neuromanifold.arithmetic import Complex128, Float64, ModArray, ModP, Symbolic, Torch, rank_mod_p
from neuromanifold.arithmetic.modular import DEFAULT_PRIME, matmul_mod, rational_reconstruction
from neuromanifold.parametrization.evaluation import Parametrization, symbolic_function

P = DEFAULT_PRIME
SPECS = [
    "linear(widths=(3,2,4))",
    "mlp(widths=(2,3,2), r=3)",
    "mlp(widths=(2,2,1), r=2, bias=True)",
    "cnn(k=(3,2), s=(2,1), r=2)",
    "attention(d=2, dout=1, a=2, t=2)",
    "attention(widths=(2,2,1), a=(1,2), t=2)",
]


def test_matmul_mod_is_exact_against_python_integers():
    rng = np.random.default_rng(1)
    a = rng.integers(0, P, size=(7, 300))
    b = rng.integers(0, P, size=(300, 5))
    got = matmul_mod(a, b, P)
    want = [[sum(int(a[i, k]) * int(b[k, j]) for k in range(300)) % P for j in range(5)] for i in range(7)]
    assert got.tolist() == want
    # broadcasting with a stacked operand on either side
    c = rng.integers(0, P, size=(4, 300, 5))
    assert np.array_equal(matmul_mod(a, c, P)[2], matmul_mod(a, c[2], P))
    d = rng.integers(0, P, size=(3, 7, 300))
    assert np.array_equal(matmul_mod(d, b, P)[1], matmul_mod(d[1], b, P))


def test_modarray_elementwise_and_powers():
    x = ModArray(np.array([P - 1, 2, 12345678]), P)
    assert (x * x).a.tolist() == [1, 4, 12345678**2 % P]
    assert (x**5).a.tolist() == [pow(int(v), 5, P) for v in x.a]
    assert (3 - x).a.tolist() == [(3 - int(v)) % P for v in x.a]
    with pytest.raises(TypeError):
        ModArray(np.array([0.5]), P)


def test_rational_reconstruction():
    assert rational_reconstruction(3 * pow(7, -1, P) % P, P) == (3, 7)
    assert rational_reconstruction((-5) % P, P) == (-5, 1)


@pytest.mark.parametrize("spec", SPECS)
def test_exact_jacobian_equals_symbolic_jacobian_mod_p(spec):
    """Forward-mode Z/p Jacobian at an integer point == sympy's derivative, reduced mod p."""
    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(5)
    theta_int = rng.integers(-20, 20, size=arch.n_params)
    X_int = rng.integers(-20, 20, size=arch.input_shape(1))
    th, xs, outs = symbolic_function(arch)
    subs = {s: int(v) for s, v in zip(th, theta_int)}
    subs.update({s: int(v) for s, v in zip(np.asarray(xs).reshape(-1), X_int.reshape(-1))})
    sym_J = [[int(sympy.diff(o, t).subs(subs)) % P for t in th] for o in outs]
    field = ModP(P)
    par = Parametrization(arch, field, 1, rng, inputs=field.asarray(X_int))
    J = par.jacobian(field.asarray(theta_int))
    assert J.tolist() == sym_J


@pytest.mark.parametrize("spec", SPECS)
def test_one_forward_pass_in_every_number_system(spec):
    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(2)
    theta = rng.integers(-3, 4, size=arch.n_params)
    X = rng.integers(-3, 4, size=arch.input_shape(4))

    def run(field):
        par = Parametrization(arch, field, 4, rng, inputs=field.asarray(X))
        return par(field.asarray(theta))

    ref = np.asarray(run(Symbolic()), dtype=object).astype(np.int64)  # exact integers
    assert np.array_equal(run(Float64()), ref)
    assert np.array_equal(run(Complex128()).real, ref)
    assert np.array_equal(Torch().to_numpy(run(Torch())), ref)
    assert np.array_equal(run(ModP(P)).a, ref % P)


@pytest.mark.parametrize("spec", SPECS)
def test_float_jacobian_matches_finite_differences(spec):
    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(0)
    par = Parametrization(arch, Float64(), 6, rng)
    theta = par.random_point()
    J = par.jacobian(theta)
    eps = 1e-6
    for k in range(arch.n_params):
        e = np.zeros(arch.n_params)
        e[k] = eps
        fd = (par(theta + e) - par(theta - e)).reshape(-1) / (2 * eps)
        assert np.allclose(fd, J[:, k], rtol=1e-5, atol=1e-6 * max(1.0, np.abs(J).max()))


@pytest.mark.parametrize("spec", SPECS)
def test_declared_symmetries_are_tangent_to_fibers(spec):
    """J(theta) g(theta) = 0 exactly mod p for every declared generator (and a random field is not)."""
    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(3)
    field = ModP(P)
    par = Parametrization(arch, field, 8, rng)
    theta = par.random_point()
    J = par.jacobian(theta)
    G = arch.symmetry_matrix(theta.a) % P
    if G.shape[1]:
        assert not np.any(matmul_mod(J, G, P))
    random_dir = rng.integers(0, P, size=(arch.n_params, 1))
    assert np.any(matmul_mod(J, random_dir, P))


def test_rank_mod_p():
    m = np.array([[1, 2, 3], [2, 4, 6], [1, 0, 1]])
    assert rank_mod_p(m, P) == 2
    assert rank_mod_p(m, 2) == 1  # the rank can drop mod a small prime: only a lower bound


@pytest.mark.parametrize("spec", SPECS)
def test_batched_parameter_points_match_single_points(spec):
    """forward broadcasts over a leading batch of parameter points (used by path tracking)."""
    from neuromanifold.parametrization.evaluation import jacobian_batch

    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(4)
    par = Parametrization(arch, Complex128(), 3, rng)
    thetas = Complex128().random((5, arch.n_params), rng)
    values, jac = jacobian_batch(par, thetas)
    for b in range(5):
        assert np.allclose(values[b], par(thetas[b]).reshape(-1))
        assert np.allclose(jac[b], par.jacobian(thetas[b]))
    _, jac_cols = jacobian_batch(par, thetas, columns=np.array([0, arch.n_params - 1]))
    assert np.allclose(jac_cols, jac[:, :, [0, arch.n_params - 1]])
