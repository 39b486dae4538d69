"""Normalizing flows g: Z = R^D -> X (standard normal base) and the classifiers they explain.

* ``ZukoFlow``: RealNVP (affine coupling) or a neural spline flow (rational-quadratic autoregressive
  transforms) from zuko, for vectors (the helix in R^3).
* ``GlowFlow``: a two-level Glow (actnorm, invertible 1x1 convolution, affine coupling; normflows) for
  8x8 images, composed with the logit preprocessing y = logit(a + (1 - 2a) u), so that g maps the base
  space onto pixel space u in (0, 1)^64 (up to the margin a) and log q_X is a density on pixel space.

Every flow exposes ``to_base(x) -> (z, log|det dz/dx|)``, ``to_data(z) = g(z)`` and ``log_prob(x) =
log N(z; 0, I) + log|det dz/dx|``.  ``check_invertible`` refuses inputs on which the flow is not a
numerical bijection (non-finite values or a round-trip error above tolerance).
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import InputError

FLOW_KINDS = ("realnvp", "nsf", "glow")


class Flow(nn.Module):
    """A diffeomorphism g: R^D -> X with a standard normal base distribution on R^D."""

    dim: int

    def to_base(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - interface
        """z = g^{-1}(x) and log|det dz/dx| per sample; x has shape (n, D)."""
        raise NotImplementedError

    def to_data(self, z: Tensor) -> Tensor:  # pragma: no cover - interface
        """x = g(z) for z of shape (n, D)."""
        raise NotImplementedError

    def log_prob(self, x: Tensor) -> Tensor:
        """log q_X(x) = log N(g^{-1}(x); 0, I) + log|det d g^{-1}/dx| (nats)."""
        z, ladj = self.to_base(x)
        return -0.5 * (z * z).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi) + ladj

    def initialize(self, x: Tensor) -> None:
        """Data-dependent initialisation (Glow's actnorm); a no-op otherwise."""


class ZukoFlow(Flow):
    """RealNVP (``kind='realnvp'``) or neural spline flow (``kind='nsf'``) from zuko on R^D.
    zuko's transform maps data to base: to_base is its forward, to_data its inverse."""

    def __init__(self, dim: int, kind: str = "nsf", transforms: int = 4, hidden: Sequence[int] = (64, 64)) -> None:
        import zuko

        super().__init__()
        if kind not in ("realnvp", "nsf"):
            raise InputError(f"unknown zuko flow {kind!r}; use 'realnvp' or 'nsf'")
        self.dim, self.kind = int(dim), kind
        cls = zuko.flows.RealNVP if kind == "realnvp" else zuko.flows.NSF
        self.flow = cls(self.dim, transforms=transforms, hidden_features=tuple(hidden))

    def to_base(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.flow().transform.call_and_ladj(x)

    def to_data(self, z: Tensor) -> Tensor:
        return self.flow().transform.inv(z)


class GlowFlow(Flow):
    """Glow (normflows) on 1 x s x s images (s divisible by 4) composed with the logit preprocessing;
    base shape (16, s/4, s/4), data space: pixel intensities u, flattened to s*s."""

    def __init__(self, side: int = 8, blocks: int = 4, hidden: int = 64, alpha: float = 0.05) -> None:
        import normflows as nf

        super().__init__()
        if side % 4:
            raise InputError(f"Glow needs an image side divisible by 4, got {side}")
        self.side, self.alpha, self.dim, self.kind = side, float(alpha), side * side, "glow"
        self.base_shape = (16, side // 4, side // 4)
        flows: list[nn.Module] = []
        with warnings.catch_warnings():  # normflows initialises the 1x1 convolutions with the deprecated torch.lu
            warnings.filterwarnings("ignore", message=".*torch.lu is deprecated.*")
            for channels in (16, 4):  # generative order: base (16, s/4, s/4) -> (4, s/2, s/2) -> (1, s, s)
                flows += [nf.flows.GlowBlock(channels, hidden, split_mode="channel", scale=True)
                          for _ in range(blocks)]
                flows.append(nf.flows.Squeeze())  # normflows' Squeeze.forward un-squeezes (4C, H, W) -> (C, 2H, 2W)
        q0 = nf.distributions.DiagGaussian(self.base_shape, trainable=False)
        self.glow = nf.NormalizingFlow(q0, flows)

    def initialize(self, x: Tensor) -> None:
        with torch.no_grad():
            self.to_base(x)  # the first inverse pass sets actnorm to normalise this batch

    def to_base(self, x: Tensor) -> tuple[Tensor, Tensor]:
        a = self.alpha
        s = a + (1 - 2 * a) * x
        y = torch.log(s) - torch.log1p(-s)
        ladj_pre = (math.log(1 - 2 * a) - torch.log(s) - torch.log1p(-s)).sum(-1)
        z = y.reshape(-1, 1, self.side, self.side)
        for layer in reversed(self.glow.flows):  # normflows' own loop accumulates log-dets in float32
            z, ld = layer.inverse(z)
            ladj_pre = ladj_pre + ld
        return z.reshape(len(x), -1), ladj_pre

    def to_data(self, z: Tensor) -> Tensor:
        y = self.glow.forward(z.reshape(-1, *self.base_shape)).reshape(len(z), -1)
        return (torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)


def make_flow(kind: str, dim: int, **kwargs) -> Flow:
    """A flow by name: 'realnvp' or 'nsf' (zuko, any dim) or 'glow' (normflows, dim = side^2)."""
    if kind in ("realnvp", "nsf"):
        return ZukoFlow(dim, kind, **kwargs)
    if kind == "glow":
        side = int(round(math.sqrt(dim)))
        if side * side != dim:
            raise InputError(f"glow needs square images, got dimension {dim}")
        return GlowFlow(side, **kwargs)
    raise InputError(f"unknown flow {kind!r}; use one of {', '.join(FLOW_KINDS)}")


def round_trip_error(flow: Flow, x: Tensor) -> Tensor:
    """max_i |g(g^{-1}(x)) - x|_inf per sample (NaN where the pass is not finite)."""
    with torch.no_grad():
        z, ladj = flow.to_base(x)
        back = flow.to_data(z)
        err = (back - x).abs().amax(-1)
        bad = ~(torch.isfinite(z).all(-1) & torch.isfinite(ladj) & torch.isfinite(back).all(-1))
        return torch.where(bad, torch.full_like(err, float("nan")), err)


def check_invertible(flow: Flow, x: Tensor, *, tol: float = 1e-3) -> float:
    """Refuse (InputError) points where g^{-1} is not finite or g(g^{-1}(x)) misses x by more than
    tol * (1 + |x|_inf); returns the largest round-trip error."""
    if x.ndim != 2 or x.shape[1] != flow.dim:
        raise InputError(f"points must have shape (n, {flow.dim}), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise InputError("input points contain NaN or inf; the flow is not invertible there")
    err = round_trip_error(flow, x)
    scale = 1 + x.abs().amax(-1)
    bad = torch.isnan(err) | (err > tol * scale)
    if bad.any():
        i = int(torch.nonzero(bad)[0])
        what = "non-finite base point" if torch.isnan(err[i]) else f"round-trip error {float(err[i]):.2e}"
        raise InputError(f"the flow is not invertible on input row {i} ({what}, tolerance {tol:g} * (1 + |x|)); "
                         "pass points inside the flow's domain")
    return float(err.max())


def train_flow(flow: Flow, sample: Callable[[np.random.Generator], Tensor], epochs: int, *, batch: int = 256,
               lr: float = 1e-3, seed: int = 0, checkpoints: Sequence[int] = (),
               on_checkpoint: Callable[[int, Flow], None] | None = None, progress: bool = False) -> list[float]:
    """Maximum likelihood: Adam on the mean negative log-likelihood over minibatches of ``sample(rng)``
    (one epoch's data, e.g. freshly dequantised); calls ``on_checkpoint(epoch, flow)`` at the listed
    epochs (0 = before training).  Returns the mean training NLL per epoch."""
    from ..runtime.progress import Bar

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    flow.initialize(sample(rng)[: max(batch, 512)])
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1))
    checkpoints = set(int(c) for c in checkpoints)
    if 0 in checkpoints and on_checkpoint:
        on_checkpoint(0, flow)
    history = []
    for epoch in Bar(range(1, epochs + 1), desc=f"train {getattr(flow, 'kind', 'flow')}", unit="epochs",
                     enabled=progress):
        data = sample(rng)
        perm = torch.randperm(len(data))
        total = 0.0
        for i in range(0, len(data), batch):
            xb = data[perm[i:i + batch]]
            loss = -flow.log_prob(xb).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(flow.parameters(), 10.0)
            opt.step()
            total += loss.item() * len(xb)
        sched.step()
        history.append(total / len(data))
        if epoch in checkpoints and on_checkpoint:
            on_checkpoint(epoch, flow)
    return history


class Classifier(nn.Module):
    """A smooth MLP classifier R^D -> logits over ``classes`` (SiLU: gradients exist everywhere)."""

    def __init__(self, dim: int, classes: int, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        d = dim
        for h in hidden:
            layers += [nn.Linear(d, h), nn.SiLU()]
            d = h
        layers.append(nn.Linear(d, classes))
        self.net = nn.Sequential(*layers)
        self.dim, self.classes = int(dim), int(classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def train_classifier(model: Classifier, sample: Callable[[np.random.Generator], tuple[Tensor, Tensor]], epochs: int,
                     *, batch: int = 128, lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0,
                     progress: bool = False) -> list[float]:
    """Cross-entropy training with Adam on ``sample(rng) -> (x, labels)`` per epoch; mean loss per epoch."""
    from ..runtime.progress import Bar

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed + 7919)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = []
    for _ in Bar(range(epochs), desc="train classifier", unit="epochs", enabled=progress):
        x, y = sample(rng)
        perm = torch.randperm(len(x))
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history.append(total / len(x))
    return history


def accuracy(model: Classifier, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).double().mean())
