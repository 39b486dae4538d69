"""Polynomial activations (issue 19, first part): whitelist parsing, normalization up to a factor,
exact evaluation in every number system of the forward pass, checked against numpy/sympy directly."""

import numpy as np
import pytest
import sympy

from neuromanifold.architectures.activation import Activation, parse_activation
from neuromanifold.arithmetic.dual import Dual
from neuromanifold.arithmetic.modular import ModArray
from neuromanifold.errors import InputError


X = sympy.Symbol("x")
R = sympy.Rational


@pytest.mark.parametrize("text, written, coeffs", [
    ("x**2 + x", X**2 + X, (0, 1, 1)),
    ("x**2/2 + x/3", X**2 / 2 + X / 3, (0, 2, 3)),          # times 6: the same network family
    ("-x**3 + x", -X**3 + X, (0, -1, 0, 1)),                # times -1
    ("(x + 1)**2", (X + 1)**2, (1, 2, 1)),
    ("0.5*x**2 + 0.25", R(1, 2) * X**2 + R(1, 4), (1, 0, 2)),
    ("4*x**2", 4 * X**2, (0, 0, 1)),
])
def test_text_is_read_and_normalized_up_to_a_factor(text, written, coeffs):
    a = parse_activation(text)
    assert a.coefficients == coeffs
    # the normalized polynomial is a nonzero multiple of the one written
    x = X
    ours = sum(c * x**i for i, c in enumerate(coeffs))
    ratio = sympy.simplify(ours / written)
    assert ratio.is_number and ratio != 0
    assert parse_activation(a.text()) == a


def test_structure_monomial_and_parity():
    assert parse_activation("x**3").monomial_exponent == 3 and Activation.monomial(2).coefficients == (0, 0, 1)
    assert parse_activation("x**2 + x").monomial_exponent is None
    assert parse_activation("x**3 - 2*x").parity == "odd"
    assert parse_activation("x**4 + x**2 + 1").parity == "even"
    assert parse_activation("x**2 + x").parity is None


def test_generic_is_seeded_non_monomial_with_every_coefficient_nonzero():
    a, b, c = (parse_activation("generic", r=3, seed=s) for s in (0, 0, 1))
    assert a == b and a != c
    for act in (a, c):
        assert act.degree == 3 and all(act.coefficients) and act.coefficients[-1] > 0 and act.parity is None


@pytest.mark.parametrize("text, r, words", [
    ("3", None, "constant activation"),
    ("x - x", None, "constant activation"),
    ("__import__('os').system('touch pwned')", None, "function call"),
    ("y**2", None, "unknown variables"),
    ("x**9", None, "exceeds 8"),
    ("exp(x)", None, "function call"),
    ("x**2", 2, "give act= or r=, not both"),
    ("generic", None, "needs r= its degree"),
    ("generic", 1, "needs r= its degree"),
])
def test_bad_activations_get_one_line_errors(text, r, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=words) as exc:
        parse_activation(text, r=r)
    assert "\n" not in str(exc.value)
    assert not (tmp_path / "pwned").exists()


ACTS = ["x**2 + x", "3*x**3 - 2*x + 5", "x**2", "generic"]


@pytest.mark.parametrize("text", ACTS)
def test_evaluation_in_every_number_system(text):
    act = parse_activation(text, r=4 if text == "generic" else None, seed=2)
    c = act.coefficients
    rng = np.random.default_rng(0)
    H = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    assert np.allclose(act(H), np.polyval(c[::-1], H))
    p = 2_147_483_629
    Hi = rng.integers(0, p, size=(3, 4))
    want = np.array([[sum(ci * pow(int(h), i, p) for i, ci in enumerate(c)) % p for h in row] for row in Hi])
    assert np.array_equal(act(ModArray(Hi, p)).a, want)
    dH = rng.standard_normal((3, 4))
    d = act(Dual(H, dH))  # forward mode: s'(H) dH
    deriv = np.polyval(np.polyder(np.array(c[::-1], dtype=float)), H)
    assert np.allclose(d.v, np.polyval(c[::-1], H)) and np.allclose(d.dv, deriv * dH)
    x = sympy.Symbol("x")
    assert sympy.expand(act(x) - sum(ci * x**i for i, ci in enumerate(c))) == 0
