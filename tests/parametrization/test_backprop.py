"""Backpropagation Jacobians of dense networks (issue 21 part 1) equal forward mode's: the same residues over
Z/p, the same floats to rounding; other families keep forward mode."""

import numpy as np
import pytest

from neuromanifold.architectures import parse_spec
from neuromanifold.arithmetic import Complex128, Float64, ModP
from neuromanifold.parametrization import backprop
from neuromanifold.parametrization.evaluation import Parametrization

SPECS = ["mlp(widths=(3,4,2), r=2)", "mlp(widths=(2,3,3,2), r=3, bias=True)",
         'mlp(widths=(3,3,2), act="x**2 + 3*x", bias=True)', "linear(widths=(3,2,4))", "mlp(widths=(4,3,3,3,1), r=2)"]


def _forward_mode(P, theta, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(backprop, "supports_backprop", lambda arch: False)
        return P.jacobian(theta)


@pytest.mark.parametrize("spec", SPECS)
def test_backprop_equals_forward_mode(spec, monkeypatch):
    arch = parse_spec(spec)
    assert backprop.supports_backprop(arch)
    for field in (ModP(), Float64(), Complex128(unit_modulus=True)):
        P = Parametrization(arch, field, 6, np.random.default_rng(1))
        theta = field.random((arch.n_params,), np.random.default_rng(2))
        J = P.jacobian(theta)
        F = _forward_mode(P, theta, monkeypatch)
        assert J.shape == F.shape == (6 * arch.output_size(), arch.n_params)
        if field.exact:
            assert J.dtype == np.int64 and np.array_equal(J, F)
        else:
            np.testing.assert_allclose(J, F, rtol=1e-10, atol=1e-10 * np.abs(F).max())
        cols = slice(2, 9)
        assert np.array_equal(P.jacobian(theta, columns=cols), J[:, cols])


@pytest.mark.parametrize("spec", ["cnn(k=(3,2), s=(1,1), r=2)", "attention(d=2, dout=1, a=2, t=2)",
                                  "relu(widths=(2,3,1))", 'mlp(widths=(3,3,3), r=2, equivariant="C3")'])
def test_other_families_keep_forward_mode(spec):
    assert not backprop.supports_backprop(parse_spec(spec))
