"""The exported systems are the toolkit's systems: the same free coordinates (gauge + pivoted QR) as its own
solves, the same equations (checked against the toolkit's float objects built independently: the coefficient
map restricted by ``CoefficientMap.restrict``, R c - b, J_c^T (Q c - p)), exact data (start points are exact
solutions), and the toolkit's own solver on the exported system reproduces its invariants."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.context import Context
from neuromanifold.errors import InputError
from neuromanifold.exports import build_system
from neuromanifold.exports.systems import (
    MAX_EXPORT_TERMS,
    _evaluate,
    critical_system_object,
    ed_system,
)
from neuromanifold.invariants.critical_system import solve_critical
from neuromanifold.invariants.ed_degree import ed_critical_system
from neuromanifold.invariants.witness_set import witness_set

from export_checks import independent_residual

ATT = "attention(d=2, dout=1, a=2, t=2)"


def random_points(k: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((4, k)) + 1j * rng.standard_normal((4, k))) / np.sqrt(2)


@pytest.mark.parametrize("system", ["degree", "ed", "critical"])
@pytest.mark.parametrize("spec", [ATT, "mlp(widths=(2,1,1), r=3)", "linear(widths=(3,1,3))"])
def test_equations_are_the_toolkit_system(spec, system):
    es = build_system(spec, system, seed=0)
    k = len(es.unknowns)
    assert len(es.equations) == k == es.dim
    z = random_points(k)
    ours = es.polynomial_system().evaluate(z, es.parameter_point())
    ref = independent_residual(es, z)
    scale = 1 + np.abs(ref).max()
    assert np.abs(ours - ref).max() <= 1e-10 * scale, (spec, system, np.abs(ours - ref).max())
    # every coefficient exact and small-denominator (dyadic: exact in binary, PHCpack reads it exactly)
    for f in es.equations:
        for c in f.values():
            assert isinstance(c, Fraction) and (c.denominator & (c.denominator - 1)) == 0


# here the gauge leaves more coordinates than dim M: pivoted QR picks the free ones, differently per random stream
QR_SPEC = "mlp(widths=(3,2,1), r=2)"


def test_degree_slice_is_the_witness_set_slice():
    """Same free coordinates as the toolkit's pseudo-witness set (same seed): its count is directly comparable."""
    ctx = Context(QR_SPEC, seed=3)
    ws = witness_set(ctx)
    labels = ctx.arch.param_labels()
    es = build_system(QR_SPEC, "degree", seed=3)
    assert es.unknown_labels == [labels[i] for i in ws.slice_free]


def test_ed_slice_is_the_ed_degree_slice():
    ctx = Context(QR_SPEC, seed=2)
    cs = ed_critical_system(ctx, "euclidean")
    labels = ctx.arch.param_labels()
    es = ed_system(QR_SPEC, metric="euclidean", seed=2)
    assert es.unknown_labels == [labels[i] for i in cs.free]


def test_start_data_are_exact_solutions():
    es = build_system(ATT, "degree", seed=1)
    for f in es.specialized():
        assert _evaluate(f, [Fraction(v) for v in es.start]) == 0
    ed = build_system(ATT, "ed", seed=1)
    z0, p0 = ed.start_pair
    k = len(ed.unknowns)
    for f in ed.equations:
        assert _evaluate(f, [Fraction(v) for v in z0] + list(p0)) == 0
    assert len(z0) == k and list(p0) != list(ed.parameter_values)


def test_seed_changes_the_numbers_and_repeats_them():
    a, b, a2 = (build_system(ATT, "ed", seed=s) for s in (0, 1, 0))
    assert a.parameter_values == a2.parameter_values and a.equations == a2.equations
    assert a.parameter_values != b.parameter_values


def test_toolkit_solver_on_the_export_reproduces_the_ed_degree():
    """The toolkit's total-degree solve of the exported ED system counts the certified ED degree."""
    es = build_system("mlp(widths=(2,1,1), r=3)", "ed", seed=0)
    crit = solve_critical(critical_system_object(es), es.parameter_point(), seed=1)
    ed = nm.analyze("mlp(widths=(2,1,1), r=3)", only="ed_degree")["ed_degree"]
    assert ed.status == "certified"
    assert crit.n_images_smooth == ed.value == 7


def test_critical_export_matches_critical_points_on_the_same_data():
    spec = "mlp(widths=(2,1,2), r=2)"
    es = build_system(spec, "critical", seed=0)
    X = np.array([[float(Fraction(v)) for v in r] for r in es.data["X"]])
    Y = np.array([[float(Fraction(v)) for v in r] for r in es.data["Y"]])
    res = nm.critical_points(spec, X, Y, seed=0)
    crit = solve_critical(critical_system_object(es), es.parameter_point(), seed=1)
    assert crit.n_images_smooth == res.counts["functions_pure"]
    assert len(crit.z) == res.counts["complex"]


def test_user_data_are_exact_and_validated():
    spec = "mlp(widths=(2,1,1), r=3)"
    X = np.array([[0.5, -1.25], [1.0, 2.0], [0.1, 3.0], [-2.0, 1.0], [1.5, 0.25]])
    Y = np.array([[1.0], [0.3], [-2.0], [0.5], [1.0]])
    es = build_system(spec, "critical", X=X, Y=Y)
    assert Fraction(es.data["X"][2][0]) == Fraction(0.1)  # the double, exactly
    with pytest.raises(InputError, match="outputs per sample"):
        build_system(spec, "critical", X=X, Y=np.ones((5, 2)))
    with pytest.raises(InputError, match="both X and Y"):
        build_system(spec, "critical", X=X)


def test_bad_requests_name_what_to_change(monkeypatch):
    with pytest.raises(InputError, match="unknown system 'foo'; choose from: degree, ed, critical"):
        build_system(ATT, "foo")
    with pytest.raises(InputError, match="unknown metric"):
        build_system(ATT, "ed", metric="l1")
    with pytest.raises(InputError, match="choose smaller widths"):
        build_system("mlp(widths=(8,8,8), r=2)", "degree")
    with pytest.raises(InputError, match="not polynomial"):
        build_system("relu(widths=(2,2,1))", "degree")
    monkeypatch.setattr("neuromanifold.exports.systems.MAX_EXPORT_TERMS", 10)
    with pytest.raises(InputError, match="terms \\(limit 10\\); choose a smaller architecture"):
        build_system(ATT, "ed")
    assert MAX_EXPORT_TERMS > 10
    monkeypatch.setattr("neuromanifold.exports.systems.MAX_EXPANSION", 100)
    with pytest.raises(InputError, match="products of terms \\(limit 1e\\+02\\); choose a smaller architecture"):
        build_system(ATT, "critical")


@pytest.mark.parametrize("denominator", [1, 2**60])  # int64 products, and Python integers when they could overflow
def test_gram_matrix_is_exact(denominator):
    from neuromanifold.exports.systems import _gram

    rng = np.random.default_rng(0)
    rows = [[Fraction(int(v), denominator) for v in rng.integers(-50, 50, 4)] for _ in range(6)]
    y = [Fraction(int(v), 3) for v in rng.integers(-5, 5, 6)]
    Q, p = _gram(rows, y, "test")
    assert Q == [[sum((r[a] * r[b] for r in rows), Fraction(0)) for b in range(4)] for a in range(4)]
    assert p == [sum((r[a] * t for r, t in zip(rows, y)), Fraction(0)) for a in range(4)]
