"""Real critical points and double points of mu, whether their images are singular on M, and whether they
come from subnetworks.

Closed forms the sampled points are checked against (independently of the sampler):

* polynomial CNNs, r >= 2: the parametrization has no critical point with every filter nonzero (over C; a
  Groebner basis below for k = (2,2), Macaulay2 saturations for (3,2), (2,3), (2,2,2), (3,3)), so the critical
  points are the zero-filter points, all mapped to the vertex 0 of the cone M, a singular point lying in the
  "zero function" family; the other singular points are nodes (two filter tuples, one function), images of
  tap-dropped subnetworks;
* linear CNNs (r = 1): mu multiplies the filters as polynomials, d mu (dw) = sum_i dw_i prod_{j != i} w_j has
  a kernel beyond the rescalings exactly when two filters share a root (resultant 0) or a filter is zero; the
  closure of M is the whole space of polynomials, so the images (polynomials with a repeated root) are
  smooth points: the conjecture holds vacuously;
* linear networks (n, r, m): M = {rank <= r}; the critical points have rank W_2 W_1 < r and their images lie
  in the singular locus {rank <= r - 1}, which is the image of the "one neuron removed" family; the
  multiplicity there is the degree of {rank <= r - s} in (m - s) x (n - s) matrices (s = rank).
"""

import itertools
import json

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.arithmetic import Complex128
from neuromanifold.cli import main
from neuromanifold.context import Context
from neuromanifold.errors import InputError
from neuromanifold.invariants import critical_locus as cl
from neuromanifold.invariants import singularities as sg
from neuromanifold.parametrization.evaluation import Parametrization

_CACHE = {}


def conjecture(spec, n_starts=8, seed=0):
    if (spec, n_starts, seed) not in _CACHE:
        _CACHE[spec, n_starts, seed] = cl.subnetwork_conjecture(Context(spec, seed=seed), n_starts=n_starts)
    return _CACHE[spec, n_starts, seed]


def filters(arch, theta):
    off = arch.offsets()
    return [np.asarray(theta[off[f"w{i + 1}"]: off[f"w{i + 1}"] + k]) for i, k in enumerate(arch.k)]


def rank_of_d_mu(spec, theta):
    """Numerical rank of d mu at theta from the values at sample inputs (not the coefficient map)."""
    arch = nm.parse_spec(spec)
    par = Parametrization(arch, Complex128(), 40, np.random.default_rng(5))
    s = np.linalg.svd(np.asarray(par.jacobian(np.asarray(theta, dtype=complex))), compute_uv=False)
    return int(np.sum(s > 1e-8 * s[0])) if s[0] > 0 else 0


def test_cnn_r2_has_no_critical_point_with_nonzero_filters_closed_form():
    """cnn(k=(2,2), r=2): f = c (a x0 + b x1)^2 + d (a x1 + b x2)^2.  The 3 x 3 minors of d mu together with
    u v s = 1 (u in {a, b}, v in {c, d}: both filters nonzero) generate the unit ideal."""
    import sympy as sp

    a, b, c, d, s = sp.symbols("a b c d s")
    x = sp.symbols("x0:3")
    f = sp.expand(c * (a * x[0] + b * x[1]) ** 2 + d * (a * x[1] + b * x[2]) ** 2)
    coeffs = sp.Poly(f, *x).coeffs()
    J = sp.Matrix([[sp.diff(q, v) for v in (a, b, c, d)] for q in coeffs])
    assert J.subs({a: 2, b: 3, c: 5, d: 7}).rank() == 3  # dim M
    minors = [sp.expand(J.extract(list(r), list(q)).det())
              for r in itertools.combinations(range(J.rows), 3) for q in itertools.combinations(range(4), 3)]
    for u in (a, b):
        for v in (c, d):
            assert sp.groebner(minors + [u * v * s - 1], a, b, c, d, s, order="grevlex").exprs == [1]
    res = conjecture("cnn(k=(2,2), s=(1,1), r=2)")
    assert res.evidence["search"]["by_mode"]["layers"]["accepted"] == 0  # no critical point on the filter spheres


