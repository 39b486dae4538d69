"""Deduplication of numerical solutions: the direct pairwise comparison (small sets, no scipy) and the
k-d tree (large sets) identify exactly the same points."""

import numpy as np
import pytest

from neuromanifold.homotopy import solutions
from neuromanifold.homotopy.solutions import PointSet, deduplicate


def _clustered(rng, n_centres=40, k=3, copies=3, spread=1e-9):
    """Points of C^k in clusters (copies within ``spread``) plus chains a..b..c where only
    neighbours are close (a transitive class), and non-finite points."""
    centres = (rng.standard_normal((n_centres, k)) + 1j * rng.standard_normal((n_centres, k))) * 3
    pts = np.repeat(centres, copies, axis=0) + spread * rng.standard_normal((n_centres * copies, k))
    chain = centres[0] + 10.0 + np.arange(4)[:, None] * 0.9e-7 * (1 + 13.0)  # steps just below tol (1 + |x|)
    pts = np.concatenate([pts, chain, [[np.nan] * k, [np.inf] * k]])
    return pts[rng.permutation(len(pts))]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairwise_and_tree_agree(monkeypatch, seed):
    pts = _clustered(np.random.default_rng(seed))
    direct = deduplicate(pts, tol=1e-7, return_labels=True)
    reps_direct = deduplicate(pts, tol=1e-7)
    monkeypatch.setattr(solutions, "PAIRWISE_LIMIT", 0)  # force the k-d tree
    tree = deduplicate(pts, tol=1e-7, return_labels=True)
    reps_tree = deduplicate(pts, tol=1e-7)
    assert np.array_equal(direct, tree)
    assert np.array_equal(reps_direct, reps_tree)
    assert (direct == -1).sum() == 2  # the non-finite points are never merged
    n_classes = len(set(direct[direct >= 0].tolist()))
    assert n_classes < len(pts) - 2  # clusters were merged
    assert len(reps_direct) == n_classes


def test_chain_is_one_class():
    x = np.array([[1.0], [1.0 + 1.5e-7], [1.0 + 3e-7]], dtype=complex)  # 0~1, 1~2, 0 !~ 2 at tol 1e-7
    assert deduplicate(x, tol=1e-7, return_labels=True).tolist() == [0, 0, 0]
    assert deduplicate(x, tol=1e-8, return_labels=True).tolist() == [0, 1, 2]


@pytest.mark.parametrize("limit", [solutions.PAIRWISE_LIMIT, 0])
def test_point_set_membership(monkeypatch, limit):
    monkeypatch.setattr(solutions, "PAIRWISE_LIMIT", limit)
    rng = np.random.default_rng(3)
    base = rng.standard_normal((50, 2)) + 1j * rng.standard_normal((50, 2))
    s = PointSet(2, 2, tol=1e-7)
    assert s.add(base, base).tolist() == list(range(50))
    near = base[:5] + 1e-10
    far = base[:5] + 1e-3
    assert s.contains(np.concatenate([near, far])).tolist() == [True] * 5 + [False] * 5
    new = s.add(np.concatenate([near, far]), np.concatenate([near, far]))
    assert new.tolist() == [5, 6, 7, 8, 9] and len(s) == 55
