"""The point groups C4 and D4 of the square lattice Z^2, as integer 2x2 matrices.

C4 = <r>, D4 = <r, m> with r the rotation by +90 degrees and m the reflection x -> -x.  Element
``g = r^k m^s`` has index ``k + 4 s``.  On image arrays (..., H, W) with rows indexing y downwards and
columns indexing x, r acts as ``torch.rot90(·, 1, dims=(-2, -1))`` and m as ``torch.flip(·, dims=(-1,))``
(both about the centre of the array); the group acts on functions by (g f)(z) = f(g^{-1} z).
The multiplication table is exact (integer matrices).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    import torch

GROUPS = ("C4", "D4")


@dataclass(frozen=True)
class PlanarGroup:
    """A finite subgroup of O(2) preserving Z^2: its elements as integer matrices and its Cayley table."""

    name: str
    matrices: np.ndarray  # (|G|, 2, 2) integers, acting on array coordinates (row, col)
    table: np.ndarray  # table[a, b] = index of g_a g_b
    inverse: np.ndarray  # inverse[a] = index of g_a^{-1}

    @property
    def order(self) -> int:
        return len(self.matrices)


@lru_cache(maxsize=None)
def planar_group(name: str) -> PlanarGroup:
    """C4 or D4 (InputError otherwise).  Matrices act on (row, col) coordinates about the array centre."""
    if name not in GROUPS:
        raise InputError(f"unsupported group {name!r}: use one of {', '.join(GROUPS)} (finite rotation/reflection groups of Z^2)")
    # torch.rot90(x, 1, dims=(-2,-1)) sends the entry at (row, col) to (n-1-col, row): in centred
    # coordinates (i, j) -> (-j, i).  torch.flip(x, dims=(-1,)) sends (i, j) -> (i, -j).
    r = np.array([[0, -1], [1, 0]], dtype=np.int64)
    m = np.array([[1, 0], [0, -1]], dtype=np.int64)
    mats = [np.linalg.matrix_power(r, k) for k in range(4)]
    if name == "D4":
        mats += [np.linalg.matrix_power(r, k) @ m for k in range(4)]
    mats_arr = np.stack(mats)
    n = len(mats)
    key = {tuple(a.ravel()): i for i, a in enumerate(mats_arr)}
    table = np.array([[key[tuple((mats_arr[a] @ mats_arr[b]).ravel())] for b in range(n)] for a in range(n)])
    inverse = np.array([int(np.where(table[a] == 0)[0][0]) for a in range(n)])
    return PlanarGroup(name, mats_arr, table, inverse)


@lru_cache(maxsize=None)
def _index_map(name: str, g: int, size: int) -> np.ndarray:
    """Flat indices src such that (g f).ravel() = f.ravel()[src] on a size x size array: (g f)(z) = f(g^{-1} z)."""
    G = planar_group(name)
    A_inv = G.matrices[G.inverse[g]]
    c = np.arange(size) * 2 - (size - 1)  # doubled centred coordinates (integers also for even sizes)
    I, J = np.meshgrid(c, c, indexing="ij")
    src = np.einsum("ab,bij->aij", A_inv, np.stack([I, J]))
    si, sj = (src[0] + size - 1) // 2, (src[1] + size - 1) // 2
    return (si * size + sj).ravel()


def act_on_grid(name: str, g: int, x: "torch.Tensor") -> "torch.Tensor":
    """(g x)(z) = x(g^{-1} z) on the last two (square) axes, about the centre."""
    size = x.shape[-1]
    if x.shape[-2] != size:
        raise InputError(f"group action needs square arrays, got spatial shape {tuple(x.shape[-2:])}")
    import torch

    idx = torch.as_tensor(_index_map(name, int(g), size), device=x.device)
    flat = x.reshape(*x.shape[:-2], size * size)
    return flat[..., idx].reshape(x.shape)
