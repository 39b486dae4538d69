"""The coefficient map without sympy (issue 21, part 5): sparse integer polynomials through the forward pass give
exactly the sympy expansion -- the same coordinates (output, monomial), the same parameter monomials in the same
order, the same coefficients -- on every family; limits and refusals behave as before."""

from __future__ import annotations

import numpy as np
import pytest

from neuromanifold.architectures import parse_spec
from neuromanifold.arithmetic.integer_polynomials import DegreeOverflow, TooManyTerms, polynomial_type, unpack_exponents
from neuromanifold.errors import InputError
from neuromanifold.parametrization import coefficients as cf

SPECS = [
    "linear(widths=(3, 1, 3))",
    "linear(widths=(2, 2, 2, 1))",
    "mlp(widths=(2, 2, 1), r=2)",
    "mlp(widths=(2, 3, 2), r=2)",
    "mlp(widths=(2, 2, 1), r=3)",
    "mlp(widths=(2, 2, 2, 1), r=2)",
    "mlp(widths=(2, 2, 1), r=2, bias=True)",
    "mlp(widths=(1, 2, 1), r=3, bias=True)",
    'mlp(widths=(2, 2, 1), act="x**2 + 3*x")',
    'mlp(widths=(2, 2, 1), act="x**2 + 3*x", bias=True)',
    'mlp(widths=(2, 2, 1), act="x**2/2 + x/3")',  # rational coefficients: stored as 3*x**2 + 2*x
    'mlp(widths=(1, 2, 1), act="x**3/3 - x + 1/2", bias=True)',
    'mlp(widths=(2, 2, 1), act="generic", r=3, act_seed=1)',
    'mlp(widths=(3, 3, 3), r=2, equivariant="C3")',
    "cnn(k=(2, 2), r=2)",
    "cnn(k=(2, 2), s=(2, 1), r=2)",
    "cnn(k=(3, 2), s=(1, 2), r=2, bias=True)",
    'cnn(k=(2, 2), act="x**2 + x")',
    "attention(d=2, dout=2, a=2, t=2)",
    "attention(d=2, dout=1, a=2, t=2)",
    "attention(d=2, dout=2, a=1, t=2, bias=True)",
    "attention(d=2, a=1, t=2, skip=True)",
    "attention(widths=(2, 1, 1), a=(1, 1), t=2)",
    "attention(widths=(1, 1, 1), a=(1, 1), t=2, r=2)",
    "resmlp(d=2, hidden=1, r=2)",
    'resmlp(d=2, hidden=1, act="x**2 + x", dout=1)',
    'gcnn(group="C3", layers=2, r=2, output="invariant")',
    'gcnn(group="C3", layers=2, r=2)',
]


def _same(a: cf.CoefficientMap, b: cf.CoefficientMap) -> None:
    assert a.monomials == b.monomials
    Pa, Pb = a.polynomials, b.polynomials
    assert Pa.exponents.dtype == Pb.exponents.dtype and Pa.coefficients.dtype == Pb.coefficients.dtype
    assert Pa.exponents.shape == Pb.exponents.shape and np.array_equal(Pa.exponents, Pb.exponents)
    assert np.array_equal(Pa.coefficients, Pb.coefficients)


@pytest.mark.parametrize("spec", SPECS)
def test_integer_polynomials_give_the_sympy_expansion(spec: str) -> None:
    arch = parse_spec(spec)
    fast = cf.coefficient_map(arch)
    assert isinstance(fast, cf.CoefficientMap) and isinstance(fast.polynomials, cf.SparsePolynomials)
    assert fast.arch is arch
    _same(fast, cf._coefficient_map_sympy(arch))


def test_wide_exponents_are_repacked() -> None:
    """A degree beyond 16-bit fields (x^(8^5) after five activations x^8) is expanded with wider fields."""
    arch = parse_spec("mlp(widths=(1, 1, 1, 1, 1, 1, 1), r=8)")
    with pytest.raises(DegreeOverflow):
        cf._coefficient_map_packed(arch, 16)
    fast = cf.coefficient_map(arch)
    assert fast.monomials == [(0, (8**5,))]
    _same(fast, cf._coefficient_map_sympy(arch))


def test_too_many_terms_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cf, "MAX_SYMBOLIC_TERMS", 20)
    arch = parse_spec("cnn(k=(2, 2, 2), r=2)")
    with pytest.raises(InputError, match=r"more than 20 terms.*use a smaller architecture"):
        cf.coefficient_map(arch)
    with pytest.raises(InputError, match=r"more than 20 terms"):
        cf._coefficient_map_sympy(arch)


def test_what_integer_polynomials_cannot_represent_falls_back_to_sympy(monkeypatch: pytest.MonkeyPatch) -> None:
    arch = parse_spec("mlp(widths=(2, 2, 1), r=2)")
    calls = []

    def refuse(arch, bits):  # noqa: ANN001
        calls.append(bits)
        raise TypeError("unsupported operand")

    monkeypatch.setattr(cf, "_coefficient_map_packed", refuse)
    cmap = cf.coefficient_map(arch)
    assert calls == [16]
    monkeypatch.undo()
    _same(cmap, cf.coefficient_map(arch))


def test_relu_is_refused_as_before() -> None:
    arch = parse_spec("relu(widths=(2, 2, 1))")
    with pytest.raises(InputError) as fast:
        cf.coefficient_map(arch)
    with pytest.raises(InputError) as slow:
        cf._coefficient_map_sympy(arch)
    assert str(fast.value) == str(slow.value)


def test_integer_polynomial_arithmetic() -> None:
    P = polynomial_type(16, 1000)
    x, y = P.variable(0), P.variable(1)
    p = (x + 2 * y - 1) ** 3 - (x - 1) * 2
    q = (x + 2 * y - 1) * (x + 2 * y - 1) * (x + 2 * y - 1) + (2 - 2 * x)
    assert p.t == q.t
    assert (p - q).t == {} and (x - x + 0).t == {}
    assert (3 - x).t == (-(x - 3)).t
    sq = (x + 2 * y - 1) ** 2
    E = unpack_exponents(list(sq.t), 2, 16)
    assert dict(zip(map(tuple, E.tolist()), sq.t.values())) == {(2, 0): 1, (1, 1): 4, (0, 2): 4, (1, 0): -2,
                                                                (0, 1): -4, (0, 0): 1}
    with pytest.raises(TypeError):
        x * 0.5
    with pytest.raises(TypeError):
        x ** 0.5
    A = np.array([[x, y], [y, 1]], dtype=object)
    B = A @ A
    assert B[1, 1].t == (y * y + 1).t and B[0, 0].t == (x * x + y * y).t
    big = polynomial_type(16, 10)
    u = sum((big.variable(i) for i in range(4)), start=0)
    with pytest.raises(TooManyTerms):
        u * u * u
    with pytest.raises(DegreeOverflow):
        polynomial_type(8, 10).variable(0) ** 256
