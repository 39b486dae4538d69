"""Certified critical points, ED points, witness and fiber points (``--certify``; interval arithmetic).

Independent checks: Eckart-Young in the data metric gives the critical functions of a linear network in
closed form (singular triples of the whitened targets); certified boxes must contain those; the global
minimum's status follows its point's certificate; certified counts never exceed the numerical ones and
are rigorous lower bounds of the counts the literature gives (ED degrees of determinantal varieties).
"""

from __future__ import annotations

import json
import subprocess
import sys
from math import comb

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.invariants.critical_system import CriticalSystem
from neuromanifold.landscape.discriminant import critical_point_map


def data(spec: str, n: int, seed: int = 0):
    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, arch.n_inputs)), rng.standard_normal((n, arch.output_size()))


def test_linear_network_certified_points_are_the_eckart_young_functions():
    """linear(widths=(3,1,3)) on data X (n x 3), Y (n x 3): |X W^T - Y|^2 = |S V^T W^T - U^T Y|^2 + const with
    X = U S V^T, so the critical functions of rank 1 are W^T = V S^-1 sigma_i u_i v_i^T over the singular
    triples of A = U^T Y (three of them)."""
    spec = "linear(widths=(3, 1, 3))"
    X, Y = data(spec, 12, seed=4)
    res = nm.critical_points(spec, X, Y, certify=True)
    c = res.counts
    assert c["certified"] == c["complex"] == c["certified_real"] == 3
    assert c["certified_functions_pure"] == 3 == comb(3, 1)
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    u, sig, vt = np.linalg.svd(U.T @ Y)
    closed = [(Vt.T @ np.diag(1 / S) @ (sig[i] * np.outer(u[:, i], vt[i]))).T for i in range(3)]
    arch = nm.parse_spec(spec)
    for q in res.points:
        assert q.certified and q.certified_real is True and q.certified_pure
        params = arch.unflatten(np.asarray(q.theta.real))
        W = np.asarray(params["W2"]) @ np.asarray(params["W1"])  # (3, 3): f(x) = W x
        assert min(np.abs(W - Wc).max() for Wc in closed) < 1e-8
    losses = sorted(float(np.sum((X @ Wc.T - Y) ** 2) / len(X)) for Wc in closed)
    np.testing.assert_allclose(sorted(q.loss.real for q in res.points), losses, rtol=1e-9)
    assert res.global_minimum["status"] == "certified"
    pc = res.global_minimum["point_certificate"]
    assert pc["root"] is True and pc["real"] is True


@pytest.mark.parametrize("spec,n", [("mlp(widths=(2, 1, 1), r=3)", 20), ("cnn(k=(3, 2), s=(1, 1), r=2)", 60)])
def test_every_critical_point_is_certified_and_counts_agree(spec, n):
    X, Y = data(spec, n, seed=2)
    res = nm.critical_points(spec, X, Y, certify=True)
    c = res.counts
    assert c["certified"] <= c["complex"] and c["certified_real"] <= c["real"]
    assert c["certified_real"] + c["certified_non_real"] <= c["certified"]
    # on these systems every isolated critical point is regular: all are certified, real ones proven real
    assert c["certified"] == c["complex"] and c["certified_real"] == c["real"]
    assert c["certified_functions_pure"] == c["functions_pure"]
    for q in res.points:
        assert q.certified_real is q.real  # the proof agrees with the tolerance test
        d = q.to_dict()
        assert d["certified"]["root"] is True


def test_global_minimum_is_certified_only_when_its_point_is(monkeypatch):
    spec = "mlp(widths=(2, 1, 1), r=3)"
    X, Y = data(spec, 20)
    assert nm.critical_points(spec, X, Y).global_minimum["status"] == "certified"
    real_certify = CriticalSystem.certify

    def refuse(self, z, p, labels=None, **kw):  # a certificate that fails (as for a singular root)
        out = real_certify(self, z, p, labels, newton_steps=0, refine_steps=0, inflation=1.0001)
        out.certification.certified[:] = False
        out.certification.real[:] = None
        out.certification.reason[:] = ["K(X) is not inside the interior of X"] * len(z)
        return out

    monkeypatch.setattr(CriticalSystem, "certify", refuse)
    g = nm.critical_points(spec, X, Y).global_minimum
    assert g["status"] == "numerical" and "could not be certified" in g["why"]
    assert g["point_certificate"]["root"] is False


