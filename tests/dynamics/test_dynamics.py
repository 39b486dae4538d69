"""Training dynamics under symmetry (issue 9): projection onto the C4-equivariant layers, compatibility of
kernel supports, the empirical NTK and its invariance, ensembles, and the harmonics of learning."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neuromanifold.cli import main
from neuromanifold.dynamics.augmentation import _loss_fn, forward, init_params, layer_space
from neuromanifold.dynamics.data import orbit, rotate
from neuromanifold.dynamics.harmonics import finite_group, table_accuracy, train_harmonics
from neuromanifold.dynamics.ntk import empirical_ntk, ntk_equivariance_error, ntk_loop
from neuromanifold.dynamics.projection import ConvAction, LayerSpace, support_mask
from neuromanifold.errors import InputError

REP_PAIRS = list(itertools.product(("trivial", "regular"), repeat=2))


def _rho(x: torch.Tensor, j: int, rep: str) -> torch.Tensor:
    """C4 on feature maps (n, c, H, W), written independently of the projection code."""
    x = torch.rot90(x, j, dims=(-2, -1))
    if rep == "regular":
        n, c = x.shape[:2]
        x = x.reshape(n, c // 4, 4, *x.shape[2:]).roll(j, dims=2).reshape(n, c, *x.shape[2:])
    return x


@pytest.mark.parametrize("rep_in,rep_out", REP_PAIRS)
def test_projection_idempotent_selfadjoint_equivariant(rep_in, rep_out):
    g = torch.Generator().manual_seed(0)
    c_in = 8 if rep_in == "regular" else 1
    W, V = (torch.randn(8, c_in, 3, 3, generator=g, dtype=torch.float64) for _ in range(2))
    act = ConvAction(rep_in, rep_out)
    P = act.project(W)
    assert torch.allclose(act.project(P), P, atol=1e-14)  # idempotent
    assert abs(float((act.project(W) * V).sum() - (W * act.project(V)).sum())) < 1e-12  # self-adjoint
    x = torch.randn(3, c_in, 9, 9, generator=g, dtype=torch.float64)
    for j in range(1, 4):  # the image is equivariant (torch's conv2d, 'same' padding)
        lhs = F.conv2d(_rho(x, j, rep_in), P, padding=1)
        rhs = _rho(F.conv2d(x, P, padding=1), j, rep_out)
        assert torch.allclose(lhs, rhs, atol=1e-12)
    # ... and a generic kernel is not (the test can fail)
    assert not torch.allclose(F.conv2d(_rho(x, 1, rep_in), W, padding=1), _rho(F.conv2d(x, W, padding=1), 1, rep_out),
                              atol=1e-3)
    # W - Pi_E W is orthogonal to E
    assert abs(float(((W - P) * act.project(V)).sum())) < 1e-12


def _dense_projections(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pi_E and Pi_L on single-channel 3x3 kernels as dense 9x9 matrices, built from np.rot90 of basis kernels."""
    basis = np.eye(9).reshape(9, 3, 3)
    PE = np.stack([sum(np.rot90(b, j) for j in range(4)).ravel() / 4 for b in basis], axis=1)
    PL = np.diag(mask.ravel().astype(float))
    return PE, PL


@pytest.mark.parametrize("support,compatible", [("cross", True), ("full", True), ("skew", False)])
def test_compatibility_commutator_matches_dense(support, compatible):
    mask = support_mask(support)
    space = LayerSpace({"w": ConvAction("trivial", "trivial")}, {"w": mask})
    res = space.commutator({"w": (1, 1, 3, 3)})
    PE, PL = _dense_projections(mask)
    dense = np.linalg.norm(PE @ PL - PL @ PE)
    assert res.status == "certified"
    assert res.evidence["compatible"] is compatible
    assert res.value == pytest.approx(dense, abs=1e-12)
    assert bool(dense < 1e-12) is compatible


def test_projection_onto_E_cap_L_gives_invariant_network():
    p = init_params(2, "regular", 0)
    x = torch.rand(4, 1, 8, 8, dtype=torch.float64)
    for support in ("cross", "skew"):
        space = layer_space("regular", support)
        q = space.project_EL(p)
        assert space.distance_E(q) < 1e-13
        for k in ("w1", "w2"):  # inside the support
            assert float((q[k] * torch.as_tensor(1 - support_mask(support), dtype=q[k].dtype)).abs().max()) == 0
        for j in range(1, 4):
            assert torch.allclose(forward(q, rotate(x, j), "regular"), forward(q, x, "regular"), atol=1e-12)
    assert not torch.allclose(forward(p, rotate(x, 1), "regular"), forward(p, x, "regular"), atol=1e-4)


def test_augmented_gradient_stays_in_E_iff_compatible():
    """At A in E cap L the augmented gradient lies in E; Pi_L keeps it there iff the support is rotation-closed."""
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(12, 1, 8, 8, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 10, (12,), generator=gen)
    loss_aug = _loss_fn(orbit(x), y.repeat(4), "regular", 1e-3)
    off = {}
    for support in ("cross", "skew"):
        space = layer_space("regular", support)
        A = space.project_EL(init_params(2, "regular", 3))
        g = space.project_L(torch.func.grad(loss_aug)(A))
        off[support] = space.distance_E(g) / np.sqrt(sum(float((v ** 2).sum()) for v in g.values()))
    assert off["cross"] < 1e-12
    assert off["skew"] > 1e-3


