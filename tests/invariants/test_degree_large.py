"""The degree with --certify: the proven upper bound of polynomial CNNs (multi-projective Bezout), the monodromy
stopped at it, and what the Krawczyk certificates give (issue 21, part 1; benchmarks/degree_large.py runs the
degree-15,360 case cnn(k=(4,3,2), r=2)).  Small cases only: each analyze call takes a second or less."""

from math import factorial, prod

import numpy as np
import pytest

import neuromanifold as nm
from assertions import assert_certified, assert_status
from neuromanifold.context import as_context
from neuromanifold.invariants.degree import apply_certificate, multiprojective_bound


def closed_form(k, r):
    """m!/prod (k_i - 1)! * prod (r^(L-i))^(k_i - 1), written out independently of the package."""
    L, m = len(k), sum(ki - 1 for ki in k)
    return factorial(m) // prod(factorial(ki - 1) for ki in k) * prod((r ** (L - 1 - i)) ** (ki - 1)
                                                                    for i, ki in enumerate(k))


@pytest.mark.parametrize("k,r", [((3, 2), 2), ((2, 3), 2), ((2, 2), 3)])
def test_bound_agrees_with_the_trace_tested_monodromy_count(k, r):
    """Without --certify the degree comes from monodromy and trace tests alone (no bound involved); for these
    CNNs it equals the closed form, and the bound the code derives is that closed form."""
    spec = f"cnn(k={k}, r={r})"
    d = nm.analyze(spec, only="degree")["degree"]
    assert_certified(d, closed_form(k, r))
    assert d.evidence["monodromy"]["stopping_rule"] == "trace_test"
    assert d.evidence["upper_bound"]["value"] == closed_form(k, r)


def test_bound_is_only_an_upper_bound_when_the_map_is_not_birational():
    """Linear CNN k=(2,2): products of two linear forms fill C^3 (degree 1), but swapping the factors makes the
    map 2:1, so the bound is 2; the count must not be raised to it."""
    d = nm.analyze("cnn(k=(2,2), r=1)", only="degree", certify=True)["degree"]
    assert_certified(d, 1)
    assert d.evidence["upper_bound"]["value"] == 2
    assert not d.evidence["certificate"].startswith("sandwich")
    assert d.evidence["certification"]["every_witness_point_certified"] is True


@pytest.mark.parametrize("spec", ["cnn(k=(3,2), r=2, bias=True)", "cnn(k=(3,2), act=\"x**2 + x\")",
                                  "mlp(widths=(2,1,1), r=3)"])
def test_no_bound_outside_homogeneous_cnns(spec):
    assert multiprojective_bound(as_context(spec)) is None


def test_certify_stops_at_the_bound_and_proves_the_degree_by_a_sandwich():
    d = nm.analyze("cnn(k=(3,2), r=2)", only="degree", certify=True)["degree"]
    assert_certified(d, closed_form((3, 2), 2))
    ev = d.evidence
    assert ev["monodromy"]["stopping_rule"] == "target_count" and ev["trace_tests"] == []
    assert ev["certificate"].startswith("sandwich")
    assert ev["certification"]["certified_lower_bound"] == d.value == ev["upper_bound"]["value"]


def _drop_first_certificate(monkeypatch):
    """certify_solutions as it is, except that the first point is reported not certified."""
    import neuromanifold.homotopy.certification as cm

    real = cm.certify_solutions

    def fake(*a, **kw):
        c = real(*a, **kw)
        c.certified[0] = c.distinct[0] = False
        c.radii[0] = np.nan
        c.reason[0] = "dropped by the test"
        return c

    monkeypatch.setattr(cm, "certify_solutions", fake)


def test_a_point_not_certified_leaves_a_numerical_degree_at_the_bound(monkeypatch):
    _drop_first_certificate(monkeypatch)
    d = nm.analyze("cnn(k=(3,2), r=2)", only="degree", certify=True)["degree"]
    n = closed_form((3, 2), 2)
    assert_status(d, "numerical", n)
    cert = d.evidence["certification"]
    assert cert["certified_lower_bound"] == n - 1 and cert["every_witness_point_certified"] is False
    assert "dropped by the test" in d.evidence["why_not_certified"]


