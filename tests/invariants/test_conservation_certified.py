"""Certified conservation-law counts (issue 20): exact bounds lower <= D - dim Lie(W_phi) <= upper from brackets mod p
and identically verified laws, compared with closed formulas (Marcotte, Gribonval, Peyre 2023), with a single
generator (D - 1), with sympy, and with an independent Macaulay2 computation."""

import shutil
import subprocess
import textwrap
from fractions import Fraction

import numpy as np
import pytest
import sympy

import neuromanifold as nm
from neuromanifold.arithmetic.modular import DEFAULT_PRIME
from neuromanifold.errors import InputError
from neuromanifold.invariants import conservation as cl
from neuromanifold.invariants.conservation import certificate as cc
from neuromanifold.invariants.conservation.polynomial_laws import PolynomialLaw

M2 = shutil.which("M2")


def count(spec, law_degree=2):
    return nm.analyze(spec, only="conservation_laws", law_degree=law_degree)["conservation_laws"]


def assert_certified(r, expected):
    cert = r.evidence["certificate"]
    assert (r.value, r.status) == (expected, "certified"), (r.value, r.status, cert)
    assert cert["status"] == "certified" and cert["lower"] == cert["upper"] == expected
    assert cert["prime"] == DEFAULT_PRIME and len(cert["point"]) == r.evidence["n_params"]
    assert "disagreement" not in cert  # the numerical count agrees


def law_of(expr, syms):
    """A PolynomialLaw (exact Fraction coefficients) from a sympy polynomial in syms."""
    terms = []
    for exps, c in sympy.Poly(sympy.expand(expr), *syms).terms():
        mono = tuple((v, int(e)) for v, e in enumerate(exps) if e)
        terms.append((mono, Fraction(int(sympy.numer(c)), int(sympy.denom(c)))))
    return PolynomialLaw(terms)


def named(arch):
    syms = sympy.symbols(f"t0:{arch.n_params}")
    W = {name: sympy.Matrix(*shape, lambda i, j: syms[arch.index(name, (int(i), int(j)))])
         for name, shape in arch.param_shapes().items()}
    return syms, W


