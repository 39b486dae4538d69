"""Spherical convolutions in the Fourier domain (Cohen et al. 2018; e3nn Wigner matrices).

Signals are coefficient tensors (see ``grids``): on S^2 (B, C, (lmax+1)^2), on SO(3)
(B, C, sum_l (2l+1)^2).  With normalised measures,

    S^2 -> SO(3):   h(R) = int_{S^2} f(x) psi(R^{-1} x) dx        H^l = f^l (psi^l)^T / sqrt(2l+1)
    SO(3) -> SO(3): h'(R) = int_{SO(3)} h(Q) k(R^{-1} Q) dQ       H'^l = H^l (K^l)^T / sqrt(2l+1)
    SO(3) -> S^2:   f(x) = int_{SO(3)} h(Q) psi(Q^{-1} x) dQ      f^l = H^l psi^l / sqrt(2l+1)

(summed over input channels, divided by sqrt(C_in)).  Rotating the input by R multiplies f^l, resp.
H^l, on the left by D^l(R); all three maps commute with that exactly, so they are equivariant for
every rotation on bandlimited signals.  Kernels are sums of weighted bandlimited deltas at points of
a small grid near the north pole (0, 1, 0), resp. near the identity (as in s2cnn / e3nn's example):
psi^l = sum_n w_n Y^l(x_n), K^l = sum_n w_n sqrt(2l+1) D^l(Q_n).

Pointwise nonlinearities are applied on a Driscoll-Healy / SOFT grid (``S2Activation``,
``SO3Activation``): exactly equivariant for the rotations that permute the grid points (rotations
about the pole by multiples of 2 pi / 2b, the half turn about the x axis), approximately otherwise.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from .grids import S2Grid, SO3Grid, flat_wigner, s2_irreps_dim, so3_irreps_dim, spherical_harmonics, xyz_from_angles


def s2_near_identity_grid(*, max_beta: float = math.pi / 8, n_alpha: int = 8, n_beta: int = 3) -> torch.Tensor:
    """(n_alpha n_beta, 3) points on rings beta = k max_beta / n_beta around the pole (0, 1, 0)."""
    beta = torch.arange(1, n_beta + 1, dtype=torch.float64) * max_beta / n_beta
    alpha = torch.arange(n_alpha, dtype=torch.float64) * 2 * math.pi / n_alpha
    A, B = torch.meshgrid(alpha, beta, indexing="ij")
    return xyz_from_angles(A.reshape(-1), B.reshape(-1))


def so3_near_identity_grid(*, max_beta: float = math.pi / 8, max_gamma: float = 2 * math.pi, n_alpha: int = 8,
                           n_beta: int = 3, n_gamma: int | None = None) -> torch.Tensor:
    """(N, 3) Euler angles (alpha, beta, gamma - alpha) of rotations near the identity (s2cnn's grid)."""
    n_gamma = n_alpha if n_gamma is None else n_gamma
    beta = torch.arange(1, n_beta + 1, dtype=torch.float64) * max_beta / n_beta
    alpha = torch.arange(n_alpha, dtype=torch.float64) * 2 * math.pi / n_alpha
    pre_gamma = torch.linspace(-max_gamma, max_gamma, n_gamma + 1, dtype=torch.float64)[:-1] if max_gamma < 2 * math.pi \
        else torch.arange(n_gamma, dtype=torch.float64) * 2 * math.pi / n_gamma
    A, B, PG = torch.meshgrid(alpha, beta, pre_gamma, indexing="ij")
    return torch.stack([A, B, PG - A], dim=-1).reshape(-1, 3)


def _split_l(lmax: int, kind: str) -> list[tuple[int, int, int]]:
    """(l, start, stop) of each degree in the flat layout (kind 's2': 2l+1 numbers, 'so3': (2l+1)^2)."""
    out, i = [], 0
    for l in range(lmax + 1):
        n = 2 * l + 1 if kind == "s2" else (2 * l + 1) ** 2
        out.append((l, i, i + n))
        i += n
    return out


def _check_input(x: torch.Tensor, channels: int, dim: int, name: str) -> None:
    if x.dim() != 3 or x.shape[1] != channels or x.shape[2] != dim:
        raise InputError(f"{name} expects coefficients of shape (B, {channels}, {dim}), got {tuple(x.shape)}")


class _KernelConvolution(nn.Module):
    """What the three spherical convolutions share: learnable weights on a kernel grid near the identity,
    (C_in, C_out, N), and the fixed basis of the grid's harmonics (buffer ``Y`` on S^2: (N, (lmax+1)^2);
    ``D`` on SO(3): (N, sum (2l+1)^2)), each degree l scaled by 1 / sqrt(2l+1) and all by 1 / sqrt(N);
    ``kernel()`` = weight @ basis; ``blocks`` the degree-l slices of that basis.  ``kind`` ('s2' or 'so3'):
    the kernel's domain, set by each subclass."""

    kind: str = "s2"

    def __init__(self, in_channels: int, out_channels: int, lmax: int, kernel_grid: torch.Tensor | None = None) -> None:
        super().__init__()
        kind = self.kind
        if lmax < 0:
            raise InputError(f"bandlimit lmax must be >= 0, got {lmax}")
        if kernel_grid is None:
            kernel_grid = s2_near_identity_grid() if kind == "s2" else so3_near_identity_grid()
        self.in_channels, self.out_channels, self.lmax = in_channels, out_channels, lmax
        self.weight = nn.Parameter(torch.randn(in_channels, out_channels, kernel_grid.shape[0]))
        g = kernel_grid.to(torch.float64)
        basis = spherical_harmonics(lmax, g) if kind == "s2" else flat_wigner(lmax, *g.T)
        size = (lambda l: 2 * l + 1) if kind == "s2" else (lambda l: (2 * l + 1) ** 2)
        scale = torch.cat([torch.full((size(l),), 1 / math.sqrt(2 * l + 1), dtype=torch.float64)
                           for l in range(lmax + 1)])
        self._basis = "Y" if kind == "s2" else "D"
        self.register_buffer(self._basis, (basis * scale / math.sqrt(basis.shape[0])).to(torch.get_default_dtype()))
        self.blocks = _split_l(lmax, kind)

    def kernel(self) -> torch.Tensor:
        """(C_in, C_out, basis size): psi^l / sqrt(2l+1) (divided by sqrt of the kernel grid size)."""
        basis = getattr(self, self._basis)
        return torch.einsum("ion,nj->ioj", self.weight, basis.to(self.weight.dtype))


class S2Convolution(_KernelConvolution):
    """S^2 -> SO(3): (B, C_in, (lmax+1)^2) -> (B, C_out, sum_l (2l+1)^2)."""

    kind = "s2"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, s2_irreps_dim(self.lmax), "S2Convolution")
        psi = self.kernel().to(x.dtype)
        outs = []
        for l, a, b in self.blocks:
            H = torch.einsum("bim,ion->bomn", x[..., a:b], psi[..., a:b])
            outs.append(H.reshape(*H.shape[:2], -1))
        return torch.cat(outs, dim=-1) / math.sqrt(self.in_channels)


