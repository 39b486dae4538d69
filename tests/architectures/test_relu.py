"""ReLU networks as a built-in family: spec, forward pass, numerical invariants, refusals."""

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.report.text import render_text
from neuromanifold.architectures import ReLU, families
from neuromanifold.errors import InputError, SpecError


def test_spec_round_trip_and_listing():
    a = nm.parse_spec("relu(widths=(2,3,1))")
    assert isinstance(a, ReLU) and a.spec() == "relu(widths=(2, 3, 1), bias=False)"
    assert nm.parse_spec(a.spec()) == a
    b = nm.parse_spec("relu(widths=(2,3,1), bias=True)")
    assert b.n_params == 3 * 2 + 3 + 3 + 1
    assert "relu" in families()


@pytest.mark.parametrize("spec, fragment", [
    ("relu(widths=(2,))", "at least 2"),
    ("relu(widths=(2,3), r=2)", "unknown parameter 'r'"),
    ("relu(bias=True)", "widths is required"),
    ("relu(widths=(2,0,1))", ">= 1"),
    ("relu(widths=(2,3), bias=1)", "True or False"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(SpecError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as exc:
        nm.parse_spec(spec)
    assert "\n" not in str(exc.value)


def test_forward_matches_a_direct_computation():
    a = nm.parse_spec("relu(widths=(3,4,5,2), bias=True)")
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(a.n_params)
    X = rng.standard_normal((3, 7))
    p = a.unflatten(theta)
    H = X
    for W, b in ((p["W1"], p["b1"]), (p["W2"], p["b2"])):
        H = np.where(W @ H + b > 0, W @ H + b, 0.0)
    expected = p["W3"] @ H + p["b3"]
    np.testing.assert_allclose(a.forward(p, X), expected, rtol=1e-13)
    import torch

    out = a.forward(a.unflatten(torch.as_tensor(theta)), torch.as_tensor(X))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-13)


def test_rescaling_generators_are_tangent_to_the_fibers():
    """d mu . g = 0 for each positive-rescaling generator g (float64 Jacobian by finite differences)."""
    a = nm.parse_spec("relu(widths=(3,4,2), bias=True)")
    rng = np.random.default_rng(2)
    theta = rng.standard_normal(a.n_params)
    X = rng.standard_normal((3, 20))
    G = a.symmetry_matrix(theta)
    assert G.shape[1] == 4
    f = lambda t: a.forward(a.unflatten(t), X)  # noqa: E731
    for g in G.T:
        h = 1e-6
        deriv = (f(theta + h * g) - f(theta - h * g)) / (2 * h)
        # exact 0 up to the central difference's rounding, eps |f| / h ~ 1e-10 |f|: relative to the data's scale
        assert np.max(np.abs(deriv)) < 1e-7 * max(1.0, np.max(np.abs(f(theta))))
    # a non-symmetry direction moves the function
    e = np.zeros(a.n_params)
    e[0] = 1
    assert np.max(np.abs((f(theta + 1e-6 * e) - f(theta - 1e-6 * e)) / 2e-6)) > 1e-3


def test_functional_dimension_of_one_input_variable():
    """d0 = 1, no bias: f(x) = a max(x,0) + c min(x,0), so dim M = 2 d_h < n_params - hidden neurons."""
    r = nm.analyze("relu(widths=(1,3,1))", only=["dimension", "ambient_dimension", "expected_dimension"])
    assert r["dimension"].value == 2 and r["dimension"].status == "numerical"
    assert r["dimension"].evidence["numerical"]["clear_gap"]
    assert r["ambient_dimension"].value == 2 and r["ambient_dimension"].status == "certified"
    assert r["expected_dimension"].value == 2  # min(6 - 3, 2)


def test_functional_dimension_of_shallow_networks():
    """Generic shallow ReLU networks with biases have only rescaling and permutation symmetries (Phuong and
    Lampert 2020; Grigsby-Lindsey-Rolnick 2022), so dim M = n_params - hidden neurons < n_params."""
    r = nm.analyze("relu(widths=(2,3,1), bias=True)", only=["dimension", "fiber_dimension", "hidden_symmetries",
                                                             "ambient_dimension"])
    n = 13
    assert r["dimension"].value == n - 3 < n
    assert r["fiber_dimension"].value == 3 and r["hidden_symmetries"].value == 0
    assert r["ambient_dimension"].value == float("inf")
    r2 = nm.analyze("relu(widths=(3,4,2))", only=["dimension"])
    assert r2["dimension"].value == 20 - 4


def test_undefined_invariants_are_refused():
    with pytest.raises(InputError, match="not polynomial") as exc:
        nm.analyze("relu(widths=(2,2,1))", only=["degree"])
    assert "\n" not in str(exc.value) and "available: dimension" in str(exc.value)
    r = nm.analyze("relu(widths=(2,2,1))", only=["dimension", "ed_degree"])
    assert r["ed_degree"].status == "not_computed" and "not polynomial" in r["ed_degree"].evidence["reason"]
    assert r["dimension"].value == 4
    text = render_text(r)
    assert "not_computed" in text and "numerical rank 4" in text


def test_exact_arithmetic_is_refused_with_one_line():
    from neuromanifold.arithmetic import ModP
    from neuromanifold.parametrization.evaluation import Parametrization

    a = nm.parse_spec("relu(widths=(2,2,1))")
    P = Parametrization(a, ModP(101), 3, np.random.default_rng(0))
    with pytest.raises(InputError, match="not a polynomial") as exc:
        P.jacobian(P.random_point())
    assert "\n" not in str(exc.value)


def test_polynomial_families_keep_their_certified_path():
    r = nm.analyze("linear(widths=(3,2,4))", only=["dimension"])
    assert (r["dimension"].value, r["dimension"].status) == (10, "certified")
