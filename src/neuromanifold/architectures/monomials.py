"""Monomial bases of the linear function spaces that contain neuromanifolds, and the check that
evaluation at sample inputs is injective on them (a Vandermonde-type rank)."""

from __future__ import annotations

from itertools import combinations_with_replacement
from typing import Any

import numpy as np

MONOMIAL_LIMIT = 20000  # largest monomial basis we list


def monomials_of_degree(n: int, degree: int) -> np.ndarray:
    """Exponent vectors (m, n) of all monomials of the given degree in n variables."""
    rows = []
    for combo in combinations_with_replacement(range(n), degree):
        e = np.zeros(n, dtype=np.int64)
        for i in combo:
            e[i] += 1
        rows.append(e)
    return np.array(rows, dtype=np.int64).reshape(-1, n)


def monomial_matrix(points: Any, exponents: np.ndarray, *, p: int | None = None) -> np.ndarray:
    """[x_s^e_m]: rows are sample points (S, n), columns monomials; exact mod p when p is given."""
    pts = np.asarray(points)
    S, n = pts.shape
    maxdeg = int(exponents.max()) if exponents.size else 0
    if p is not None:
        pts = pts.astype(np.int64) % p
        M = np.ones((S, len(exponents)), dtype=np.int64)
    else:
        M = np.ones((S, len(exponents)), dtype=pts.dtype)
    for i in range(n):
        table = [np.ones(S, dtype=M.dtype)]
        for _ in range(maxdeg):
            nxt = table[-1] * pts[:, i]
            table.append(nxt % p if p is not None else nxt)
        powers = np.stack(table, axis=1)  # (S, maxdeg + 1)
        M = M * powers[:, exponents[:, i]]
        if p is not None:
            M %= p
    return M


def evaluation_injective(arch: Any, X: np.ndarray, *, p: int | None = None) -> tuple[bool | None, dict[str, Any]]:
    """Is evaluation at the sample inputs X (``input_shape`` layout, numpy) injective on the
    monomial space containing M?  Exact over Z/p when p is given (then it holds over Q too, for
    integer inputs), else numerical (SVD gap).  None when no monomial basis is known."""
    monos = arch.containing_monomials()
    if monos is None:
        return None, {"checked": False, "reason": "no monomial basis of a containing space is listed"}
    pts = arch.flat_inputs(X)
    ranks, sizes = [], []
    seen: dict[int, tuple[int, int]] = {}
    for e in monos:
        if id(e) not in seen:
            M = monomial_matrix(pts, e, p=p)
            if p is not None:
                from ..arithmetic import rank_mod_p

                r = rank_mod_p(M, p)
            else:
                from ..arithmetic.rank import numerical_rank

                r = numerical_rank(M).rank
            seen[id(e)] = (r, len(e))
        r, m = seen[id(e)]
        ranks.append(r)
        sizes.append(m)
    ok = all(r == m for r, m in zip(ranks, sizes))
    return ok, {
        "checked": True,
        "exact_mod_p": p,
        "samples": int(pts.shape[0]),
        "monomials_per_output": sorted(set(sizes)),
        "injective": ok,
        "meaning": "evaluation at the samples is injective on the span of the monomials that can occur in M",
    }
