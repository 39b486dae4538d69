"""Issue 19 families (polynomial activations ``act=``, biases, skips, ``resmlp``) against independent oracles.

Every network is written out again here from its mathematical definition, in sympy:

* mlp:       W_h s(... s(W_1 x + b_1) ...) + b_h
* cnn:       (w * x)[j] = sum_m w[m] x[s j + m] + b, s between layers
* attention: layer(X) = (V X + bV 1^T)(K X + bK 1^T)^T (Q X + bQ 1^T), H -> H + layer(H) with a skip,
             H_i = s(H_{i-1} + layer_i(H_{i-1})) between layers
* resmlp:    x -> x + B_i s(A_i x) per block, then C

The toolkit's forward pass is compared exactly (integers / rationals) with these expressions; the dimension
of M is recomputed as the exact rank (python-flint, over Q) of the Jacobian of the coefficient vector of the
hand-written network; declared symmetries are checked to annihilate the hand-written network symbolically.
"""

from __future__ import annotations

import random
import subprocess
import sys
import zlib
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Callable

import flint
import numpy as np
import pytest
import sympy

from neuromanifold.architectures import parse_spec
from neuromanifold.context import Context
from neuromanifold.errors import InputError, SpecError
from neuromanifold.invariants.dimension import dimension

from assertions import assert_certified

# ---------------------------------------------------------------------------------------------------------
# the networks, written out by hand


def sq_plus(z):
    return z**2 + z


def square(z):
    return z**2


def cube(z):
    return z**3


def ones_row(n):
    return sympy.ones(1, n)


def mlp_net(widths, act, bias):
    def f(P, x):  # x: column (d0 x 1)
        H = x
        h = len(widths) - 1
        for i in range(h):
            H = P[f"W{i + 1}"] * H
            if bias:
                H = H + P[f"b{i + 1}"]
            if i < h - 1:
                H = H.applyfunc(act)
        return list(H)

    shapes = {}
    for i in range(len(widths) - 1):
        shapes[f"W{i + 1}"] = (widths[i + 1], widths[i])
        if bias:
            shapes[f"b{i + 1}"] = (widths[i + 1], 1)
    return f, shapes, (widths[0], 1)


def cnn_net(k, s, act, bias):
    n = 1
    for ki, si in zip(reversed(k), reversed(s)):
        n = si * (n - 1) + ki

    def f(P, x):
        h = list(x)
        for i, (ki, si) in enumerate(zip(k, s)):
            w = P[f"w{i + 1}"]
            out_len = (len(h) - ki) // si + 1
            h = [sum(w[m] * h[si * j + m] for m in range(ki)) + (P[f"b{i + 1}"][0] if bias else 0)
                 for j in range(out_len)]
            if i < len(k) - 1:
                h = [act(z) for z in h]
        return h

    shapes = {}
    for i, ki in enumerate(k):
        shapes[f"w{i + 1}"] = (ki,)
        if bias:
            shapes[f"b{i + 1}"] = (1,)
    return f, shapes, (n, 1)


def attention_net(widths, a, t, bias=False, skip=False, act=None):
    L = len(a)

    def f(P, X):  # X: d0 x t
        H = X
        for i in range(L):
            Q, K, V = P[f"Q{i + 1}"], P[f"K{i + 1}"], P[f"V{i + 1}"]
            q, k, v = Q * H, K * H, V * H
            if bias:
                q = q + P[f"bQ{i + 1}"] * ones_row(t)
                k = k + P[f"bK{i + 1}"] * ones_row(t)
                v = v + P[f"bV{i + 1}"] * ones_row(t)
            out = v * k.T * q
            H = H + out if skip else out
            if i < L - 1 and act is not None:
                H = H.applyfunc(act)
        return list(H)  # row-major: output i, token j

    shapes = {}
    for i in range(L):
        shapes[f"Q{i + 1}"] = (a[i], widths[i])
        shapes[f"K{i + 1}"] = (a[i], widths[i])
        shapes[f"V{i + 1}"] = (widths[i + 1], widths[i])
        if bias:
            shapes[f"bQ{i + 1}"] = (a[i], 1)
            shapes[f"bK{i + 1}"] = (a[i], 1)
            shapes[f"bV{i + 1}"] = (widths[i + 1], 1)
    return f, shapes, (widths[0], t)


