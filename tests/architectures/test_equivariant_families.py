"""Equivariant neuromanifolds: ``gcnn`` (group convolutions) and ``mlp(..., equivariant=G)``.

Checked against numbers we do not produce ourselves: sympy's permutation groups, the commutant
computed as a nullspace, orbits counted by brute-force enumeration, dense networks built from the
definition y(g) = sum_h w(h^-1 g) x(h), numerical Jacobian ranks in torch, and Macaulay2's degree.
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np
import pytest

import neuromanifold as nm
from neuromanifold.architectures import GCNN, MLP, EquivariantMLP, parse_spec
from neuromanifold.architectures.groups import group, orbitals
from neuromanifold.arithmetic import Complex128, Float64, ModP, Symbolic, Torch
from neuromanifold.cli import main
from neuromanifold.atlas.comparison import compare_equivariant
from neuromanifold.errors import InputError, SpecError
from neuromanifold.parametrization.evaluation import Parametrization

P = 2147483629

SPECS = [
    'gcnn(group="C3", layers=2, r=2)',
    'gcnn(group="D3", channels=(1,2,1), r=2)',
    'gcnn(group="C4", channels=(2,1,1), r=3, output="invariant")',
    'gcnn(group="D2", layers=3, r=2)',
    'mlp(widths=(3,6,3), r=2, equivariant="C3")',
    'mlp(widths=(6,3,3), r=2, bias=True, equivariant="D3", action="natural")',
    'mlp(widths=(3,6,3), r=3, equivariant="S3", action="natural")',
    'mlp(widths=(4,8,4), r=1, bias=True, equivariant="D2")',
]


# ------------------------------------------------------------------------------- groups
@pytest.mark.parametrize("name", ["C1", "C5", "D1", "D2", "D4", "D5", "S3", "S4"])
def test_group_tables_are_groups_and_actions_homomorphisms(name):
    G = group(name)
    T, n = G.table, G.order
    e = np.arange(n)
    assert np.array_equal(T[0], e) and np.array_equal(T[:, 0], e)
    assert np.array_equal(T[T[:, :, None], e[None, None, :]], T[e[:, None, None], T[None, :, :]])  # (gh)k = g(hk)
    assert np.all(T[e, G.inverse] == 0)
    for kind in ("regular", "natural"):
        A = G.action(kind)
        for g in range(n):
            for h in range(n):
                assert np.array_equal(A[T[g, h]], A[g][A[h]])


@pytest.mark.parametrize("name", ["C4", "C5", "D3", "D4", "D5", "S3", "S4"])
def test_natural_actions_are_sympys_permutation_groups(name):
    from sympy.combinatorics.named_groups import CyclicGroup, DihedralGroup, SymmetricGroup

    ref = {"C": CyclicGroup, "D": DihedralGroup, "S": SymmetricGroup}[name[0]](int(name[1:]))
    ours = {tuple(int(v) for v in row) for row in group(name).natural}
    assert ours == {tuple(p.array_form) for p in ref.generate()}
    assert group(name).order == ref.order()


@pytest.mark.parametrize("name,kind", [("C4", "regular"), ("D3", "regular"), ("D4", "natural"), ("D5", "natural"),
                                       ("S4", "natural"), ("S3", "regular")])
def test_orbitals_span_the_commutant(name, kind):
    """dim {A : A P_g = P_g A} (nullspace, computed by SVD) = number of orbitals, and every
    orbital matrix commutes with every P_g."""
    A = group(name).action(kind)
    n = A.shape[1]
    rows = []
    for g in range(A.shape[0]):
        Pg = np.eye(n)[A[g]].T  # P_g e_x = e_{g.x}
        rows.append(np.kron(Pg, np.eye(n)) - np.kron(np.eye(n), Pg.T))  # vec(P_g A - A P_g), row-major vec
    s = np.linalg.svd(np.vstack(rows), compute_uv=False)
    null = int(np.sum(s < 1e-9))
    O, K = orbitals(A)
    assert K == null
    for g in range(A.shape[0]):
        Pg = np.eye(n)[A[g]].T
        for k in range(K):
            Ok = (O == k).astype(float)
            assert np.array_equal(Pg @ Ok, Ok @ Pg)


# ------------------------------------------------------------------------------- the families
def _dense_weights(arch, params):
    """Full weight matrices from the definitions (not from the family's forward pass)."""
    G = arch.G
    mats = []
    for i in range(1, arch.depth + 1):
        w = np.asarray(params[f"{arch.weight}{i}"])
        if isinstance(arch, GCNN):  # W[c' n + g, c n + h] = w[c', c, h^-1 g]
            n = G.order
            W = np.zeros((w.shape[0] * n, w.shape[1] * n), dtype=w.dtype)
            for a in range(w.shape[0]):
                for b in range(w.shape[1]):
                    for g in range(n):
                        for h in range(n):
                            W[a * n + g, b * n + h] = w[a, b, G.table[G.inverse[h], g]]
        else:
            W = arch.weight_matrix(i, w)
        mats.append(W)
    return mats


@pytest.mark.parametrize("spec", SPECS)
def test_forward_is_the_dense_network_with_equivariant_weights(spec):
    """mu(theta) equals the plain mlp run with the full weight matrices, which commute with G."""
    arch = parse_spec(spec)
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(arch.n_params)
    params = arch.unflatten(theta)
    X = rng.standard_normal(arch.input_shape(5))
    mats = _dense_weights(arch, params)
    A = arch.perm
    m = arch.copies
    for i, W in enumerate(mats, start=1):
        for g in range(A.shape[0]):
            Pin = np.kron(np.eye(m[i - 1]), np.eye(A.shape[1])[A[g]].T)
            Pout = np.kron(np.eye(m[i]), np.eye(A.shape[1])[A[g]].T)
            assert np.allclose(W @ Pin, Pout @ W)
    dense = MLP((mats[0].shape[1],) + tuple(M.shape[0] for M in mats), arch.r, arch.bias)
    dp = {}
    for i, W in enumerate(mats, start=1):
        dp[f"W{i}"] = W
        if arch.bias:
            dp[f"b{i}"] = np.repeat(np.asarray(params[f"b{i}"]), arch.n_points)[:, None]
    Y = dense.forward(dp, X)
    if arch.invariant_output:
        Y = Y.reshape(m[-1], arch.n_points, -1).sum(axis=1)
    assert np.allclose(arch.forward(params, X), Y)


@pytest.mark.parametrize("spec", SPECS)
def test_network_functions_are_equivariant(spec):
    """f(P_g x) = P_g f(x) (f(P_g x) = f(x) for an invariant output) for every g, at random theta."""
    arch = parse_spec(spec)
    rng = np.random.default_rng(2)
    params = arch.unflatten(rng.standard_normal(arch.n_params))
    X = rng.standard_normal(arch.input_shape(4))
    Y = np.asarray(arch.forward(params, X))
    A, m = arch.perm, arch.copies
    for g in range(A.shape[0]):
        gin = np.concatenate([b * A.shape[1] + A[g] for b in range(m[0])])
        PX = np.empty_like(X)
        PX[gin] = X  # (P_g x)[g.i] = x[i]
        Yg = np.asarray(arch.forward(params, PX))
        if arch.invariant_output:
            assert np.allclose(Yg, Y)
        else:
            gout = np.concatenate([b * A.shape[1] + A[g] for b in range(m[-1])])
            PY = np.empty_like(Y)
            PY[gout] = Y
            assert np.allclose(Yg, PY)
    # a permutation outside G breaks it (the check can fail)
    swap = np.arange(X.shape[0])
    swap[[0, 1]] = swap[[1, 0]]
    in_G = any(np.array_equal(swap[: A.shape[1]], A[g]) for g in range(A.shape[0]))
    if not arch.invariant_output and X.shape[0] == Y.shape[0] and not in_G:
        Ys = np.asarray(arch.forward(params, X[swap]))
        assert not np.allclose(Ys, Y[swap])


@pytest.mark.parametrize("spec", SPECS[:3] + SPECS[4:6])
def test_one_forward_pass_in_every_number_system(spec):
    arch = parse_spec(spec)
    rng = np.random.default_rng(3)
    theta = rng.integers(-3, 4, size=arch.n_params)
    X = rng.integers(-3, 4, size=arch.input_shape(3))

    def run(field):
        return Parametrization(arch, field, 3, rng, inputs=field.asarray(X))(field.asarray(theta))

    ref = np.asarray(run(Symbolic()), dtype=object).astype(np.int64)
    assert np.array_equal(run(Float64()), ref)
    assert np.array_equal(run(Complex128()).real, ref)
    assert np.array_equal(Torch().to_numpy(run(Torch())), ref)
    assert np.array_equal(run(ModP(P)).a, ref % P)


def test_gcnn_and_equivariant_mlp_on_the_regular_representation_agree():
    """Two code paths (group-convolution sums; orbital gather) give the same functions: the mlp
    orbital of (e, j) is the gcnn tap j^-1."""
    g = parse_spec('gcnn(group="D3", channels=(1,2,1), r=2)')
    e = parse_spec('mlp(widths=(6,12,6), r=2, equivariant="D3")')
    rng = np.random.default_rng(4)
    pg = g.unflatten(rng.standard_normal(g.n_params))
    inv = g.G.inverse
    pe = {"W1": pg["w1"][:, :, inv], "W2": pg["w2"][:, :, inv]}
    X = rng.standard_normal(g.input_shape(5))
    assert np.allclose(g.forward(pg, X), e.forward(pe, X))
    a, b = nm.analyze(g, only="dimension")["dimension"], nm.analyze(e, only="dimension")["dimension"]
    assert (a.value, a.status) == (b.value, b.status) == (g.ambient_upper_bound()[0], "certified")  # fills: 21


# ------------------------------------------------------------------------------- invariants
def _brute_force_orbits(arch) -> int:
    """G-orbits on (output, monomial) pairs, by enumerating them."""
    A, m = arch.perm, arch.copies
    n_in = arch.n_inputs
    D = arch.degree_in_inputs
    degrees = range(D + 1) if arch.bias else [D]
    monos = [c for d in degrees for c in combinations_with_replacement(range(n_in), d)]
    outs = range(arch.output_size())
    seen, count = set(), 0
    for o in outs:
        for mono in monos:
            if (o, mono) in seen:
                continue
            count += 1
            for g in range(A.shape[0]):
                gin = np.concatenate([b * A.shape[1] + A[g] for b in range(m[0])])
                go = o if arch.invariant_output else (o // A.shape[1]) * A.shape[1] + A[g][o % A.shape[1]]
                seen.add((int(go), tuple(sorted(int(gin[v]) for v in mono))))
    return count


@pytest.mark.parametrize("spec", SPECS)
def test_ambient_bound_counts_equivariant_maps(spec):
    arch = parse_spec(spec)
    assert arch.ambient_upper_bound()[0] == _brute_force_orbits(arch)


@pytest.mark.parametrize("spec", SPECS)
def test_declared_symmetries_are_tangent_to_fibers(spec):
    arch = parse_spec(spec)
    rng = np.random.default_rng(5)
    par = Parametrization(arch, Complex128(), 8, rng)
    theta = par.random_point()
    J = par.jacobian(theta)
    G = arch.symmetry_matrix(theta)
    assert G.shape[1] == len(arch.symmetries()) > 0 or arch.depth == 1
    assert np.abs(J @ G).max() < 1e-9 * max(1.0, np.abs(J).max() * np.abs(G).max())


@pytest.mark.parametrize(
    "spec",
    ['gcnn(group="C3", layers=2, r=2)', 'gcnn(group="C7", channels=(1,2,1), r=2)',
     'gcnn(group="D4", channels=(1,2,1), r=2)', 'mlp(widths=(4,4,4), r=3, equivariant="C4")',
     'mlp(widths=(6,12,6), r=2, bias=True, equivariant="D3", action="natural")',
     'mlp(widths=(5,10,5), r=3, equivariant="D5", action="natural")'],
)
def test_no_hidden_symmetries_where_M_does_not_fill(analyze_cached, spec):
    """Where M does not fill its equivariant span, dim M = n_params - (one rescaling per hidden copy)."""
    arch = parse_spec(spec)
    rep = analyze_cached(spec)
    d, amb, hid = rep["dimension"], rep["ambient_dimension"], rep["hidden_symmetries"]
    assert (d.value, d.status) == (arch.n_params - sum(arch.copies[1:-1]), "certified")
    assert amb.value > d.value
    assert (hid.value, hid.status) == (0, "certified")


def _torch_rank_gcnn_cyclic(n: int, channels: tuple[int, ...], r: int, seed: int = 0) -> tuple[int, float]:
    """Numerical rank of the torch Jacobian of theta -> (f_theta(x_s))_s, the cyclic gcnn written
    from its definition: W[c' n + g, c n + h] = w[c', c, (g - h) mod n]."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    sizes = [channels[i + 1] * channels[i] * n for i in range(len(channels) - 1)]
    N = sum(sizes)
    X = torch.randn(channels[0] * n, 4 * N, generator=gen, dtype=torch.float64)
    g = torch.arange(n)
    taps = (g[:, None] - g[None, :]) % n

    def f(theta):
        H, off = X, 0
        for i, size in enumerate(sizes):
            w = theta[off : off + size].reshape(channels[i + 1], channels[i], n)
            off += size
            W = w[:, :, taps].permute(0, 2, 1, 3).reshape(channels[i + 1] * n, channels[i] * n)
            H = W @ H
            if i < len(sizes) - 1:
                H = H**r
        return H.reshape(-1)

    theta = torch.randn(N, generator=gen, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(f, theta)
    s = torch.linalg.svdvals(J).numpy()
    rank = int(np.sum(s > 1e-9 * s[0]))
    gap = float(s[rank - 1] / s[rank]) if rank < len(s) else float("inf")
    return rank, gap


@pytest.mark.parametrize("n,channels", [(4, (1, 2, 1)), (5, (1, 1, 1)), (3, (2, 2, 1))])
def test_gcnn_dimension_matches_torch_jacobian_rank_and_is_at_most_the_dense_one(n, channels):
    spec = f'gcnn(group="C{n}", channels={channels}, r=2)'
    arch = parse_spec(spec)
    d = nm.analyze(spec, only="dimension")["dimension"]
    rank, gap = _torch_rank_gcnn_cyclic(n, channels, 2)
    assert gap > 1e4
    assert d.status == "certified" and d.value == rank
    dense, _ = arch.unconstrained_counterpart()
    assert dense.widths == tuple(c * n for c in channels)
    dd = nm.analyze(dense, only="dimension")["dimension"]
    assert dd.status == "certified"
    assert d.value < dd.value  # computed on both sides; strictly smaller here


def test_fiber_points_are_the_right_translations():
    """gcnn C3 one hidden channel, r = 2: after the rescaling gauge a generic fiber is the |G| = 3
    right translations of the hidden layer (over C the sign flip is a rescaling)."""
    rep = nm.analyze('gcnn(group="C3", layers=2, r=2)', only="fiber_points")
    assert rep["fiber_points"].value == 3
    assert rep["fiber_points"].evidence["gauge"]["complete"]


def test_singularities_use_copy_removal_families():
    rep = nm.analyze('mlp(widths=(3,6,3), r=2, equivariant="C3")', only="singularities")
    names = [row["family"] for row in rep["singularities"].evidence["families"]]
    assert names[:2] == ["layer 1: 1 of 2 copies", "zero function"]
    assert names[2:] == [f"layer {i}: {c} component of the weights zero" for i in (1, 2)
                         for c in ("trivial", "isotypic #1")]
    rows = rep["singularities"].evidence["families"]
    assert rows[0]["dimension"] == nm.analyze('mlp(widths=(3,3,3), r=2, equivariant="C3")',
                                              only="dimension")["dimension"].value


def test_comparison_command(capsys):
    cmp = compare_equivariant('mlp(widths=(2,2,2), r=2, equivariant="C2")', only="dimension,degree")
    rows = {r["invariant"]: r for r in cmp.rows()}
    assert rows["dimension"]["equivariant"] == {"value": 3, "status": "certified"}
    assert rows["dimension"]["unconstrained"] == {"value": 6, "status": "certified"}  # (2,2,2): 8 - 2 rescalings
    assert main(["compare-equivariant", 'gcnn(group="C2", layers=2)', "--only", "dimension"]) == 0
    out = capsys.readouterr().out
    assert "mlp(widths=(2, 2, 2), r=2, bias=False)" in out and "3 (certified)" in out
    assert main(["compare-equivariant", "mlp(widths=(2,2,2))"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no group" in err
    with pytest.raises(InputError):
        compare_equivariant("cnn(k=(2,2))")


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "spec,words",
    [
        ('gcnn(group="SO3")', "unsupported group"),
        ('gcnn(group="C0")', "n >= 1"),
        ('gcnn(group="C300")', "too large"),
        ("gcnn(group=5)", "unsupported group"),
        ("gcnn(layers=2)", "group is required"),
        ('gcnn(group="C3", layers=3, channels=(1,1))', "layers=3"),
        ('gcnn(group="C3", output="pooled")', "output must be"),
        ('mlp(widths=(4,6,6), equivariant="D3")', "multiple of 6"),
        ('mlp(widths=(3,3), equivariant="D3", action="natural", r=0)', "r must be"),
        ('mlp(widths=(3,3), action="natural")', "needs equivariant"),
        ('mlp(widths=(3,3), equivariant="C3", action="left")', "action must be"),
        ('mlp(widths=(3,3), equivariant="A5")', "unsupported group"),
    ],
)
def test_bad_specs_raise_one_line_spec_errors(spec, words):
    with pytest.raises(SpecError) as exc:
        parse_spec(spec)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_canonical_specs_round_trip():
    for spec in SPECS:
        arch = parse_spec(spec)
        assert parse_spec(arch.spec()) == arch
        assert isinstance(arch, (GCNN, EquivariantMLP))


# ------------------------------------------------------------------------------- Macaulay2
M2_CYCLIC_GCNN = """(cyclicGcnn = (n, r) -> (
    R := QQ[th_1..th_(2*n)];
    S := R[x_1..x_n];
    w1 := apply(n, k -> promote(R_k, S));
    w2 := apply(n, k -> promote(R_(n + k), S));
    y := apply(n, g -> (sum(n, h -> w1#((g - h + n) % n) * S_h))^r);
    (R, S, apply(n, g -> sum(n, h -> w2#((g - h + n) % n) * y#h))));
  cyclicGcnn(NN, RR))"""


@pytest.mark.slow
@pytest.mark.oracle
@pytest.mark.parametrize("n", [3, 4])
def test_gcnn_degree_matches_macaulay2(n):
    """The cyclic gcnn written again in Macaulay2 from y(g) = sum_h w((g - h) mod n) x(h)."""
    from m2_networks import M2, m2_image_degree, majority

    if M2 is None:
        pytest.skip("Macaulay2 (`M2`) is not on the PATH")
    runs = m2_image_degree(M2_CYCLIC_GCNN.replace("NN", str(n)).replace("RR", "2"), seeds=(1, 2, 3), timeout=120)
    expected, votes = majority(runs)
    assert expected is not None and 2 * votes[expected] > len(runs), runs
    d = nm.analyze(f'gcnn(group="C{n}", layers=2, r=2)', only="degree")["degree"]
    assert d.status == "certified"
    assert d.value == expected


def test_membership_reads_polynomials_in_the_gcnn_input_order():
    """C2, one layer: the equivariant linear maps (a x0 + b x1, b x0 + a x1) and nothing else."""
    spec = 'gcnn(group="C2", layers=1, r=2)'
    assert nm.contains(spec, ["2*x0 + 3*x1", "3*x0 + 2*x1"]).value is True
    assert nm.contains(spec, ["2*x0 + 3*x1", "2*x0 + 3*x1"]).value is False


# ------------------------------------------------------------------ isotypic subnetwork families

# number of real irreducible representations (independent facts): C_n has floor(n/2) + 1 (trivial, the sign
# for even n, and the 2-dim rotations), D_3 = S_3 three, D_4 five; in the natural action of D_n / S_n on n
# points only the trivial and the standard / rotation representations occur
N_COMPONENTS = [("C3", "regular", 2), ("C4", "regular", 3), ("C5", "natural", 3), ("D3", "regular", 3),
                ("D4", "regular", 5), ("S3", "natural", 2), ("D4", "natural", 3)]


@pytest.mark.parametrize("name,kind,count", N_COMPONENTS)
def test_isotypic_projectors_come_from_the_group(name, kind, count):
    """The projectors are orthogonal, idempotent, commute with every P_g, are mutually orthogonal and sum
    to the identity; the trivial one projects onto the constants; their number is the number of real
    irreducibles occurring in R^X, and for the regular action each character is zero off the identity
    except for the trivial one's."""
    from neuromanifold.architectures.groups import isotypic_components, permutation_matrices

    G = group(name)
    perm = G.action(kind)
    comps = isotypic_components(G, perm)
    Pg = permutation_matrices(perm)
    n = perm.shape[1]
    assert len(comps) == count and comps[0].trivial and not any(c.trivial for c in comps[1:])
    assert np.allclose(comps[0].projector, np.full((n, n), 1 / n))
    assert np.allclose(sum(c.projector for c in comps), np.eye(n))
    for c in comps:
        Q = c.projector
        assert np.allclose(Q @ Q, Q) and np.allclose(Q, Q.T)
        assert all(np.allclose(M @ Q, Q @ M) for M in Pg)
        assert np.allclose(c.character, [np.trace(M @ Q) for M in Pg])
        for d in comps:
            if d is not c:
                assert np.allclose(Q @ d.projector, 0)
    assert np.allclose(sum(c.character for c in comps), [np.trace(M) for M in Pg])


@pytest.mark.parametrize("spec", ['gcnn(group="C3", layers=2)', 'gcnn(group="C4", layers=2)',
                                  'gcnn(group="D3", channels=(1,2,1), r=2)'])
def test_isotypic_families_are_filters_with_a_vanishing_fourier_component(spec):
    """On the trivial-component-zero family of layer 2 every filter sums to zero over the group and the
    network's output sums to zero over the group orbit; on the family of all nontrivial components of the
    last filter zero the output is G-invariant.  The projection onto a family is idempotent, and (C_n)
    commutes with cyclic shifts of the filter; the constraints are independent of a random point."""
    from neuromanifold.invariants.singularities import subnetwork_families

    arch = parse_spec(spec)
    N, K, L = arch.n_params, arch.G.order, arch.depth
    fams = {f.name: f for f in subnetwork_families(arch)}
    rng = np.random.default_rng(3)
    X = rng.standard_normal(arch.input_shape(4))
    off = arch.offsets()
    triv = fams[f"layer {L}: trivial component of the filter zero"]
    assert triv.codimension(N) == arch.copies[L] * arch.copies[L - 1]
    for _ in range(3):
        th = triv.project(rng.standard_normal(N))
        w = arch.unflatten(th)[f"w{L}"]
        assert np.allclose(np.asarray(w).sum(axis=-1), 0)
        Y = np.asarray(arch.forward(arch.unflatten(th), X)).reshape(arch.copies[L], K, -1)
        assert np.allclose(Y.sum(axis=1), 0) and not np.allclose(Y, 0)
    others = [f for name, f in fams.items() if name.startswith(f"layer {L}: isotypic")]
    B = np.hstack([f.constraints.T for f in others])  # all nontrivial components of the last filter zero
    th = rng.standard_normal(N)
    th -= B @ np.linalg.lstsq(B, th, rcond=None)[0]
    Y = np.asarray(arch.forward(arch.unflatten(th), X)).reshape(arch.copies[L], K, -1)
    assert np.allclose(Y, Y[:, :1]) and not np.allclose(Y, 0)
    th_generic = rng.standard_normal(N)
    Yg = np.asarray(arch.forward(arch.unflatten(th_generic), X)).reshape(arch.copies[L], K, -1)
    assert not np.allclose(Yg, Yg[:, :1]) and not np.allclose(Yg.sum(axis=1), 0)  # the checks can fail
    for f in fams.values():
        if f.coordinate:
            continue
        x = rng.standard_normal(N)
        p = f.project(x)
        assert np.allclose(f.project(p), p) and np.allclose(f.constraints @ p, 0)
        assert not np.allclose(p, x)
        if arch.group.startswith("C"):  # abelian: translating a filter stays in the commutant
            i = int(f.name.split(":")[0].split()[1])
            ix = np.arange(off[f"w{i}"], off[f"w{i}"] + arch.copies[i] * arch.copies[i - 1] * K)

            def shift(t):
                t = t.copy()
                t[ix] = np.roll(t[ix].reshape(-1, K), 1, axis=1).reshape(-1)
                return t
            assert np.allclose(f.project(shift(x)), shift(f.project(x)))


def test_singularities_table_lists_isotypic_families_with_dimensions():
    """gcnn C3, r = 2 (dim M = 5).  Closed forms: w1 = c (1,1,1) makes the hidden layer c s (1,1,1), s = sum x,
    so f = c^2 (sum w2) s^2 (1,1,1): dim 1.  w2 = c (1,1,1) gives f = c |w1 * x|^2 (1,1,1), a quadratic form
    x^T C^T C x with C^T C a symmetric circulant: dim 2.  A filter summing to zero: dim 3 (layer 1), 4 (layer 2)."""
    rep = nm.analyze('gcnn(group="C3", layers=2)', only="singularities")
    rows = {r["family"]: r for r in rep["singularities"].evidence["families"]}
    expect = {"layer 1: trivial component of the filter zero": (5, 3),
              "layer 1: isotypic #1 component of the filter zero": (4, 1),
              "layer 2: trivial component of the filter zero": (5, 4),
              "layer 2: isotypic #1 component of the filter zero": (4, 2)}
    for name, (fdim, dim) in expect.items():
        row = rows[name]
        assert (row["family_dimension"], row["dimension"]) == (fdim, dim), name
        assert row["subspace"] == "linear" and row["dimension_lower_bound_mod_p"] is None
        assert "not a coordinate subspace" in row["dimension_status"] and row["dimension_gap"] > 1e6
    assert rows["layer 2: isotypic #1 component of the filter zero"]["singular"] is True
    assert rows["zero function"]["subspace"] == "coordinate" and rows["zero function"]["dimension_lower_bound_mod_p"] == 0