@pytest.mark.parametrize("k", [(2, 2), (3, 2), (2, 3), (2, 2, 2)])
def test_polynomial_cnn_singular_critical_images_come_from_subnetworks(k):
    spec = f"cnn(k={k}, s={(1,) * len(k)}, r=2)"
    res = conjecture(spec)
    ev = res.evidence
    rows = ev["critical_points"]
    assert res.status == "numerical"
    assert len(rows) >= 3 and ev["singular_images"] >= 1
    assert res.value == ev["counterexamples"] == 0
    arch = nm.parse_spec(spec)
    for row in rows:
        w = filters(arch, row["theta"])
        assert row["zero_layers"] and any(np.linalg.norm(wi) == 0 for wi in w)  # the closed form above
        assert rank_of_d_mu(spec, row["theta"]) < ev["dim_M"]  # critical, checked on sample values
        assert max(abs(v) for v in row["function"]) == 0
        assert row["singular"] is True and row["singular_status"] == "certified"
        assert "zero function" in row["families"]
    assert all(r["search_mode"] == "sphere" for r in rows)  # none with every filter on its unit sphere


def values(spec, theta):
    arch = nm.parse_spec(spec)
    par = Parametrization(arch, Complex128(), 30, np.random.default_rng(7))
    return np.asarray(par(np.asarray(theta, dtype=complex))).reshape(-1)


@pytest.mark.parametrize("k", [(2, 2), (3, 2), (2, 3), (2, 2, 2)])
def test_polynomial_cnn_nodes_come_from_subnetworks(k):
    """The singular points of a polynomial CNN away from 0 are nodes: one function from two filter tuples
    (e.g. x1^2 from w1 = (1, 0), w2 = (0, 1) and from w1 = (0, 1), w2 = (1, 0)).  Every sampled one lies
    in a tap-dropped family."""
    spec = f"cnn(k={k}, s={(1,) * len(k)}, r=2)"
    res = conjecture(spec)
    ev = res.evidence
    rows = ev["double_points"]
    assert len(rows) >= 2 and ev["by_sample"]["double_points"]["counterexamples"] == 0
    singular = [r for r in rows if r["singular"] is True]
    assert len(singular) >= 1 and all(r["multiplicity"] == 2 for r in singular)  # nodes
    arch = nm.parse_spec(spec)
    for row in rows:
        fa, fb = values(spec, row["theta"]), values(spec, row["theta_prime"])
        assert np.max(np.abs(fa - fb)) <= 1e-9 * np.max(np.abs(fa)) and np.max(np.abs(fa)) > 1e-3
        wa, wb = filters(arch, row["theta"]), filters(arch, row["theta_prime"])
        cos = [abs(p @ q) / (np.linalg.norm(p) * np.linalg.norm(q)) for p, q in zip(wa[:-1], wb[:-1])]
        assert min(cos) < 0.95  # not the same filters up to scaling
        assert rank_of_d_mu(spec, row["theta"]) == ev["dim_M"]  # a regular point: not a critical image
    for row in singular:
        assert any("tap dropped" in f for f in row["families"]), row["families"]


def _sylvester(p, q):
    """Resultant of two polynomials (coefficient vectors) as the determinant of the Sylvester matrix."""
    m, n = len(p) - 1, len(q) - 1
    S = np.zeros((m + n, m + n))
    for i in range(n):
        S[i, i:i + m + 1] = p
    for i in range(m):
        S[n + i, i:i + n + 1] = q
    return np.linalg.det(S)


@pytest.mark.parametrize("k", [(2, 2), (3, 2), (2, 2, 2)])
def test_linear_cnn_critical_points_are_shared_roots(k):
    spec = f"cnn(k={k}, s={(1,) * len(k)}, r=1)"
    res = conjecture(spec)
    ev = res.evidence
    rows = ev["critical_points"]
    assert res.status == "numerical" and res.value == 0 and len(rows) >= 3
    arch = nm.parse_spec(spec)
    for row in rows:
        w = filters(arch, row["theta"])
        nonzero = [wi for wi in w if np.linalg.norm(wi) > 0]
        shared = [abs(_sylvester(p, q)) for p, q in itertools.combinations(nonzero, 2)]
        assert len(nonzero) < len(w) or min(shared) < 1e-8, (w, shared)
        assert rank_of_d_mu(spec, row["theta"]) < ev["dim_M"]
        y = np.trim_zeros(np.asarray(row["function"]))
        roots = np.roots(y)  # the product of the filters, coefficients in some order: a repeated root
        if len(roots) >= 2:
            gaps = [abs(r1 - r2) for r1, r2 in itertools.combinations(roots, 2)]
            assert min(gaps) < 1e-4 * max(1.0, max(abs(roots))), roots
        # the closure of M is the space of all polynomials of that degree: every point is smooth
        assert row["singular"] is False and row["singular_status"] == "certified"
    assert ev["singular_images"] == 0