def resmlp_net(d, hidden, act, dout=None):
    def f(P, x):
        H = x
        for i in range(len(hidden)):
            H = H + P[f"B{i + 1}"] * (P[f"A{i + 1}"] * H).applyfunc(act)
        if dout is not None:
            H = P["C"] * H
        return list(H)

    shapes = {}
    for i, h in enumerate(hidden):
        shapes[f"A{i + 1}"] = (h, d)
        shapes[f"B{i + 1}"] = (d, h)
    if dout is not None:
        shapes["C"] = (dout, d)
    return f, shapes, (d, 1)


@dataclass
class Case:
    spec: str
    net: tuple  # (f, shapes, input sample shape)

    @property
    def f(self) -> Callable:
        return self.net[0]

    @property
    def shapes(self) -> dict:
        return self.net[1]

    @property
    def sample_shape(self) -> tuple:
        return self.net[2]

    def __repr__(self) -> str:
        return self.spec


FORWARD_CASES = [
    Case('mlp(widths=(2,2,1), act="x**2 + x", bias=True)', mlp_net((2, 2, 1), sq_plus, True)),
    Case('mlp(widths=(2,3,2), act="x**2+x", bias=False)', mlp_net((2, 3, 2), sq_plus, False)),
    Case('mlp(widths=(2,2,2,1), act="x**3 - 2*x", bias=True)', mlp_net((2, 2, 2, 1), lambda z: z**3 - 2 * z, True)),
    Case('mlp(widths=(3,2,1), act="x**3")', mlp_net((3, 2, 1), cube, False)),
    Case('cnn(k=(2,3), s=(2,1), act="x**2+x", bias=True)', cnn_net((2, 3), (2, 1), sq_plus, True)),
    Case('cnn(k=(2,2,2), s=(1,2,1), act="x**2+x")', cnn_net((2, 2, 2), (1, 2, 1), sq_plus, False)),
    Case('cnn(k=(3,2), s=(1,1), act="2*x**2 - 3*x + 1", bias=True)',
         cnn_net((3, 2), (1, 1), lambda z: 2 * z**2 - 3 * z + 1, True)),
    Case("attention(d=2, dout=3, a=1, t=2, bias=True)", attention_net((2, 3), (1,), 2, bias=True)),
    Case("attention(d=2, a=2, t=3, skip=True)", attention_net((2, 2), (2,), 3, skip=True)),
    Case("attention(d=2, a=1, t=2, bias=True, skip=True)", attention_net((2, 2), (1,), 2, bias=True, skip=True)),
    Case('attention(widths=(2,2,1), a=(1,1), t=2, act="x**2+x")', attention_net((2, 2, 1), (1, 1), 2, act=sq_plus)),
    Case('attention(widths=(2,2,2), a=(1,2), t=2, skip=True, bias=True, act="x**2+x")',
         attention_net((2, 2, 2), (1, 2), 2, bias=True, skip=True, act=sq_plus)),
    Case("attention(widths=(2,2,2), a=(1,1), t=2, skip=True, r=2)",
         attention_net((2, 2, 2), (1, 1), 2, skip=True, act=square)),
    Case("resmlp(d=2, hidden=1)", resmlp_net(2, (1,), square)),
    Case('resmlp(d=3, hidden=2, act="x**2+x")', resmlp_net(3, (2,), sq_plus)),
    Case('resmlp(d=2, hidden=2, act="x**2+x", dout=1)', resmlp_net(2, (2,), sq_plus, dout=1)),
    Case("resmlp(d=2, hidden=(1,2), r=3)", resmlp_net(2, (1, 2), cube)),
    Case('resmlp(d=2, hidden=1, blocks=2, act="x**2+x", dout=3)', resmlp_net(2, (1, 1), sq_plus, dout=3)),
    Case('resmlp(d=2, hidden=2, blocks=2, r=2, dout=1)', resmlp_net(2, (2, 2), square, dout=1)),
]


