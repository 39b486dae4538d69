"""Conservation laws of gradient flows (Marcotte, Gribonval, Peyre, NeurIPS 2023): counts from the Lie
algebra rank, explicit polynomial laws, and their drift along integrated flows, against closed forms."""

import numpy as np
import pytest
import sympy

import neuromanifold as nm
from neuromanifold.report.text import render_text
from neuromanifold.errors import InputError
from neuromanifold.invariants import conservation as cl


@pytest.fixture(scope="module")
def laws():
    cache = {}

    def run(spec, degree=2):
        if (spec, degree) not in cache:
            cache[spec, degree] = nm.analyze(spec, only=["conservation_laws"], law_degree=degree)["conservation_laws"]
        return cache[spec, degree]

    return run


def _same_span(found, expected, symbols):
    """Do two lists of polynomials (sympy) span the same vector space?"""
    def vec(exprs):
        polys = [sympy.Poly(sympy.expand(e), *symbols) for e in exprs]
        monos = sorted({m for p in polys for m in p.monoms()})
        return sympy.Matrix([[p.coeff_monomial(m) for m in monos] for p in polys]), monos

    A, _ = vec(list(found) + list(expected))
    F, _ = vec(found)
    E, _ = vec(expected)
    return A.rank() == F.rank() == E.rank()


def _symbols(arch):
    labels = arch.param_labels()
    syms = [sympy.Symbol(s) for s in labels]
    named = {}
    for name, shape in arch.param_shapes().items():
        named[name] = sympy.Matrix(*shape, lambda i, j: syms[arch.index(name, (int(i), int(j)))])
    return syms, named


def _parse(formulas, syms):
    local = {str(s): s for s in syms}
    return [sympy.sympify(f.replace("[", "_").replace(",", "_").replace("]", ""),
                          locals={k.replace("[", "_").replace(",", "_").replace("]", ""): v for k, v in local.items()})
            for f in formulas]


