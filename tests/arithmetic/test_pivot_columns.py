"""pivot_columns (numpy) chooses the same columns as LAPACK's QR with column pivoting (scipy)."""

import numpy as np
import pytest
import scipy.linalg

from neuromanifold.arithmetic.rank import pivot_columns


@pytest.mark.parametrize("complex_", [False, True])
def test_same_pivots_as_lapack(complex_):
    rng = np.random.default_rng(7)
    for t in range(60):
        D, N = int(rng.integers(2, 25)), int(rng.integers(2, 25))
        k = min(D, N, int(rng.integers(1, 8)))
        A = rng.standard_normal((D, N)) + (1j * rng.standard_normal((D, N)) if complex_ else 0)
        A[:, : N // 2] *= 10.0 ** -rng.integers(0, 4)  # badly scaled columns
        lapack = scipy.linalg.qr(A, pivoting=True, mode="economic")[2][:k]
        assert pivot_columns(A, k).tolist() == lapack.tolist()


def test_dependent_columns_are_not_chosen_twice():
    a = np.array([1.0, 2.0, 3.0])
    A = np.stack([a, 2 * a, np.array([0.0, 1.0, 0.0])], axis=1)  # rank 2
    piv = pivot_columns(A, 2)
    assert sorted(piv.tolist()) in ([1, 2], [0, 2])
    assert np.linalg.matrix_rank(A[:, piv]) == 2