# ---------------------------------------------------------------------------------------------------------
# helpers


def symbolic_params(shapes):
    """Parameter symbols in the order of ``shapes`` and the named sympy matrices (vectors for 1-D shapes)."""
    flat, named = [], {}
    for name, shape in shapes.items():
        entries = [sympy.Symbol(f"{name}_{'_'.join(map(str, idx))}") for idx in np.ndindex(*shape)]
        flat += entries
        named[name] = sympy.Matrix(shape[0], shape[1] if len(shape) > 1 else 1, entries)
    return flat, named


def named_values(shapes, values):
    out, off = {}, 0
    for name, shape in shapes.items():
        size = prod(shape)
        out[name] = sympy.Matrix(shape[0], shape[1] if len(shape) > 1 else 1,
                                 [sympy.sympify(v) for v in values[off:off + size]])
        off += size
    return out


def input_symbols(case):
    rows, cols = case.sample_shape
    xs = [sympy.Symbol(f"x_{i}_{j}") for i in range(rows) for j in range(cols)]
    return xs, sympy.Matrix(rows, cols, xs)


def toolkit_outputs(arch, theta, samples):
    """Run the toolkit forward pass on a list of input samples (sympy matrices in the case's sample shape);
    return the outputs of each sample as a flat list (the hand-written order)."""
    S = len(samples)
    th = np.array(theta, dtype=object)
    params = arch.unflatten(th)
    if arch.family == "attention":
        X = np.empty(arch.input_shape(S), dtype=object)
        for n, x in enumerate(samples):
            for i in range(x.rows):
                for j in range(x.cols):
                    X[n, i, j] = x[i, j]
        Y = arch.forward(params, X)
        return [list(np.asarray(Y[n]).ravel()) for n in range(S)]
    X = np.empty(arch.input_shape(S), dtype=object)
    for n, x in enumerate(samples):
        for i in range(x.rows):
            X[i, n] = x[i, 0]
    Y = np.asarray(arch.forward(params, X))
    return [list(Y[:, n]) for n in range(S)]


def coefficient_jacobian_rank(case, seed, lo=-30, hi=30):
    """Exact rank over Q of d(coefficients of all outputs, as polynomials in the inputs)/d(parameters) at a
    random integer point, from the hand-written network."""
    rnd = random.Random(seed)
    flat, named = symbolic_params(case.shapes)
    xs, X = input_symbols(case)
    outs = case.f(named, X)
    point = {s: sympy.Integer(rnd.randint(lo, hi)) for s in flat}
    columns = []
    for th in flat:
        col = {}
        for o, out in enumerate(outs):
            g = sympy.expand(sympy.diff(out, th).xreplace(point))
            if g == 0:
                continue
            for mono, c in sympy.Poly(g, *xs).terms():
                col[(o, mono)] = int(c)
        columns.append(col)
    keys = sorted({key for col in columns for key in col})
    if not keys:
        return 0
    M = flint.fmpz_mat([[col.get(key, 0) for col in columns] for key in keys])
    return M.rank()


def independent_dimension(case):
    """The generic rank: the largest exact rank at two random integer points."""
    return max(coefficient_jacobian_rank(case, seed) for seed in (1, 2))


def rand_ints(rnd, n, lo=-5, hi=5):
    return [rnd.randint(lo, hi) for _ in range(n)]


# ---------------------------------------------------------------------------------------------------------
# forward pass == hand-written network, exactly


@pytest.mark.parametrize("case", FORWARD_CASES, ids=repr)
def test_parameter_layout(case):
    arch = parse_spec(case.spec)
    assert dict(arch.param_shapes()) == case.shapes
    assert list(arch.param_shapes()) == list(case.shapes)  # the order of the flat vector
    assert arch.n_params == sum(prod(s) for s in case.shapes.values())


