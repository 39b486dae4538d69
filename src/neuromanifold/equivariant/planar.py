"""Group convolutions on Z^2 for G = C4 or D4 (lifting Z^2 -> G x Z^2, group G x Z^2 -> G x Z^2, pooling).

Feature maps on G x Z^2 are tensors (B, C, |G|, H, W).  With cross-correlation conventions,

    lifting:  [f * psi](g, x) = sum_y f(y) psi(g^{-1}(y - x)),
    group:    [F * psi](g, x) = sum_{h in G} sum_y F(h, y) psi(g^{-1} h, g^{-1}(y - x)),

both equivariant: transforming the input by u in G (rotating/reflecting the image about its centre,
and on G x Z^2 also u: h -> u h) transforms the output the same way, exactly (an index permutation
of the filters; equivariance holds up to float rounding for odd kernels with 'same' zero padding).
Group pooling (max or mean over the |G| axis) gives G-equivariant planar feature maps; followed by a
global spatial pooling it gives G-invariant features.  Bias is shared over the group axis.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from .groups import _index_map, planar_group


def _check_kernel(kernel_size: int) -> None:
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise InputError(f"kernel_size must be an odd positive integer (centred filters), got {kernel_size!r}")


def _spatial_maps(group: str, k: int) -> torch.Tensor:
    """(|G|, k*k) flat source indices of the spatial action of each group element on a k x k filter."""
    G = planar_group(group)
    return torch.stack([torch.as_tensor(_index_map(group, g, k)) for g in range(G.order)])


class LiftingConv2d(nn.Module):
    """Z^2 -> G x Z^2: (B, C_in, H, W) -> (B, C_out, |G|, H, W); |G| transformed copies of each filter."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, group: str = "C4", bias: bool = True) -> None:
        super().__init__()
        _check_kernel(kernel_size)
        self.G = planar_group(group)
        self.group, self.in_channels, self.out_channels, self.kernel_size = group, in_channels, out_channels, kernel_size
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size)
                                   * math.sqrt(2.0 / (in_channels * kernel_size ** 2)))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.register_buffer("spatial", _spatial_maps(group, kernel_size), persistent=False)

    def expanded_weight(self) -> torch.Tensor:
        """(C_out |G|, C_in, k, k): filter g is (g psi)(z) = psi(g^{-1} z)."""
        co, ci, k, _ = self.weight.shape
        flat = self.weight.reshape(co, ci, k * k)
        w = flat[..., self.spatial]  # (co, ci, |G|, k*k)
        return w.permute(0, 2, 1, 3).reshape(co * self.G.order, ci, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise InputError(f"LiftingConv2d expects (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        y = F.conv2d(x, self.expanded_weight(), padding=self.kernel_size // 2)
        y = y.view(x.shape[0], self.out_channels, self.G.order, *y.shape[-2:])
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1, 1)
        return y


class GroupConv2d(nn.Module):
    """G x Z^2 -> G x Z^2: (B, C_in, |G|, H, W) -> (B, C_out, |G|, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, group: str = "C4", bias: bool = True) -> None:
        super().__init__()
        _check_kernel(kernel_size)
        self.G = planar_group(group)
        n = self.G.order
        self.group, self.in_channels, self.out_channels, self.kernel_size = group, in_channels, out_channels, kernel_size
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, n, kernel_size, kernel_size)
                                   * math.sqrt(2.0 / (in_channels * n * kernel_size ** 2)))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.register_buffer("spatial", _spatial_maps(group, kernel_size), persistent=False)
        # perm[g, h] = index of g^{-1} h
        perm = torch.as_tensor(self.G.table[self.G.inverse][:, :])  # table[inv[g], h]
        self.register_buffer("perm", perm, persistent=False)

    def expanded_weight(self) -> torch.Tensor:
        """(C_out |G|, C_in |G|, k, k): filter (g, h) is z -> psi(g^{-1} h, g^{-1} z)."""
        co, ci, n, k, _ = self.weight.shape
        flat = self.weight.reshape(co, ci, n, k * k)
        w = flat[:, :, self.perm]  # (co, ci, g, h, k*k): psi(g^{-1} h, .)
        idx = self.spatial.view(1, 1, n, 1, k * k).expand(co, ci, n, n, k * k)
        w = torch.gather(w, -1, idx)  # spatial action of g
        return w.permute(0, 2, 1, 3, 4).reshape(co * n, ci * n, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.G.order
        if x.dim() != 5 or x.shape[1] != self.in_channels or x.shape[2] != n:
            raise InputError(f"GroupConv2d expects (B, {self.in_channels}, {n}, H, W) for group {self.group}, got {tuple(x.shape)}")
        b, c, _, h, w_ = x.shape
        y = F.conv2d(x.reshape(b, c * n, h, w_), self.expanded_weight(), padding=self.kernel_size // 2)
        y = y.view(b, self.out_channels, n, h, w_)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1, 1)
        return y


class GroupPool(nn.Module):
    """G x Z^2 -> Z^2: max or mean over the group axis, (B, C, |G|, H, W) -> (B, C, H, W)."""

    def __init__(self, mode: str = "max") -> None:
        super().__init__()
        if mode not in ("max", "mean"):
            raise InputError(f"group pooling mode must be 'max' or 'mean', got {mode!r}")
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            raise InputError(f"GroupPool expects (B, C, |G|, H, W), got {tuple(x.shape)}")
        return x.amax(dim=2) if self.mode == "max" else x.mean(dim=2)


def group_spatial_max_pool(x: torch.Tensor, *, k: int = 2) -> torch.Tensor:
    """k x k max pooling of each (channel, group element) plane; equivariant when k divides H = W."""
    b, c, n, h, w = x.shape
    return F.max_pool2d(x.reshape(b, c * n, h, w), k).view(b, c, n, h // k, w // k)
