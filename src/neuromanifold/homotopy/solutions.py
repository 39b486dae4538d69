"""Deduplication of numerical solutions: points of C^k equal up to a relative tolerance.

Two points a, b are identified when |a - b|_inf <= tol (1 + |a|_inf).  Neighbours are found on the
real embedding C^k = R^{2k}: by direct comparison of all pairs for small sets (up to ``PAIRWISE_LIMIT``
pairs; no scipy import, which is most of a short command's start-up), by a k-d tree above that
(N points cost O(N log N)).  The classes are the connected components of the "close" graph.
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


PAIRWISE_LIMIT = 250_000  # query x stored pairs compared directly (numpy); a k-d tree above


def _close_pairs(X: np.ndarray, radii: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with max_c |X[i, c] - Y[j, c]| <= radii[i] (rows of real coordinates), all pairs
    compared coordinate by coordinate: the same relation as ``cKDTree(Y).query_ball_point(X, radii,
    p=inf)``."""
    dist = np.zeros((X.shape[0], Y.shape[0]))
    for c in range(X.shape[1]):
        np.maximum(dist, np.abs(X[:, c, None] - Y[None, :, c]), out=dist)
    return np.nonzero(dist <= radii[:, None])


def _components(n: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Connected components of the undirected graph on 0..n-1 with edges (rows[e], cols[e]), labelled
    by their smallest vertex (union-find; the edges are few: close pairs of numerical solutions)."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(rows.tolist(), cols.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(a) for a in range(n)], dtype=int)


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
        X = _real(flat[idx])
        radii = _radii(flat[idx], tol)
        n = len(idx)
        if n * n <= PAIRWISE_LIMIT:
            rows, cols = _close_pairs(X, radii, X)
            off = rows != cols
            rows, cols = rows[off], cols[off]
            if rows.size == 0:
                labels[idx] = np.arange(n)  # no two points close: every point its own class
                return labels if return_labels else idx
            comp = _components(n, rows, cols)
        else:
            from scipy.spatial import cKDTree

            tree = cKDTree(X)
            if np.all(tree.query_ball_point(X, r=radii, p=np.inf, return_length=True) == 1):
                labels[idx] = np.arange(n)  # no two points close: every point its own class
                return labels if return_labels else idx
            nbrs = tree.query_ball_point(X, r=radii, p=np.inf)
            rows = np.repeat(np.arange(n), [len(v) for v in nbrs])
            cols = np.concatenate([np.asarray(v, dtype=int) for v in nbrs]) if len(nbrs) else np.zeros(0, int)
            from scipy.sparse import coo_matrix
            from scipy.sparse.csgraph import connected_components

            graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
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
            reps = reps[~self.contains(keys[reps])]
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
        X, radii = _real(keys), _radii(keys, self.tol)
        if len(keys) * len(self) <= PAIRWISE_LIMIT:
            found = np.zeros(len(keys), dtype=bool)
            found[_close_pairs(X, radii, _real(self.keys))[0]] = True
            return found
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(_real(self.keys))
        hits = self._tree.query_ball_point(X, r=radii, p=np.inf)
        return np.array([len(h) > 0 for h in hits], dtype=bool)


__all__ = ["deduplicate", "PointSet"]
