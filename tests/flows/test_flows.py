"""Normalizing flows (zuko RealNVP / NSF, normflows Glow): bijectivity, log-determinants against
torch.func Jacobians, the exact helix projection, and the induced metric's tangent/normal split."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.func import jacrev

from flows_shared import NOISE, trained_helix
from neuromanifold.errors import InputError
from neuromanifold.flows.data import Helix, dequantize, helix_dataset, load_digits_split
from neuromanifold.flows.metric import decoder_jacobian, helix_metric, normal_collapse, MetricCheckpoint
from neuromanifold.flows.models import Flow, ZukoFlow, check_invertible, make_flow


def _random_flow(kind: str, dim: int) -> Flow:
    """A float64 flow with randomised parameters (far from the identity it is initialised near)."""
    torch.manual_seed(1)
    f = make_flow(kind, dim).double()
    if kind == "glow":
        f.initialize(torch.rand(64, dim, dtype=torch.float64) * 0.8 + 0.1)
    with torch.no_grad():
        for p in f.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return f


def _points(kind: str, dim: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(2)
    if kind == "glow":
        return torch.rand(4, dim, generator=g, dtype=torch.float64) * 0.9 + 0.05
    return 1.5 * torch.randn(6, dim, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("kind,dim", [("realnvp", 3), ("nsf", 3), ("realnvp", 5), ("glow", 64)])
def test_round_trip_and_log_det_against_jacobian(kind, dim):
    f = _random_flow(kind, dim)
    x = _points(kind, dim)
    z, ladj = f.to_base(x)
    assert float((f.to_data(z) - x).abs().max().detach()) < 1e-10
    assert float((z - x).abs().max().detach()) > 1e-2  # the flow is not the identity
    Jenc = jacrev(lambda X: f.to_base(X)[0].sum(0))(x).permute(1, 0, 2)  # dz/dx per sample
    sign, logabs = torch.linalg.slogdet(Jenc)
    assert torch.all(sign != 0)
    torch.testing.assert_close(logabs, ladj, rtol=0, atol=1e-8)
    Jdec = decoder_jacobian(f, z.detach())  # dg/dz: the inverse matrix of dz/dx
    eye = torch.eye(dim, dtype=torch.float64).expand(len(x), dim, dim)
    torch.testing.assert_close(Jdec @ Jenc, eye, rtol=0, atol=1e-8)
    # log q_X = log N(z) + log|det dz/dx|
    logn = -0.5 * (z * z).sum(-1) - 0.5 * dim * math.log(2 * math.pi)
    torch.testing.assert_close(f.log_prob(x), logn + logabs, rtol=0, atol=1e-8)


def test_decoder_jacobian_against_finite_differences():
    f = _random_flow("nsf", 3)
    z = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    J = decoder_jacobian(f, z)
    h = 1e-6
    with torch.no_grad():
        for j in range(3):
            e = torch.zeros(3, dtype=torch.float64)
            e[j] = h
            fd = (f.to_data(z + e) - f.to_data(z - e)) / (2 * h)
            torch.testing.assert_close(J[:, :, j], fd, rtol=0, atol=1e-6)


def test_glow_density_on_pixel_space_is_normalised_in_one_dimension_slice():
    """The logit preprocessing's Jacobian: with the Glow part frozen at the identity map of 1 pixel we
    cannot isolate it, so check instead that log q changes by exactly the preprocessing term when one
    pixel moves (the Glow part is shared through z): d/du log|det| from autograd = closed form."""
    f = _random_flow("glow", 64)
    x = _points("glow", 64)[:1].requires_grad_(True)
    z, ladj = f.to_base(x)
    a = f.alpha
    s = a + (1 - 2 * a) * x
    pre = (math.log(1 - 2 * a) - torch.log(s) - torch.log1p(-s)).sum()
    # the preprocessing part alone equals log|det dy/du| of the elementwise logit
    y = torch.log(s) - torch.log1p(-s)
    dy = torch.autograd.grad(y.sum(), x, create_graph=False)[0]
    assert float((torch.log(dy.abs()).sum() - pre).abs().detach()) < 1e-10


def test_check_invertible_refuses_bad_inputs():
    f = _random_flow("glow", 64)
    x = _points("glow", 64)
    assert check_invertible(f, x) < 1e-10
    bad = x.clone()
    bad[1, 5] = float("nan")
    with pytest.raises(InputError, match="NaN or inf"):
        check_invertible(f, bad)
    outside = x.clone()
    outside[2, 0] = 1.5  # the logit is undefined beyond 1 + alpha / (1 - 2 alpha)
    with pytest.raises(InputError, match="not invertible on input row 2"):
        check_invertible(f, outside)
    with pytest.raises(InputError, match="shape"):
        check_invertible(f, x[:, :10])

    class Leaky(ZukoFlow):  # decoder misses the inverse by 1e-2
        def to_data(self, z):
            return super().to_data(z) + 1e-2

    torch.manual_seed(0)
    with pytest.raises(InputError, match="round-trip error"):
        check_invertible(Leaky(3, "realnvp"), torch.zeros(2, 3))


def test_make_flow_and_data_bad_input():
    with pytest.raises(InputError, match="unknown flow"):
        make_flow("maf?", 3)
    with pytest.raises(InputError, match="square"):
        make_flow("glow", 10)
    with pytest.raises(InputError, match="noise"):
        helix_dataset(n=10, noise=-1.0)
    with pytest.raises(InputError, match="radius"):
        Helix(radius=0.0)
    with pytest.raises(InputError, match=r"\(n, 3\)"):
        Helix().project(np.zeros((4, 2)))


def test_helix_projection_is_exact():
    """Against an independent brute-force minimisation (dense grid + bounded scalar minimisation)."""
    from scipy.optimize import minimize_scalar

    h = Helix(radius=1.0, pitch=0.3, turns=2.5)
    x = np.random.default_rng(4).normal(size=(60, 3)) * 1.3
    x[0] = h.point(np.array([1.234]))[0]  # on the curve
    t, d = h.project(x)
    assert abs(t[0] - 1.234) < 1e-12 and d[0] < 1e-12
    grid = np.linspace(0, h.length, 100001)
    P = h.point(grid)
    for i in range(len(x)):
        j = np.argmin(((P - x[i]) ** 2).sum(1))
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
        r = minimize_scalar(lambda s: ((h.point(s) - x[i]) ** 2).sum(), bounds=(lo, hi), method="bounded",
                            options={"xatol": 1e-12})
        assert d[i] <= math.sqrt(r.fun) + 1e-12
        assert d[i] >= math.sqrt(r.fun) - 1e-9
    # tangent and normal frame are orthonormal and the tangent is the normalised derivative
    T, N = h.tangent(t), h.normal_frame(t)
    fd = (h.point(t + 1e-6) - h.point(t - 1e-6)) / 2e-6
    assert np.allclose(T, fd / np.linalg.norm(fd, axis=1, keepdims=True), atol=1e-8)
    F = np.concatenate([T[:, :, None], N], 2)
    assert np.allclose(np.einsum("nia,nib->nab", F, F), np.eye(3), atol=1e-12)


def test_digits_are_bundled_and_dequantised():
    tr, te = load_digits_split(n_test=297, seed=0)
    assert tr.pixels.shape == (1500, 64) and te.pixels.shape == (297, 64)
    assert tr.pixels.min() == 0 and tr.pixels.max() == 16
    u = dequantize(tr.pixels, np.random.default_rng(0))
    assert u.min() > 0 and u.max() < 1
    assert np.all(np.floor(u * 17) == tr.pixels)  # dequantisation stays inside the pixel's cell


def test_induced_metric_tangent_normal_ratio_after_training():
    helix, train, hold, flow, clf = trained_helix()
    m = helix_metric(flow, helix, hold.x[:200])
    s = m.summary()
    assert s["ratio_median"] > 10, s
    assert s["alignment_median"] > 0.95, s  # top eigenvector of gamma^{-1} along the exact tangent
    # the smallest normal eigenvalue is of the order of the noise variance (a perfect fit gives noise^2)
    assert 0.3 < s["normal_min_median"] / NOISE**2 < 10, s
    # before training the flow is close to the identity: no preferred direction
    torch.manual_seed(0)
    fresh = ZukoFlow(3, "nsf", transforms=4, hidden=(64, 64))
    s0 = helix_metric(fresh, helix, hold.x[:200]).summary()
    assert s0["ratio_median"] < 3, s0
    res = normal_collapse([MetricCheckpoint(0, 4.0, s0), MetricCheckpoint(60, -1.0, s)])
    assert res.status == "numerical" and res.value is True
    assert normal_collapse([MetricCheckpoint(0, 4.0, s), MetricCheckpoint(60, -1.0, s0)]).value is False