def test_duplicated_critical_point_is_not_certified_distinct():
    spec = "mlp(widths=(2, 1, 1), r=3)"
    X, Y = data(spec, 20)
    from neuromanifold.context import as_context
    from neuromanifold.invariants.critical_system import critical_system
    from neuromanifold.invariants.dimension import dimension_data
    from neuromanifold.landscape.critical_points import loss_data
    from neuromanifold.parametrization.coefficients import coefficient_map

    ctx = as_context(spec)
    cmap = coefficient_map(ctx.arch)
    dat = loss_data(ctx.arch, cmap, X, Y)
    cs = critical_system(ctx.arch, cmap, dat.Q, dimension_data(ctx).lower, ctx.rng("critical-slice-data"))
    res = nm.critical_points(spec, X, Y)
    z = np.array([[v for v in q.theta[cs.free]] for q in res.points])
    twice = np.concatenate([z, z[:1]])
    cp = cs.certify(twice, dat.p)
    assert cp.certified.all()
    assert not cp.certification.distinct[0] and not cp.certification.distinct[-1]
    assert cp.certification.distinct[1:-1].all()


def test_analyze_certify_backs_ed_degree_degree_and_fiber_points():
    """ED degree of 3 x 3 matrices of rank <= 1 (linear(widths=(3,1,3))) in the Frobenius-like generic metric is
    certified by trace tests; with certify every counted point also has a box, so the certified lower bound
    equals the value; the degree's witness points are certified distinct points of M (Harris: degree 6)."""
    rep = nm.analyze("linear(widths=(3, 1, 3))", only="degree,fiber_points,ed_degree", certify=True)
    ed = rep["ed_degree"]
    assert ed.status == "certified"
    assert ed.evidence["certification"]["certified_lower_bound"] == ed.value
    assert ed.evidence["certification"]["every_counted_point_certified"] is True
    deg = rep["degree"]
    assert deg.value == 6 and deg.evidence["certification"]["image_points_certified_distinct"] == 6
    fib = rep["fiber_points"]
    assert fib.evidence["certification"]["fiber_points_certified_distinct"] == fib.value
    # without the option nothing is certified (and nothing is claimed)
    plain = nm.analyze("linear(widths=(3, 1, 3))", only="degree")
    assert "certification" not in plain["degree"].evidence


def test_sampled_witness_sets_say_why_they_are_not_certified():
    from neuromanifold.context import as_context
    from neuromanifold.invariants.witness_set import witness_set

    ctx = as_context("mlp(widths=(2, 1, 1), r=3)")
    ws = witness_set(ctx, coefficients=False)
    ev = ws.certify()
    assert ev["certified"] is None and "explicit polynomial system" in ev["reason"]


def test_discriminant_map_counts_certified_points():
    spec = "mlp(widths=(2, 1, 1), r=3)"
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 2))
    Y0, Y1, Y2 = (rng.standard_normal((12, 1)) for _ in range(3))
    m = critical_point_map(spec, X, Y0, Y1, Y2, grid=4, certify=True)
    c = m.counts
    assert np.all(c["certified_real"] <= c["real"]) and np.all(c["certified"] <= c["complex"] + c["failed"])
    assert np.all(c["certified_real_pure"] <= c["real_pure"])
    s = m.summary()["certified"]
    assert s["cells_every_point_certified"] >= 1
    assert "certified" not in critical_point_map(spec, X, Y0, Y1, Y2, grid=2).counts


def test_cli_certify_flags(tmp_path):
    spec = "mlp(widths=(2, 1, 1), r=3)"
    X, Y = data(spec, 20)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    out = subprocess.run([sys.executable, "-m", "neuromanifold", "critical", spec, str(tmp_path / "X.npy"),
                          str(tmp_path / "Y.npy"), "--certify", "--json", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["counts"]["certified"] == d["counts"]["complex"]
    text = subprocess.run([sys.executable, "-m", "neuromanifold", "critical", spec, str(tmp_path / "X.npy"),
                           str(tmp_path / "Y.npy"), "--certify", "--quiet"], capture_output=True, text=True, timeout=300)
    assert "certified (interval arithmetic" in text.stdout
    an = subprocess.run([sys.executable, "-m", "neuromanifold", "analyze", spec, "--only", "ed_degree", "--certify",
                         "--json"], capture_output=True, text=True, timeout=300)
    assert an.returncode == 0, an.stderr
    ev = json.loads(an.stdout)["invariants"]["ed_degree"]["evidence"]
    assert ev["certification"]["certified_lower_bound"] == json.loads(an.stdout)["invariants"]["ed_degree"]["value"]