def test_a_point_not_certified_turns_a_trace_tested_degree_numerical(monkeypatch):
    """Harris: 3 x 3 matrices of rank <= 1 have degree 6; no bound here, so the trace tests decide the count,
    and one uncertified point takes away ``certified`` but leaves the rigorous lower bound 5."""
    _drop_first_certificate(monkeypatch)
    d = nm.analyze("linear(widths=(3,1,3))", only="degree", certify=True)["degree"]
    assert_status(d, "numerical", 6)
    assert "upper_bound" not in d.evidence
    assert d.evidence["certification"]["certified_lower_bound"] == 5
    assert "1 of 6 witness points not certified" in d.evidence["why_not_certified"]


def test_apply_certificate_rules():
    bound = {"value": 10, "formula": "f"}

    def run(value, status, n_dist, points=None, bnd=bound, **extra):
        ev = {"certificate": "trace"} if status == "certified" else {"why_lower_bound": "x"}
        ev.update(extra)
        ev["certification"] = {"certified": n_dist, "points": value if points is None else points,
                               "image_points_certified_distinct": n_dist}
        return (*apply_certificate(value, status, ev, bnd), ev)

    assert run(10, "lower_bound", 10)[:2] == (10, "certified")  # sandwich, even without a trace test
    assert run(8, "certified", 8, bnd=None)[:2] == (8, "certified")  # trace tests + every point
    v, s, ev = run(8, "certified", 7, bnd=None)
    assert (v, s) == (8, "numerical") and "certificate" not in ev and "1 of 8" in ev["why_not_certified"]
    v, s, ev = run(11, "certified", 11)  # more certified points than the proven bound: claim nothing
    assert s == "numerical" and "inconsistent" in ev
    assert run(6, "lower_bound", 6)[:2] == (6, "lower_bound")  # incomplete and below the bound
    v, s, ev = run(10, "lower_bound", 9, reached_upper_bound=True)
    assert (v, s) == (10, "numerical") and "9 of them certified" in ev["why_not_certified"]
    ev = {"certificate": "trace", "certification": {"certified": None, "points": 4, "reason": "sampled"}}
    assert apply_certificate(4, "certified", ev, None) == (4, "numerical")
    assert ev["certification"]["certified_lower_bound"] is None and "sampled" in ev["why_not_certified"]


def test_exact_slice_balls_contain_the_exact_coefficients():
    """The certificates are about the exact slice of M: the balls of ``ExactImageSlice`` contain the exact
    (dyadic) coefficients c_int * prod frozen^e, computed here with Fractions, which the double system only
    approximates."""
    from fractions import Fraction

    from flint import arb, ctx as fctx, fmpq

    from neuromanifold.homotopy.certification import ExactImageSlice
    from neuromanifold.invariants.witness_set import witness_set

    ws = witness_set(as_context("cnn(k=(3,2), r=2)"))
    P = ws.exact_map
    ex = ExactImageSlice(P.exponents, P.coefficients, ws.slice_free, ws.slice_frozen, ws.system._E, ws.system.R)
    assert ex.supported
    fixed = [j for j in range(P.exponents.shape[1]) if j not in set(ws.slice_free.tolist())]
    exact = {}
    for t0 in range(P.exponents.shape[0]):
        f = Fraction(1)
        for j in fixed:
            f *= Fraction(float(ws.slice_frozen[j].real)) ** int(P.exponents[t0, j])
        key = tuple(int(v) for v in P.exponents[t0, ws.slice_free])
        for a in np.flatnonzero(P.coefficients[:, t0]):
            exact[(key, a)] = exact.get((key, a), 0) + int(P.coefficients[a, t0].real) * f
    with fctx.workprec(106):
        M = ex.coefficient_matrix()
    index = {tuple(int(v) for v in e): t for t, e in enumerate(ws.system._E)}
    inexact = 0
    with fctx.workprec(4000):  # dyadic values are exact at this precision
        for (key, a), v in exact.items():
            ball = M[index[key], int(a)]
            assert ball.real.contains(arb(fmpq(v.numerator, v.denominator))) and ball.imag.contains(0)
            inexact += float(ws.system._C[a, index[key]].real) != v
    assert inexact > 0  # the double system rounds some of them: exactness is not vacuous here
    d = nm.analyze("cnn(k=(3,2), r=2)", only="degree", certify=True)["degree"]
    assert d.evidence["certification"]["exact_system"] is True


