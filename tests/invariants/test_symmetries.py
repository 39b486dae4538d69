"""Hidden symmetries: polynomial kernel fields (search + exact verification) and containment bounds."""

from math import comb

import numpy as np
import pytest
import sympy

from neuromanifold.architectures import MLP, Linear, parse_spec
from neuromanifold.context import Context
from neuromanifold.invariants.kernel_fields import search as S
from neuromanifold.invariants.dimension import _same_function_space, dimension, dimension_data
from neuromanifold.invariants.fibers import hidden_symmetries
from neuromanifold.parametrization.evaluation import symbolic_function
from assertions import assert_certified


def _run(spec):
    ctx = Context(spec)
    return ctx, dimension(ctx), hidden_symmetries(ctx)


def _is_kernel_field_sympy(arch, v):
    """Independent check with sympy expressions: sum_k v_k(theta) d f / d theta_k expands to 0."""
    theta, _, outputs = symbolic_function(arch)
    comps = {}
    for k, c, mono in v.terms:
        comps[k] = comps.get(k, 0) + c * sympy.Mul(*[theta[i] for i in mono])
    return all(sympy.expand(sum(vk * sympy.diff(f, theta[k]) for k, vk in comps.items())) == 0 for f in outputs)


@pytest.mark.parametrize("d0,d1", [(3, 2), (4, 2), (4, 3)])
def test_alexander_hirschowitz_certified_by_orthogonal_fields(d0, d1):
    # quadratic forms of rank <= d1 in d0 variables: dim = d1 d0 - C(d1, 2); the C(d1, 2) extra fiber
    # directions are the orthogonal group O(d1) of the weighted form, which rescalings do not explain
    ctx, dim, hid = _run(f"mlp(widths=({d0}, {d1}, 1), r=2)")
    assert_certified(dim, d1 * d0 - comb(d1, 2))
    assert "verified identically" in dim.evidence["upper_bound"]["method"]
    assert_certified(hid, comb(d1, 2))
    pf = hid.evidence["polynomial_fields"]
    assert pf["verified_fields"] == comb(d1, 2) == len(pf["fields"])
    assert pf["rank_with_verified_fields"] == pf["rank_needed"]
    assert all(any(line.startswith("dW1[") and "*W2[0," in line for line in f) for f in pf["fields"])
    for v in dimension_data(ctx).polynomial_fields.fields:
        assert v.degree == 2
        assert _is_kernel_field_sympy(ctx.arch, v)


def test_deep_linear_network_certified():
    # rank <= 2 matrices 4 x 4; the fiber has one direction outside the GL orbits: W1 moves along
    # ker W2 (a field quadratic in W2: the 2 x 2 minors)
    ctx, dim, hid = _run("linear(widths=(4, 3, 2, 4))")
    assert_certified(dim, 12)
    assert_certified(hid, 1)
    fields = dimension_data(ctx).polynomial_fields.fields
    assert fields and all(_is_kernel_field_sympy(ctx.arch, v) for v in fields)


def test_width_one_bottleneck_certified():
    ctx, dim, hid = _run("mlp(widths=(2, 1, 2, 1), r=2)")
    assert_certified(dim, 2)
    assert_certified(hid, 1)


def test_affine_network_with_bottleneck_needs_mixed_degree_fields():
    # f = A s^4 + B s^2 + C with s = W1 x + b1 affine: dim = 4 + 3 - 1 = 6, no containing space used
    ctx, dim, _ = _run("mlp(widths=(3, 1, 2, 1), r=2, bias=True)")
    assert_certified(dim, 6)
    assert "containing_architectures" not in dim.evidence


