"""Sampling grids on S^2 and SO(3) with exact quadrature for bandlimited signals (e3nn conventions).

Points of S^2 are x(alpha, beta) = (sin b sin a, cos b, sin b cos a) (the y axis is the pole, as in
e3nn); rotations are R = R_y(alpha) R_x(beta) R_y(gamma).

* Driscoll-Healy grid of bandwidth b on S^2: beta_j = pi (2j+1) / (4b), alpha_k = 2 pi k / (2b),
  j, k = 0..2b-1, with the Driscoll-Healy weights in beta.  For signals of bandlimit lmax <= b-1 the
  quadrature of a product of two of them is exact, so the transform grid -> coefficients inverts
  coefficients -> grid exactly (Driscoll & Healy 1994).
* SOFT grid of bandwidth b on SO(3) (Kostelec & Rockmore 2008): (alpha_k, beta_j, gamma_l) with the
  same beta nodes and weights and 2b uniform alpha and gamma nodes; exact for lmax <= b-1.

Coefficients: a signal on S^2 is f(x) = sum_l f^l . Y^l(x) with e3nn's real spherical harmonics in
"component" normalisation, orthonormal for the normalised measure dx / 4 pi; a signal on SO(3) is
h(R) = sum_l sum_{mn} H^l_{mn} sqrt(2l+1) D^l_{mn}(R) with e3nn's real Wigner matrices, orthonormal
for the normalised Haar measure.  Flat layouts: (lmax+1)^2 and sum_l (2l+1)^2 numbers, l ascending,
H^l row-major.  A bandlimit too high for the grid raises InputError.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ..errors import InputError


def dh_weights(b: int) -> np.ndarray:
    """Driscoll-Healy weights w_j (j = 0..2b-1) with sum_j w_j f(beta_j) = int_0^pi f(beta) sin(beta) dbeta
    for f a polynomial in cos(beta) of degree < 2b (and trigonometric companions; DH 1994, Thm. 3)."""
    j = np.arange(2 * b)[:, None]
    k = np.arange(b)[None, :]
    s = (np.sin((2 * j + 1) * (2 * k + 1) * np.pi / (4 * b)) / (2 * k + 1)).sum(axis=1)
    return (2.0 / b) * np.sin(np.pi * (2 * np.arange(2 * b) + 1) / (4 * b)) * s


def check_bandlimit(lmax: int, b: int, *, where: str = "grid") -> None:
    """InputError unless 0 <= lmax <= b - 1 (the sampling theorem of the Driscoll-Healy / SOFT grids)."""
    if not isinstance(b, (int, np.integer)) or b < 1:
        raise InputError(f"grid bandwidth b must be a positive integer, got {b!r}")
    if not isinstance(lmax, (int, np.integer)) or lmax < 0:
        raise InputError(f"bandlimit lmax must be a non-negative integer, got {lmax!r}")
    if lmax > b - 1:
        raise InputError(f"bandlimit lmax={lmax} too high for the {where} of bandwidth b={b} ({2 * b} points per angle): "
                         f"need lmax <= b-1 = {b - 1}; use b >= {lmax + 1} or a smaller lmax")


def s2_irreps_dim(lmax: int) -> int:
    return (lmax + 1) ** 2


def so3_irreps_dim(lmax: int) -> int:
    return sum((2 * l + 1) ** 2 for l in range(lmax + 1))


def flat_wigner(lmax: int, alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """(..., sum_l (2l+1)^2): sqrt(2l+1) D^l_{mn}(alpha, beta, gamma), l ascending, row-major."""
    from e3nn import o3

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # e3nn builds the so(3) generators in the default dtype
    try:
        a, b, c = (t.to(torch.float64) for t in (alpha, beta, gamma))
        out = torch.cat([math.sqrt(2 * l + 1) * o3.wigner_D(l, a, b, c).flatten(-2) for l in range(lmax + 1)], dim=-1)
    finally:
        torch.set_default_dtype(old)
    return out.to(alpha.dtype)


@lru_cache(maxsize=None)
def _sh_alpha_beta(lmax: int) -> nn.Module:
    from e3nn import o3

    return o3.SphericalHarmonicsAlphaBeta(list(range(lmax + 1)), normalization="component")


def spherical_harmonics(lmax: int, xyz: torch.Tensor) -> torch.Tensor:
    """(..., (lmax+1)^2): e3nn real spherical harmonics, component normalisation (orthonormal for dx/4pi).

    e3nn's polynomial form covers l <= 12; above, its (alpha, beta) form (Legendre x Fourier) is used."""
    from e3nn import o3

    if lmax <= 12:
        return o3.spherical_harmonics(list(range(lmax + 1)), xyz, normalize=True, normalization="component")
    x = xyz.to(torch.float64)
    alpha, beta = o3.xyz_to_angles(x)
    return _sh_alpha_beta(lmax)(alpha, beta).to(xyz.dtype)


