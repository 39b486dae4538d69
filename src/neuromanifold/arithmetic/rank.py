"""Ranks of Jacobians: numerically (SVD with the singular-value gap as evidence) and exactly
over Z/p (python-flint), which bounds the rank over Q, hence the generic rank, from below."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import rank_mod_p

NOISE_FLOOR = 1e-11  # singular values below this (relative to the largest) count as zero
CLEAR_GAP = 1e4  # a gap at least this large is reported as clear


@dataclass
class NumericalRank:
    rank: int
    singular_values: np.ndarray
    gap: float  # sigma_rank / sigma_{rank+1} (inf when full rank or sigma_{rank+1} = 0)
    clear: bool
    point: str = "real Gaussian"

    def evidence(self) -> dict[str, Any]:
        s = self.singular_values
        r = self.rank
        return {
            "rank": r,
            "sigma_r": float(s[r - 1]) if r >= 1 else None,
            "sigma_r_plus_1": float(s[r]) if r < len(s) else None,
            "gap": float(self.gap),
            "clear_gap": self.clear,
            "point": self.point,
            # singular values relative to the largest (at most 400), for the spectrum plot
            "spectrum": [float(f"{x:.3e}") for x in (s[:400] / s[0] if len(s) and s[0] > 0 else s[:400])],
            "method": "SVD of the row-normalised floating-point Jacobian of mu_S at a random point; rank at the "
            "largest singular-value gap above a relative noise floor of 1e-11",
        }


def normalise_rows(J: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(J, axis=1)
    keep = norms > 0
    return J[keep] / norms[keep, None]


def numerical_rank(J: np.ndarray, singular_values: np.ndarray | None = None) -> NumericalRank:
    """Rank of a float matrix at its largest singular-value gap (rows normalised first)."""
    if singular_values is None:
        A = normalise_rows(np.asarray(J))
        s = np.linalg.svd(A, compute_uv=False) if A.size else np.zeros(0)
    else:
        s = np.asarray(singular_values)
    if s.size == 0 or s[0] == 0:
        return NumericalRank(0, s, float("inf"), True)
    rel = s / s[0]
    n = len(s)
    above = int(np.sum(rel > NOISE_FLOOR))
    if above == n and rel[-1] > 1e-8:
        # no singular value near zero; full rank unless an interior gap is enormous
        gaps = rel[:-1] / rel[1:] if n > 1 else np.zeros(0)
        if gaps.size == 0 or gaps.max() < 1e6:
            return NumericalRank(n, s, float("inf"), True)
    with np.errstate(divide="ignore"):
        gaps = rel[: max(above, 1)] / np.concatenate([rel[1:], [0.0]])[: max(above, 1)]
    r = int(np.argmax(gaps)) + 1
    gap = float(gaps[r - 1])
    return NumericalRank(r, s, gap, gap >= CLEAR_GAP)


def exact_rank(J: np.ndarray, p: int) -> int:
    """Rank over Z/p of an integer matrix (a lower bound for its rank over Q)."""
    return rank_mod_p(J, p)


def pivot_columns(A: np.ndarray, k: int) -> np.ndarray:
    """The first k column pivots of QR with column pivoting (Businger-Golub) of A (real or complex):
    at each step the column of largest norm after projecting out the columns already chosen.  The
    greedy rule of LAPACK's geqp3, with the residual norms recomputed instead of downdated; numpy only
    (no scipy import on a short command's path)."""
    R = np.array(A, dtype=complex if np.iscomplexobj(A) else float, copy=True)
    k = min(int(k), R.shape[0], R.shape[1])
    chosen: list[int] = []
    free = np.ones(R.shape[1], dtype=bool)
    for _ in range(k):
        norms = np.where(free, np.linalg.norm(R, axis=0), -1.0)
        j = int(np.argmax(norms))
        chosen.append(j)
        free[j] = False
        if norms[j] <= 0.0:
            continue
        q = R[:, j] / norms[j]
        for _ in range(2):  # twice is enough (Gram-Schmidt re-orthogonalization)
            R -= np.outer(q, q.conj() @ R)
        R[:, j] = 0.0
    return np.array(chosen, dtype=int)