@pytest.mark.parametrize("widths", [(2, 3, 2), (2, 3, 3, 2)])
def test_linear_networks(laws, widths):
    """The laws are the entries of W_{i+1}^T W_{i+1} - W_i W_i^T: sum over hidden layers of d_i(d_i+1)/2."""
    spec = f"linear(widths={widths})"
    r = laws(spec)
    arch = nm.parse_spec(spec)
    expected_count = sum(d * (d + 1) // 2 for d in widths[1:-1])
    assert r.value == expected_count and r.status == "certified"  # exact bounds meet (conservation/certificate.py)
    assert r.evidence["certificate"]["lower"] == r.evidence["certificate"]["upper"] == expected_count
    assert r.evidence["lie_algebra"]["clear_gap"]
    pl = r.evidence["polynomial_laws"]
    assert pl["independent"] == expected_count and pl["agrees_with_lie_count"]
    assert pl["status"] == "certified" and pl["verification"]["exact"]["failures"] == 0
    syms, W = _symbols(arch)
    expected = []
    for i in range(1, len(widths) - 1):
        M = W[f"W{i + 1}"].T * W[f"W{i + 1}"] - W[f"W{i}"] * W[f"W{i}"].T
        expected += [M[a, b] for a in range(M.rows) for b in range(a, M.cols)]
    assert _same_span(_parse(pl["formulas"], syms), expected, syms)
    dr = r.evidence["drift"]
    assert dr["max_law_drift"] < 1e-8 and dr["control"]["drift"] > 1e-3


@pytest.mark.parametrize("bias", [False, True])
def test_relu_one_law_per_hidden_neuron(laws, bias):
    """|incoming weights (and bias)|^2 - |outgoing weights|^2 for each hidden neuron."""
    spec = f"relu(widths=(3,4,2), bias={bias})"
    r = laws(spec)
    arch = nm.parse_spec(spec)
    assert r.value == 4
    pl = r.evidence["polynomial_laws"]
    assert pl["count"] == pl["independent"] == 4 and pl["agrees_with_lie_count"] and pl["status"] == "numerical"
    syms, W = _symbols(arch)
    expected = []
    for j in range(4):
        inc = sum(W["W1"][j, c] ** 2 for c in range(3)) + (W["b1"][j, 0] ** 2 if bias else 0)
        expected.append(inc - sum(W["W2"][m, j] ** 2 for m in range(2)))
    assert _same_span(_parse(pl["formulas"], syms), expected, syms)
    assert r.evidence["drift"]["max_law_drift"] < 1e-8 < 1e-3 < r.evidence["drift"]["control"]["drift"]


def test_polynomial_activation_law_and_agreement(laws):
    """x^r activation: d/dt |w_j|^2 = r d/dt v_j^2 along every flow, so |w_j|^2 - r v_j^2 is conserved."""
    r = laws("mlp(widths=(2,2,1), r=2)")
    assert r.value == 2
    pl = r.evidence["polynomial_laws"]
    assert pl["agrees_with_lie_count"] and pl["status"] == "certified"
    arch = nm.parse_spec("mlp(widths=(2,2,1), r=2)")
    syms, W = _symbols(arch)
    expected = [W["W1"][j, 0] ** 2 + W["W1"][j, 1] ** 2 - 2 * W["W2"][0, j] ** 2 for j in range(2)]
    assert _same_span(_parse(pl["formulas"], syms), expected, syms)


def test_drift_separates_laws_from_non_laws():
    """Along one integrated flow of a ReLU network, a true law stays put and a near-miss does not."""
    import torch

    arch = nm.parse_spec("relu(widths=(2,3,1))")
    rng = np.random.default_rng(5)
    family = cl.family_of_architecture(arch, rng)
    theta0 = rng.standard_normal(arch.n_params)
    loss = cl._square_loss(family.values, theta0, rng)
    flow = cl.gradient_flow(loss, theta0)
    thT = flow["theta_T"]
    assert flow["displacement"] > 0.02 and flow["loss_T"] < flow["loss_0"]
    i = arch.index

    def law(t):  # neuron 0: |W1[0,:]|^2 - W2[0,0]^2
        return t[i("W1", (0, 0))] ** 2 + t[i("W1", (0, 1))] ** 2 - t[i("W2", (0, 0))] ** 2

    def near_miss(t):  # the outgoing weight of another neuron
        return t[i("W1", (0, 0))] ** 2 + t[i("W1", (0, 1))] ** 2 - t[i("W2", (0, 1))] ** 2

    def num_grad(h):
        return lambda t: np.array([(h(t + 1e-6 * e) - h(t - 1e-6 * e)) / 2e-6 for e in np.eye(len(t))])

    assert cl.drift(law, num_grad(law), theta0, thT) < 1e-8
    assert cl.drift(near_miss, num_grad(near_miss), theta0, thT) > 1e-3
    del torch


def test_generic_callable_matrix_factorisation():
    """phi(U, V) = U V^T with U in R^{3x2}, V in R^{4x2}: r(r+1)/2 = 3 laws, the entries of U^T U - V^T V."""
    import torch

    def phi(theta):
        U, V = theta[:6].reshape(3, 2), theta[6:].reshape(4, 2)
        return (U @ V.T).reshape(-1)

    theta0 = np.random.default_rng(0).standard_normal(14)
    r = cl.conservation_laws_of_map(phi, torch.as_tensor(theta0), law_degree=2)
    assert r.value == 3
    assert r.evidence["polynomial_laws"]["independent"] == 3 and r.evidence["polynomial_laws"]["agrees_with_lie_count"]
    syms = sympy.symbols("theta0:14")
    U, V = sympy.Matrix(3, 2, syms[:6]), sympy.Matrix(4, 2, syms[6:])
    M = U.T * U - V.T * V
    found = [sympy.sympify(f, locals={str(s): s for s in syms}) for f in r.evidence["polynomial_laws"]["formulas"]]
    assert _same_span(found, [M[0, 0], M[0, 1], M[1, 1]], syms)


def test_no_laws_and_scalar_product():
    """phi = identity: W_phi is everything, no law.  phi(u, v) = u v: one law u^2 - v^2."""
    r0 = cl.conservation_laws_of_map(lambda t: t * 1.0, np.ones(4) + np.arange(4), law_degree=1)
    assert r0.value == 0 and r0.evidence["polynomial_laws"]["count"] == 0
    r1 = cl.conservation_laws_of_map(lambda t: (t[0] * t[1]).reshape(1), np.array([0.7, -1.3]), law_degree=2)
    assert r1.value == 1 and r1.evidence["polynomial_laws"]["formulas"] == ["theta0**2 - theta1**2"]


def test_torch_module_entry_point():
    """The hook torch_module uses: values(theta) of an nn.Module via functional_call."""
    import torch
    from torch.func import functional_call

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4, bias=False), torch.nn.ReLU(), torch.nn.Linear(4, 2, bias=False))
    net = net.double()
    names = [n for n, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    X = torch.randn(30, 3, dtype=torch.float64)

    def values(theta):
        params, off = {}, 0
        for n, s in zip(names, shapes):
            params[n] = theta[off:off + s.numel()].reshape(s)
            off += s.numel()
        return functional_call(net, params, (X,)).reshape(-1)

    theta0 = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    r = cl.module_conservation_laws(values, theta0, piecewise="relu only")
    assert r.value == 4 and r.evidence["piecewise_polynomial"] == "relu only"
    assert r.evidence["polynomial_laws"]["agrees_with_lie_count"]


def test_batched_and_looped_brackets_agree():
    arch = nm.parse_spec("linear(widths=(2,2,2))")
    fam = cl.family_of_architecture(arch, np.random.default_rng(0))
    th = np.random.default_rng(1).standard_normal(arch.n_params)
    a = cl.lie_algebra_trace(fam, th, np.random.default_rng(2), vectorize=True)
    b = cl.lie_algebra_trace(fam, th, np.random.default_rng(2), vectorize=False)
    assert a.rank == b.rank == 8 - 3


def test_bad_input():
    with pytest.raises(InputError, match="law_degree"):
        nm.analyze("linear(widths=(2,2,2))", only=["conservation_laws"], law_degree=7)
    with pytest.raises(InputError, match="floating-point"):
        cl.conservation_laws_of_map(lambda t: (t > 0).to(dtype=__import__("torch").int64), np.ones(3))
    with pytest.raises(InputError, match="empty"):
        cl.conservation_laws_of_map(lambda t: t, np.zeros(0))


def test_text_and_json_reports(laws):
    import json

    r = nm.analyze("relu(widths=(2,2,1))", only=["conservation_laws"])
    text = render_text(r)
    assert "conservation laws of degree <= 2" in text and "Lie algebra rank 4" in text
    d = json.loads(json.dumps(r.to_dict()))
    assert d["invariants"]["conservation_laws"]["value"] == 2
    assert len(d["invariants"]["conservation_laws"]["evidence"]["polynomial_laws"]["formulas"]) == 2


def test_cli_law_degree(capsys):
    from neuromanifold.cli import main

    assert main(["analyze", "linear(widths=(1,2,1))", "--only", "conservation_laws", "--law-degree", "0"]) == 0
    out = capsys.readouterr().out
    assert "4 params - Lie algebra rank 1" in out and "polynomial" not in out


@pytest.mark.slow
def test_larger_relu_networks():
    """One law per hidden neuron also for a deep ReLU network with 210 parameters (some neurons are active on
    few inputs) and, with 1652 unknowns in the polynomial search (Gram-matrix path), for a shallow one."""
    deep = nm.analyze("relu(widths=(10,10,10,1))", only=["conservation_laws"], law_degree=0)["conservation_laws"]
    assert deep.value == 20 and deep.evidence["lie_algebra"]["clear_gap"]
    r = nm.analyze("relu(widths=(4,8,3))", only=["conservation_laws"])["conservation_laws"]
    pl = r.evidence["polynomial_laws"]
    assert r.value == 8 and pl["monomials"] == 1652 and pl["count"] == pl["independent"] == 8
    assert pl["agrees_with_lie_count"] and r.evidence["drift"]["max_law_drift"] < 1e-8


def test_deep_relu_count_does_not_depend_on_the_seed():
    """Issue 17: on the stated region (every hidden neuron switches on the inputs, checked) the count is the
    same for seeds 0..4, is at least the proven lower bound (one rescaling law per hidden neuron, Du-Hu-Lee
    2018), and the evidence names the region and the counts at the draws."""
    values = set()
    for seed in range(5):
        r = nm.analyze("relu(widths=(3,3,3,3,3))", only=["conservation_laws"], law_degree=0,
                       seed=seed)["conservation_laws"]
        ev = r.evidence
        assert r.value is not None and r.value >= ev["lower_bound"]["value"] == 9
        assert "active" in ev["region"] and "checked" in ev["region"]
        assert sum(ev["count_distribution"].values()) == ev["draws"] >= cl.REGION_DRAWS
        assert min(ev["count_distribution"]) == r.value
        assert sum(ev["unconditioned_draws"].values()) == cl.OUTSIDE_DRAWS
        values.add(r.value)
    assert len(values) == 1


@pytest.mark.parametrize("widths, bias", [((2, 5, 1), False), ((2, 3, 2), True)])
def test_shallow_relu_count_is_the_number_of_hidden_neurons(widths, bias):
    """Two-layer ReLU networks (with or without bias): exactly the neuron-wise laws (Marcotte, Gribonval, Peyre
    2023), h = widths[1] of them, at every in-region draw."""
    r = nm.analyze(f"relu(widths={widths}, bias={bias})", only=["conservation_laws"], law_degree=0)["conservation_laws"]
    assert r.value == widths[1] and r.status == "numerical" and r.evidence["reaches_lower_bound"]
    assert r.evidence["lie_algebra"]["clear_gap"]


def test_region_check_rejects_dead_and_always_active_neurons():
    """A second-layer neuron with negative incoming weights is dead on every input (its inputs are >= 0), one
    with positive weights is never inactive: the check rejects both, and accepts the point once repaired."""
    arch = nm.parse_spec("relu(widths=(3,3,3,1))")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 4096))
    theta = rng.standard_normal(arch.n_params)
    for c in range(3):
        theta[arch.index("W2", (0, c))] = -abs(theta[arch.index("W2", (0, c))])
        theta[arch.index("W2", (1, c))] = abs(theta[arch.index("W2", (1, c))])
    sw = arch.switching(theta, X)
    assert list(sw[3:5]) == [False, False] and sw[:3].all()
    drawn, info = cl.draw_in_region(arch, rng, X)
    assert drawn is not None and arch.switching(drawn, X).all()


