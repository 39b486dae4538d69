"""Subnetwork strata: dimensions, critical points of mu, singular points of M.

Linear networks (reference.md): M = {rank <= r}; its singular locus is {rank <= r - 1} when
r < min(m, n), of dimension r'(m + n - r') for r' = r - 1; removing hidden neurons gives exactly these
lower-rank strata.  A filling neuromanifold (mlp((2,2,1), r=2): all binary quadratics) has no
singular points at all, although mu has critical points.
"""

import pytest

import neuromanifold as nm
from neuromanifold.architectures import parse_spec
from neuromanifold.invariants.singularities import subnetwork_families


def families(spec):
    r = nm.analyze(spec, only="singularities")["singularities"]
    return r, {f["family"]: f for f in r.evidence["families"]}


@pytest.mark.parametrize("m,n,r", [(3, 3, 2), (4, 4, 2), (4, 3, 3)])
def test_linear_lower_rank_strata(m, n, r):
    spec = f"linear(widths=({n}, {r}, {m}))"
    res, fams = families(spec)
    for keep in range(1, r):
        f = fams[f"layer 1: {keep} of {r} neurons"]
        assert f["dimension"] == keep * (m + n - keep)  # rank <= keep matrices
        assert f["critical"] is True
        singular_expected = r < min(m, n)  # rank <= r is a proper determinantal variety
        assert f["singular"] is singular_expected, f
    zero = fams["zero function"]
    assert zero["dimension"] == 0 and zero["singular"] is (r < min(m, n))  # filling: M is a linear space


def test_filling_neuromanifold_has_no_singular_points():
    res, fams = families("mlp(widths=(2, 2, 1), r=2)")
    assert res.value == 0
    assert fams["layer 1: 1 of 2 neurons"]["critical"] is True  # mu is critical there ...
    assert fams["layer 1: 1 of 2 neurons"]["singular"] is False  # ... but M = C^3 is smooth


def test_regular_subnetworks_are_certified_regular():
    # a shortened CNN filter is not a critical point of mu: certified by the exact rank mod p
    _, fams = families("cnn(k=(3, 2), s=(1, 1), r=2)")
    f = fams["filter 1: last tap dropped"]
    assert f["critical"] is False and f["critical_status"] == "certified"
    assert f["rank_of_d_mu"]["mod_p"] == 4
    assert fams["zero function"]["singular"] is True  # the vertex of the cone M


def test_families_zero_the_right_parameters():
    arch = parse_spec("attention(d=2, dout=2, a=2, t=2)")
    names = [f.name for f in subnetwork_families(arch)]
    assert "layer 1: attention rank 1 of 2" in names and "layer 1: 1 of 2 rows of V" in names
    rank1 = next(f for f in subnetwork_families(arch) if f.name == "layer 1: attention rank 1 of 2")
    assert len(rank1.zero) == 2 * 2  # one row of Q and one of K, d = 2 entries each


def test_cli_table(capsys):
    from neuromanifold.cli import main

    assert main(["analyze", "linear(widths=(3, 2, 3))", "--only", "singularities"]) == 0
    out = capsys.readouterr().out
    assert "subnetwork strata (dim M = 8)" in out and "layer 1: 1 of 2 neurons" in out


def test_collapsed_layers():
    """A collapsed layer (diagonal weights, the identity up to rescaling) gives a network of lower depth.

    mlp((3, 3, 3, 1), r=2) with W2 diagonal computes sum_j c_j l_j(x)^4 for three linear forms: the third
    secant of the Veronese v_4(P^2), of dimension 3 * 3 = 9 (Alexander-Hirschowitz; (3 vars, degree 4)
    is exceptional only for 5 summands).  linear((4, 3, 2, 4)) with W2 (2 x 3) diagonal still reaches all
    4 x 4 matrices of rank <= 2: dimension 2 (4 + 4 - 2) = 12 = dim M, regular points of mu (certified).
    """
    _, fams = families("mlp(widths=(3, 3, 3, 1), r=2)")
    assert fams["layer 2 collapsed"]["dimension"] == 9
    _, fams = families("linear(widths=(4, 3, 2, 4))")
    f = fams["layer 2 collapsed"]
    assert f["dimension"] == 12 and f["critical"] is False and f["critical_status"] == "certified"
    assert f["singular"] is False
    # layer 1 collapsed (W1 diagonal, 3 x 4): functions of the first 3 inputs only, rank <= 2: 2 (3 + 4 - 2)
    assert fams["layer 1 collapsed"]["dimension"] == 10 and fams["layer 1 collapsed"]["singular"] is False
    arch = parse_spec("attention(widths=(2, 2, 1), a=(2, 2), t=2)")
    col = {f.name: f for f in subnetwork_families(arch)}
    assert {"layer 1 collapsed", "layer 2 collapsed"} <= set(col)
    assert len(col["layer 1 collapsed"].zero) == 2 + 2 + 2  # off-diagonal entries of Q1, K1, V1 (2 x 2)
    assert len(col["layer 2 collapsed"].zero) == 2 + 2 + 1  # Q2, K2 (2 x 2): two each; V2 (1 x 2): V2[0, 1]
