"""Rank of large matrices over Z/p (p < 2^31) by blocked Gaussian elimination with BLAS-speed updates.

The matrix is eliminated in column panels.  Each panel's rank k, k independent rows P and columns Q are found by
recursive halving (the right half is reduced by the left half's pivots before it is searched, so the pivots of
both halves together index an invertible k x k block K: its Schur complement is the right half's pivot block);
the rows outside P are then reduced, on every later column, by  A_rest -= (A_rest[:, Q] K^-1) A[P, :],  a product
computed exactly with ``matmul_mod`` in row blocks (memory: the matrix plus a few row blocks).  Rank over Z/p
is exact and bounds the rank over Q from below.  Against python-flint's ``nmod_mat.rank``, which needs the
matrix as Python integers (about 40 bytes an entry), this keeps 8 bytes an entry and runs the updates as
float64 GEMMs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .modular import matmul_mod

PANEL = 256  # columns eliminated per panel
BASE = 64  # panels this narrow are searched by plain elimination
ROW_BLOCK = 1024  # rows per exact product in the trailing update (temporaries: a few row blocks)


def _inverse_mod(K: np.ndarray, p: int) -> np.ndarray:
    """K^-1 over Z/p for a small invertible matrix (python-flint)."""
    import flint

    inv = flint.nmod_mat(K.tolist(), p).inv()
    return np.fromiter(map(int, inv.entries()), dtype=np.int64, count=K.size).reshape(K.shape)


def _search_plain(B: np.ndarray, p: int) -> tuple[list[int], list[int]]:
    """Independent rows and columns (P, Q) of a narrow block with |P| = |Q| = rank, by Gauss-Jordan on a copy."""
    B = B.copy()
    used = np.zeros(B.shape[0], dtype=bool)
    rows: list[int] = []
    cols: list[int] = []
    for j in range(B.shape[1]):
        nz = np.flatnonzero((B[:, j] != 0) & ~used)
        if nz.size == 0:
            continue
        r = int(nz[0])
        used[r] = True
        rows.append(r)
        cols.append(j)
        f = B[:, j] * pow(int(B[r, j]), -1, p) % p
        f[r] = 0
        if j + 1 < B.shape[1]:
            B[:, j + 1 :] = (B[:, j + 1 :] - (f[:, None] * B[r, j + 1 :][None, :]) % p) % p
    return rows, cols


def _search(B: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """(P, Q) for a block B: rank(B) independent rows and columns whose square block is invertible."""
    m, n = B.shape
    if n <= BASE or m == 0:
        r, c = _kernels()["search"](np.array(B, dtype=np.int64), p)  # a copy: B is a view of the caller's matrix
        return np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64)
    h = n // 2
    P1, Q1 = _search(B[:, :h], p)
    rest = np.setdiff1d(np.arange(m), P1, assume_unique=True)
    right = B[rest, h:]
    if P1.size:
        M = matmul_mod(B[np.ix_(rest, Q1)], _inverse_mod(B[np.ix_(P1, Q1)], p), p)
        right = (right - matmul_mod(M, B[P1, h:], p)) % p
    P2, Q2 = _search(right, p)
    return np.concatenate([P1, rest[P2]]), np.concatenate([Q1, h + Q2])


def _limb_bits(p: int, k: int) -> int:
    """Bits per limb of the multipliers so that limb * residue * k < 2^51: every GEMM sum is exact and the Horner
    step acc * 2^bits + next stays below 2^52, where the float reduction below is exact."""
    return max(1, 51 - (p - 1).bit_length() - max(k - 1, 1).bit_length())


_KERNELS: dict[str, Any] = {}


def _kernels() -> dict[str, Any]:
    """Fused reductions x mod p of float64 arrays (0 <= x < 2^52): q = floor(x / p) from x * (1 / p) is off by at
    most one, so x - q p (exact) needs one correction.  numba when importable (np.fmod costs ~10x), else numpy."""
    if _KERNELS:
        return _KERNELS
    try:
        from numba import njit
    except Exception:  # pragma: no cover - numba is a dependency; numpy below is the fallback
        _KERNELS.update(horner=_horner_numpy, sub=_sub_numpy, search=_search_plain)
        return _KERNELS
    try:  # cached on disk when numba finds a writable place (a second of compilation otherwise, once a process)
        njit(cache=True)(_horner_numpy)
        CACHED = True
    except RuntimeError:  # pragma: no cover - read-only install without a writable cache directory
        CACHED = False

    @njit(cache=CACHED, nogil=True)
    def horner(acc, C, shift, p, inv_p):  # acc = (acc * shift + C) mod p, in place
        for i in range(acc.shape[0]):
            for j in range(acc.shape[1]):
                x = acc[i, j] * shift + C[i, j]
                x -= np.floor(x * inv_p) * p
                if x < 0:
                    x += p
                elif x >= p:
                    x -= p
                acc[i, j] = x

    @njit(cache=CACHED, nogil=True)
    def sub(blk, upd, p):  # blk = (blk - upd) mod p for residues, in place
        for i in range(blk.shape[0]):
            for j in range(blk.shape[1]):
                x = blk[i, j] - upd[i, j]
                blk[i, j] = x + p if x < 0 else x

    @njit(cache=CACHED, nogil=True)
    def search(B, p):  # Gauss elimination of the unused rows on B (int64 residues, in place): pivot rows, columns
        m, n = B.shape
        used = np.zeros(m, np.bool_)
        rows = np.empty(n, np.int64)
        cols = np.empty(n, np.int64)
        k = 0
        for j in range(n):
            r = -1
            for i in range(m):
                if not used[i] and B[i, j] != 0:
                    r = i
                    break
            if r < 0:
                continue
            used[r] = True
            rows[k] = r
            cols[k] = j
            k += 1
            a, b, x0, x1 = B[r, j], p, 1, 0  # inverse of B[r, j] mod p (extended Euclid)
            while b:
                q = a // b
                a, b = b, a - q * b
                x0, x1 = x1, x0 - q * x1
            inv = x0 % p
            for i in range(m):
                if used[i] or B[i, j] == 0:
                    continue
                f = B[i, j] * inv % p
                for jj in range(j + 1, n):
                    x = B[i, jj] - f * B[r, jj] % p
                    B[i, jj] = x + p if x < 0 else x
                B[i, j] = 0
        return rows[:k], cols[:k]

    _KERNELS.update(horner=horner, sub=sub, search=search)
    return _KERNELS


def _horner_numpy(acc: np.ndarray, C: np.ndarray, shift: float, p: float, inv_p: float) -> None:
    acc *= shift
    acc += C
    acc -= np.floor(acc * inv_p) * p
    acc[acc < 0] += p
    acc[acc >= p] -= p


def _sub_numpy(blk: np.ndarray, upd: np.ndarray, p: float) -> None:
    blk -= upd
    blk[blk < 0] += p


def _reduced_product(M: np.ndarray, T: np.ndarray, p: int) -> np.ndarray:
    """(M @ T) mod p as float64 for int64 residues M (m x k) and float64 residues T (k x n): M is cut into limbs of
    ``_limb_bits`` bits, one exact GEMM per limb, combined by Horner's rule with fused reductions."""
    K = _kernels()
    bits = _limb_bits(p, M.shape[1])
    n_limbs = -(-(p - 1).bit_length() // bits)
    mask = (1 << bits) - 1
    acc = np.zeros((M.shape[0], T.shape[1]))
    pf, inv = float(p), 1.0 / p
    for i in reversed(range(n_limbs)):
        limb = ((M >> (bits * i)) & mask).astype(np.float64)
        K["horner"](acc, limb @ T, float(1 << bits), pf, inv)
    return acc


def rank_blocked(A: np.ndarray, p: int, *, progress: bool = False) -> int:
    """Rank over Z/p of an integer matrix by blocked elimination: residues kept as float64 (exact below 2^53), the
    trailing updates as GEMMs on limbs of the multipliers (``_reduced_product``), rows moved only when they become
    pivots.  ``A`` is not modified (memory: one float64 copy plus row blocks)."""
    A = np.asarray(A)
    m, n = A.shape
    F = np.empty((m, n), dtype=np.float64)
    for r0 in range(0, m, ROW_BLOCK):  # reduce and convert in row blocks (no second int64 copy)
        F[r0 : r0 + ROW_BLOCK] = np.asarray(A[r0 : r0 + ROW_BLOCK], dtype=np.int64) % p
    top = 0  # rows [0, top) hold the pivots found so far
    starts = range(0, n, PANEL)
    if progress and len(starts) > 1:
        from ..runtime.progress import Bar

        starts = Bar(starts, desc="rank mod p", unit="panels")
    for c0 in starts:
        if top == m:
            break
        c1 = min(n, c0 + PANEL)
        P, Q = _search(F[top:, c0:c1].astype(np.int64), p)
        k = int(P.size)
        if k == 0:
            continue
        _move_to_top(F, P + top, top, c0)
        if c1 < n:
            piv = F[top : top + k]
            Kinv = _inverse_mod(piv[:, c0 + Q].astype(np.int64), p)
            # T = K^-1 (pivot rows' trailing part): then A_rest -= A_rest[:, Q] T
            T = _reduced_product(Kinv, np.ascontiguousarray(piv[:, c1:]), p)
            for r0 in range(top + k, m, ROW_BLOCK):
                r1 = min(m, r0 + ROW_BLOCK)
                blk = F[r0:r1, c1:]
                _kernels()["sub"](blk, _reduced_product(F[r0:r1, c0 + Q].astype(np.int64), T, p), float(p))
        top += k
    return top


def _move_to_top(F: np.ndarray, rows: np.ndarray, top: int, c0: int) -> None:
    """Swap the rows ``rows`` (indices >= top) into [top, top + len(rows)), in that order, on columns c0 onward
    (earlier columns are finished and never read again)."""
    k = rows.size
    target = np.arange(top, top + k)
    # copy the pivot rows out, move the non-pivot rows found in the target range into the slots the pivot rows
    # leave outside it, then write the pivot rows into the target range
    piv_rows = F[rows, c0:].copy()
    pivot_set = set(rows.tolist())
    displaced = [r for r in target.tolist() if r not in pivot_set]
    vacated = [r for r in rows.tolist() if r >= top + k]
    if displaced:
        F[vacated, c0:] = F[displaced, c0:]
    F[target, c0:] = piv_rows
