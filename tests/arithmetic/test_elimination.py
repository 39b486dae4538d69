"""Blocked elimination over Z/p (issue 21 part 1): the rank equals python-flint's on matrices of known rank,
including dependent and zero columns, panels of partial rank and both orientations; Karatsuba products are exact."""

import numpy as np
import pytest

from neuromanifold.arithmetic import elimination
from neuromanifold.arithmetic.elimination import rank_blocked
from neuromanifold.arithmetic.modular import DEFAULT_PRIME, matmul_mod, rank_mod_p

P = DEFAULT_PRIME


def _low_rank(rng, m, n, r, p=P):
    A = rng.integers(0, p, (m, r)).astype(object).dot(rng.integers(0, p, (r, n)).astype(object)) % p
    return A.astype(np.int64)


def _flint_rank(A, p=P):
    import flint

    return int(flint.nmod_mat((A % p).tolist(), p).rank())


@pytest.mark.parametrize("shape", [(60, 45, 30), (45, 60, 44), (80, 80, 80), (30, 90, 7), (90, 30, 29), (50, 50, 0)])
def test_rank_blocked_matches_flint(shape, monkeypatch):
    monkeypatch.setattr(elimination, "PANEL", 16)  # many panels and recursion levels on a small matrix
    monkeypatch.setattr(elimination, "BASE", 4)
    monkeypatch.setattr(elimination, "ROW_BLOCK", 7)
    rng = np.random.default_rng(sum(shape))
    m, n, r = shape
    A = _low_rank(rng, m, n, r) if r else np.zeros((m, n), dtype=np.int64)
    if n > 8 and r:
        A[:, 3] = 0  # a zero column
        A[:, 5] = A[:, 7] * 3 % P  # a dependent column inside a panel
        A[:, n - 1] = A[:, 0]  # a column depending on an earlier panel
    expected = _flint_rank(A)
    assert rank_blocked(A, P) == expected
    assert rank_blocked(A.T.copy(), P) == expected


def test_rank_blocked_small_prime_and_unreduced_input(monkeypatch):
    monkeypatch.setattr(elimination, "PANEL", 8)
    rng = np.random.default_rng(3)
    p = 101  # small prime: many accidental zeros and pivots that vanish
    A = rng.integers(-500, 500, (40, 33))
    assert rank_blocked(A, p) == _flint_rank(A % p, p)
    B = _low_rank(rng, 40, 33, 20, p)
    assert rank_blocked(B, p) == _flint_rank(B, p) == 20


def test_rank_mod_p_dispatches_large_matrices(monkeypatch):
    import neuromanifold.arithmetic.modular as modular

    calls = []
    real = elimination.rank_blocked
    monkeypatch.setattr(elimination, "rank_blocked", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(modular, "FLINT_RANK_ENTRIES", 100)
    A = _low_rank(np.random.default_rng(5), 30, 20, 13)
    assert rank_mod_p(A, P) == 13 and calls == [1]


def test_karatsuba_matmul_is_exact_at_the_limits():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, P, (3, 700)), rng.integers(0, P, (700, 4))
    expected = (np.array(a, dtype=object).dot(np.array(b, dtype=object)) % P).astype(np.int64)
    assert np.array_equal(matmul_mod(a, b, P), expected)
    worst = np.full((1, 1 << 19), P - 1, dtype=np.int64)  # the largest inner dimension done in one piece
    assert matmul_mod(worst, worst.T.copy(), P)[0, 0] == (P - 1) ** 2 * (1 << 19) % P