@pytest.mark.parametrize("n,r,m,mult", [(3, 2, 3, 2), (4, 2, 4, 6)])
def test_linear_network_critical_images_are_the_lower_rank_family(n, r, m, mult):
    spec = f"linear(widths=({n},{r},{m}))"
    res = conjecture(spec, n_starts=6)
    ev = res.evidence
    rows = ev["critical_points"]
    assert res.status == "numerical" and res.value == 0 and len(rows) >= 4
    arch = nm.parse_spec(spec)
    off = arch.offsets()
    nonzero = 0
    for row in rows:
        th = np.asarray(row["theta"])
        W1 = th[off["W1"]: off["W1"] + r * n].reshape(r, n)
        W2 = th[off["W2"]: off["W2"] + m * r].reshape(m, r)
        s = np.linalg.svd(W2 @ W1, compute_uv=False)
        assert s[r - 1] <= 1e-7 * max(s[0], 1e-300)  # rank W < r: the singular locus {rank <= r - 1}
        assert row["singular"] is True
        assert f"layer 1: {r - 1} of {r} neurons" in row["families"]
        if s[0] > 0:
            nonzero += 1
            assert row["multiplicity"] == mult  # at a rank-1 point: degree of {rank <= r - 1} in (m-1) x (n-1)
    assert nonzero >= 2


def test_hidden_symmetries_use_the_kernel_frame():
    """mlp((3,2,1), r=2): sums of two squares of linear forms, the determinantal hypersurface of ternary
    quadrics of rank <= 2 (dim 5); 8 parameters - 2 rescalings = 6 > 5 (the O(2) mixing the two squares is
    not a known symmetry), so the sampler needs the kernel frame; critical images are quadrics of rank <= 1."""
    res = conjecture("mlp(widths=(3,2,1), r=2)", n_starts=6)
    ev = res.evidence
    assert "columns" in ev["search"]["formulation"]
    assert res.status == "numerical" and res.value == 0 and len(ev["critical_points"]) >= 4
    for row in ev["critical_points"]:
        th = np.asarray(row["theta"])
        W1, W2 = th[:6].reshape(2, 3), th[6:8]
        Q = W1.T @ np.diag(W2) @ W1
        s = np.linalg.svd(Q, compute_uv=False)
        assert s[1] <= 1e-7 * max(s[0], 1e-300)
        assert row["singular"] is True and "layer 1: 1 of 2 neurons" in row["families"]


def test_counterexamples_are_counted(monkeypatch):
    """With no families to test against, every singular image is a counterexample."""
    monkeypatch.setattr(sg, "subnetwork_families", lambda arch: [])
    res = cl.subnetwork_conjecture(Context("cnn(k=(2,2), s=(1,1), r=2)", seed=1), n_starts=4)
    assert res.value == res.evidence["counterexamples"] == res.evidence["singular_images"] >= 1


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_bad_number_of_starts(bad):
    ctx = Context("linear(widths=(2,1,2))")
    with pytest.raises(InputError, match="n_starts must be a positive integer"):
        cl.subnetwork_conjecture(ctx, n_starts=bad)
    with pytest.raises(InputError, match="n_starts"):
        cl.critical_points_of_mu(ctx, bad, np.random.default_rng(0))


def test_registered_and_rendered(capsys):
    from neuromanifold.analysis import DEFAULT_INVARIANTS, INVARIANTS

    assert "subnetwork_conjecture" in INVARIANTS and "subnetwork_conjecture" not in DEFAULT_INVARIANTS
    spec = "cnn(k=(2,2), s=(1,1), r=2)"
    assert main(["analyze", spec, "--only", "subnetwork_conjecture"]) == 0
    out = capsys.readouterr().out
    assert "real critical points of mu" in out and "vertex of the cone M" in out and "tap dropped" in out
    assert main(["analyze", spec, "--only", "subnetwork_conjecture", "--json"]) == 0
    inv = json.loads(capsys.readouterr().out)["invariants"]["subnetwork_conjecture"]
    rows = inv["evidence"]["critical_points"]
    assert inv["value"] == 0 and inv["status"] == "numerical" and len(rows) >= 1
    assert {"theta", "function", "singular", "families", "multiplicity"} <= set(rows[0])


