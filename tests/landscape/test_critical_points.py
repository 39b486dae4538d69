"""Critical points of the mean-squared loss on data: counts, types, global minimum.

Independent checks: the loss and its gradient-descent minima are computed from the network's
forward pass in torch (not from the coefficient map the solver uses); Eckart-Young for linear
networks (the data metric of a linear network is I (x) X^T X, so the count is binom(min(m,n), r)); the
count on a large random data set equals the generic ED degree.
"""

from math import comb

import numpy as np
import pytest
import torch

import neuromanifold as nm
from neuromanifold.errors import InputError


def data(spec: str, n: int, seed: int = 0):
    arch = nm.parse_spec(spec)
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, arch.n_inputs)), rng.standard_normal((n, arch.output_size()))


def torch_loss(arch, theta: torch.Tensor, X: np.ndarray, Y: np.ndarray) -> torch.Tensor:
    """(1/n) sum_i |f_theta(x_i) - y_i|^2 from the forward pass, for a batch theta (B, N)."""
    n = X.shape[0]
    Xt = torch.as_tensor(X, dtype=torch.float64)
    if arch.family == "attention":
        Xin = Xt.reshape(n, arch.widths[0], arch.t)
    else:
        Xin = Xt.T  # (n_inputs, n) for dense and conv
    out = arch.output_to_matrix(arch.forward(arch.unflatten(theta), Xin), n)  # (B, n, out)
    Yt = torch.as_tensor(Y, dtype=torch.float64).reshape(n, -1)
    return ((out - Yt) ** 2).sum(dim=-1).mean(dim=-1)


def gradient_descent_minima(spec: str, X, Y, runs: int = 100, steps: int = 3000, seed: int = 0) -> np.ndarray:
    arch = nm.parse_spec(spec)
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(runs, arch.n_params, generator=g, dtype=torch.float64).requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=0.02)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch_loss(arch, theta, X, Y)
        loss.sum().backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        return torch_loss(arch, theta, X, Y).numpy()


@pytest.mark.parametrize(
    "spec,n",
    [
        ("mlp(widths=(2, 1, 1), r=3)", 20),
        ("mlp(widths=(3, 1, 1), r=2)", 30),
        ("linear(widths=(3, 1, 3))", 12),
        # stride-1 linear CNN: spurious critical points form components monodromy does not reach
        ("cnn(k=(2, 2), s=(1, 1), r=1)", 12),
    ],
)
def test_global_minimum_is_not_beaten_by_gradient_descent(spec, n):
    X, Y = data(spec, n)
    res = nm.critical_points(spec, X, Y)
    g = res.global_minimum
    assert g is not None and g["status"] == "certified", res.evidence
    arch = nm.parse_spec(spec)
    # the reported minimiser really has the reported loss (forward pass, independent of the solver)
    theta = torch.as_tensor(np.array(g["theta"])[None, :], dtype=torch.float64)
    assert torch_loss(arch, theta, X, Y).item() == pytest.approx(g["loss"], rel=1e-9, abs=1e-12)
    gd = gradient_descent_minima(spec, X, Y)
    assert gd.min() >= g["loss"] - 1e-7 * (1 + abs(g["loss"]))
    # and gradient descent does find it (the comparison is not vacuous)
    assert gd.min() <= g["loss"] + 1e-4


def test_every_real_critical_point_has_zero_gradient_and_its_type():
    spec = "mlp(widths=(2, 1, 1), r=3)"
    X, Y = data(spec, 20, seed=3)
    res = nm.critical_points(spec, X, Y)
    arch = nm.parse_spec(spec)
    assert res.counts["real"] >= 1
    for q in res.real_points:
        th = torch.as_tensor(q.theta.real[None, :], dtype=torch.float64).requires_grad_(True)
        L = torch_loss(arch, th, X, Y)
        (grad,) = torch.autograd.grad(L.sum(), th)
        assert grad.abs().max().item() < 1e-8
        assert L.item() == pytest.approx(q.loss.real, rel=1e-9)
        H = torch.autograd.functional.hessian(lambda t: torch_loss(arch, t[None, :], X, Y).sum(), th[0].detach())
        eig = np.linalg.eigvalsh(H.numpy())
        np.testing.assert_allclose(np.sort(eig), np.sort(q.hessian_eigenvalues), rtol=1e-6, atol=1e-8)
        # a local minimum in the slice is a minimum up to the symmetry directions: no negative eigenvalue
        if q.type == "local minimum":
            assert eig.min() > -1e-8


def test_counts_real_never_exceed_complex_and_types_add_up():
    spec = "cnn(k=(3, 2), s=(1, 1), r=2)"
    X, Y = data(spec, 40, seed=1)
    c = nm.critical_points(spec, X, Y).counts
    assert c["real"] <= c["complex"]
    assert c["real_pure"] <= c["complex_pure"] and c["real_spurious"] <= c["complex_spurious"]
    typed = c["real_local_minimum"] + c["real_strict_saddle"] + c["real_local_maximum"] + c["real_degenerate"]
    assert typed == c["real"]


@pytest.mark.parametrize("spec", ["mlp(widths=(2, 1, 1), r=3)", "cnn(k=(3, 2), s=(1, 1), r=2)"])
def test_large_random_data_set_has_the_generic_ed_count(spec):
    ed = nm.analyze(spec, only="ed_degree", metric="generic")["ed_degree"]
    assert ed.status == "certified"
    X, Y = data(spec, 60, seed=2)
    res = nm.critical_points(spec, X, Y)
    assert res.counts["functions_pure"] == ed.value
    assert res.evidence["pure_points_trace_test_passed"]


@pytest.mark.parametrize("widths,m,n,r", [((2, 1, 2), 2, 2, 1), ((4, 2, 3), 3, 4, 2)])
def test_linear_network_data_follows_eckart_young(widths, m, n, r):
    spec = f"linear(widths={widths})"
    X, Y = data(spec, 15)
    res = nm.critical_points(spec, X, Y)
    assert res.counts["functions_pure"] == comb(min(m, n), r)
    # Baldi-Hornik (1989): a linear network has one local minimum (the global one); the rest are saddles
    assert res.counts["real_local_minimum"] == 1
    best = min(res.real_points, key=lambda q: q.loss.real)
    assert best.type == "local minimum"


def test_bad_data_gets_clear_errors():
    spec = "mlp(widths=(2, 1, 1), r=3)"
    X, Y = data(spec, 20)
    with pytest.raises(InputError, match="input variables per sample"):
        nm.critical_points(spec, X[:, :1], Y)
    with pytest.raises(InputError, match="X has 20 samples but Y has 19"):
        nm.critical_points(spec, X, Y[:19])
    Xn = X.copy()
    Xn[4, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        nm.critical_points(spec, Xn, Y)
    with pytest.raises(InputError, match="too few or degenerate samples"):
        nm.critical_points(spec, X[:2], Y[:2])


def test_cli_reads_npy_and_csv(tmp_path, capsys):
    from neuromanifold.cli import main

    spec = "mlp(widths=(2, 1, 1), r=3)"
    X, Y = data(spec, 20)
    np.save(tmp_path / "X.npy", X)
    np.savetxt(tmp_path / "Y.csv", Y, delimiter=",")
    assert main(["critical", spec, str(tmp_path / "X.npy"), str(tmp_path / "Y.csv"), "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["global_minimum"]["status"] == "certified"
    assert out["counts"]["real"] == sum(p["real"] for p in out["points"])
    assert main(["critical", spec, str(tmp_path / "X.npy"), str(tmp_path / "missing.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
