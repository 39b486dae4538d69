"""Equivariance of the layers in neuromanifold.equivariant (errors reported in the assertion messages).

Planar groups: inputs transformed with torch.rot90 / torch.flip and the group axis permuted by the
explicit formulas r^{-1} r^k m^s = r^{k-1} m^s and m r^k m^s = r^{-k} m^{s+1} (not the Cayley table of the
code), float64, error < 1e-10.  Sphere: (a) bandlimited signals under Haar-random rotations, the rotated
input evaluated pointwise at R^{-1} x (no Wigner matrices), outputs compared at rotated points;
(b) the layers against direct quadrature of their defining integrals; (c) the whole spherical CNN,
with pointwise nonlinearities on the grids, under rotations that permute the grid points.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neuromanifold.equivariant import (GroupConv2d, GroupPool, LiftingConv2d, S2Convolution, S2Grid, SO3Activation,
                                       SO3Convolution, SO3Grid, SO3ToS2, SphericalCNN, dh_weights, planar_group)
from neuromanifold.equivariant.grids import flat_wigner, so3_irreps_dim, spherical_harmonics
from neuromanifold.equivariant.sphere import grid_permutation, s2_near_identity_grid, so3_near_identity_grid
from neuromanifold.errors import InputError

TOL_EXACT = 1e-10


@pytest.fixture(autouse=True)
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(old)


def _act_features(x: torch.Tensor, u: str, group: str) -> torch.Tensor:
    """(u F)(g, z) = F(u^{-1} g, u^{-1} z) on (B, C, |G|, H, W), u = r (90 degrees) or m (flip)."""
    if u == "r":
        y = torch.rot90(x, 1, dims=(-2, -1))
        idx = [(k - 1) % 4 + 4 * s for s in range(2 if group == "D4" else 1) for k in range(4)]
    else:
        y = torch.flip(x, dims=(-1,))
        idx = [(-k) % 4 + 4 * ((s + 1) % 2) for s in range(2) for k in range(4)]
    return y[:, :, idx]


def _act_image(x: torch.Tensor, u: str) -> torch.Tensor:
    return torch.rot90(x, 1, dims=(-2, -1)) if u == "r" else torch.flip(x, dims=(-1,))


@pytest.mark.parametrize("group,gens", [("C4", ["r"]), ("D4", ["r", "m"])])
@pytest.mark.parametrize("size", [7, 8])
def test_planar_layers_equivariant(group, gens, size):
    lift, gconv = LiftingConv2d(2, 3, 3, group), GroupConv2d(3, 4, 5, group)
    n = planar_group(group).order
    x = torch.randn(2, 2, size, size)
    h = torch.randn(2, 3, n, size, size)
    for u in gens:
        e_lift = (lift(_act_image(x, u)) - _act_features(lift(x), u, group)).abs().max().item()
        e_g = (gconv(_act_features(h, u, group)) - _act_features(gconv(h), u, group)).abs().max().item()
        pooled = GroupPool("max")(gconv(lift(x)))
        e_pool = (GroupPool("max")(gconv(lift(_act_image(x, u)))) - _act_image(pooled, u)).abs().max().item()
        inv = pooled.mean(dim=(-2, -1))
        e_inv = (GroupPool("max")(gconv(lift(_act_image(x, u)))).mean(dim=(-2, -1)) - inv).abs().max().item()
        for name, e in (("lifting", e_lift), ("group conv", e_g), ("group pool", e_pool), ("invariant", e_inv)):
            assert e < TOL_EXACT, f"{group} {name} equivariance error {e:.2e} under {u}"
    # not trivially satisfied: a non-symmetric filter really changes under rotation
    assert (lift(_act_image(x, "r")) - lift(x)).abs().max() > 1e-3


def test_planar_group_tables():
    for name, order in (("C4", 4), ("D4", 8)):
        G = planar_group(name)
        assert G.order == order
        assert sorted(G.table[0]) == list(range(order))  # a Latin square row
        assert all(G.table[a, G.inverse[a]] == 0 for a in range(order))
    assert planar_group("D4").table[4, 1] != planar_group("D4").table[1, 4]  # non-abelian


@pytest.mark.parametrize("bad", ["C5", "D3", "SO2", "c4"])
def test_unsupported_group(bad):
    with pytest.raises(InputError, match="unsupported group"):
        LiftingConv2d(1, 2, 3, bad)
    with pytest.raises(InputError, match="unsupported group"):
        GroupConv2d(1, 2, 3, bad)


def test_planar_bad_input():
    with pytest.raises(InputError, match="odd"):
        LiftingConv2d(1, 2, 4, "C4")
    with pytest.raises(InputError, match="expects"):
        GroupConv2d(2, 2, 3, "C4")(torch.randn(1, 2, 8, 5, 5))
    with pytest.raises(InputError, match="max' or 'mean"):
        GroupPool("sum")


# ------------------------------------------------------------------------------------------- grids


@pytest.mark.parametrize("b", [1, 2, 5, 9])
def test_dh_weights_integrate_polynomials_exactly(b):
    beta = np.pi * (2 * np.arange(2 * b) + 1) / (4 * b)
    w = dh_weights(b)
    for d in range(2 * b):  # int_0^pi cos^d(beta) sin(beta) dbeta = 2/(d+1) (d even), 0 (d odd)
        exact = 2.0 / (d + 1) if d % 2 == 0 else 0.0
        assert abs((w * np.cos(beta) ** d).sum() - exact) < 1e-13


@pytest.mark.parametrize("b,lmax", [(3, 2), (5, 4), (6, 3)])
def test_grids_orthonormality(b, lmax):
    """Quadrature Gram matrices of the basis are the identity (orthogonality relations of Y^l and D^l)."""
    s2 = S2Grid(b, lmax, dtype=torch.float64)
    so3 = SO3Grid(b, lmax, dtype=torch.float64)
    e2 = (s2.Y.T @ s2.Yw - torch.eye(s2.Y.shape[1])).abs().max().item()
    e3 = (so3.D.T @ so3.Dw - torch.eye(so3.D.shape[1])).abs().max().item()
    assert e2 < 1e-12 and e3 < 1e-12, (e2, e3)
    c = torch.randn(4, so3_irreps_dim(lmax))
    assert (so3.from_grid(so3.to_grid(c)) - c).abs().max() < 1e-12


def test_bandlimit_too_high_for_grid():
    with pytest.raises(InputError, match=r"bandlimit lmax=4 too high .* b=4"):
        S2Grid(4, 4)
    with pytest.raises(InputError, match=r"bandlimit lmax=7 too high .*SOFT"):
        SO3Grid(3, 7)
    with pytest.raises(InputError, match="too high"):
        SO3Activation(5, 5, b=4)
    with pytest.raises(InputError, match="too high"):
        SphericalCNN(b=4, lmax=(6, 4))
    with pytest.raises(InputError, match="non-negative"):
        S2Grid(4, -1)
    with pytest.raises(InputError, match="expects coefficients"):
        S2Convolution(1, 2, 3)(torch.randn(2, 1, 9))


# ------------------------------------------------------------------------------------------ sphere


def _eval_so3(H: torch.Tensor, Q: torch.Tensor, lmax: int) -> torch.Tensor:
    from e3nn import o3

    return H @ flat_wigner(lmax, *o3.matrix_to_angles(Q)).T


def _rand_rotations(n: int, seed: int) -> torch.Tensor:
    from scipy.spatial.transform import Rotation

    return torch.tensor(Rotation.random(n, random_state=seed).as_matrix())


L = 3


@pytest.fixture
def setup():
    g2, g3 = S2Grid(L + 1, L, dtype=torch.float64), SO3Grid(L + 1, L, dtype=torch.float64)
    X = g2.xyz.reshape(-1, 3)
    Qg = torch.tensor(__import__("scipy.spatial.transform", fromlist=["Rotation"]).Rotation.from_euler(
        "YXY", g3.angles.numpy()).as_matrix())  # SOFT grid points as matrices R_y(a) R_x(b) R_y(c) (intrinsic)
    return g2, g3, X, Qg


def test_s2_convolution_equivariant_and_equals_integral(setup):
    g2, g3, X, Qg = setup
    conv = S2Convolution(2, 3, L)
    f = torch.randn(4, 2, (L + 1) ** 2)  # bandlimited signal: coefficients
    R = _rand_rotations(1, 1)[0]
    f_rot = g2.from_grid((spherical_harmonics(L, X @ R) @ f.transpose(1, 2)).transpose(1, 2).reshape(4, 2, *g2.shape))
    Q = _rand_rotations(10, 2)
    err = (_eval_so3(conv(f_rot), Q, L) - _eval_so3(conv(f), R.T @ Q, L)).abs().max().item()
    assert err < 1e-9, f"S^2 -> SO(3) equivariance error {err:.2e} (bandlimited, random rotation)"
    # h(Q) = int f(x) psi(Q^{-1} x) dx / 4pi, psi = sum_n w_n (bandlimited delta at x_n) / sqrt(N)
    kg = s2_near_identity_grid()
    psi = torch.einsum("ion,nj->ioj", conv.weight, spherical_harmonics(L, kg)) / math.sqrt(len(kg))
    fgrid = g2.to_grid(f).reshape(4, 2, -1)
    direct = torch.stack([torch.einsum("bip,iop,p->bo", fgrid, torch.einsum("ioj,pj->iop", psi, spherical_harmonics(L, X @ q)),
                                       g2.weights) / math.sqrt(2) for q in Q], dim=-1)
    err = (direct - _eval_so3(conv(f), Q, L)).abs().max().item()
    assert err < 1e-9 * direct.abs().max().item(), f"S^2 convolution vs quadrature of its integral: {err:.2e}"


def test_so3_convolution_and_projection(setup):
    g2, g3, X, Qg = setup
    assert (_eval_so3(torch.eye(so3_irreps_dim(L)), Qg, L).T - g3.D).abs().max() < 1e-10  # scipy's Euler matrices agree
    c3, proj = SO3Convolution(3, 2, L), SO3ToS2(3, 2, L)
    H = torch.randn(4, 3, so3_irreps_dim(L))
    R = _rand_rotations(1, 3)[0]
    H_rot = g3.from_grid(_eval_so3(H, R.T @ Qg, L))  # h(R^{-1} Q) sampled and transformed back
    Q = _rand_rotations(10, 4)
    err = (_eval_so3(c3(H_rot), Q, L) - _eval_so3(c3(H), R.T @ Q, L)).abs().max().item()
    assert err < 1e-9, f"SO(3) -> SO(3) equivariance error {err:.2e}"
    xs = torch.nn.functional.normalize(torch.randn(7, 3), dim=1)
    err = (proj(H_rot) @ spherical_harmonics(L, xs).T - proj(H) @ spherical_harmonics(L, xs @ R).T).abs().max().item()
    assert err < 1e-9, f"SO(3) -> S^2 equivariance error {err:.2e}"
    # against the integrals h'(R) = int h(Q) k(R^{-1} Q) dQ and f(x) = int h(Q) psi(Q^{-1} x) dQ
    hv = _eval_so3(H, Qg, L)
    kq = so3_near_identity_grid()
    kcoef = torch.einsum("ion,nj->ioj", c3.weight, flat_wigner(L, *kq.T)) / math.sqrt(len(kq))
    direct = torch.stack([torch.einsum("bip,iop,p->bo", hv, _eval_so3(kcoef, q.T @ Qg, L), g3.weights) / math.sqrt(3)
                          for q in Q], dim=-1)
    err = (direct - _eval_so3(c3(H), Q, L)).abs().max().item()
    assert err < 1e-9 * direct.abs().max().item(), f"SO(3) convolution vs its integral: {err:.2e}"
    kg = s2_near_identity_grid()
    psi = torch.einsum("ion,nj->ioj", proj.weight, spherical_harmonics(L, kg)) / math.sqrt(len(kg))
    direct = torch.stack([torch.einsum("bip,iop,p->bo", hv, torch.einsum("ioj,pj->iop", psi, spherical_harmonics(
        L, Qg.transpose(1, 2) @ x)), g3.weights) / math.sqrt(3) for x in xs], dim=-1)
    err = (direct - proj(H) @ spherical_harmonics(L, xs).T).abs().max().item()
    assert err < 1e-9 * direct.abs().max().item(), f"SO(3) -> S^2 vs its integral: {err:.2e}"


def _so3_grid_matrices(g: SO3Grid) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("YXY", g.angles.double().numpy()).as_matrix()


@pytest.mark.parametrize("name", ["half turn about the pole", "half turn about x", "quarter turn about the pole"])
def test_spherical_cnn_equivariant_under_grid_rotations(name):
    """Whole network (pointwise ReLUs on the grids): exact up to rounding for rotations permuting every grid."""
    b = 8
    model = SphericalCNN(b=b, channels=(2, 3, 4), lmax=(3, 3), hidden=4).double().eval()
    R = {"half turn about the pole": [[-1, 0, 0], [0, 1, 0], [0, 0, -1]],
         "half turn about x": [[1, 0, 0], [0, -1, 0], [0, 0, -1]],
         "quarter turn about the pole": [[0, 0, 1], [0, 1, 0], [-1, 0, 0]]}[name]
    R = np.array(R, dtype=float)
    xyz = model.grid.xyz.numpy().reshape(-1, 3)
    perm = grid_permutation(xyz, xyz @ R)  # (R f)(x) = f(R^{-1} x): value at x from the point R^{-1} x = x R
    assert perm is not None
    for act in (model.act1, model.act2):  # the SOFT grids are permuted too (left multiplication by R)
        for g in (act.grid_in, act.grid_out):
            M = _so3_grid_matrices(g)
            if name == "quarter turn about the pole" and g.b % 2:
                pytest.skip("quarter turns do not preserve this SOFT grid")
            assert grid_permutation(M, np.einsum("ij,njk->nik", R.T, M), tol=1e-7) is not None
    x = torch.rand(3, 1, 2 * b, 2 * b)
    x_rot = x.reshape(3, 1, -1)[..., perm].reshape(x.shape)
    lo, seg = model(x)
    lo_r, seg_r = model(x_rot)
    e_cls = (lo_r - lo).abs().max().item()
    e_seg = (seg_r - seg.reshape(3, 11, -1)[..., perm].reshape(seg.shape)).abs().max().item()
    assert e_cls < 1e-9 and e_seg < 1e-9, f"{name}: invariance error {e_cls:.2e}, segmentation equivariance error {e_seg:.2e}"
    assert (x_rot - x).abs().max() > 0.1  # the rotation really moves the signal


def test_spherical_cnn_random_rotation_error_is_reported():
    """Off the grid symmetries the network is only approximately invariant (aliasing of the ReLUs); bounded loosely."""
    from neuromanifold.equivariant import digits as dg

    b = 8
    model = SphericalCNN(b=b, channels=(2, 3, 4), lmax=(3, 3), hidden=4).double().eval()
    xyz = model.grid.xyz.numpy()
    d = dg.load_digits_data()
    R = dg.random_rotations(2, np.random.default_rng(0))
    vals = dg.project_to_sphere(np.repeat(d.images[:1], 2, 0), np.stack([np.eye(3), R[0]]), xyz)
    lo = model(torch.tensor(vals[:, None], dtype=torch.float64))[0]
    rel = ((lo[1] - lo[0]).norm() / lo[0].norm()).item()
    assert 0 < rel < 1.0, f"relative change of the logits under a random rotation: {rel:.3f}"
