"""Activation thresholds of dense polynomial networks (issue 20, part 4).

Reference numbers come from outside the code under test: the Alexander-Hirschowitz theorem (shallow single-output
networks are sums of r-th powers of linear forms: dim = min(n m, C(n+r-1, r)) except r = 2, 2 <= m <= n - 1 and
the four sporadic cases, one below), counts written out below for deep networks, and Macaulay2 (Terracini's lemma
over Q) when installed.
"""

from __future__ import annotations

import shutil
import subprocess
from math import comb

import pytest

import neuromanifold as nm
from neuromanifold.analysis import DEFAULT_INVARIANTS, INVARIANTS
from neuromanifold.atlas import Atlas, expand
from neuromanifold.atlas.tables import PRESETS, threshold_rows
from neuromanifold.cli import main
from neuromanifold.errors import InputError
from neuromanifold.invariants.activation_threshold import NO_BOUND_SCAN, proven_bound

AH_SPORADIC = [(3, 5, 4), (4, 9, 4), (5, 7, 3), (5, 14, 4)]  # (n variables, m powers, degree r): defect 1


def ah_defective(n: int, m: int, r: int) -> bool:
    """Alexander-Hirschowitz: m general r-th powers of linear forms in n variables are defective exactly here."""
    return (r == 2 and 2 <= m <= n - 1) or (n, m, r) in AH_SPORADIC


def ah_threshold(n: int, m: int) -> int:
    """Smallest r >= 2 with every r' >= r non-defective, read off the classification (all defects have r <= 4)."""
    return 1 + max([r for r in range(2, 5) if ah_defective(n, m, r)], default=1)


def threshold(spec: str) -> nm.Result:
    return nm.analyze(spec, only="activation_threshold")["activation_threshold"]


def test_registered_not_default():
    assert "activation_threshold" in INVARIANTS and "activation_threshold" not in DEFAULT_INVARIANTS


def test_threshold_3_2_1_is_3_certified():
    """Quadrics of rank <= 2 in 3 variables are a hypersurface (dim 5 < 6); two cubes are not defective."""
    res = threshold("mlp(widths=(3, 2, 1), r=2)")
    assert res.value == 3 == ah_threshold(3, 2)
    assert res.status == "certified"
    rows = {row["r"]: row for row in res.evidence["rows"]}
    assert rows[2]["verdict"] == "defective" and rows[2]["dimension"] == 5  # certified upper bound 5 < 6
    assert rows[3]["verdict"] == "non_defective" and rows[3]["dimension"] == 6
    assert res.evidence["bound"]["value"] == 3 and "Corollary" in res.evidence["bound"]["theorem"]


def test_threshold_3_5_1_is_5():
    """Five plane quartics: the Alexander-Hirschowitz case r = 4 is defective, so the threshold is 5.  The defect is
    certified by the catalecticant equation (a 6 x 6 matrix of rank <= 5 on M) and r = 5 by the exact rank."""
    res = threshold("mlp(widths=(3, 5, 1), r=3)")  # the spec's r is ignored
    assert res.value == 5 == ah_threshold(3, 5)
    assert res.status == "certified"
    ev = res.evidence
    assert ev["certified_upper_bound"] == 5 == ev["certified_lower_bound"] and ev["numerical_value"] == 5
    rows = {row["r"]: row for row in ev["rows"]}
    assert sorted(rows) == [2, 3, 4, 5]  # up to the Alexander-Hirschowitz bound 5, which is checked too
    for r, row in rows.items():
        assert row["expected_dimension"] == min(3 * 5, comb(3 + r - 1, r))
        assert row["defective"] == ah_defective(3, 5, r)
    assert rows[4]["numerical_rank"] == 14


@pytest.mark.parametrize("n, m, r", AH_SPORADIC)
def test_alexander_hirschowitz_sporadic_cases_are_one_below(n, m, r):
    rep = nm.analyze(f"mlp(widths=({n}, {m}, 1), r={r})", only="dimension,expected_dimension")
    dim, edim = rep["dimension"], rep["expected_dimension"]
    count = min(n * m, comb(n + r - 1, r))  # the expected count of the theorem
    assert edim.value == count and edim.status == "certified"
    assert dim.value == count - 1  # exact rank mod p: a lower bound, here attained
    assert dim.evidence["numerical"]["rank"] == count - 1
    if r % 2 == 0:  # the catalecticant equation certifies the defect of even degree
        assert dim.status == "certified" and "catalecticant" in dim.evidence["upper_bound"]["method"]
    else:  # cubics in 5 variables, 7 summands: no equation known to the toolkit, a lower bound
        assert dim.status == "lower_bound"


def test_non_defective_degree_has_the_expected_dimension():
    for n, m, r in [(3, 5, 5), (5, 14, 5), (4, 9, 3)]:
        rep = nm.analyze(f"mlp(widths=({n}, {m}, 1), r={r})", only="dimension,expected_dimension")
        count = min(n * m, comb(n + r - 1, r))
        assert rep["dimension"].value == rep["expected_dimension"].value == count
        assert rep["dimension"].status == "certified"