# -- linear networks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("widths", [(1, 1, 1), (2, 2, 2), (3, 2, 2), (2, 2, 3), (3, 2, 3)])
def test_two_layer_linear_networks_match_the_closed_formula(widths):
    """phi(W1, W2) = W2 W1 with d1 <= min(d0, d2): exactly d1 (d1 + 1) / 2 laws, the entries of
    W2^T W2 - W1 W1^T (Marcotte, Gribonval, Peyre 2023, two-layer linear networks)."""
    d1 = widths[1]
    assert d1 <= min(widths[0], widths[2])
    assert_certified(count(f"mlp(widths={widths}, r=1)"), d1 * (d1 + 1) // 2)


@pytest.mark.parametrize("widths", [(1, 1, 1, 1), (1, 2, 1), (1, 3, 1), (1, 2, 2, 1), (1, 1, 1, 1, 1)])
def test_scalar_linear_networks_have_D_minus_one_laws(widths):
    """d0 = dh = 1: the function is one coefficient c(theta), W_phi = span{grad c} is one field, Lie(W_phi) =
    R grad c, so D - 1 laws.  Here the sum of d_i (d_i + 1) / 2 is not the count: for (1,3,1) it is 6 > D - 1 = 5
    (the 6 entries of W2^T W2 - W1 W1^T are dependent), for (1,2,2,1) it is 6 < D - 1 = 7 (not every law has
    degree 2; the lower bound comes from the closed one-dimensional Lie algebra)."""
    arch = nm.parse_spec(f"mlp(widths={widths}, r=1)")
    r = count(f"mlp(widths={widths}, r=1)")
    assert_certified(r, arch.n_params - 1)
    cert = r.evidence["certificate"]
    if widths == (1, 3, 1):
        assert cert["laws_rank"] == 5 < sum(d * (d + 1) // 2 for d in widths[1:-1])
    if widths == (1, 2, 2, 1):
        assert cert["closure"] == {**cert["closure"], "closed": True, "dimension": 1}
        assert cert["laws_rank"] == sum(d * (d + 1) // 2 for d in widths[1:-1]) == 6


M2_LINEAR = textwrap.dedent("""
    dims = {DIMS};
    L = #dims - 1;
    N = sum(L, i -> dims#(i+1)*dims#i);
    R = QQ[t_0..t_(N-1)];
    off = 0; Ws = {{}};
    for i from 0 to L-1 do (Ws = append(Ws, matrix table(dims#(i+1), dims#i, (a,b) -> t_(off + a*dims#i + b)));
        off = off + dims#(i+1)*dims#i);
    P = Ws#(L-1); for i from 1 to L-1 do P = P * Ws#(L-1-i);
    cs = flatten entries P;
    gens0 = apply(cs, c -> transpose jacobian matrix{{{{c}}}});
    br = (X, Y) -> X * jacobian(Y) - Y * jacobian(X);
    d1 = flatten apply(#gens0, a -> apply(toList(a+1..#gens0-1), b -> br(gens0#a, gens0#b)));
    d2 = flatten apply(gens0, g -> apply(d1, Z -> br(g, Z)));
    F = fold((A, B) -> A || B, gens0 | d1 | d2);
    laws = flatten apply(toList(1..L-1), i -> (M = transpose(Ws#i) * Ws#i - Ws#(i-1) * transpose(Ws#(i-1));
        flatten apply(dims#i, a -> apply(toList(a..dims#i-1), b -> M_(a,b)))));
    ok = all(laws, h -> all(cs, c -> ((transpose jacobian matrix{{{{h}}}}) * (jacobian matrix{{{{c}}}})) == 0));
    setRandomSeed 7;
    pt = apply(N, i -> t_i => random(-30, 30));
    print toString {{N, rank sub(F, pt), rank sub(jacobian matrix{{laws}}, pt), ok}};
""")


def m2_linear_count(widths, tmp_path):
    """Macaulay2, independently: for the deep linear network W_L ... W_1, the rank over Q at a random integer point
    of the gradients of its coefficients and their brackets up to depth 2 (so N <= D - that rank), and of the
    Jacobian of the balancedness laws W_{i+1}^T W_{i+1} - W_i W_i^T (checked to be laws identically; N >= rank)."""
    script = tmp_path / "linear.m2"
    script.write_text(M2_LINEAR.format(DIMS="{" + ",".join(map(str, widths)) + "}"))
    out = subprocess.run([M2, "--script", str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    D, lie, laws, ok = out.stdout.strip().strip("{}").split(", ")
    return int(D), int(lie), int(laws), ok == "true"


@pytest.mark.skipif(M2 is None, reason="Macaulay2 (M2) is not installed: the independent oracle is unavailable")
@pytest.mark.parametrize("widths", [(2, 2, 2, 2), (2, 3, 3, 2), (2, 2, 2, 2, 2)])
def test_deep_linear_networks_against_macaulay2(widths, tmp_path):
    """Deep linear networks: Macaulay2 closes the bounds on its own (D - Lie rank = rank of the balancedness laws);
    ours is certified and equals it and the sum over hidden layers of d_i (d_i + 1) / 2."""
    D, lie, laws, ok = m2_linear_count(widths, tmp_path)
    assert ok and D - lie == laws == sum(d * (d + 1) // 2 for d in widths[1:-1])
    assert_certified(count(f"mlp(widths={widths}, r=1)"), laws)


# -- shallow polynomial networks ------------------------------------------------------------------------------


@pytest.mark.parametrize("widths, r", [((2, 2, 1), 2), ((2, 3, 1), 2), ((2, 3, 1), 3), ((3, 3, 2), 2)])
def test_shallow_polynomial_networks_are_certified(widths, r):
    """x^r activation: one rescaling law |W1[j,:]|^2 - r |W2[:,j]|^2 per hidden neuron (checked to be a law with
    sympy here), and no other: certified count = widths[1]."""
    spec = f"mlp(widths={widths}, r={r})"
    arch = nm.parse_spec(spec)
    syms, W = named(arch)
    x = sympy.symbols(f"x0:{widths[0]}")
    f = W["W2"] * (W["W1"] * sympy.Matrix(x)).applyfunc(lambda z: z ** r)
    for j in range(widths[1]):
        h = sum(W["W1"][j, c] ** 2 for c in range(widths[0])) - r * sum(W["W2"][m, j] ** 2 for m in range(widths[2]))
        for o in range(widths[2]):
            assert sympy.expand(sum(sympy.diff(h, s) * sympy.diff(f[o], s) for s in syms)) == 0
    assert_certified(count(spec), widths[1])


def test_shifted_activation_and_biases():
    """x^2 + x kills the rescalings: 0 laws, certified from the generators alone (rank D); affine layers with x^2
    keep one law per hidden neuron."""
    r = count('mlp(widths=(2,2,2), act="x**2+x")')
    assert_certified(r, 0)
    assert r.evidence["certificate"]["levels"][-1]["rank"] == r.evidence["n_params"]
    assert_certified(count("mlp(widths=(2,2,2), r=2, bias=True)"), 2)


# -- the certificate can fail, and says so ----------------------------------------------------------------------


def test_without_laws_the_bounds_stay_apart():
    """law_degree=0 (count only): no law is searched; the Lie algebra of W2 W1 (linear fields) closes, but its
    dimension over Q (6) exceeds its rank at a point (5), so the proven bounds are 2 <= count <= 3 and the count
    stays numerical."""
    r = count("mlp(widths=(2,2,2), r=1)", law_degree=0)
    cert = r.evidence["certificate"]
    assert r.status == "numerical" and r.value == 3
    assert cert["status"] == "open" and cert["laws_rank"] == 0 and cert["lower"] < cert["upper"] == 3
    assert cert["closure"]["closed"] and cert["lower"] == 8 - cert["closure"]["dimension"]
    assert "do not meet" in cert["note"]
    # sympy, independently: the generators are linear fields A theta, brackets are commutators of the A's
    t = sympy.symbols("t0:8")
    P = sympy.Matrix(2, 2, t[4:]) * sympy.Matrix(2, 2, t[:4])
    gens = [sympy.Matrix([sympy.diff(c, s) for s in t]).jacobian(t) for c in P]
    basis = list(gens)
    while True:
        grown = basis + [B * A - A * B for A in gens for B in basis]
        if sympy.Matrix([list(m) for m in grown]).rank() == sympy.Matrix([list(m) for m in basis]).rank():
            break
        basis = grown
    assert cert["closure"]["dimension"] == sympy.Matrix([list(m) for m in basis]).rank() == 6


def test_a_wrong_law_fails_the_identical_check():
    """|theta|^2 and the near-miss |W1[0,:]|^2 - |W2[:,0]|^2 (factor 1 instead of r = 2) are not laws of
    mlp(widths=(2,2,1), r=2); |W1[0,:]|^2 - 2 W2[0,0]^2 is."""
    arch = nm.parse_spec("mlp(widths=(2,2,1), r=2)")
    syms, W = named(arch)
    good = W["W1"][0, 0] ** 2 + W["W1"][0, 1] ** 2 - 2 * W["W2"][0, 0] ** 2
    near = W["W1"][0, 0] ** 2 + W["W1"][0, 1] ** 2 - W["W2"][0, 0] ** 2
    norm = sum(s ** 2 for s in syms) / 3
    ring, coeffs = cc.coefficient_polynomials(arch)
    grads = [[c.derivative(j) for j in range(arch.n_params)] for c in coeffs]
    verdict = [cc.is_law_identically(cc.law_polynomial(law_of(e, syms), ring), grads) for e in (good, near, norm)]
    assert verdict == [True, False, False]
    cert = cc.certify(arch, [law_of(e, syms) for e in (good, near, norm)], DEFAULT_PRIME, np.random.default_rng(0))
    assert cert.evidence["laws_verified_identically"] == 1 and len(cert.evidence["laws_failed"]) == 2
    assert cert.laws_lower == 1 and cert.laws_upper == 2 and not cert.certified


def test_coefficients_and_brackets_against_sympy():
    """The coefficient polynomials are sympy's expansion of W2 (W1 x)^2, and [X, Y] = DY X - DX Y on two
    gradient fields agrees with sympy."""
    arch = nm.parse_spec("mlp(widths=(2,2,1), r=2)")
    syms, W = named(arch)
    x = sympy.symbols("x0:2")
    f = sympy.Poly(sympy.expand((W["W2"] * (W["W1"] * sympy.Matrix(x)).applyfunc(lambda z: z ** 2))[0]), *x)
    ring, coeffs = cc.coefficient_polynomials(arch)
    to_sympy = [sympy.expand(sympy.sympify(str(c).replace("^", "**"), locals={f"t{i}": s for i, s in enumerate(syms)}))
                for c in coeffs]
    assert sorted(map(str, to_sympy)) == sorted(str(sympy.expand(c)) for c in f.coeffs())
    a, b = to_sympy[0], to_sympy[1]
    X = sympy.Matrix([sympy.diff(a, s) for s in syms])
    Y = sympy.Matrix([sympy.diff(b, s) for s in syms])
    expected = Y.jacobian(syms) * X - X.jacobian(syms) * Y
    D = arch.n_params
    got = cc.bracket([coeffs[0].derivative(j) for j in range(D)], [coeffs[1].derivative(j) for j in range(D)])
    got = [sympy.expand(sympy.sympify(str(g).replace("^", "**"), locals={f"t{i}": s for i, s in enumerate(syms)}))
           for g in got]
    assert [sympy.expand(e) for e in expected] == got and any(g != 0 for g in got)


def test_jets_at_the_point_agree_with_flint_evaluation():
    """The vectorised jets (gradients, Hessians, Jacobians from the terms) and the bracket values built from them
    agree with flint's own derivatives and evaluation mod p, also for a depth-2 field (not a gradient)."""
    import flint

    arch = nm.parse_spec("mlp(widths=(2,2,1), r=3, bias=True)")
    ring, coeffs = cc.coefficient_polynomials(arch)
    D, p = arch.n_params, DEFAULT_PRIME
    pring = flint.nmod_mpoly_ctx.get(("t", D), modulus=p, ordering="degrevlex")
    t = np.random.default_rng(3).integers(1, p, D).tolist()
    pt = cc.Point(t, p)
    c = max(coeffs, key=len)
    g, H = pt.gradient_hessian(c)
    assert g.tolist() == [int(c.derivative(i)(*t)) % p for i in range(D)]
    assert H.tolist() == [[int(c.derivative(i).derivative(j)(*t)) % p for j in range(D)] for i in range(D)]
    X, Y = ([cc._to_mod_p(f.derivative(j), pring) for j in range(D)] for f in coeffs[:2])
    Z = cc.bracket(X, Y)  # depth 1, not a gradient field
    W = cc.bracket(X, Z)  # depth 2
    assert any(not w.is_zero() for w in W)
    assert cc.bracket_value(pt.jet(X), pt.jet(Z), p) == [int(w(*t)) for w in W]
    assert cc.bracket_value(pt.gradient_hessian(coeffs[0]), pt.gradient_hessian(coeffs[1]), p) == \
        [int(z(*t)) for z in Z]


def test_the_certified_value_wins_over_a_wrong_numerical_count():
    """A numerical count that disagrees with met bounds is replaced, and the disagreement is reported; one outside
    open bounds is moved to the bound it crosses."""
    arch = nm.parse_spec("mlp(widths=(2,2,2), r=1)")
    syms, W = named(arch)
    M = W["W2"].T * W["W2"] - W["W1"] * W["W1"].T
    laws = [law_of(M[a, b], syms) for a in range(2) for b in range(a, 2)]
    ev = {}
    value, status = cl._apply_certificate(arch, laws, DEFAULT_PRIME, 0, arch.param_labels(), 5, "numerical", ev)
    assert (value, status) == (3, "certified")
    assert ev["certificate"]["disagreement"] == {**ev["certificate"]["disagreement"], "numerical": 5, "certified": 3}
    ev = {}
    value, status = cl._apply_certificate(arch, [], DEFAULT_PRIME, 0, arch.param_labels(), 5, "numerical", ev)
    assert (value, status) == (3, "upper_bound") and ev["certificate"]["disagreement"]["bound"] == 3


# -- scope and bad input --------------------------------------------------------------------------------------


def test_scope_and_bad_input():
    relu = count("relu(widths=(2,2,1))", law_degree=0)
    assert "certificate" not in relu.evidence  # piecewise-linear: the region count, unchanged
    big = cc.certify(nm.parse_spec("mlp(widths=(5,5,5), r=1)"), [], DEFAULT_PRIME, np.random.default_rng(0))
    assert big.skipped and str(cc.MAX_PARAMS) in big.skipped and not big.certified
    arch = nm.parse_spec("mlp(widths=(2,2,2), r=1)")
    for p in (4, 1, True, 2.5):
        with pytest.raises(InputError, match="prime"):
            cc.certify(arch, [], p, np.random.default_rng(0))
