"""Issue 20 part 3: identifiability -- the generic fiber on the gauge slice against the known discrete group.

Independent numbers: Sylvester's theorems (a generic binary form of degree 2k-1 is uniquely a sum of k
powers; a general quaternary cubic is uniquely a sum of 5 cubes), so the fiber is the m! orderings;
Sylvester's catalecticant algorithm computed here with numpy; Macaulay2 (Groebner basis over Q) for the
binary quintic fiber; dimension counts (ternary cubics: 4 cubes have a 2-dimensional family of
decompositions; ternary quartics: 5 fourth powers are defective, Alexander-Hirschowitz).
"""

from __future__ import annotations

import shutil
import subprocess
from math import comb, factorial

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.architectures.spec import parse_spec
from neuromanifold.context import Context
from neuromanifold.invariants.identifiability import fiber_parameters, k_rank, kruskal_certificate


def _ident(spec: str, **kw) -> nm.Result:
    return nm.analyze(spec, only="identifiability", **kw)["identifiability"]


def test_sylvester_binary_cubics_sum_of_two_cubes_unique_up_to_order():
    r = _ident("mlp(widths=(2, 2, 1), r=3)")
    assert r.status == "certified" and r.value == factorial(2)
    ev = r.evidence
    assert ev["beyond_symmetries"] == 1 and ev["explained"] == 2 and ev["finite"] is True
    assert ev["kruskal"]["certified"] and ev["kruskal"]["grouping"]["sum"] >= ev["kruskal"]["grouping"]["needed"]
    # the monodromy cross-check gathers the same two points, one orbit of S_2, both certified distinct
    assert ev["monodromy_count"] == 2
    assert ev["orbits"] == {"orbit_sizes": [2], "orbits": 1, "orbit_points_missed_by_monodromy": 0}
    assert ev["krawczyk"]["distinct"] == 2


def test_sylvester_catalecticant_decomposition_matches_the_fiber_points():
    """Sylvester's algorithm, independently: for f = sum_i binom(3, i) a_i x^(3-i) y^i, a vector c in the kernel
    of the catalecticant [[a0, a1, a2], [a1, a2, a3]] gives the quadric c0 + c1 t + c2 t^2 whose roots are the
    ratios t_j = beta_j / alpha_j of the linear forms alpha_j x + beta_j y of
    f = sum_j lambda_j (alpha_j x + beta_j y)^3."""
    ctx = Context("mlp(widths=(2, 2, 1), r=3)")
    thetas, info = fiber_parameters(ctx)
    assert len(thetas) == 2
    arch = ctx.arch
    coeffs = []
    for th in thetas:
        p = arch.unflatten(th)
        W, v = p["W1"], p["W2"][0]  # rows w_j, outputs v_j
        coeffs.append([sum(v[j] * W[j, 0] ** (3 - i) * W[j, 1] ** i for j in range(2)) for i in range(4)])
    a = np.array(coeffs)
    assert np.allclose(a[0], a[1], rtol=1e-8)  # both points give the same cubic (one fiber)
    a = a[0]
    H = np.array([[a[0], a[1], a[2]], [a[1], a[2], a[3]]])
    c = np.linalg.svd(H)[2][-1].conj()
    assert np.linalg.norm(H @ c) < 1e-9 * np.linalg.norm(H)
    t = np.roots([c[2], c[1], c[0]])
    lam = np.linalg.solve(np.array([[1, 1], [t[0], t[1]]]), a[:2])
    assert np.allclose(sum(lam[j] * t[j] ** np.arange(4) for j in range(2)), a, rtol=1e-8)
    orders = set()
    for th in thetas:
        p = arch.unflatten(th)
        W, v = p["W1"], p["W2"][0]
        ratios = W[:, 1] / W[:, 0]
        order = tuple(int(np.argmin(np.abs(t - ratios[j]))) for j in range(2))
        assert sorted(order) == [0, 1]  # each point is Sylvester's decomposition, in some order
        assert np.allclose(ratios, t[list(order)], rtol=1e-7)
        assert np.allclose(v * W[:, 0] ** 3, lam[list(order)], rtol=1e-7)
        orders.add(order)
    assert len(orders) == 2  # the two points are the two orderings


