"""Functional dimension of arbitrary torch modules (``analyze_module``, ``analyze --torch``)."""

import importlib.util
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import neuromanifold as nm
from neuromanifold.cli import main
from neuromanifold.errors import InputError
from neuromanifold.invariants.torch_module import analyze_file, load_module, piecewise_polynomial
from assertions import assert_certified

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "torch_models.py"


def _examples():
    spec = importlib.util.spec_from_file_location("torch_models_for_tests", EXAMPLES)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ex = _examples()


def test_relu_functional_dimension_below_parameter_count():
    # widths (2, 3, 1) with biases: 13 parameters; each hidden ReLU neuron has a positive rescaling
    # symmetry, so the rank is at most 13 - 3 = 10 everywhere, and 10 at generic parameters with inputs
    # on both sides of every bent hyperplane (Grigsby-Lindsey-Rolnick).
    rep = nm.analyze_module(ex.ReLUNet(), n_inputs=200, draws=12, seed=1)
    fd = rep["functional_dimension"]
    assert rep["parameter_count"].value == 13 and rep["parameter_count"].status == "upper_bound"
    assert fd.status == "numerical" and fd.evidence["clear_gap"]
    assert fd.value < 13
    dist = rep["dimension_distribution"].value
    assert sum(dist.values()) == 12 and max(dist) == 10 and all(v <= 10 for v in dist)
    assert rep["ambient_dimension"].value == 200


def test_relu_dimension_varies_over_parameter_draws():
    rep = nm.analyze_module(ex.ReLUNet(), draws=30, seed=0)  # default: 26 inputs
    dist = rep["dimension_distribution"].value
    assert len(dist) >= 2 and max(dist) <= 10


@pytest.mark.parametrize("cls, spec", [("QuadraticNet", "mlp(widths=(3,2,1), r=2)"),
                                       ("LightningAttention", "attention(d=2, dout=1, a=2, t=2)")])
def test_polynomial_module_matches_certified_dimension(cls, spec, analyze_cached):
    certified = analyze_cached(spec, only=("dimension",))["dimension"]
    assert_certified(certified)
    rep = nm.analyze_module(getattr(ex, cls)(), draws=5)
    assert rep["functional_dimension"].value == certified.value < rep["parameter_count"].value
    assert rep["dimension_distribution"].value == {certified.value: 5}


def test_gelu_and_softmax_attention_not_piecewise_polynomial():
    g = nm.analyze_module(ex.GELUNet(), draws=3)
    assert 10 <= g["functional_dimension"].value <= 13
    assert g["conservation_laws"].status == "not_computed" and "GELU" in g["conservation_laws"].evidence["reason"]
    s = nm.analyze_module(ex.SoftmaxAttention(), draws=3)
    # scores depend on W_q^T W_k (4 entries), values on W_v (2): at most 6 of the 10 parameters
    assert s["functional_dimension"].value <= 6
    assert piecewise_polynomial(ex.ReLUNet())[0] and piecewise_polynomial(ex.QuadraticNet())[0]
    assert "piecewise linear" in piecewise_polynomial(ex.ReLUNet())[1]
    assert "piecewise linear" not in piecewise_polynomial(ex.QuadraticNet())[1]  # x^2: polynomial
    assert not piecewise_polynomial(ex.SoftmaxAttention())[0]


def test_jacobian_against_finite_differences():
    from neuromanifold.invariants.torch_module import _prepare

    model, _ = _prepare(ex.GELUNet(), None, None, 5, seed=3)
    th = model.theta()
    J = model.jacobian(th)
    v = torch.as_tensor(np.random.default_rng(0).standard_normal(th.numel()))
    h = 1e-6
    fd = (model.values(th + h * v) - model.values(th - h * v)).detach().numpy() / (2 * h)
    assert np.allclose(J @ v.numpy(), fd, atol=1e-7)


def test_input_shape_inference():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 2)

        def forward(self, x):
            return torch.relu(self.a(x))

    rep = nm.analyze_module(Plain(), draws=0)
    assert rep.info["input_shape"] == [4] and "in_features" in rep.info["input_source"]
    rep = nm.analyze_module(Plain(), inputs=torch.randn(7, 4), draws=0)
    assert rep.info["n_inputs"] == 7 and rep.info["input_source"] == "given tensor"

    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv1d(1, 1, 3)

        def forward(self, x):
            return self.c(x)

    with pytest.raises(InputError, match="cannot infer the input shape"):
        nm.analyze_module(Conv())
    assert nm.analyze_module(Conv(), input_shape=(1, 6), draws=0)["functional_dimension"].value == 4
    with pytest.raises(InputError, match="check input_shape"):
        nm.analyze_module(Conv(), input_shape=(3,))


class _RoundNet(nn.Module):
    input_shape = (2,)

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(2, 3), nn.Linear(3, 1)

    def forward(self, x):
        return self.l2(torch.round(self.l1(x)))