@pytest.mark.parametrize("case", FORWARD_CASES, ids=repr)
@pytest.mark.parametrize("numbers", ["int", "fraction"])
def test_forward_equals_handwritten_network(case, numbers):
    arch = parse_spec(case.spec)
    rnd = random.Random(zlib.crc32(case.spec.encode()) + (7 if numbers == "fraction" else 0))
    N = arch.n_params
    if numbers == "int":
        theta = rand_ints(rnd, N)
        draw = lambda: rnd.randint(-4, 4)  # noqa: E731
    else:
        theta = [Fraction(rnd.randint(-9, 9), rnd.randint(1, 5)) for _ in range(N)]
        draw = lambda: Fraction(rnd.randint(-9, 9), rnd.randint(1, 4))  # noqa: E731
    rows, cols = case.sample_shape
    samples = [sympy.Matrix(rows, cols, [draw() for _ in range(rows * cols)]) for _ in range(3)]
    got = toolkit_outputs(arch, theta, samples)
    P = named_values(case.shapes, [sympy.Rational(v.numerator, v.denominator) if isinstance(v, Fraction)
                                   else v for v in theta])
    conv = lambda v: sympy.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else sympy.sympify(v)  # noqa: E731
    for x, y in zip(samples, got):
        x_sym = x.applyfunc(conv)
        want = list(case.f(P, x_sym))
        assert len(y) == len(want) == arch.output_size()
        assert [conv(v) for v in y] == want, (case.spec, y, want)
    # the values are not trivially 0 (a test that could not fail otherwise)
    assert any(conv(v) != 0 for y in got for v in y)


def test_forward_symbolic_matches_expansion():
    """The forward pass on symbols (object arrays of sympy Symbols) expands to the hand-written polynomial."""
    case = Case('mlp(widths=(2,2,1), act="x**2 + x", bias=True)', mlp_net((2, 2, 1), sq_plus, True))
    arch = parse_spec(case.spec)
    flat, named = symbolic_params(case.shapes)
    xs, X = input_symbols(case)
    params = arch.unflatten(np.array(flat, dtype=object))
    Y = arch.forward(params, np.array([[xs[0]], [xs[1]]], dtype=object))
    want = case.f(named, X)[0]
    assert sympy.expand(Y[0, 0] - want) == 0
    # and a hand check of one coefficient: x0^2 has coefficient sum_j W2[0,j] W1[j,0]^2
    W1, W2 = named["W1"], named["W2"]
    assert sympy.Poly(sympy.expand(want), *xs).coeff_monomial(xs[0] ** 2) == sympy.expand(
        W2[0, 0] * W1[0, 0] ** 2 + W2[0, 1] * W1[1, 0] ** 2)


# ---------------------------------------------------------------------------------------------------------
# dimension of M: exact rank of the hand-written coefficient Jacobian vs the toolkit's certified value


def toolkit_dimension(spec):
    res = dimension(Context(spec))
    assert_certified(res)
    return res.value


