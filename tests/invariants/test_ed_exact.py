"""The exact (modular Groebner basis) route of the ED degree (``invariants.ed_exact``, option ``ed_exact``).

References the counts are compared with (none produced by this toolkit):
* Eckart-Young: m x n matrices of rank <= r in the Euclidean (Frobenius) metric: binom(min(m, n), r)
  (reference.md; Draisma-Horobet-Ottaviani-Sturmfels-Thomas (DHOST), FoCM 2016, Example 2.3).
* Veronese cones {a (w.x)^d} = mlp((n, 1, 1), r=d): generic ED degree ((2d-1)^n - (d-1)^n) / d,
  Bombieri-Weyl ((d-1)^n - 1) / (d-2) for d > 2 (DHOST Corollary 8.7; eigenvectors of symmetric tensors);
  binary forms (n = 2): 3d - 2 and d.
* Segre cone of 2 x 2 rank-one matrices in a generic metric: 6 (DHOST, Section 8).
* Macaulay2 (``tests/helpers/m2_networks.py``: implicitization + critical ideal + saturation over QQ).
"""

from __future__ import annotations

import time
from math import comb
from typing import Any

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.context import AnalysisOptions, Context
from neuromanifold.errors import InputError
from neuromanifold.invariants import ed_exact
from neuromanifold.invariants.ed_degree import ed_critical_system
from neuromanifold.invariants.ed_exact import exact_ed_counts, exact_primes

from m2_networks import M2, m2_ed_degree, m2_network, spec_string

needs_m2 = pytest.mark.skipif(M2 is None, reason="Macaulay2 (M2) is not installed: no independent ED degree")


def exact_counts(spec: str, metric: str, seed: int = 0, **kw: Any) -> dict[str, Any]:
    """The modular counts over two primes on the slice of the numerical critical system."""
    ctx = Context(spec, seed=seed)
    cs = ed_critical_system(ctx, metric)
    rng = np.random.default_rng(100 + seed)
    return exact_ed_counts(cs.cmap, cs.free, cs.k, metric, exact_primes(ctx.prime, rng), rng,
                           cs.system.bezout_number, **kw)


def ed(spec: str, metric: str, **kw: Any):
    return nm.analyze(spec, only="ed_degree", metric=metric, **kw)["ed_degree"]


@pytest.mark.parametrize("widths,m,n,r", [((2, 1, 2), 2, 2, 1), ((3, 1, 3), 3, 3, 1), ((3, 1, 2), 2, 3, 1)])
def test_eckart_young_certified_through_exact_route(widths, m, n, r):
    res = ed(f"linear(widths={widths})", "euclidean", ed_exact=True)
    ex = res.evidence["exact"]
    assert ex["applied"] and ex["agree"], ex
    assert ex["counts"] == [comb(min(m, n), r)] * 2
    assert len({run["prime"] for run in ex["runs"]}) == 2  # two different primes
    assert all(run["zero_dimensional"] for run in ex["runs"])
    assert res.status == "certified" and res.value == comb(min(m, n), r)
    assert "modular counts" in res.evidence["certificate"]
    assert "probabilistic" in ex["argument"]


@pytest.mark.parametrize("d,metric,expected", [
    (3, "bombieri_weyl", 3),  # d
    (3, "generic", 7),  # 3d - 2
])
def test_binary_veronese_closed_forms(d, metric, expected):
    ex = exact_counts(f"mlp(widths=(2, 1, 1), r={d})", metric)
    assert ex["applied"] and ex["counts"] == [expected, expected], ex


@pytest.mark.slow
@pytest.mark.parametrize("metric,expected", [("bombieri_weyl", 4), ("generic", 10)])
def test_binary_quartic_veronese_closed_forms(metric, expected):
    ex = exact_counts("mlp(widths=(2, 1, 1), r=4)", metric)
    assert ex["applied"] and ex["counts"] == [expected, expected], ex


def test_segre_2x2_generic_metric():
    ex = exact_counts("linear(widths=(2, 1, 2))", "generic")
    assert ex["counts"] == [6, 6], ex


@needs_m2
@pytest.mark.parametrize("metric", ["euclidean", "bombieri_weyl"])
def test_twisted_cubic_cone_against_macaulay2(metric):
    params = {"widths": (2, 1, 1), "r": 3}
    ref = m2_ed_degree(m2_network("mlp", **params), metric, timeout=120)
    if ref.get("timeout"):
        pytest.skip("Macaulay2 timed out")
    assert ref["dim"] == 0
    res = ed(spec_string("mlp", **params), metric, ed_exact=True)
    assert res.evidence["exact"]["counts"] == [ref["ed"]] * 2
    assert res.status == "certified" and res.value == ref["ed"]


@pytest.mark.slow
@needs_m2
@pytest.mark.parametrize("metric", ["euclidean", "bombieri_weyl"])
def test_veronese_surface_cone_against_macaulay2(metric):
    params = {"widths": (3, 1, 1), "r": 2}  # Macaulay2: ~17 s (euclidean), ~6 s (bombieri_weyl)
    ref = m2_ed_degree(m2_network("mlp", **params), metric, timeout=120)
    if ref.get("timeout"):
        pytest.skip("Macaulay2 timed out")
    ex = exact_counts(spec_string("mlp", **params), metric)
    assert ex["counts"] == [ref["ed"]] * 2, (ex, ref)