class _ArgmaxNet(nn.Module):
    input_shape = (2,)

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(2, 3)

    def forward(self, x):
        return self.l1(x).argmax(-1)


class _NoParams(nn.Module):
    input_shape = (2,)

    def forward(self, x):
        return x**2


def test_bad_modules():
    with pytest.raises(InputError, match="gradient is zero"):
        nm.analyze_module(_RoundNet())
    with pytest.raises(InputError, match="integer output"):
        nm.analyze_module(_ArgmaxNet())
    with pytest.raises(InputError, match="no parameters"):
        nm.analyze_module(_NoParams())
    with pytest.raises(InputError, match="unknown init"):
        nm.analyze_module(ex.ReLUNet(), init="xavier")


def test_load_errors(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nclass A(torch.nn.Module):\n    def forward(self, x) return x\n")
    with pytest.raises(InputError, match="does not load: SyntaxError"):
        load_module(f"{bad}:A")
    good = tmp_path / "good.py"
    good.write_text(textwrap.dedent("""
        import torch
        class NeedsArgs(torch.nn.Module):
            def __init__(self, width):
                super().__init__()
                self.l = torch.nn.Linear(2, width)
            def forward(self, x):
                return self.l(x)
        class NotAModule:
            pass
    """))
    with pytest.raises(InputError, match=r"NeedsArgs\(\) needs constructor arguments \(width\)"):
        load_module(f"{good}:NeedsArgs")
    with pytest.raises(InputError, match="no class 'Missing'.*NeedsArgs"):
        load_module(f"{good}:Missing")
    with pytest.raises(InputError, match="not a torch.nn.Module"):
        load_module(f"{good}:NotAModule")
    with pytest.raises(InputError, match="does not exist"):
        load_module(f"{tmp_path / 'nope.py'}:A")
    with pytest.raises(InputError, match="FILE.py:ClassName"):
        load_module(str(good))


def test_cli_torch(capsys, tmp_path):
    assert main(["analyze", "--torch", f"{EXAMPLES}:QuadraticNet", "--draws", "3"]) == 0
    out = capsys.readouterr().out
    assert "functional_dimension" in out and "5: 3" in out
    assert main(["analyze", "--torch", f"{EXAMPLES}:ReLUNet", "--draws", "2", "--json", "--n-inputs", "40"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert d["n_inputs"] == 40 and d["invariants"]["ambient_dimension"]["value"] == 40
    # reproducible from the seed: the module's own initial parameters are drawn under it
    a = analyze_file(f"{EXAMPLES}:ReLUNet", draws=0, seed=4)["functional_dimension"].evidence["sigma_r"]
    b = analyze_file(f"{EXAMPLES}:ReLUNet", draws=0, seed=4)["functional_dimension"].evidence["sigma_r"]
    assert a == b
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    for argv, msg in ([["analyze", "--torch", f"{bad}:A"], "does not load: RuntimeError: boom"],
                      [["analyze", "--torch", f"{EXAMPLES}:Missing"], "no class 'Missing'"],
                      [["analyze"], "needs an architecture spec"],
                      [["analyze", "--torch", f"{EXAMPLES}:ReLUNet", "--input-shape", "a"], "--input-shape"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1


def test_conservation_laws_of_modules(analyze_cached):
    """ReLU module: one law per hidden neuron (the rescaling symmetries); the x^2 module has the laws of
    the built-in family mlp(widths=(3,2,1), r=2), |W1[j,:]|^2 - 2 W2[0,j]^2, found independently."""
    import torch

    torch.manual_seed(0)  # the laws are computed at the module's own parameters: no dead neuron at this draw
    relu = nm.analyze_module(ex.ReLUNet(), draws=2)["conservation_laws"]
    assert (relu.value, relu.status) == (3, "numerical") and relu.evidence["drift"]["max_law_drift"] < 1e-6
    assert "activation region" in relu.evidence["locality"]
    # at other parameter draws: never fewer than the 3 rescaling laws, more where a neuron is active or dead
    # on every input (the laws live on activation regions)
    relu8 = nm.analyze_module(ex.ReLUNet(), draws=8, seed=1)["conservation_laws"]
    dist = relu8.evidence["count_distribution"]
    assert sum(dist.values()) == relu8.evidence["count_draws"] == 8 and min(dist) >= 3
    quad = nm.analyze_module(ex.QuadraticNet(), draws=2)["conservation_laws"]
    family = analyze_cached("mlp(widths=(3,2,1), r=2)", only=("conservation_laws",))["conservation_laws"]
    assert quad.value == family.value == 2
    assert quad.evidence["polynomial_laws"]["agrees_with_lie_count"] and "locality" not in quad.evidence
    assert "theta0**2 + theta1**2 + theta2**2 - 2*theta6**2" in quad.evidence["polynomial_laws"]["formulas"]