@pytest.mark.parametrize(
    "spec,dim_value,contains",
    [
        ("linear(widths=(4, 3, 2, 4))", 12, "linear(widths=(4, 2, 4))"),
        ("mlp(widths=(2, 1, 2, 1), r=2)", 2, "mlp(widths=(2, 1, 1), r=4, bias=False)"),
    ],
)
def test_containment_certifies_without_fields(monkeypatch, spec, dim_value, contains):
    monkeypatch.setattr(S, "MAX_DEGREE", 0)  # no kernel-field search: only M in M' can close the gap
    ctx, dim, hid = _run(spec)
    assert_certified(dim, dim_value)
    assert contains in dim.evidence["upper_bound"]["method"]
    used = [c for c in dim.evidence["containing_architectures"] if c["used"] == "yes"]
    assert used and used[0]["architecture"] == contains and used[0]["status"] == "certified"
    assert_certified(hid)
    assert dimension_data(ctx).polynomial_fields.fields == []


def test_containing_architectures_share_the_function_space():
    for spec in ["linear(widths=(4, 3, 2, 4))", "mlp(widths=(2, 1, 2, 1), r=2)", "mlp(widths=(3, 2, 1, 2, 2), r=3)",
                 "mlp(widths=(3, 2, 2, 4), r=1, bias=True)"]:
        arch = parse_spec(spec)
        subs = arch.containing_architectures()
        assert subs, spec
        for sub, reason in subs:
            assert reason and sub.n_params < arch.n_params
            assert _same_function_space(arch, sub)
    assert parse_spec("mlp(widths=(3, 2, 1), r=2)").containing_architectures() == []
    assert parse_spec("mlp(widths=(2, 1, 2, 1), r=2, bias=True)").containing_architectures() == []
    # the bottleneck containment holds pointwise: f = c * (w . x)^(r^(h-1)) for a vector c
    arch = MLP((2, 1, 2, 1), 2)
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(arch.n_params)
    X = rng.standard_normal((2, 7))
    Y = arch.forward(arch.unflatten(theta), X)
    w = arch.unflatten(theta)["W1"]
    ratio = Y / (w @ X) ** 4
    assert np.allclose(ratio, ratio[0, 0])
    assert Linear((4, 3, 2, 4), 1, False).containing_architectures()[0][0] == Linear((4, 2, 4), 1, False)


def test_verifier_rejects_a_field_that_is_not_a_symmetry():
    arch = parse_spec("mlp(widths=(3, 2, 1), r=2)")
    W1 = lambda a, c: arch.index("W1", (a, c))  # noqa: E731
    w2 = lambda j: arch.index("W2", (0, j))  # noqa: E731
    # the orthogonal field of the form w2_0 (W1[0] x)^2 + w2_1 (W1[1] x)^2: dW1[0] = w2_1 W1[1], dW1[1] = -w2_0 W1[0]
    good = S.PolynomialField(
        [(W1(0, c), 1, (W1(1, c), w2(1))) for c in range(3)] + [(W1(1, c), -1, (W1(0, c), w2(0))) for c in range(3)]
    )
    wrong_sign = S.PolynomialField(
        [(W1(0, c), 1, (W1(1, c), w2(1))) for c in range(3)] + [(W1(1, c), 1, (W1(0, c), w2(0))) for c in range(3)]
    )
    not_tangent = S.PolynomialField([(W1(0, 0), 1, (W1(0, 1),))])
    ver = S.SymbolicVerifier(arch)
    assert ver.verify(good)
    assert not ver.verify(wrong_sign)
    assert not ver.verify(not_tangent)
    assert _is_kernel_field_sympy(arch, good) and not _is_kernel_field_sympy(arch, wrong_sign)
    labels = arch.param_labels()
    assert "dW1[0,0] = W1[1,0]*W2[0,1]" in good.formulas(labels)
    assert "dW1[1,2] = -W1[0,2]*W2[0,0]" in good.formulas(labels)


