"""Membership in the Zariski closure of M by moving a pseudo-witness set."""

import numpy as np
import pytest

import neuromanifold as nm


def test_rank_one_matrices():
    assert nm.contains("linear(widths=(3,1,3))", lambda X: np.outer([1, 2, 3], [1, -1, 2]) @ X).value is True
    r = nm.contains("linear(widths=(3,1,3))", lambda X: np.diag([1.0, 2.0, 3.0]) @ X)
    assert r.value is False and r.status == "numerical"
    assert r.evidence["nearest_relative_distance"] > 1e-3


def test_polynomials_as_strings():
    assert nm.contains("mlp(widths=(2,1,1), r=3)", "(x0 - 2*x1)**3").value is True
    assert nm.contains("mlp(widths=(2,1,1), r=3)", "x0**3 + x1**3").value is False


def test_attention_function_and_non_member():
    single = lambda X: np.ones((1, 2)) @ X @ np.swapaxes(X, -1, -2) @ np.array([[1, 2], [0, 1]]) @ X  # noqa: E731
    assert nm.contains("attention(d=2, dout=1, a=2, t=2)", single).value is True
    # M is a hypersurface in a 6-dimensional space: a sum of two such maps is generically outside
    two = lambda X: (  # noqa: E731
        np.array([[1, 0.0]]) @ X @ np.swapaxes(X, -1, -2) @ np.array([[1, 2], [3, 1]]) @ X
        + np.array([[0, 1.0]]) @ X @ np.swapaxes(X, -1, -2) @ np.array([[0, 1], [1, 0]]) @ X
    )
    assert nm.contains("attention(d=2, dout=1, a=2, t=2)", two).value is False


@pytest.mark.parametrize(
    "f,fragment",
    [("y0**3", "unknown variables"), (["x0**3", "x1**3"], "one per output"), (lambda X: X[:1, :1], "returned shape")],
)
def test_bad_functions_get_clear_errors(f, fragment):
    with pytest.raises(nm.InputError, match=fragment):
        nm.contains("mlp(widths=(2,1,1), r=3)", f)