class _Averaged(torch.nn.Module):
    """f(x) = mean_g h(g x): exactly C4-invariant, non-invariant inner MLP h."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return torch.stack([self.inner(rotate(x, j)) for j in range(4)]).mean(0)


def _mlp(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 12), torch.nn.Tanh(),
                               torch.nn.Linear(12, 3)).double()


def test_ntk_methods_agree_and_linear_closed_form():
    model = _mlp(0)
    x1 = torch.randn(3, 1, 4, 4, dtype=torch.float64)
    x2 = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    K = empirical_ntk(model, x1, x2)
    assert K.shape == (3, 2, 3, 3)
    assert torch.allclose(K, empirical_ntk(model, x1, x2, method="vjp"), atol=1e-12)
    assert torch.allclose(K, ntk_loop(model, x1, x2), atol=1e-12)
    # linear layer with bias: Theta(x, x') = (x . x' + 1) I  (closed form)
    lin = torch.nn.Linear(5, 2).double()
    a, b = torch.randn(4, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    ref = (a @ b.T + 1)[:, :, None, None] * torch.eye(2, dtype=torch.float64)
    assert torch.allclose(empirical_ntk(lin, a, b), ref, atol=1e-12)


def test_ntk_of_invariant_model_is_invariant():
    x1 = torch.randn(4, 1, 4, 4, dtype=torch.float64)
    x2 = torch.randn(3, 1, 4, 4, dtype=torch.float64)
    inv = _Averaged(_mlp(1))
    err = ntk_equivariance_error(inv, x1, x2, act=rotate, group_order=4, kind="first")
    assert err < 1e-12
    K = empirical_ntk(inv, x1, x2)
    assert torch.allclose(empirical_ntk(inv, rotate(x1, 1), x2), K, atol=1e-12)
    plain = ntk_equivariance_error(_mlp(1), x1, x2, act=rotate, group_order=4, kind="first")
    assert plain > 1e-2  # a generic network's NTK is not invariant


def test_groups_irreps_and_relabelling():
    for name, dims in (("C5", [1] * 5), ("D3", [1, 1, 2]), ("C2xC3", [1] * 6), ("D4", [1, 1, 1, 1, 2])):
        G = finite_group(name)
        assert sorted(G.irrep_dims) == sorted(dims) and sum(d * d for d in dims) == G.order
        for r in G.irreps:  # homomorphisms of the permutation-composition table, unitary
            for g, h in itertools.product(range(G.order), repeat=2):
                assert np.allclose(r[g] @ r[h], r[G.table[g, h]], atol=1e-12)
            assert np.allclose(np.einsum("gab,gcb->gac", r, r.conj()), np.eye(r.shape[-1]), atol=1e-12)
    G = finite_group("D3")
    sigma = np.array([0, 2, 1, 5, 3, 4])  # a relabelling: T'[s g, s h] = s T[g, h]
    T2 = np.empty_like(G.table)
    T2[np.ix_(sigma, sigma)] = sigma[G.table]
    direct, relab = table_accuracy(T2, G.table)
    assert direct < 1 and relab == 1.0
    with pytest.raises(InputError):
        finite_group("Q8")


def test_cayley_table_of_C5_recovered_from_trained_weights():
    G = finite_group("C5")
    run = train_harmonics(G, seed=0, steps=800, lr=2e-2, reg=3.0, record_every=800)
    assert run.init_accuracy < 0.8  # random weights do not encode the group
    assert run.accuracy == 1.0 and run.accuracy_relabelled == 1.0
    assert run.margin > 0.5
    assert max(run.irrep_residual) < 1e-4 and run.fourier_bijective
    assert run.homomorphism_residual < 1e-4


def test_ensemble_and_cli_smoke(tmp_path):
    from neuromanifold.dynamics.experiment import run_experiment
    from neuromanifold.dynamics.report import write_report

    res = run_experiment("ensemble", seed=0, members=4, width=16, steps=20, n_train=60, n_test=20, n_noise=20,
                         checkpoints=(0, 20), ntk_points=2)
    d = res.to_dict()
    assert d["sizes"] == [1, 2, 4] and d["checkpoints"] == [0, 20]
    aug = next(c for c in d["curves"] if c["augmented"] and c["data"] == "noise")
    assert aug["deviation"][-1][-1] < aug["deviation"][-1][0]  # the 4-member mean is more invariant than members
    paths = write_report("ensemble", res, tmp_path / "ens")
    assert paths["figure"].stat().st_size > 0 and "NTK" in paths["markdown"].read_text()
    with pytest.raises(InputError):
        run_experiment("ensemble", bogus=1)
    assert main(["experiment", "harmonics", "--groups", "C5,Z7", "--out", str(tmp_path / "h")]) == 2
    assert main(["experiment", "dynamics", "--supports", "hexagon", "--out", str(tmp_path / "d")]) == 2
