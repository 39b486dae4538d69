"""The span of the vectors seen so far, grown one vector at a time: is a new vector outside it?

Over Z/p (``p`` given) exactly: a row echelon basis, each row with pivot entry 1; v is new iff its
reduction by the rows is nonzero.  Over the reals: an orthonormal basis Q (Gram-Schmidt with one
re-orthogonalisation); v is new iff |v - Q^T Q v| > ``tol`` (give unit vectors, so that ``tol`` is
relative), and the basis stops growing at n vectors.
"""

from __future__ import annotations

import numpy as np


class Span:
    """Incremental basis of a subspace of K^n, K = Z/p (``p``) or the reals (``p`` None, threshold ``tol``)."""

    def __init__(self, n: int, p: int | None = None, tol: float = 1e-7):
        self.n, self.p, self.tol = n, p, tol
        self.rows: list[tuple[int, np.ndarray]] = []  # over Z/p: (pivot, row with pivot entry 1)
        self.Q = np.zeros((0, n))  # over the reals: orthonormal rows

    @property
    def rank(self) -> int:
        return len(self.rows) if self.p is not None else self.Q.shape[0]

    def reduce(self, v: np.ndarray) -> np.ndarray:
        """v minus its component in the span (over Z/p: reduced by the echelon rows)."""
        p = self.p
        if p is None:
            for _ in range(2):
                v = v - self.Q.T @ (self.Q @ v)
            return v
        v = np.asarray(v, dtype=np.int64) % p
        for piv, row in self.rows:
            c = int(v[piv])
            if c:
                v = (v - c * row) % p  # c, row < 2^31: products fit in int64
        return v

    def add(self, v: np.ndarray) -> bool:
        """Add v if it lies outside the span; True iff the rank grew."""
        r = self.reduce(v)
        if self.p is None:
            if np.linalg.norm(r) > self.tol and self.Q.shape[0] < self.n:
                self.Q = np.vstack([self.Q, r / np.linalg.norm(r)])
                return True
            return False
        nz = np.flatnonzero(r)
        if not len(nz):
            return False
        piv = int(nz[0])
        inv = pow(int(r[piv]), -1, self.p)
        self.rows.append((piv, r * inv % self.p))
        return True

    def matrix(self) -> np.ndarray:
        """The basis as columns (n x rank)."""
        if self.p is None:
            return self.Q.T
        if not self.rows:
            return np.zeros((self.n, 0), dtype=np.int64)
        return np.stack([r for _, r in self.rows], axis=1)

    def copy(self) -> "Span":
        s = Span(self.n, self.p, self.tol)
        s.rows, s.Q = list(self.rows), self.Q
        return s


__all__ = ["Span"]
