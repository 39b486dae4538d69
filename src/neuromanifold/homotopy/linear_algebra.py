"""Batched dense linear algebra for the tracker: x = A^{-1} b for A (B, n, n) by LU with partial
pivoting P A = L U (``batched_solve``; ``lu_factor`` once, ``lu_solve`` for many right-hand sides),
the row-equilibrated condition number cond_2(D A), and the norm |x|_inf of each row.

The solves run on torch's batched LAPACK (2-3x faster than numpy's per-matrix loop) on one intra-op
thread (``runtime.torch.one_thread``: the tracker parallelises over chunks of paths instead); a
matrix that is exactly singular gives NaN in its solutions rather than an error.
"""

from __future__ import annotations

import numpy as np

from ..runtime.torch import one_thread, torch_module


def batched_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b for A (B, n, n), b (B, n) or (B, n, k) by batched LU (torch's ``solve_ex``);
    rows whose A is singular get NaN."""
    if A.shape[0] == 0:
        return np.zeros(b.shape, dtype=np.result_type(A, b, 1.0))
    torch = torch_module()
    At = torch.from_numpy(np.ascontiguousarray(A))
    bt = torch.from_numpy(np.ascontiguousarray(b))
    with one_thread():
        x, info = torch.linalg.solve_ex(At, bt)
    x = x.numpy()
    info = info.numpy()
    if np.any(info):
        x = x.copy()
        x[info != 0] = np.nan
    return x


def batched_solve_numpy(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``batched_solve`` by numpy's batched LAPACK instead of torch (no torch import: for callers that are often the
    first linear algebra of a process, as a certification); rows whose A is singular get NaN."""
    if A.shape[0] == 0:
        return np.zeros(b.shape, dtype=np.result_type(A, b, 1.0))
    vec = b.ndim == 2
    bb = b[..., None] if vec else b
    try:
        x = np.linalg.solve(A, bb)
    except np.linalg.LinAlgError:
        x = np.empty(np.broadcast_shapes(bb.shape), dtype=np.result_type(A, b, 1.0))
        for i in range(A.shape[0]):
            try:
                x[i] = np.linalg.solve(A[i], bb[i])
            except np.linalg.LinAlgError:
                x[i] = np.nan
    return x[..., 0] if vec else x


def lu_factor(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched LU factorisation with partial pivoting P A = L U of A (B, n, n): returns (LU, pivots)
    for ``lu_solve``; the factor of an exactly singular matrix is NaN (its solves give NaN)."""
    if A.shape[0] == 0:
        return np.array(A, dtype=complex), np.zeros(A.shape[:2], dtype=np.int32)
    torch = torch_module()
    with one_thread():
        LU, piv, info = torch.linalg.lu_factor_ex(torch.from_numpy(np.ascontiguousarray(A)))
    LU, info = LU.numpy(), info.numpy()
    if np.any(info):
        LU[info != 0] = np.nan
    return LU, piv.numpy()


def lu_solve(LU: np.ndarray, piv: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b from ``lu_factor(A)``; b (B, n) or (B, n, k)."""
    if LU.shape[0] == 0:
        return np.zeros(b.shape, dtype=complex)
    vec = b.ndim == 2
    torch = torch_module()
    bt = torch.from_numpy(np.ascontiguousarray(b[..., None] if vec else b))
    with one_thread():
        x = torch.linalg.lu_solve(
            torch.from_numpy(np.ascontiguousarray(LU)), torch.from_numpy(np.ascontiguousarray(piv)), bt
        ).numpy()
    return x[..., 0] if vec else x


def condition_numbers(J: np.ndarray, *, equilibrate: bool = True) -> np.ndarray:
    """cond_2(D J) for a batch (B, n, n), D scaling every row of J to unit norm (so that the
    scaling of the equations does not count); inf where J is singular or not finite."""
    out = np.full(J.shape[0], np.inf)
    ok = np.all(np.isfinite(J.reshape(J.shape[0], -1)), axis=1)
    if np.any(ok):
        with np.errstate(all="ignore"):
            try:
                A = J[ok]
                if equilibrate:
                    rn = np.linalg.norm(A, axis=2, keepdims=True)
                    A = A / np.where(rn > 0, rn, 1.0)
                s = np.linalg.svd(A, compute_uv=False)
                c = s[:, 0] / s[:, -1]
            except np.linalg.LinAlgError:
                c = np.full(int(ok.sum()), np.inf)
        out[ok] = np.where(np.isfinite(c), c, np.inf)
    return out


def _norm(x: np.ndarray) -> np.ndarray:
    """|x_i|_inf of every row of x (B, n); 0 when n = 0."""
    return np.max(np.abs(x), axis=1) if x.shape[1] else np.zeros(x.shape[0])


__all__ = ["batched_solve", "lu_factor", "lu_solve", "condition_numbers"]
