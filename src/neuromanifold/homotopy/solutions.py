"""Deduplication of numerical solutions: points of C^k equal up to a relative tolerance.

Two points a, b are identified when |a - b|_inf <= tol (1 + |a|_inf).  Neighbours are found with
a k-d tree on the real embedding C^k = R^{2k}, so N points cost O(N log N), and the classes are
the connected components of the "close" graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.spatial import cKDTree


def _real(keys: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys)
    if keys.ndim == 1:
        keys = keys[:, None]
    return np.concatenate([keys.real, keys.imag], axis=1).astype(float)


def _radii(keys: np.ndarray, tol: float) -> np.ndarray:
    return tol * (1.0 + np.max(np.abs(keys.reshape(keys.shape[0], -1)), axis=1, initial=0.0))


def deduplicate(keys: np.ndarray, *, tol: float = 1e-7, return_labels: bool = False) -> np.ndarray:
    """Indices of one representative per class (the first, in order), or the class label of every point.

    Non-finite points are never merged and are left out of the representatives (label -1).
    """
    keys = np.asarray(keys, dtype=complex)
    N = keys.shape[0]
    if N == 0:
        return np.zeros(0, dtype=int)
    flat = keys.reshape(N, -1)
    finite = np.all(np.isfinite(flat), axis=1)
    idx = np.flatnonzero(finite)
    labels = -np.ones(N, dtype=int)
    if idx.size:
        from scipy.spatial import cKDTree

        X = _real(flat[idx])
        tree = cKDTree(X)
        radii = _radii(flat[idx], tol)
        if np.all(tree.query_ball_point(X, r=radii, p=np.inf, return_length=True) == 1):
            labels[idx] = np.arange(len(idx))  # no two points close: every point its own class
            return labels if return_labels else idx
        nbrs = tree.query_ball_point(X, r=radii, p=np.inf)
        rows = np.repeat(np.arange(len(idx)), [len(v) for v in nbrs])
        cols = np.concatenate([np.asarray(v, dtype=int) for v in nbrs]) if len(nbrs) else np.zeros(0, int)
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(idx), len(idx)))
        _, comp = connected_components(graph, directed=False)
        # relabel components by first occurrence
        _, first_pos, inverse = np.unique(comp, return_index=True, return_inverse=True)
        order = np.argsort(first_pos)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        labels[idx] = rank[inverse]
    if return_labels:
        return labels
    reps = np.unique(labels[labels >= 0], return_index=True)[1] if idx.size else np.zeros(0, int)
    valid = np.flatnonzero(labels >= 0)
    return np.sort(valid[reps]) if idx.size else np.zeros(0, dtype=int)


class PointSet:
    """A growing set of distinct points (keys) with their payload (e.g. the solutions z)."""

    def __init__(self, key_dim: int, value_dim: int, tol: float = 1e-7) -> None:
        self.tol = tol
        self.keys = np.zeros((0, key_dim), dtype=complex)
        self.values = np.zeros((0, value_dim), dtype=complex)
        self._tree: cKDTree | None = None

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def add(self, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Add the points not already present; returns the indices (into the input) that were new."""
        keys = np.asarray(keys, dtype=complex).reshape(len(values), -1)
        values = np.asarray(values, dtype=complex)
        if len(keys) == 0:
            return np.zeros(0, dtype=int)
        reps = deduplicate(keys, tol=self.tol)  # distinct among themselves, finite
        if len(self) and reps.size:
            if self._tree is None:
                from scipy.spatial import cKDTree

                self._tree = cKDTree(_real(self.keys))
            hits = self._tree.query_ball_point(_real(keys[reps]), r=_radii(keys[reps], self.tol), p=np.inf)
            reps = reps[np.array([len(h) == 0 for h in hits], dtype=bool)]
        if reps.size:
            self.keys = np.concatenate([self.keys, keys[reps]])
            self.values = np.concatenate([self.values, values[reps]])
            self._tree = None
        return reps

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Boolean mask: which keys are (up to tol) already in the set."""
        keys = np.asarray(keys, dtype=complex).reshape(len(keys), -1)
        if len(self) == 0 or len(keys) == 0:
            return np.zeros(len(keys), dtype=bool)
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(_real(self.keys))
        hits = self._tree.query_ball_point(_real(keys), r=_radii(keys, self.tol), p=np.inf)
        return np.array([len(h) > 0 for h in hits], dtype=bool)


__all__ = ["deduplicate", "PointSet"]