def xyz_from_angles(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    return torch.stack([beta.sin() * alpha.sin(), beta.cos(), beta.sin() * alpha.cos()], dim=-1)


class S2Grid(nn.Module):
    """Driscoll-Healy grid of bandwidth b with the transforms for bandlimit lmax <= b-1.

    ``to_grid``: (..., (lmax+1)^2) -> (..., 2b, 2b) [beta, alpha];  ``from_grid``: the inverse (exact on
    bandlimited signals, the L^2 projection by quadrature otherwise)."""

    def __init__(self, b: int, lmax: int, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        check_bandlimit(lmax, b, where="Driscoll-Healy grid")
        self.b, self.lmax = int(b), int(lmax)
        n = 2 * self.b
        beta = torch.tensor(np.pi * (2 * np.arange(n) + 1) / (4 * self.b), dtype=torch.float64)
        alpha = torch.tensor(2 * np.pi * np.arange(n) / n, dtype=torch.float64)
        B, A = torch.meshgrid(beta, alpha, indexing="ij")
        xyz = xyz_from_angles(A, B)  # (2b, 2b, 3)
        w = torch.tensor(dh_weights(self.b), dtype=torch.float64)[:, None].expand(n, n) / (2.0 * n)  # sums to 1
        Y = spherical_harmonics(self.lmax, xyz.reshape(-1, 3))  # (P, I)
        self.register_buffer("xyz", xyz.to(dtype))
        self.register_buffer("weights", w.reshape(-1).to(dtype).clone())
        self.register_buffer("Y", Y.to(dtype))
        self.register_buffer("Yw", (Y * w.reshape(-1, 1)).to(dtype))

    @property
    def shape(self) -> tuple[int, int]:
        return (2 * self.b, 2 * self.b)

    def to_grid(self, coeffs: torch.Tensor) -> torch.Tensor:
        if coeffs.shape[-1] != self.Y.shape[1]:
            raise InputError(f"S^2 coefficients of bandlimit {self.lmax} have {self.Y.shape[1]} entries, got {coeffs.shape[-1]}")
        return (coeffs @ self.Y.T).reshape(*coeffs.shape[:-1], *self.shape)

    def from_grid(self, values: torch.Tensor) -> torch.Tensor:
        if tuple(values.shape[-2:]) != self.shape:
            raise InputError(f"signal on the Driscoll-Healy grid b={self.b} must end in {self.shape}, got {tuple(values.shape)}")
        return values.reshape(*values.shape[:-2], -1) @ self.Yw


class SO3Grid(nn.Module):
    """SOFT grid of bandwidth b on SO(3) with transforms for bandlimit lmax <= b-1.

    ``to_grid``: (..., sum(2l+1)^2) -> (..., P) with P = (2b)^3 points (alpha, beta, gamma) flattened;
    ``from_grid``: quadrature, the exact inverse on bandlimited signals."""

    def __init__(self, b: int, lmax: int, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        check_bandlimit(lmax, b, where="SOFT grid on SO(3)")
        self.b, self.lmax = int(b), int(lmax)
        n = 2 * self.b
        beta = torch.tensor(np.pi * (2 * np.arange(n) + 1) / (4 * self.b), dtype=torch.float64)
        ang = torch.tensor(2 * np.pi * np.arange(n) / n, dtype=torch.float64)
        A, B, C = torch.meshgrid(ang, beta, ang, indexing="ij")
        D = flat_wigner(self.lmax, A, B, C).reshape(-1, so3_irreps_dim(self.lmax))
        wb = torch.tensor(dh_weights(self.b), dtype=torch.float64) / 2.0  # sums to 1
        w = (wb[None, :, None] / (n * n)).expand(n, n, n).reshape(-1)
        self.register_buffer("angles", torch.stack([A, B, C], dim=-1).reshape(-1, 3).to(dtype))
        self.register_buffer("weights", w.to(dtype).clone())
        self.register_buffer("D", D.to(dtype))
        self.register_buffer("Dw", (D * w[:, None]).to(dtype))

    @property
    def n_points(self) -> int:
        return self.D.shape[0]

    def to_grid(self, coeffs: torch.Tensor) -> torch.Tensor:
        if coeffs.shape[-1] != self.D.shape[1]:
            raise InputError(f"SO(3) coefficients of bandlimit {self.lmax} have {self.D.shape[1]} entries, got {coeffs.shape[-1]}")
        return coeffs @ self.D.T

    def from_grid(self, values: torch.Tensor) -> torch.Tensor:
        if values.shape[-1] != self.n_points:
            raise InputError(f"signal on the SOFT grid b={self.b} must end in {self.n_points} points, got {tuple(values.shape)}")
        return values @ self.Dw
