"""The equivariant subspace E of C4 acting on conv layers, kernel supports L, and their compatibility.

C4 = <r> acts on feature maps of two types: ``trivial`` (a channel is rotated in the plane,
(r x)(p) = x(R^{-1} p)) and ``regular`` (channels come in fields of 4 orientations; r rotates the
plane and shifts the orientation index, (r x)[f, o] = rot(x[f, o - 1])).  On a 'same'-padded conv
layer with odd square kernels it acts by conjugation, r . W = rho_out(r) o W o rho_in(r)^{-1}, which
on the kernel tensor W[c_out, c_in, u, v] is the index permutation

    (r^j . W)[(f, o), (f', o')] = rot90^j( W[(f, o - j), (f', o' - j)] )     (shifts only on regular axes).

Because the action permutes kernel entries it is orthogonal in the Frobenius inner product, so the
group average Pi_E W = (1/4) sum_j r^j . W is the orthogonal projection onto the fixed space E, which
is exactly the space of C4-equivariant layers (Nordenfors, Ohlsson, Flinth 2023).  A kernel support
S (a 0/1 mask on the k x k grid) defines the admissible layers L with projection Pi_L W = W * mask;
L and E are *compatible* when Pi_E Pi_L = Pi_L Pi_E, which holds iff S is closed under rot90.
The commutator is computed in integer arithmetic (4 Pi_E is an integer matrix): ``certified``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import torch

from ..errors import InputError
from ..result import Result

REPS = ("trivial", "regular")

#: 3x3 supports: ``cross`` is closed under rot90 (compatible), ``skew`` is not (incompatible).
SUPPORTS: dict[str, np.ndarray] = {
    "full": np.ones((3, 3), dtype=np.int64),
    "cross": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=np.int64),
    "skew": np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=np.int64),
    "center": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.int64),
}


def support_mask(support: str | np.ndarray) -> np.ndarray:
    """A k x k 0/1 integer mask from a name in SUPPORTS or an array (odd square)."""
    if isinstance(support, str):
        if support not in SUPPORTS:
            raise InputError(f"unknown kernel support {support!r}; use one of {', '.join(SUPPORTS)} or a 0/1 array")
        return SUPPORTS[support].copy()
    m = np.asarray(support)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] % 2 == 0 or not np.isin(m, (0, 1)).all():
        raise InputError(f"a kernel support must be an odd square 0/1 array, got shape {m.shape}")
    return m.astype(np.int64)


def is_rotation_closed(mask: np.ndarray) -> bool:
    """Is the support invariant under rot90 (the compatibility condition for trivial/regular C4 actions)?"""
    return bool(np.array_equal(mask, np.rot90(mask)))


@dataclass(frozen=True)
class ConvAction:
    """C4 on the kernel tensor (c_out, c_in, k, k) of one conv layer with the given channel types."""

    rep_in: str = "trivial"
    rep_out: str = "trivial"

    def __post_init__(self) -> None:
        for r in (self.rep_in, self.rep_out):
            if r not in REPS:
                raise InputError(f"unknown channel representation {r!r}; use 'trivial' or 'regular'")

    def check(self, shape: tuple[int, ...]) -> None:
        if len(shape) != 4 or shape[2] != shape[3]:
            raise InputError(f"a conv kernel has shape (c_out, c_in, k, k), got {tuple(shape)}")
        for r, c, side in ((self.rep_out, shape[0], "output"), (self.rep_in, shape[1], "input")):
            if r == "regular" and c % 4:
                raise InputError(f"regular {side} channels come in fields of 4; got {c} channels")

    def act(self, W: torch.Tensor, j: int) -> torch.Tensor:
        """r^j . W (works for any dtype, including integer index tensors)."""
        self.check(tuple(W.shape))
        j %= 4
        if j == 0:
            return W
        out = W
        c_out, c_in = W.shape[:2]
        if self.rep_out == "regular":
            out = out.reshape(c_out // 4, 4, *out.shape[1:]).roll(j, dims=1).reshape(c_out, *out.shape[1:])
        if self.rep_in == "regular":
            out = out.reshape(c_out, c_in // 4, 4, *out.shape[2:]).roll(j, dims=2).reshape(c_out, c_in, *out.shape[2:])
        return torch.rot90(out, j, dims=(-2, -1))

    def project(self, W: torch.Tensor) -> torch.Tensor:
        """Pi_E W = (1/4) sum_j r^j . W, the orthogonal (Frobenius) projection onto equivariant kernels."""
        return sum(self.act(W, j) for j in range(4)) / 4

    def permutations(self, shape: tuple[int, ...]) -> list[np.ndarray]:
        """Index permutations P_j with (r^j . W).ravel() = W.ravel()[P_j]."""
        idx = torch.arange(int(np.prod(shape))).reshape(shape)
        return [self.act(idx, j).reshape(-1).numpy() for j in range(4)]


@dataclass(frozen=True)
class BiasAction:
    """C4 on a bias vector: trivial channels are fixed, regular channels are shifted within fields."""

    rep: str = "trivial"

    def act(self, b: torch.Tensor, j: int) -> torch.Tensor:
        if self.rep == "trivial":
            return b
        if b.shape[0] % 4:
            raise InputError(f"regular channels come in fields of 4; got a bias of length {b.shape[0]}")
        return b.reshape(-1, 4).roll(j, dims=1).reshape(-1)

    def project(self, b: torch.Tensor) -> torch.Tensor:
        return sum(self.act(b, j) for j in range(4)) / 4


@dataclass(frozen=True)
class InvariantAction:
    """A layer on invariant features (trivial action on both sides): E is the whole layer space."""

    def act(self, w: torch.Tensor, j: int) -> torch.Tensor:
        return w

    def project(self, w: torch.Tensor) -> torch.Tensor:
        return w


Action = ConvAction | BiasAction | InvariantAction


class LayerSpace:
    """The layer space of a network, parameter by parameter: the C4 action, the equivariant
    projection Pi_E and the support projection Pi_L (masks on conv kernels; identity elsewhere).

    ``actions`` maps parameter names to actions; ``masks`` maps conv parameter names to supports."""

    def __init__(self, actions: Mapping[str, Action], masks: Mapping[str, np.ndarray] | None = None):
        self.actions = dict(actions)
        self.masks = {k: support_mask(v) for k, v in (masks or {}).items()}
        for k in self.masks:
            if not isinstance(self.actions.get(k), ConvAction):
                raise InputError(f"a support mask needs a conv parameter; {k!r} is not one")

    def _names(self, params: Mapping[str, torch.Tensor]) -> Iterable[str]:
        missing = set(self.actions) - set(params)
        if missing:
            raise InputError(f"parameters {sorted(missing)} are missing")
        return self.actions.keys()

    def act(self, params: Mapping[str, torch.Tensor], j: int) -> dict[str, torch.Tensor]:
        return {k: self.actions[k].act(params[k], j) for k in self._names(params)}

    def project_E(self, params: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Pi_E: orthogonal projection onto the equivariant layers (group average)."""
        return {k: self.actions[k].project(params[k]) for k in self._names(params)}

    def project_L(self, params: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Pi_L: zero the kernel entries outside each layer's support."""
        out = {}
        for k in self._names(params):
            p = params[k]
            if k in self.masks:
                p = p * torch.as_tensor(self.masks[k], dtype=p.dtype)
            out[k] = p
        return out

    def project_EL(self, params: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Orthogonal projection onto E intersect L.  When Pi_E and Pi_L commute this is Pi_E Pi_L;
        otherwise the limit of alternating projections (von Neumann), computed exactly here by
        zeroing, in every rot90-orbit of kernel positions, the orbits that leave the support."""
        out = {}
        for k, p in self.project_E(self.project_L(params)).items():
            if k in self.masks:
                m = self.masks[k]
                closed = m * np.rot90(m, 1) * np.rot90(m, 2) * np.rot90(m, 3)  # largest rotation-closed subset
                p = p * torch.as_tensor(closed, dtype=p.dtype)
            out[k] = p
        return out

    def distance_E(self, params: Mapping[str, torch.Tensor]) -> float:
        """||A - Pi_E A||_F over all layers."""
        proj = self.project_E(params)
        return float(torch.sqrt(sum(((params[k] - proj[k]) ** 2).sum() for k in proj)))

    def commutator(self, shapes: Mapping[str, tuple[int, ...]]) -> Result:
        """||Pi_E Pi_L - Pi_L Pi_E||_F on the whole layer space, in integer arithmetic (certified):
        4 Pi_E = sum_j P_j with P_j permutation matrices and Pi_L = diag(mask), so
        4 [Pi_E, Pi_L] has entries sum_j [P_j(a) = b] (m_b - m_a)."""
        total = 0
        per_layer = {}
        for k, act in self.actions.items():
            if k not in self.masks:
                per_layer[k] = 0
                continue
            shape = tuple(shapes[k])
            act.check(shape)
            m = np.broadcast_to(self.masks[k], shape).reshape(-1)
            C: dict[tuple[int, int], int] = {}
            for perm in act.permutations(shape):
                d = m[perm] - m  # row a of [P_j, diag(m)] has the single entry m[perm[a]] - m[a] at column perm[a]
                for a in np.nonzero(d)[0]:
                    C[(int(a), int(perm[a]))] = C.get((int(a), int(perm[a])), 0) + int(d[a])
            sq = sum(v * v for v in C.values())
            per_layer[k] = sq
            total += sq
        # ||[Pi_E, Pi_L]||_F = sqrt(total) / 4
        return Result(
            "compatibility_commutator",
            float(np.sqrt(total) / 4),
            "certified",
            {"method": "integer matrix 4 [Pi_E, Pi_L] = sum_j [P_j, diag(mask)]; value = sqrt(sum of squares) / 4",
             "sum_of_squares_times_16": int(total), "per_layer_sum_of_squares_times_16": per_layer,
             "compatible": total == 0},
        )