DIMENSION_CASES = [
    # act = x^2 + x: the CNN parametrization is generically injective, dim = number of filter weights
    (Case('cnn(k=(2,2), act="x**2+x")', cnn_net((2, 2), (1, 1), sq_plus, False)), 4),
    (Case('cnn(k=(2,3), act="x**2+x")', cnn_net((2, 3), (1, 1), sq_plus, False)), 5),
    (Case('cnn(k=(2,2,2), act="x**2+x")', cnn_net((2, 2, 2), (1, 1, 1), sq_plus, False)), 6),
    (Case('cnn(k=(2,2), s=(2,1), act="x**2+x")', cnn_net((2, 2), (2, 1), sq_plus, False)), 4),
    (Case('cnn(k=(2,2), act="x**2+x", bias=True)', cnn_net((2, 2), (1, 1), sq_plus, True)), None),
    (Case('cnn(k=(2,3), s=(2,1), act="x**2+x", bias=True)', cnn_net((2, 3), (2, 1), sq_plus, True)), None),
    # mlp with a non-monomial activation
    (Case('mlp(widths=(2,2,1), act="x**2+x")', mlp_net((2, 2, 1), sq_plus, False)), 5),
    (Case('mlp(widths=(2,3,1), act="x**2+x")', mlp_net((2, 3, 1), sq_plus, False)), 5),
    (Case('mlp(widths=(3,2,2), act="x**2+x")', mlp_net((3, 2, 2), sq_plus, False)), None),
    (Case('mlp(widths=(2,2,1), act="x**2+x", bias=True)', mlp_net((2, 2, 1), sq_plus, True)), None),
    (Case('mlp(widths=(2,2,1), act="x**3+x")', mlp_net((2, 2, 1), lambda z: z**3 + z, False)), None),
    (Case('mlp(widths=(2,2,1), act="x**3 + x", bias=True)', mlp_net((2, 2, 1), lambda z: z**3 + z, True)), None),
    # attention with bias / skip
    (Case("attention(d=2, a=1, t=2, skip=True)", attention_net((2, 2), (1,), 2, skip=True)), None),
    (Case("attention(d=2, a=2, t=2, skip=True)", attention_net((2, 2), (2,), 2, skip=True)), None),
    (Case("attention(d=2, dout=1, a=1, t=2, bias=True)", attention_net((2, 1), (1,), 2, bias=True)), None),
    (Case("attention(d=2, a=1, t=2, bias=True, skip=True)", attention_net((2, 2), (1,), 2, bias=True, skip=True)),
     None),
    # resmlp, including two blocks and a read-out
    (Case("resmlp(d=2, hidden=1, dout=1)", resmlp_net(2, (1,), square, dout=1)), 4),
    (Case('resmlp(d=2, hidden=2, act="x**2+x", dout=1)', resmlp_net(2, (2,), sq_plus, dout=1)), None),
    (Case('resmlp(d=2, hidden=1, blocks=2, act="x**2+x")', resmlp_net(2, (1, 1), sq_plus)), None),
    (Case("resmlp(d=2, hidden=1, blocks=2, r=2, dout=1)", resmlp_net(2, (1, 1), square, dout=1)), None),
]


@pytest.mark.parametrize("case,closed_form", DIMENSION_CASES, ids=[c.spec for c, _ in DIMENSION_CASES])
def test_dimension_against_independent_rank(case, closed_form):
    truth = independent_dimension(case)
    if closed_form is not None:
        assert truth == closed_form, (case.spec, truth)
    assert toolkit_dimension(case.spec) == truth


@pytest.mark.parametrize("d,hidden", [(2, 1), (2, 2), (3, 2)])
@pytest.mark.parametrize("act", ["r=2", 'act="x**2+x"'])
def test_one_block_resmlp_has_the_dimension_of_its_block(d, hidden, act):
    """x -> x + B s(A x) differs from x -> B s(A x) by the fixed map x: a translate of the same M."""
    s = square if act == "r=2" else sq_plus
    res = Case(f"resmlp(d={d}, hidden={hidden}, {act})", resmlp_net(d, (hidden,), s))
    block = Case(f"mlp(widths=({d},{hidden},{d}), {act})", mlp_net((d, hidden, d), s, False))
    truth = independent_dimension(res)
    assert independent_dimension(block) == truth
    assert toolkit_dimension(res.spec) == toolkit_dimension(block.spec) == truth


def test_generic_activation_dimension():
    arch = parse_spec('mlp(widths=(2,2,1), act="generic", r=3, act_seed=5)')
    c = arch.act.coefficients

    def s(z):
        return sum(ci * z**i for i, ci in enumerate(c))

    case = Case(arch.spec(), mlp_net((2, 2, 1), s, False))
    assert toolkit_dimension(arch.spec()) == independent_dimension(case)


# ---------------------------------------------------------------------------------------------------------
# declared continuous symmetries annihilate the hand-written network