def test_binary_quintics_three_fifth_powers():
    r = _ident("mlp(widths=(2, 3, 1), r=5)")
    assert r.status == "certified" and r.value == factorial(3)
    assert r.evidence["monodromy_count"] == 6 and r.evidence["krawczyk"]["distinct"] == 6


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("M2") is None, reason="Macaulay2 (M2) is not installed: no independent oracle")
def test_binary_quintic_fiber_count_by_groebner_basis():
    # the fiber of a rational binary quintic on the slice w_j = (1, z_j): sum_j v_j z_j^i = a_i, i = 0..5
    script = (
        "R = QQ[v1,v2,v3,z1,z2,z3]; a = {3, -7/2, 5, 2/3, -1, 4};\n"
        "I = ideal apply(6, i -> v1*z1^i + v2*z2^i + v3*z3^i - a#i);\n"
        'print(toString(dim I) | " " | toString(degree I) | " " | toString(degree radical I));\n'
    )
    out = subprocess.run(["M2", "--script", "/dev/stdin"], input=script, capture_output=True, text=True, timeout=120)
    dim, deg, deg_red = map(int, out.stdout.split()[-3:])
    assert (dim, deg, deg_red) == (0, 6, 6)
    assert _ident("mlp(widths=(2, 3, 1), r=5)").value == deg


@pytest.mark.slow
def test_sylvester_pentahedral_quaternary_cubics_five_cubes():
    r = _ident("mlp(widths=(4, 5, 1), r=3)")
    assert r.status == "certified" and r.value == factorial(5)
    ev = r.evidence
    assert ev["kruskal"]["grouping"]["k_ranks"][1:] == [4, 4, 4]  # generic 4 x 5: any 4 columns independent
    assert ev["monodromy_count"] == 120 and ev["orbits"]["orbits"] == 1 and ev["orbits"]["orbit_sizes"] == [120]
    assert ev["krawczyk"]["distinct"] == 120


def test_not_finite_to_one_ternary_cubics_four_cubes():
    # 4 * 3 parameters after freezing, 10-dimensional space of ternary cubics: a 2-dimensional fiber
    r = _ident("mlp(widths=(3, 4, 1), r=3)")
    assert r.status == "failed" and r.value is None
    assert "not finite-to-one" in r.evidence["reason"]
    assert r.evidence["fiber_dimension_after_freezing"] == 4 * 3 - comb(3 + 2, 3) and r.evidence["finite_certified"]
    assert not r.evidence["kruskal"]["applies"]


def test_not_finite_to_one_alexander_hirschowitz_ternary_quartics():
    # 5 fourth powers in 3 variables: expected 15 = dim of ternary quartics, but defective (AH): dim 14
    r = _ident("mlp(widths=(3, 5, 1), r=4)")
    assert r.status == "failed" and r.value is None
    assert "not finite-to-one" in r.evidence["reason"] and r.evidence["finite"] is False
    assert not r.evidence["kruskal"]["applies"]  # 1 + 5 + 5 < 12 for V | W^2 | W^2


def test_kruskal_k_ranks_and_where_the_criterion_applies():
    V = np.vander(np.arange(1, 6), 4, increasing=True).T.tolist()  # 4 x 5 Vandermonde: k-rank 4
    assert k_rank(V) == 4
    assert k_rank([[1, 2, 0], [2, 4, 1]]) == 1  # columns 0 and 1 proportional
    assert k_rank([[0, 1], [0, 1]]) == 0
    arch = parse_spec("mlp(widths=(4, 5, 1), r=3)")
    kr = kruskal_certificate(arch)
    g = kr["grouping"]
    assert kr["certified"] and g["needed"] == 2 * 5 + len(g["k_ranks"]) - 1 and g["sum"] >= g["needed"]
    # refusals: deep, a polynomial activation, a hidden width 1, too many summands, linear
    for spec in ("mlp(widths=(2, 2, 2, 1), r=2)", "mlp(widths=(2, 3, 1), r=3, bias=True)",
                 'mlp(widths=(2, 2, 1), act="x**3 + x")', "mlp(widths=(2, 1, 1), r=3)", "mlp(widths=(2, 3, 1), r=3)",
                 "linear(widths=(2, 2, 2))"):
        kr = kruskal_certificate(parse_spec(spec))
        assert kr["applies"] is False and kr["certified"] is False and kr["reason"], spec
    # two outputs make quadrics identifiable: k_V + 2 k_W = 6 >= 2 * 2 + 2
    assert kruskal_certificate(parse_spec("mlp(widths=(2, 2, 2), r=2)"))["certified"]
    assert not kruskal_certificate(parse_spec("mlp(widths=(2, 2, 1), r=2)"))["applies"]


def test_biases_homogenized_kruskal_agrees_with_monodromy():
    # f = v1 (w1 x + b1)^3 + v2 (w2 x + b2)^3 + c: homogenized, 3 terms in 3 variables, one of them c x_0^3
    rep = nm.analyze("mlp(widths=(2, 2, 1), r=3, bias=True)", only="fiber_points,identifiability")
    r = rep["identifiability"]
    assert r.status == "certified" and r.value == 2 and r.evidence["kruskal"]["homogenized"]
    assert rep["fiber_points"].value == 2  # monodromy, independently of the criterion
    # M (dimension 7) does not fill the 10 coefficients of binary cubics with constant terms: no cross-check
    assert "deg M" in r.evidence["monodromy_cross_check"]