@pytest.mark.parametrize(
    "spec",
    ["attention(d=2, dout=1, a=2, t=2)", "cnn(k=(2, 2), s=(1, 1), r=2)", "mlp(widths=(2, 2, 1), r=1, bias=True)"],
)
def test_declared_generators_verify_and_perturbations_do_not(spec):
    arch = parse_spec(spec)
    ver = S.SymbolicVerifier(arch)
    gens = arch.symmetries()
    assert gens
    for g in gens:
        v = S.PolynomialField.from_affine(g)
        assert ver.verify(v), g.name
        k, c, mono = v.terms[0]
        assert not ver.verify(S.PolynomialField(v.terms + [(k, 1, mono)])), g.name  # one coefficient changed


def test_nothing_found_stays_lower_bound(monkeypatch):
    monkeypatch.setattr(S, "MAX_DEGREE", 0)
    # the quadric's rank equation would certify it (``MLP.equation_upper_bound``): this test is about the field search
    monkeypatch.setattr(MLP, "equation_upper_bound", lambda self: None)
    ctx, dim, hid = _run("mlp(widths=(3, 2, 1), r=2)")  # no containing architecture either
    assert dim.status == "lower_bound" and dim.value == 5
    assert dim.evidence["upper_bound"]["value"] == 6
    assert dim.evidence["numerical"]["rank"] == 5
    assert dim.evidence["defect"] == {"at_least": 0, "at_most": 1}
    pf = dim.evidence["polynomial_kernel_fields"]
    assert pf["verified_fields"] == 0 and "not searched" in pf["stopped"]
    assert hid.status == "numerical" and hid.value == 1


def test_probabilistic_fields_never_certify(monkeypatch):
    monkeypatch.setattr(S, "TERM_LIMIT", 3)  # exact verification impossible: the forward pass is too large
    monkeypatch.setattr(MLP, "equation_upper_bound", lambda self: None)  # see above
    ctx, dim, hid = _run("mlp(widths=(4, 3, 1), r=2)")
    assert dim.status == "lower_bound" and dim.value == 9
    pf = dim.evidence["polynomial_kernel_fields"]
    assert pf["verified_fields"] == 0
    assert "verification_note" in pf
    prob = pf["probabilistic_fields"]
    assert "probabilistic" in prob["status"] and prob["rank_with_them"] == pf["rank_needed"] == 6
    assert hid.status == "numerical"


def test_beyond_the_search_limits_stays_lower_bound(monkeypatch):
    # an Alexander-Hirschowitz case whose quadratic fields are beyond the enumeration limit: the
    # search gives up at once and the dimension is an honest lower bound with numerical evidence
    d0, d1 = 14, 8
    monkeypatch.setattr(MLP, "equation_upper_bound", lambda self: None)
    ctx, dim, hid = _run(f"mlp(widths=({d0}, {d1}, 1), r=2)")
    assert dim.status == "lower_bound"
    assert dim.value == d1 * d0 - comb(d1, 2) == dim.evidence["numerical"]["rank"]
    assert dim.evidence["upper_bound"]["value"] > dim.value
    pf = dim.evidence["polynomial_kernel_fields"]
    assert "degree 2 not searched" in pf["stopped"] and pf["degrees_searched"] == [1]
    assert pf["seconds"] < S.SEARCH_BUDGET
    assert hid.status == "numerical" and hid.value == comb(d1, 2)


@pytest.mark.parametrize("d0, d1", [(3, 2), (14, 8), (5, 3)])
def test_quadric_rank_equation_certifies_the_alexander_hirschowitz_quadrics(d0, d1):
    """Sums of d1 squares of linear forms in d0 variables are the symmetric matrices of rank <= d1, of dimension
    d1 d0 - d1 (d1 - 1) / 2 (the classical count, written here): certified by ``MLP.equation_upper_bound`` also where
    the kernel-field search gives up (14, 8)."""
    ctx, dim, hid = _run(f"mlp(widths=({d0}, {d1}, 1), r=2)")
    assert dim.status == "certified" and dim.value == d1 * d0 - comb(d1, 2)
    assert dim.value == dim.evidence["numerical"]["rank"]