SYMMETRY_CASES = [
    Case('mlp(widths=(2,2,1), act="x**2+x", bias=True)', mlp_net((2, 2, 1), sq_plus, True)),
    Case('mlp(widths=(2,2,2,1), act="x**2+x", bias=True)', mlp_net((2, 2, 2, 1), sq_plus, True)),
    Case('mlp(widths=(2,2,1), act="3*x**2 + 2*x + 1", bias=True)',
         mlp_net((2, 2, 1), lambda z: 3 * z**2 + 2 * z + 1, True)),
    Case('mlp(widths=(2,2,1), act="x**3 + 3*x**2 + 3*x + 5", bias=True)',
         mlp_net((2, 2, 1), lambda z: z**3 + 3 * z**2 + 3 * z + 5, True)),
    Case('mlp(widths=(2,2,1), r=2, bias=True)', mlp_net((2, 2, 1), square, True)),
    Case('cnn(k=(2,2), act="x**2+x", bias=True)', cnn_net((2, 2), (1, 1), sq_plus, True)),
    Case('cnn(k=(2,3,2), s=(1,2,1), act="x**2+x", bias=True)', cnn_net((2, 3, 2), (1, 2, 1), sq_plus, True)),
    Case('cnn(k=(2,2), act="2*x**2 + 3*x", bias=True)', cnn_net((2, 2), (1, 1), lambda z: 2 * z**2 + 3 * z, True)),
    Case("attention(d=2, dout=1, a=2, t=2, bias=True)", attention_net((2, 1), (2,), 2, bias=True)),
    Case("attention(d=2, a=2, t=2, skip=True, bias=True)", attention_net((2, 2), (2,), 2, bias=True, skip=True)),
    Case("resmlp(d=2, hidden=2, r=2, dout=1)", resmlp_net(2, (2,), square, dout=1)),
    Case("resmlp(d=2, hidden=(1,1), r=3)", resmlp_net(2, (1, 1), cube)),
]

POINTWISE_SYMMETRY_CASES = [  # too large to expand with symbolic parameters: a random integer point
    Case('attention(widths=(2,2,1), a=(1,1), t=2, act="x**2+x")', attention_net((2, 2, 1), (1, 1), 2, act=sq_plus)),
    pytest.param(Case('attention(widths=(2,2,2), a=(2,1), t=2, bias=True, skip=True, r=2)',
                      attention_net((2, 2, 2), (2, 1), 2, bias=True, skip=True, act=square)),
                 marks=pytest.mark.slow, id="deep attention bias skip r=2"),
    Case("attention(widths=(2,2,1), a=(1,1), t=2, bias=True, r=2)",
         attention_net((2, 2, 1), (1, 1), 2, bias=True, act=square)),
]


def lie_derivative(case, field_vector, flat, named, xs, X, point=None):
    outs = case.f(named, X)
    total = []
    for out in outs:
        expr = sum(gk * sympy.diff(out, th) for gk, th in zip(field_vector, flat) if gk != 0)
        if point is not None:
            expr = expr.xreplace(point)
        total.append(sympy.expand(expr))
    return total


@pytest.mark.parametrize("case", SYMMETRY_CASES, ids=repr)
def test_declared_symmetries_are_true_symmetries(case):
    arch = parse_spec(case.spec)
    gens = arch.symmetries()
    assert gens, f"{case.spec}: expected declared symmetries"
    flat, named = symbolic_params(case.shapes)
    xs, X = input_symbols(case)
    theta = np.array(flat, dtype=object)
    for g in gens:
        v = list(g.evaluate(theta))
        assert any(vk != 0 for vk in v)
        assert lie_derivative(case, v, flat, named, xs, X) == [0] * arch.output_size(), g.name


@pytest.mark.parametrize("case", POINTWISE_SYMMETRY_CASES, ids=repr)
def test_declared_symmetries_pointwise(case):
    """d/de f(theta + e g(theta), x) = 0 at e = 0, exactly, at random integer parameters and inputs."""
    arch = parse_spec(case.spec)
    gens = arch.symmetries()
    assert gens
    eps = sympy.Symbol("eps")
    rnd = random.Random(3)
    values = [sympy.Integer(rnd.randint(-4, 4)) for _ in range(arch.n_params)]
    rows, cols = case.sample_shape
    samples = [sympy.Matrix(rows, cols, rand_ints(rnd, rows * cols, -3, 3)) for _ in range(4)]
    for g in gens:
        v = list(g.evaluate(np.array(values, dtype=object)))
        P = named_values(case.shapes, [th + eps * vk for th, vk in zip(values, v)])
        for x in samples:
            for out in case.f(P, x):
                assert sympy.expand(out).coeff(eps, 1) == 0, g.name
    # negative control: a field that is not a symmetry (scale V1 alone) is detected
    v = [sympy.Integer(0)] * arch.n_params
    for idx in np.ndindex(*case.shapes["V1"]):
        v[arch.index("V1", idx)] = values[arch.index("V1", idx)]
    P = named_values(case.shapes, [th + eps * vk for th, vk in zip(values, v)])
    assert any(sympy.expand(out).coeff(eps, 1) != 0 for x in samples for out in case.f(P, x))