def test_unreachable_region_fails_with_the_reason():
    """After a width-1 layer without bias a neuron's input is >= 0, so it is never both active and inactive."""
    r = nm.analyze("relu(widths=(2,1,1,1))", only=["conservation_laws"], law_degree=0)["conservation_laws"]
    assert r.value is None and r.status == "failed" and "hidden layer 2, neuron 0" in r.evidence["reason"]


def test_torch_module_reports_the_region_of_its_parameters():
    """analyze_module keeps the count at the module's own parameters and says whether every ReLU unit switches
    there: a killed hidden unit (all incoming weights and bias negative on positive inputs) is caught."""
    import torch

    from neuromanifold.invariants.torch_module import analyze_module

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)).double()
    X = torch.randn(40, 2, dtype=torch.float64)
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.5], [-0.3, 1.0], [0.7, -0.2]]))
        net[0].bias.zero_()
    ok = analyze_module(net, X, draws=2)["conservation_laws"].evidence
    assert ok["region"]["in_region"] is True and ok["region"]["switching_units"] == 3
    with torch.no_grad():
        net[0].weight[1] = torch.tensor([-1.0, -1.0])
        net[0].bias[1] = -100.0  # pre-activation < 0 on every input: a dead unit
    dead = analyze_module(net, X, draws=2)["conservation_laws"]
    assert dead.evidence["region"] == {**dead.evidence["region"], "in_region": False, "switching_units": 2}
    assert sum(sum(c.values()) for c in dead.evidence["count_distribution_by_region"].values()) == 2