def test_two_quadrics_fiber_is_two_orderings_and_agrees_with_fiber_points():
    rep = nm.analyze("mlp(widths=(2, 2, 2), r=2)", only="fiber_points,identifiability")
    r = rep["identifiability"]
    assert r.status == "certified" and r.value == 2 == rep["fiber_points"].value
    # even x^2: the sign flips are rescalings t = -1, removed by the frozen W1[j, 0]
    assert "neuron sign flips" in r.evidence["group_on_slice"]["absorbed_by_the_frozen_coordinates"]


def test_numerical_counts_without_kruskal():
    # deep: two hidden layers of width 2, the group S_2 x S_2 of order 4 explains the whole fiber
    r = _ident("mlp(widths=(2, 2, 2, 2), r=2)")
    assert r.status == "numerical" and r.value == 4
    assert r.evidence["explained"] == 2 * 2 and r.evidence["beyond_symmetries"] == 1
    assert r.evidence["orbits"]["orbit_points_missed_by_monodromy"] == 0
    assert "shallow" in r.evidence["kruskal"]["reason"]
    # linear: the frozen 2 x 2 block W1 leaves W2 = A W1^(-1): one point, trivial group
    r = _ident("linear(widths=(2, 2, 2))")
    assert r.status == "numerical" and r.value == 1 and r.evidence["explained"] == 1


def test_registered_cost_guard_and_bad_input():
    assert "identifiability" in nm.INVARIANTS and "identifiability" not in nm.analysis.DEFAULT_INVARIANTS
    from neuromanifold.invariants.cost import cost_estimates

    ctx = Context("mlp(widths=(4, 5, 1), r=3)")
    (est,) = cost_estimates(ctx, ["identifiability"])
    assert est["bound"] == 120  # Kruskal certifies: only the m! cross-check, not the Bezout bound 4^20
    # positive-dimensional fibers are reported from the dimensions, without a refusal or a monodromy
    r = _ident("mlp(widths=(4, 6, 1), r=3)")
    assert r.status == "failed" and r.evidence["fiber_dimension_after_freezing"] == 6 * 4 - comb(4 + 2, 3)
    with pytest.raises(nm.InputError, match="unknown invariant"):
        nm.analyze("mlp(widths=(2, 2, 1), r=3)", only="identifiabilty")
    with pytest.raises(nm.InputError, match="Architecture"):
        kruskal_certificate("mlp(widths=(2, 2, 1), r=3)")
    with pytest.raises(nm.InputError, match="attempts"):
        kruskal_certificate(parse_spec("mlp(widths=(2, 2, 1), r=3)"), attempts=0)
    with pytest.raises(nm.InputError, match="not polynomial"):
        nm.analyze("relu(widths=(2, 2, 1))", only="identifiability")


@pytest.mark.parametrize(
    "spec, act, order",
    [
        ("mlp(widths=(2, 3, 2, 1), r=2)", lambda x: x**2, factorial(3) * factorial(2)),
        ('mlp(widths=(2, 2, 1), act="x**3 + x")', lambda x: x**3 + x, factorial(2) * 2**2),  # odd: sign flips
    ],
)
def test_slice_group_orbits_keep_the_function_and_the_frozen_coordinates(spec, act, order):
    from neuromanifold.architectures.gauge import gauge_indices
    from neuromanifold.invariants.identifiability import slice_group

    arch = parse_spec(spec)
    group = slice_group(arch)
    assert group is not None and group.order == order
    rng = np.random.default_rng(5)
    theta = rng.standard_normal(arch.n_params) + 1j * rng.standard_normal(arch.n_params)
    frozen = np.array(gauge_indices(arch) or [], dtype=int)
    orb = group.orbit(theta, frozen)
    X = rng.standard_normal((arch.widths[0], 7))

    def forward(th):  # a direct numpy forward pass, independent of the package's evaluation
        p = arch.unflatten(th)
        H = X
        for i in range(1, arch.depth + 1):
            H = p[f"W{i}"] @ H
            if i < arch.depth:
                H = act(H)
        return H

    f0 = forward(theta)
    assert len(orb) == order
    for th in orb:
        assert np.allclose(forward(th), f0, rtol=1e-9, atol=1e-9)
        assert np.allclose(th[frozen], theta[frozen])  # the group acts on the slice
    diffs = np.abs(orb[:, None, :] - orb[None, :, :]).max(axis=2) + np.eye(len(orb))
    assert diffs.min() > 1e-6  # a free action: |G| distinct points
