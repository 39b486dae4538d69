"""Networks of the equivariance experiments (sizes chosen by parameter count).

Planar (12 x 12 digits):
* ``GroupCNN(group, widths)``: lifting conv, group convs, 2x2 spatial max pooling, group max pooling,
  global average pooling, linear: G-invariant logits, exactly for the 90-degree rotations (C4) and
  the reflections (D4).
* ``PlanarCNN(widths)``: the same layout with ordinary convolutions.

Sphere (Driscoll-Healy grid images (B, 1, 2b, 2b)), both with a classification head (B, 10) and a
segmentation head (B, 11, 2b, 2b):
* ``SphericalCNN``: input -> S^2 coefficients (lmax0 = b - 1) -> isotropic S^2 conv + pointwise ReLU on
  the grid -> S^2 -> SO(3) conv -> ReLU on the SOFT grid -> SO(3) -> SO(3) conv -> ReLU; logits from
  the SO(3)-invariant power spectrum |H^l| of the last layer; segmentation from SO(3) -> S^2 features on the grid,
  concatenated with the input, the first layer's grid features and the invariant features, then a
  pixelwise MLP.  Rotation-equivariant (exactly for grid-preserving rotations, approximately else).
* ``SphereGridCNN(width)``: a planar CNN on the (beta, alpha) grid image (circular padding in alpha)
  with the same two heads, global average-pooled features broadcast to the pixels.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .grids import S2Grid
from .planar import GroupConv2d, GroupPool, LiftingConv2d, group_spatial_max_pool
from .sphere import S2Convolution, SO3Activation, SO3Convolution, SO3ToS2, so3_near_identity_grid, s2_near_identity_grid


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def he_init_(model: nn.Module) -> nn.Module:
    """He (normal, std sqrt(2 / fan_in)) weights and zero biases for every Conv2d, as the group convolutions
    of ``planar.py`` are initialised; PyTorch's default conv initialisation has a ~2.4x smaller std per layer,
    which shrank the signal through the ordinary CNNs and left them on a long loss plateau (linear layers
    keep the default, as in every model here)."""
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
    return model


class GroupCNN(nn.Module):
    """G-invariant classifier on square images: lift -> gconv -> pool2 -> gconv -> group pool -> mean -> linear."""

    def __init__(self, group: str = "C4", widths: tuple[int, int, int] = (6, 8, 12), n_classes: int = 10) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.lift = LiftingConv2d(1, c1, 3, group)
        self.g1 = GroupConv2d(c1, c2, 3, group)
        self.g2 = GroupConv2d(c2, c3, 3, group)
        self.pool = GroupPool("max")
        self.fc = nn.Linear(c3, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.lift(x))
        h = group_spatial_max_pool(F.relu(self.g1(h)), k=2)
        h = F.relu(self.g2(h))
        return self.fc(self.pool(h).mean(dim=(-2, -1)))


class PlanarCNN(nn.Module):
    """conv -> conv -> pool2 -> conv -> global mean -> linear (ordinary convolutions)."""

    def __init__(self, widths: tuple[int, int, int] = (16, 24, 32), n_classes: int = 10) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.c1, self.c2, self.c3 = nn.Conv2d(1, c1, 3, padding=1), nn.Conv2d(c1, c2, 3, padding=1), nn.Conv2d(c2, c3, 3, padding=1)
        self.fc = nn.Linear(c3, n_classes)
        he_init_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.c1(x))
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        h = F.relu(self.c3(h))
        return self.fc(h.mean(dim=(-2, -1)))


def _nearest_in_size(make: Callable[[int], nn.Module], n_params: int) -> nn.Module:
    """make(w) for the width w = 1, 2, ... whose parameter count is nearest to n_params (counts grow with w)."""
    best = None
    for w in range(1, 400):
        m = make(w)
        d = abs(n_parameters(m) - n_params)
        if best is None or d < best[0]:
            best = (d, m)
        if n_parameters(m) > n_params:
            break
    return best[1]


def planar_cnn_matching(n_params: int) -> PlanarCNN:
    """The PlanarCNN with widths (w, round(1.5 w), 2 w) whose parameter count is nearest to n_params."""
    return _nearest_in_size(lambda w: PlanarCNN((w, round(1.5 * w), 2 * w)), n_params)


class IsotropicS2Convolution(nn.Module):
    """S^2 -> S^2 convolution with zonal (rotation-invariant about the pole) kernels: f'^l = sum_i k^l_{io} f_i^l."""

    def __init__(self, in_channels: int, out_channels: int, lmax: int) -> None:
        super().__init__()
        self.lmax = lmax
        self.weight = nn.Parameter(torch.randn(in_channels, out_channels, lmax + 1) / math.sqrt(in_channels))
        self.register_buffer("expand", torch.repeat_interleave(torch.arange(lmax + 1), torch.tensor([2 * l + 1 for l in range(lmax + 1)])),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bim,iom->bom", x, self.weight[..., self.expand])


class ChannelNorm(nn.Module):
    """x / rms(x) per sample and channel over the coefficient axis, times a learned gain: equivariant, as
    rotations act orthogonally on the coefficients of each channel (the rms is invariant)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(channels, 1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * x / (x.pow(2).mean(dim=-1, keepdim=True).sqrt() + self.eps)


class SphericalCNN(nn.Module):
    """Rotation-equivariant segmentation + invariant classification on the Driscoll-Healy grid of bandwidth b."""

    def __init__(self, b: int = 16, channels: tuple[int, int, int] = (6, 8, 12), lmax: tuple[int, int] = (6, 4),
                 hidden: int = 16, n_classes: int = 10) -> None:
        super().__init__()
        c0, c1, c2 = channels
        l1, l2 = lmax
        self.b, self.l1, self.l2 = b, l1, l2
        self.grid = S2Grid(b, b - 1)
        self.grid1 = S2Grid(b, l1)
        self.grid2 = S2Grid(b, l2)
        self.iso = IsotropicS2Convolution(1, c0, b - 1)
        self.iso_bias = nn.Parameter(torch.zeros(c0))
        self.s2conv = S2Convolution(c0, c1, l1, s2_near_identity_grid(max_beta=math.pi / 8, n_alpha=8, n_beta=3))
        self.norm1, self.norm2 = ChannelNorm(c1), ChannelNorm(c2)
        self.act1 = SO3Activation(l1, l2)
        self.so3conv = SO3Convolution(c1, c2, l2, so3_near_identity_grid(max_beta=math.pi / 8, max_gamma=math.pi / 2,
                                                                          n_alpha=6, n_beta=2, n_gamma=3))
        self.act2 = SO3Activation(l2, l2)
        self.fc = nn.Linear(c2 * (l2 + 1), n_classes)
        self.to_s2 = SO3ToS2(c2, c2, l2, s2_near_identity_grid(max_beta=math.pi / 8, n_alpha=6, n_beta=2))
        self.head = nn.Sequential(nn.Conv2d(1 + c0 + 2 * c2, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, n_classes + 1, 1))

    def power_spectrum(self, h: torch.Tensor) -> torch.Tensor:
        """|H^l| (Frobenius) per channel and degree, signed l = 0 term: invariant under left rotations."""
        out, i = [], 0
        for l in range(self.l2 + 1):
            n = (2 * l + 1) ** 2
            out.append(h[..., i] if l == 0 else h[..., i:i + n].pow(2).sum(-1).add(1e-8).sqrt())
            i += n
        return torch.stack(out, dim=-1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.grid.from_grid(x)  # (B, 1, (b)^2)
        local = F.relu(self.grid.to_grid(self.iso(f)) + self.iso_bias.view(1, -1, 1, 1))  # (B, c0, 2b, 2b)
        f1 = self.grid1.from_grid(local)
        h = self.act1(self.norm1(self.s2conv(f1)))
        h = self.act2(self.norm2(self.so3conv(h)))
        inv = self.power_spectrum(h)  # (B, c2, l2 + 1): SO(3)-invariant
        logits = self.fc(inv.flatten(1))
        inv = inv[..., 0]
        s2 = self.grid2.to_grid(self.to_s2(h))  # (B, c2, 2b, 2b)
        glob = inv[..., None, None].expand(-1, -1, *x.shape[-2:])
        seg = self.head(torch.cat([x, local, s2, glob], dim=1))
        return logits, seg


class SphereGridCNN(nn.Module):
    """Planar CNN on the equirectangular grid image (circular padding in alpha) with the same two heads.

    Batch normalisation after each of the four convolutions of the trunk (the spherical CNN normalises its
    features too, ``ChannelNorm``); He-initialised convolutions.  Without the two, the trunk sat on a loss
    plateau at chance for most of the training budget."""

    def __init__(self, width: int = 8, n_classes: int = 10) -> None:
        super().__init__()
        w = width
        self.c1, self.c2 = nn.Conv2d(1, w, 3), nn.Conv2d(w, w, 3)
        self.c3, self.c4 = nn.Conv2d(w, 2 * w, 3), nn.Conv2d(2 * w, 2 * w, 3)
        self.n1, self.n2, self.n3, self.n4 = nn.BatchNorm2d(w), nn.BatchNorm2d(w), nn.BatchNorm2d(2 * w), nn.BatchNorm2d(2 * w)
        self.fc = nn.Linear(2 * w, n_classes)
        self.head = nn.Sequential(nn.Conv2d(1 + w + 2 * w, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, n_classes + 1, 1))
        he_init_(self)

    @staticmethod
    def _pad(h: torch.Tensor) -> torch.Tensor:
        return F.pad(F.pad(h, (1, 1, 0, 0), mode="circular"), (0, 0, 1, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        local = F.relu(self.n1(self.c1(self._pad(x))))
        h = F.max_pool2d(F.relu(self.n2(self.c2(self._pad(local)))), 2)
        h = F.max_pool2d(F.relu(self.n3(self.c3(self._pad(h)))), 2)
        h = F.relu(self.n4(self.c4(self._pad(h))))
        g = h.mean(dim=(-2, -1))
        logits = self.fc(g)
        seg = self.head(torch.cat([x, local, g[..., None, None].expand(-1, -1, *x.shape[-2:])], dim=1))
        return logits, seg


def sphere_grid_cnn_matching(n_params: int) -> SphereGridCNN:
    """The SphereGridCNN whose parameter count is nearest to n_params."""
    return _nearest_in_size(SphereGridCNN, n_params)