def test_equivariant_singular_images_lie_in_isotypic_families(monkeypatch):
    """gcnn C3, r = 2: the sampled singular images that lie in no coordinate family lie in an isotypic family.
    Every singular critical point with both filters nonzero has a filter with a vanishing Fourier component:
    w1 summing to 0 (trivial component) or w_i proportional to (1,1,1) (isotypic #1; w2 so makes the output
    G-invariant).  The components are read off with numpy's FFT at the critical point itself, relative to the
    filter's norm.  The check asks which families contain theta, not where the optimizer stops: Levenberg-
    Marquardt reaches these degenerate critical points only to about sqrt(eps) across the family (1e-6 leaves a
    margin), and along a positive-dimensional critical family it stops anywhere -- e.g. w1 summing to 0 with w2
    1e-4 from (1,1,1), whose image reads as singular at the witness set's resolution and lies in the trivial
    family of layer 1 only.  A family containing theta is required in the row's families whenever theta's
    projection onto it (zeroing the component by FFT) maps within the membership tolerance of the image; without
    the isotypic families the same sample has counterexamples (the check can fail)."""
    from neuromanifold.parametrization.coefficients import coefficient_map

    spec = 'gcnn(group="C3", layers=2)'
    arch = nm.parse_spec(spec)
    P, off = coefficient_map(arch).polynomials, arch.offsets()
    res = conjecture(spec, n_starts=16)
    ev = res.evidence
    assert res.value == 0 and res.status == "numerical"
    crit = ev["by_sample"]["critical_points"]
    assert crit["points"] == 16 and crit["singular"] >= 8 and crit["counterexamples"] == 0
    assert crit["undecided_in_no_family"] == 0 and ev["counterexamples"] == 0 and ev["undecided_in_no_family"] == 0
    iso, checked = 0, {"trivial": 0, "isotypic #1": 0}
    for row in ev["critical_points"]:
        if row["singular"] is not True or row["zero_layers"]:
            continue
        assert row["multiplicity"] == 2 and any("component of the filter zero" in f for f in row["families"])
        th, y = np.asarray(row["theta"]), np.asarray(row["function"])
        vanishing = []
        for i in (1, 2):
            ix = np.arange(off[f"w{i}"], off[f"w{i}"] + 3)
            F = np.fft.fft(th[ix])  # Parseval: |w|^2 = |F|^2 / 3
            for label, keep in (("trivial", [1, 2]), ("isotypic #1", [0])):
                gone = [j for j in range(3) if j not in keep]
                if np.linalg.norm(F[gone]) < 1e-6 * np.linalg.norm(F):
                    G = np.zeros(3, dtype=complex)
                    G[keep] = F[keep]
                    proj = th.copy()
                    proj[ix] = np.fft.ifft(G).real  # theta's projection onto the family
                    vanishing.append((f"layer {i}: {label} component of the filter zero", label, proj))
        assert vanishing, (th, row["families"])  # theta lies in an isotypic family
        for name, label, proj in vanishing:
            resid = np.max(np.abs(P.evaluate(proj.astype(complex)[None, :])[0].real - y)) / (1 + np.max(np.abs(y)))
            if resid < cl.MEMBER_TOL / 10:  # the image is in the family's image: the family must be listed
                assert name in row["families"], (name, resid, row["families"])
                checked[label] += 1
        iso += 1
    assert iso >= 5 and checked["isotypic #1"] >= 3 and checked["trivial"] >= 1
    coordinate_only = [f for f in sg.subnetwork_families(nm.parse_spec(spec)) if f.coordinate]
    monkeypatch.setattr(sg, "subnetwork_families", lambda arch: coordinate_only)
    res0 = cl.subnetwork_conjecture(Context(spec, seed=0), n_starts=16)
    assert res0.value >= 5 and res0.evidence["counterexamples"] == res0.value

def test_cli_starts(capsys):
    from neuromanifold.cli import main

    spec = "linear(widths=(3,2,3))"
    assert main(["analyze", spec, "--only", "subnetwork_conjecture", "--starts", "3", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)["invariants"]["subnetwork_conjecture"]["evidence"]
    assert ev["search"]["starts"] == 3
    assert main(["analyze", spec, "--only", "subnetwork_conjecture", "--starts", "0"]) == 2
    assert "starts must be a positive integer" in capsys.readouterr().err
