"""Every invariant on the issue-19 families (act=, bias, skip, resmlp): honest statuses on small cases, and
independent counts where a closed form or a small Groebner basis gives one.

Independent facts used:
* mlp(widths=(2,2,1), act="x**2+x"): f = v0 s(a0.x) + v1 s(a1.x) has a linear part v0 a0 + v1 a1 and a
  quadratic part v0 a0 a0^T + v1 a1 a1^T: every polynomial of degree <= 2 without constant term (5-dim linear
  space); M is dense in it, so dim 5, degree 1, ED degree 1.
* resmlp(d=2, hidden=1, r=2, dout=1): f = C x + (C B)(A x)^2 = (any linear form) + (rank <= 1 binary quadratic):
  C^2 x (quadric cone in C^3), dim 4, degree 2, generic ED degree 2 (polar degrees 2 + 2 of a smooth conic,
  unchanged by the cone / the linear factor) = 4.
* cnn(k=(2,2), act="x**2+x"): generically injective (w0 = (v0 w0^2)/(v0 w0) from the x0^2 and x0 coefficients),
  so its degree is the number of parameter solutions of 4 random affine equations in its 8 coefficients,
  counted here with a sympy Groebner basis (standard monomials).
* conservation laws (Marcotte, Gribonval, Peyre): the rescaling of a hidden neuron (row of A by t, column of B
  by t^-r) gives the law |A_j|^2 - r |B_:,j|^2; the skip x + B s(A x) adds a term independent of (A, B) to the
  gradient structure, so the residual block has the laws of the block alone.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import sympy

import neuromanifold as nm
from neuromanifold.architectures import parse_spec
from neuromanifold.context import Context
from neuromanifold.invariants.dimension import dimension

from assertions import assert_certified, assert_honest

STATUSES = {"certified", "numerical", "lower_bound", "upper_bound", "failed", "not_computed"}


@pytest.fixture(scope="module")
def run():
    cache = {}

    def get(spec, name, **kw):
        key = (spec, name, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = nm.analyze(spec, only=[name], **kw)[name]
        return cache[key]

    return get


# ---------------------------------------------------------------------------------------------------------
# dimension and fiber dimension


DIMS = [
    ('cnn(k=(2,2), act="x**2+x")', 4),
    ('cnn(k=(2,3), act="x**2+x")', 5),
    ('cnn(k=(2,2,2), act="x**2+x")', 6),
    ('mlp(widths=(2,2,1), act="x**2+x")', 5),
    ('mlp(widths=(2,3,1), act="x**2+x")', 5),
    ("resmlp(d=2, hidden=1, dout=1)", 4),
    ('resmlp(d=2, hidden=1, act="x**2+x")', None),
    ('mlp(widths=(2,2,1), act="x**2+x", bias=True)', None),
    ("attention(d=2, a=1, t=2, skip=True)", None),
    ("attention(d=2, dout=1, a=1, t=2, bias=True)", None),
    ('attention(widths=(2,2,1), a=(1,1), t=2, act="x**2+x")', None),
]


@pytest.mark.parametrize("spec,truth", DIMS)
def test_dimension_certified_and_fiber(run, spec, truth):
    arch = parse_spec(spec)
    d = run(spec, "dimension")
    assert_certified(d)
    if truth is not None:
        assert d.value == truth
    assert d.value <= min(arch.n_params, arch.ambient_upper_bound()[0])
    # same through the entry point on a Context
    assert dimension(Context(spec)).value == d.value
    fib = run(spec, "fiber_dimension")
    assert fib.status in STATUSES
    assert_certified(fib, arch.n_params - d.value)
    # the declared symmetries never exceed the fiber
    gens = arch.symmetries()
    if gens:
        theta = np.random.default_rng(0).standard_normal(arch.n_params)
        assert np.linalg.matrix_rank(arch.symmetry_matrix(theta)) <= fib.value


# ---------------------------------------------------------------------------------------------------------
# degree and ED degree


def groebner_solution_count(eqs, gens, prime=32003, bound=12):
    G = sympy.groebner(eqs, *gens, order="grevlex", modulus=prime)
    assert G.is_zero_dimensional
    lead = [sympy.Poly(g, *gens).monoms(order="grevlex")[0] for g in G.exprs]
    return sum(1 for e in itertools.product(range(bound), repeat=len(gens))
               if not any(all(e[i] >= m[i] for i in range(len(gens))) for m in lead))


def cnn22_degree_by_groebner(seed=0):
    w0, w1, v0, v1 = sympy.symbols("w0 w1 v0 v1")
    x = sympy.symbols("x0:3")

    def s(z):
        return z**2 + z

    f = sympy.expand(v0 * s(w0 * x[0] + w1 * x[1]) + v1 * s(w0 * x[1] + w1 * x[2]))
    coeffs = list(sympy.Poly(f, *x).as_dict().values())
    assert len(coeffs) == 8
    rnd = random.Random(seed)
    eqs = [sum(rnd.randint(-9, 9) * c for c in coeffs) + rnd.randint(1, 9) for _ in range(4)]
    return groebner_solution_count(eqs, (w0, w1, v0, v1))


def test_cnn_groebner_count_is_seed_independent():
    assert cnn22_degree_by_groebner(0) == cnn22_degree_by_groebner(1) == 9


@pytest.mark.parametrize("spec,truth", [
    ('mlp(widths=(2,2,1), act="x**2+x")', 1),
    ("resmlp(d=2, hidden=1, dout=1)", 2),
    ('cnn(k=(2,2), act="x**2+x")', "groebner"),
])
def test_degree_certified_by_trace_test(run, spec, truth):
    if truth == "groebner":
        truth = cnn22_degree_by_groebner()
    r = run(spec, "degree")
    assert_certified(r, truth)
    mono = r.evidence["monodromy"]
    assert mono["trace_test_passed"] is True and mono["complete"] is True
    assert mono["solutions"] == truth


@pytest.mark.parametrize("spec,truth", [
    ('mlp(widths=(2,2,1), act="x**2+x")', 1),
    ("resmlp(d=2, hidden=1, dout=1)", 4),
    ('cnn(k=(2,2), act="x**2+x")', None),
])
def test_ed_degree(run, spec, truth):
    r = run(spec, "ed_degree")
    assert r.status in STATUSES
    if truth is not None:
        assert_honest(r, truth, spec)
        assert_certified(r, truth)
    else:
        # generic ED degree >= degree (a generic affine section already has that many critical points' worth)
        deg = run(spec, "degree")
        assert r.value is not None and r.value >= deg.value
        assert r.status in ("certified", "lower_bound", "numerical")


# ---------------------------------------------------------------------------------------------------------
# critical points of the loss on random data, checked with a hand-written loss


def handwritten_loss(theta, X, Y):
    """mlp(widths=(2,1,1), act="x**2+x"): f(x) = v s(w . x), s(z) = z^2 + z; theta = (w0, w1, v)."""
    w = np.asarray(theta[:2])
    v = theta[2]
    z = X @ w
    f = v * (z**2 + z)
    return np.mean((f - Y[:, 0]) ** 2)


def handwritten_gradient(theta, X, Y):
    w = np.asarray(theta[:2], dtype=float)
    v = float(theta[2])
    z = X @ w
    s = z**2 + z
    res = v * s - Y[:, 0]
    gw = (2 / len(z)) * (res * v * (2 * z + 1)) @ X
    gv = (2 / len(z)) * np.sum(res * s)
    return np.concatenate([gw, [gv]])


def test_critical_points_of_loss():
    from neuromanifold.landscape.critical_points import critical_points

    spec = 'mlp(widths=(2,1,1), act="x**2+x")'
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((12, 2)), rng.standard_normal((12, 1))
    res = critical_points(spec, X, Y)
    d = res.to_dict()
    assert d["status"] in STATUSES
    counts = d["counts"]
    assert counts["real"] >= 1 and counts["complex"] >= counts["real"]
    real = [p for p in d["points"] if p["real"]]
    assert len(real) == counts["real"]
    scale = np.mean(Y**2)
    for p in real:
        th = np.asarray(p["theta"], dtype=float)
        g = handwritten_gradient(th, X, Y)
        assert np.linalg.norm(g) < 1e-6 * max(1.0, np.linalg.norm(th)) ** 4, (p, g)
        assert handwritten_loss(th, X, Y) == pytest.approx(p["loss"], rel=1e-8, abs=1e-10)
    gm = d["global_minimum"]
    assert gm["loss"] == pytest.approx(min(handwritten_loss(np.asarray(p["theta"], float), X, Y) for p in real))
    assert gm["loss"] <= scale + 1e-12  # theta = 0 (f = 0) has loss mean(Y^2)
    # gradient descent from random starts never goes below the certified global minimum (when certified)
    best = np.inf
    for s in range(20):
        th = np.random.default_rng(s).standard_normal(3)
        lr = 0.01
        for _ in range(2000):
            g = handwritten_gradient(th, X, Y)
            if not np.all(np.isfinite(g)):
                break
            th = th - lr * g
        val = handwritten_loss(th, X, Y)
        if np.isfinite(val):
            best = min(best, val)
    if gm["status"] == "certified":
        assert gm["loss"] <= best + 1e-6


# ---------------------------------------------------------------------------------------------------------
# singularities and Voronoi masses: run with statuses


@pytest.mark.parametrize("spec", ['cnn(k=(2,2), act="x**2+x")', "resmlp(d=2, hidden=1, dout=1)",
                                  'mlp(widths=(2,2,1), act="x**2+x", bias=True)'])
def test_singularities_run_with_status(run, spec):
    r = run(spec, "singularities")
    assert r.status in STATUSES and r.status != "failed", r.evidence
    assert isinstance(r.value, int) and r.value >= 0
    dim = run(spec, "dimension").value
    assert r.evidence["dim_M"] == dim
    for fam in r.evidence["families"]:
        assert fam["dimension"] <= dim


def test_voronoi_masses():
    from neuromanifold.landscape.voronoi import voronoi_masses

    r = voronoi_masses('mlp(widths=(2,1,1), act="x**2+x")', n_samples=60, seed=0)
    d = r.to_dict()
    assert d["status"] in STATUSES
    assert r.strata and sum(s["mass"] for s in r.strata.values()) == pytest.approx(1.0)
    assert r.n_samples >= 50


# ---------------------------------------------------------------------------------------------------------
# conservation laws: a residual block has the laws of the block without its skip


def _law_exprs(result, arch):
    names = {}
    for label in arch.param_labels():
        names[label.replace("[", "_").replace(",", "_").replace("]", "")] = sympy.Symbol(label)
    out = []
    for f in result.evidence["polynomial_laws"]["formulas"]:
        clean = f.replace("[", "_").replace(",", "_").replace("]", "")
        out.append(sympy.sympify(clean, locals={k: v for k, v in names.items()}))
    return out


def _is_conserved(law, arch, f_outputs, syms):
    """grad h . grad_theta f_o = 0 identically for every output: h is conserved by every gradient flow of a loss
    of f (the gradient of the loss is a combination of the grad_theta f_o)."""
    for out in f_outputs:
        if sympy.expand(sum(sympy.diff(law, s) * sympy.diff(out, s) for s in syms)) != 0:
            return False
    return True


def _network(arch, syms):
    """Hand-written resmlp / mlp (no bias) output on symbolic inputs."""
    x = sympy.Matrix(sympy.symbols(f"x0:{arch.n_inputs}"))
    P = {}
    for name, shape in arch.param_shapes().items():
        P[name] = sympy.Matrix(*shape, lambda i, j: sympy.Symbol(f"{name}[{i},{j}]"))
    s = (lambda z: z**arch.r) if arch.act is None else (lambda z: sum(c * z**i for i, c in enumerate(arch.act.coefficients)))
    if arch.family == "resmlp":
        H = x
        for i in range(arch.blocks):
            H = H + P[f"B{i + 1}"] * (P[f"A{i + 1}"] * H).applyfunc(s)
        return list(H)
    return list(P["W2"] * (P["W1"] * x).applyfunc(s))


@pytest.mark.parametrize("h", [1, 2])
def test_residual_block_has_the_conservation_laws_of_the_block(run, h):
    res_spec, mlp_spec = f"resmlp(d=2, hidden={h}, r=2)", f"mlp(widths=(2,{h},2), r=2)"
    a, b = run(res_spec, "conservation_laws"), run(mlp_spec, "conservation_laws")
    assert a.status in STATUSES and b.status in STATUSES
    assert a.value == b.value == h  # one law per hidden neuron
    for r in (a, b):
        pl = r.evidence["polynomial_laws"]
        assert pl["independent"] == h and pl["agrees_with_lie_count"]
    arch = parse_spec(res_spec)
    syms = [sympy.Symbol(lbl) for lbl in arch.param_labels()]
    laws = _law_exprs(a, arch)
    outs = _network(arch, syms)
    for law in laws:
        assert _is_conserved(law, arch, outs, syms), law
    # they span the closed-form laws |A_j|^2 - 2 |B_:,j|^2
    A = lambda i, j: sympy.Symbol(f"A1[{i},{j}]")  # noqa: E731
    B = lambda i, j: sympy.Symbol(f"B1[{i},{j}]")  # noqa: E731
    expected = [sum(A(j, c) ** 2 for c in range(2)) - 2 * sum(B(c, j) ** 2 for c in range(2)) for j in range(h)]
    for e in expected:
        assert _is_conserved(e, arch, outs, syms)
    monos = sorted({m for e in laws + expected for m in sympy.Poly(e, *syms).monoms()})

    def mat(es):
        return sympy.Matrix([[sympy.Poly(e, *syms).coeff_monomial(m) for m in monos] for e in es])

    assert mat(laws).rank() == mat(expected).rank() == mat(laws + expected).rank() == h
    # a wrong candidate (factor 1 instead of r = 2) is not conserved: the check can fail
    assert not _is_conserved(sum(A(0, c) ** 2 for c in range(2)) - sum(B(c, 0) ** 2 for c in range(2)),
                             arch, outs, syms)


@pytest.mark.parametrize("h", [1, 2])
def test_shifted_activation_has_no_rescaling_laws(run, h):
    """x^2 + x without biases: no rescaling survives, in the block and in the residual block alike."""
    a = run(f'resmlp(d=2, hidden={h}, act="x**2+x")', "conservation_laws")
    b = run(f'mlp(widths=(2,{h},2), act="x**2+x")', "conservation_laws")
    assert a.value == b.value == 0
    assert a.status in STATUSES and b.status in STATUSES