@pytest.mark.parametrize("spec", ['mlp(widths=(2,2,1), act="x**2+x", bias=True)',
                                  'cnn(k=(2,2), act="x**2+x", bias=True)'])
def test_shifted_rescalings_have_constants_and_need_them(spec):
    """For s = (x + 1/2)^2 - 1/4 with biases the rescalings are affine fields (a constant on the bias), and
    without that constant the field is not a symmetry (so the check above can fail)."""
    case = next(c for c in SYMMETRY_CASES if c.spec == spec)
    arch = parse_spec(spec)
    flat, named = symbolic_params(case.shapes)
    xs, X = input_symbols(case)
    theta = np.array(flat, dtype=object)
    for g in arch.symmetries():
        assert g.constant, g.name
        linear_only = type(g)(g.name, list(g.linear), [])
        v = list(linear_only.evaluate(theta))
        assert any(e != 0 for e in lie_derivative(case, v, flat, named, xs, X))


@pytest.mark.parametrize("spec", [
    'mlp(widths=(2,2,1), act="x**2+x")',  # shifted, but no bias to absorb the shift
    'mlp(widths=(2,2,1), act="x**3 + x", bias=True)',  # not lead (x + c)^3 + e
    'cnn(k=(2,2), act="x**2+x")',
    'resmlp(d=2, hidden=1, act="x**2+x")',
])
def test_no_rescalings_without_the_shifted_form(spec):
    """The rescalings of x^r do not survive these activations: nothing is declared (a declared field would have
    to pass the symbolic check above)."""
    arch = parse_spec(spec)
    assert arch.symmetries() == []


# ---------------------------------------------------------------------------------------------------------
# spec round trips and the generic activation


ROUND_TRIP = [c.spec for c in FORWARD_CASES] + [
    'mlp(widths=(2,2,1), act="generic", r=3, act_seed=5)',
    'cnn(k=(2,2), act="generic", r=2, act_seed=1, bias=True)',
    'resmlp(d=2, hidden=(1,2), act="x**2/2 + x/3", dout=2)',
    'attention(widths=(2,2,2), a=(1,1), t=3, act="generic", r=2, act_seed=4)',
]


@pytest.mark.parametrize("spec", ROUND_TRIP)
def test_spec_round_trip(spec):
    arch = parse_spec(spec)
    again = parse_spec(arch.spec())
    assert again == arch
    assert again.spec() == arch.spec()


def test_monomial_act_is_r():
    assert parse_spec('mlp(widths=(2,2,1), act="x**3")') == parse_spec("mlp(widths=(2,2,1), r=3)")
    assert parse_spec('resmlp(d=2, hidden=1, act="x**2")') == parse_spec("resmlp(d=2, hidden=1, r=2)")
    assert parse_spec('cnn(k=(2,2), act="x**2", bias=True)') == parse_spec("cnn(k=(2,2), r=2, bias=True)")
    assert 'act=' not in parse_spec('mlp(widths=(2,2,1), act="x**3")').spec()


def test_activation_normalized_up_to_a_factor():
    """s and lam * s give the same family (one canonical spec), rational coefficients are cleared."""
    a = parse_spec('mlp(widths=(2,2,1), act="x**2/2 + x/3")')
    b = parse_spec('mlp(widths=(2,2,1), act="3*x**2 + 2*x")')
    c = parse_spec('mlp(widths=(2,2,1), act="-6*x**2 - 4*x")')
    assert a == b == c
    assert 'act="3*x**2 + 2*x"' in a.spec()