# four witness points of cnn(k=(2,2,2,2), r=2) (seed 0, the slice of ``witness_set``) with two coordinates ~1e-14
# beside others ~1e2: a cube box cannot certify them (the 1,532 of 1,536 of the previous benchmark), boxes of radii
# r s_i in z = s u can (``certification._scaled_centres``)
BADLY_SCALED = [
    [(2.841556248309717 - 33.53315293283207j), (-11.580440676552247 - 12.95048599456945j),
     (4.8587017956611085 - 6.563203533366184j), (1.9199235605228433e-14 + 4.381038916149943e-15j),
     (9.972744769185235e-15 - 2.231440739206122e-14j)],
    [(1.512565232963525 - 14.783139020219888j), (-79.01204156275465 - 9.747982500793576j),
     (3.8588984963383353 + 2.1301196205931725j), (-6.7045204782395065e-15 + 1.0061355700500544e-13j),
     (1.0633657032617137e-13 - 8.561806031571584e-14j)],
    [(58.16398802596305 - 66.03132953148956j), (1.9858177623444495 - 3.7800749249284475j),
     (-3.033612130718878 + 0.9084470797530542j), (-2.5997649964489868e-14 + 4.296679315417513e-14j),
     (9.480715288047699e-15 - 2.866375514820497e-14j)],
    [(-128.20559307596113 + 146.28880092490263j), (0.4139061043745547 + 0.21081750482223383j),
     (-0.3831904541941352 + 0.5722837325997485j), (1.6160505755281202e-14 - 8.688684084829246e-16j),
     (4.341434221558857e-15 + 3.415470739123094e-15j)],
]


def test_badly_scaled_witness_points_are_certified_in_rescaled_boxes(monkeypatch):
    import neuromanifold.homotopy.certification as cm
    from neuromanifold.context import Context
    from neuromanifold.invariants.dimension import dimension_data
    from neuromanifold.invariants.witness_set import _coefficient_slice, cached_coefficient_map

    ctx = Context("cnn(k=(2,2,2,2), r=2)", seed=0)
    sl = _coefficient_slice(ctx, dimension_data(ctx).lower, ctx.rng("witness-set"))
    S, Z = sl.system, np.array(BADLY_SCALED)
    P = cached_coefficient_map(ctx).polynomials
    ex = cm.ExactImageSlice(P.exponents, P.coefficients, sl.free, sl.frozen, S._E, S.R)
    # they solve the slice system (else the slice construction changed and the points must be recomputed)
    assert np.abs(S.evaluate(Z, np.broadcast_to(sl.b0, (len(Z), len(sl.b0))))).max() < 1e-9
    good = cm.certify_solutions(S, Z, sl.b0, exact_terms=ex.slice_terms)
    assert good.certified.all() and good.distinct.all() and good.extra["rescaled_points"] >= 1
    # the rescaled z-boxes hold the roots: the small coordinates of the midpoints stay tiny, and their boxes are
    # far narrower than the covering cube (the image boxes of ``witness_set`` use them: with the cube they are wide)
    assert np.abs(good.midpoints[:, 3:]).max() < 1e-12
    cr = good.coordinate_radii
    assert (cr <= good.radii[:, None]).all() and (cr[:, 3:].min(axis=1) < 1e-6 * good.radii).any()
    enc = cm.enclose_map(S._E, S._C, good.midpoints, cr, projection=sl.proj, coefficient_matrix=ex.coefficient_matrix)
    wide = cm.enclose_map(S._E, S._C, good.midpoints, good.radii, projection=sl.proj,
                          coefficient_matrix=ex.coefficient_matrix)
    assert (enc.radii <= wide.radii).all() and enc.radii.max() < wide.radii.max()
    monkeypatch.setattr(cm, "_scaled_centres", lambda *a, **k: {})
    cube = cm.certify_solutions(S, Z, sl.b0, exact_terms=ex.slice_terms)
    assert not cube.certified.all()  # without rescaling some fail: the test sees the rescaling at work