class SO3Convolution(_KernelConvolution):
    """SO(3) -> SO(3): (B, C_in, sum(2l+1)^2) -> (B, C_out, sum(2l+1)^2); right multiplication by K^l."""

    kind = "so3"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, so3_irreps_dim(self.lmax), "SO3Convolution")
        K = self.kernel().to(x.dtype)
        outs = []
        for l, a, b in self.blocks:
            d = 2 * l + 1
            H = x[..., a:b].reshape(*x.shape[:2], d, d)
            Kl = K[..., a:b].reshape(*K.shape[:2], d, d)
            out = torch.einsum("bimk,ionk->bomn", H, Kl)  # H K^T
            outs.append(out.reshape(*out.shape[:2], -1))
        return torch.cat(outs, dim=-1) / math.sqrt(self.in_channels)


class SO3ToS2(_KernelConvolution):
    """SO(3) -> S^2 convolution: (B, C_in, sum(2l+1)^2) -> (B, C_out, (lmax+1)^2), f^l = H^l psi^l / sqrt(2l+1)."""

    kind = "s2"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, so3_irreps_dim(self.lmax), "SO3ToS2")
        psi = self.kernel().to(x.dtype)
        outs = []
        for (l, a, b), (_, c, d_) in zip(_split_l(self.lmax, "so3"), self.blocks):
            d = 2 * l + 1
            H = x[..., a:b].reshape(*x.shape[:2], d, d)
            outs.append(torch.einsum("bimn,ion->bom", H, psi[..., c:d_]))
        return torch.cat(outs, dim=-1) / math.sqrt(self.in_channels)


class SO3Activation(nn.Module):
    """Pointwise nonlinearity on the SOFT grid of bandwidth b: coefficients (lmax_in) -> grid -> act -> (lmax_out)."""

    def __init__(self, lmax_in: int, lmax_out: int, b: int | None = None,
                 act: Callable[[torch.Tensor], torch.Tensor] = torch.relu) -> None:
        super().__init__()
        b = max(lmax_in, lmax_out) + 1 if b is None else b
        self.grid_in = SO3Grid(b, lmax_in, dtype=torch.get_default_dtype())
        self.grid_out = SO3Grid(b, lmax_out, dtype=torch.get_default_dtype())
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.grid_out.from_grid(self.act(self.grid_in.to_grid(x)))


class S2Activation(nn.Module):
    """Pointwise nonlinearity on the Driscoll-Healy grid of bandwidth b."""

    def __init__(self, lmax_in: int, lmax_out: int, b: int | None = None,
                 act: Callable[[torch.Tensor], torch.Tensor] = torch.relu) -> None:
        super().__init__()
        b = max(lmax_in, lmax_out) + 1 if b is None else b
        self.grid_in = S2Grid(b, lmax_in, dtype=torch.get_default_dtype())
        self.grid_out = S2Grid(b, lmax_out, dtype=torch.get_default_dtype())
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.grid_out.from_grid(self.act(self.grid_in.to_grid(x)))


def so3_truncate(x: torch.Tensor, lmax: int) -> torch.Tensor:
    """Keep degrees l <= lmax of an SO(3) coefficient tensor (an equivariant projection)."""
    return x[..., : so3_irreps_dim(lmax)]


def rotation_matrix_to_angles(R: torch.Tensor) -> torch.Tensor:
    """(..., 3) Euler angles (alpha, beta, gamma) in e3nn's Y-X-Y convention."""
    from e3nn import o3

    return torch.stack(o3.matrix_to_angles(R), dim=-1)


def grid_permutation(points: np.ndarray, mapped: np.ndarray, *, tol: float = 1e-8) -> np.ndarray | None:
    """perm with mapped[i] == points[perm[i]] (rows compared in max norm), or None if the map leaves the grid."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points.reshape(len(points), -1))
    dist, idx = tree.query(mapped.reshape(len(mapped), -1))
    if dist.max() > tol:
        return None
    return idx