def test_generic_activation_is_reproducible_and_printed():
    spec = 'mlp(widths=(2,2,1), act="generic", r=3, act_seed=5)'
    a, b = parse_spec(spec), parse_spec(spec)
    assert a == b and a.spec() == b.spec()
    c = a.act.coefficients
    assert len(c) == 4 and all(v != 0 for v in c) and c[-1] > 0
    assert all(abs(v) <= 9 for v in c)
    # the canonical spec prints the drawn coefficients as a polynomial in x
    text = a.spec().split('act="')[1].split('"')[0]
    x = sympy.Symbol("x")
    assert sympy.Poly(sympy.sympify(text), x).all_coeffs()[::-1] == list(c)
    assert "generic" not in a.spec()
    # another seed gives another activation; the same seed in another family the same coefficients
    other = parse_spec('mlp(widths=(2,2,1), act="generic", r=3, act_seed=6)')
    assert other.act.coefficients != c
    assert parse_spec('resmlp(d=2, hidden=1, act="generic", r=3, act_seed=5)').act.coefficients == c
    # default seed 0 is reproducible too, and differs from seed 5
    z = parse_spec('mlp(widths=(2,2,1), act="generic", r=3)')
    assert z == parse_spec('mlp(widths=(2,2,1), act="generic", r=3, act_seed=0)')


# ---------------------------------------------------------------------------------------------------------
# bad input: one-line SpecError / InputError naming the problem


BAD = [
    ('mlp(widths=(2,2,1), act="sin(x)")', "act"),
    ('mlp(widths=(2,2,1), act="y**2")', "y"),
    ('mlp(widths=(2,2,1), act="x**-1")', "act"),
    ("mlp(widths=(2,2,1), act=\"__import__('os')\")", "act"),
    ('mlp(widths=(2,2,1), act="3")', "constant"),
    ('cnn(k=(2,2), act="0*x**2 + 5")', "constant"),
    ('mlp(widths=(2,2,1), act="x+1")', "affine"),
    ('resmlp(d=2, hidden=1, act="2*x")', "linear"),
    ('mlp(widths=(2,2,1), act="x**2+x", r=2)', "not both"),
    ('cnn(k=(2,2), act="x**3", r=3)', "not both"),
    ('mlp(widths=(2,2,1), act="generic")', "needs r="),
    ('mlp(widths=(2,2,1), act="generic", r=1)', "r="),
    ('mlp(widths=(2,2,1), act="x**9")', "degree"),
    ('mlp(widths=(2,2,1), act_seed=3)', "act_seed"),
    ("mlp(widths=(2,2,1), act=2)", "act"),
    ("attention(d=2, dout=3, skip=True)", "skip"),
    ("attention(widths=(2,3,2), a=(1,1), skip=True)", "skip"),
    ('attention(d=2, act="x**2+x")', "single layer"),
    ("attention(d=2, r=2)", "single layer"),
    ("resmlp(d=2, hidden=1, r=1)", "r=1"),
    ("resmlp(d=2, hidden=(1,2), blocks=3)", "blocks"),
    ("resmlp(d=2, hidden=1, activation=2)", "activation"),
    ("cnn(k=(2,2), bias=1)", "bias"),
    ("mlp(widths=(2,2,1), act='x**2+x', bais=True)", "bais"),
]


@pytest.mark.parametrize("spec,fragment", BAD)
def test_bad_spec_one_line_error(spec, fragment):
    with pytest.raises((SpecError, InputError)) as info:
        parse_spec(spec)
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert fragment in msg, msg
    assert "Traceback" not in msg


def test_cli_bad_spec_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "neuromanifold.cli", "analyze", "attention(d=2, dout=3, skip=True)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert "Traceback" not in err and "Traceback" not in proc.stdout
    assert len(err.splitlines()) == 1, err
    assert "skip" in err


def test_two_unequal_blocks_dimension_is_honest():
    """resmlp with blocks of widths (1, 2), act and read-out: the toolkit reports lower_bound (its upper bounds
    do not meet); the value must still equal the independent rank."""
    case = Case('resmlp(d=2, hidden=(1,2), act="x**2+x", dout=1)', resmlp_net(2, (1, 2), sq_plus, dout=1))
    truth = independent_dimension(case)
    assert truth == 8
    res = dimension(Context(case.spec))
    assert res.status in ("certified", "lower_bound")
    assert res.value == truth