def test_refused_above_the_bezout_limit(monkeypatch):
    monkeypatch.setattr(ed_exact, "EXACT_BEZOUT_LIMIT", 10)
    res = ed("linear(widths=(2, 1, 2))", "euclidean", ed_exact=True)
    ex = res.evidence["exact"]
    assert not ex["applied"]
    assert ex["reason"].startswith("not applied: the critical system has Bezout number 27 > 10")
    # the numerical result stands on its own
    assert res.status == "certified" and res.value == 2 and "modular" not in res.evidence["certificate"]


def test_refused_past_the_time_limit():
    t0 = time.perf_counter()
    ex = exact_counts("mlp(widths=(2, 1, 1), r=4)", "generic", seconds=0.3)
    assert time.perf_counter() - t0 < 20
    assert not ex["applied"]
    assert ex["reason"].startswith("not applied: over GF(") and "longer than 0.3 s" in ex["reason"]


def test_without_the_option_no_exact_entry():
    res = ed("linear(widths=(2, 1, 2))", "euclidean")
    assert "exact" not in res.evidence


@pytest.mark.parametrize("bad", ["yes", 1, 0.0])
def test_option_is_validated(bad):
    with pytest.raises(InputError, match="ed_exact"):
        AnalysisOptions(ed_exact=bad)
    with pytest.raises(InputError, match="ed_exact"):
        nm.analyze("linear(widths=(2, 1, 2))", only="ed_degree", ed_exact=bad)


def test_cli_flag(capsys):
    import json

    from neuromanifold.cli import main

    code = main(["analyze", "linear(widths=(2,1,2))", "--only", "ed_degree", "--metric", "euclidean",
                 "--ed-exact", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    ev = out["invariants"]["ed_degree"]["evidence"]
    assert ev["exact"]["counts"] == [2, 2]


@pytest.mark.parametrize("counts,numerical,status,expected", [
    ([5, 5], 5, "lower_bound", (5, "certified")),  # agree with the numerical count
    ([7, 7], 5, "lower_bound", (7, "certified")),  # the numerical route missed points
    ([4, 4], 5, "lower_bound", (5, "lower_bound")),  # fewer than the verified numerical points: conflict
    ([7, 7], 5, "certified", (5, "lower_bound")),  # contradicts a certified count: conflict
    ([7, 6], 5, "lower_bound", (5, "lower_bound")),  # the primes disagree: unchanged
])
def test_decision_rule(monkeypatch, counts, numerical, status, expected):
    from neuromanifold.invariants import ed_degree as mod

    def fake(*args: Any, **kw: Any) -> dict[str, Any]:
        agree = len(set(counts)) == 1
        return {"applied": True, "counts": counts, "agree": agree, "value": counts[0] if agree else None,
                "runs": [], "argument": "test"}

    monkeypatch.setattr(ed_exact, "exact_ed_counts", fake)
    ctx = Context("linear(widths=(2, 1, 2))", options={"metric": "euclidean", "ed_exact": True})
    cs = ed_critical_system(ctx, "euclidean")
    ev: dict[str, Any] = {"why_lower_bound": "numerical"} if status == "lower_bound" else {"certificate": "two runs"}
    assert mod._exact(ctx, cs, "euclidean", numerical, status, ev) == expected
    assert "verdict" in ev["exact"]
    if expected[1] == "lower_bound" and len(set(counts)) == 1:
        assert "conflict" in ev["why_lower_bound"]


def test_not_applied_after_a_cut_numerical_count():
    from neuromanifold.invariants import ed_degree as mod
    from neuromanifold.runtime.budget import cut_mark, record_cut

    ctx = Context("linear(widths=(2, 1, 2))", options={"metric": "euclidean", "ed_exact": True})
    cs = ed_critical_system(ctx, "euclidean")
    mark = cut_mark()
    record_cut("budget")
    ev: dict[str, Any] = {}
    assert mod._exact(ctx, cs, "euclidean", 1, "lower_bound", ev, mark) == (1, "lower_bound")
    assert ev["exact"]["reason"].startswith("not applied: the numerical count was cut short")


@pytest.mark.slow
def test_several_slice_points_over_one_function_count_once():
    """mlp((2, 2, 1, 1), r=2): M = squares of binary quadrics; ED degree 13 in the Euclidean metric by Macaulay2
    (``m2_ed_degree(m2_network("mlp", widths=(2, 2, 1, 1), r=2), "euclidean")``: ed=13, dim=0, 69 s cpu; too slow
    to rerun here).  One prime (~10 s): the quotient ring counts several slice points per function, the
    distinct eigenvalues of l(c) count the functions."""
    ctx = Context("mlp(widths=(2, 2, 1, 1), r=2)")
    cs = ed_critical_system(ctx, "euclidean")
    rng = np.random.default_rng(3)
    ex = exact_ed_counts(cs.cmap, cs.free, cs.k, "euclidean", exact_primes(ctx.prime, rng)[:1], rng,
                         cs.system.bezout_number)
    run = ex["runs"][0]
    assert run["distinct_points_of_M"] == 13, ex
    assert run["quotient_dimension"] > run["distinct_points_of_M"]