@pytest.mark.skipif(shutil.which("M2") is None, reason="Macaulay2 (M2) is not installed: no independent oracle")
def test_macaulay2_terracini_ranks_agree():
    """Terracini's lemma over Q in Macaulay2: the span of l_i^r and l_i^(r-1) x_j at random integer forms."""
    script = """
terracini = (n, m, r) -> (
    R := QQ[x_1..x_n];
    L := apply(m, i -> sum(n, j -> random(-20, 20) * x_(j+1)));
    G := flatten apply(L, l -> {l^r} | apply(n, j -> l^(r-1) * x_(j+1)));
    rank last coefficients matrix {G});
setRandomSeed 7;
print toString apply({(3,5,4),(4,9,4),(5,7,3),(5,14,4)}, t -> terracini t);
"""
    out = subprocess.run(["M2", "--script", "/dev/stdin"], input=script, capture_output=True, text=True, timeout=120)
    m2 = [int(x) for x in out.stdout.strip().strip("{}").split(",")]
    ours = [nm.analyze(f"mlp(widths=({n}, {m}, 1), r={r})", only="dimension")["dimension"].value
            for n, m, r in AH_SPORADIC]
    assert m2 == ours == [min(n * m, comb(n + r - 1, r)) - 1 for n, m, r in AH_SPORADIC]


def test_deep_bottleneck_of_width_two():
    """(2, 2, 3, 1): f = h(l1^r, l2^r) with h a sum of 3 r-th powers of binary linear forms (dim min(6, r+1),
    Sylvester) and l1, l2 linear forms up to the scalings h absorbs: dim = min(6, r + 1) + 2 against edim 8 (5 for
    r = 2, the ambient space), so r = 3, 4 are defective and the threshold is 5."""
    res = threshold("mlp(widths=(2, 2, 3, 1), r=2)")
    assert res.value == 5 and res.status in ("certified", "upper_bound")
    for row in res.evidence["rows"]:
        r = row["r"]
        assert row["numerical_rank"] == min(min(6, r + 1) + 2, r * r + 1), r
        assert row["defective"] == (r in (3, 4)), r


def test_width_one_bottleneck_has_no_bound():
    """(2, 1, 2, 1) computes C l^(r^2): dim 2 < edim 3 for every r, so no threshold exists; only r <= NO_BOUND_SCAN
    are computed and the value is a certified lower bound."""
    assert proven_bound((2, 1, 2, 1)) is None
    res = threshold("mlp(widths=(2, 1, 2, 1), r=2)")
    assert res.status == "lower_bound" and res.value == NO_BOUND_SCAN + 1
    assert all(row["dimension"] == 2 and row["verdict"] == "defective" for row in res.evidence["rows"])


def test_proven_bounds():
    assert proven_bound((3, 5, 1))["value"] == 5  # Alexander-Hirschowitz (Usevich et al.: 9)
    assert proven_bound((3, 2, 1))["value"] == 3  # pyramidal, single output
    assert proven_bound((3, 2, 2))["value"] == 2  # pyramidal, several outputs
    assert proven_bound((2, 3, 4, 1))["value"] == 7  # 2 max(hidden) - 1
    assert proven_bound((1, 3, 1)) is None


@pytest.mark.parametrize("spec, match", [
    ("cnn(k=(2,2), s=(1,1), r=2)", "dense networks"),
    ("linear(widths=(3, 2, 1))", "dense networks"),
    ('mlp(widths=(3, 2, 1), act="x**2 + x")', "act="),
    ("mlp(widths=(3, 2, 1), r=2, bias=True)", "bias"),
    ("mlp(widths=(3, 2), r=2)", "hidden layer"),
])
def test_bad_input(spec, match):
    with pytest.raises(InputError, match=match):
        threshold(spec)


def test_relu_is_refused():
    with pytest.raises(InputError, match="not polynomial"):
        threshold("relu(widths=(3, 2, 1))")


def test_atlas_threshold_table(tmp_path, capsys):
    """The preset table of shallow (n, m, 1), n = 2..4, m = 1..5, against the Alexander-Hirschowitz thresholds."""
    db = str(tmp_path / "t.sqlite")
    assert main(["atlas", "table", "mlp-thresholds", "--db", db, "--quiet"]) == 0
    text = capsys.readouterr().out
    assert PRESETS["mlp-thresholds"][1] in text and "(3, 5, 1)  5 (" in text
    with Atlas(db) as a:
        rows = threshold_rows(a, list(expand(PRESETS["mlp-thresholds"][0]).specs))
    assert len(rows) == 15
    for row in rows:
        n, m, _ = row.widths
        assert row.value == ah_threshold(n, m), row.spec
        assert row.lower <= row.value <= row.upper
        # quadrics (r = 2) by kernel fields, plane quartics (3, 5, 1) by the catalecticant
        assert row.status == "certified", row.spec
