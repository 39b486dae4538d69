"""Exact (modular) count of the ED degree: a Groebner basis of the critical ideal over GF(p).

On a coordinate slice of parameter space with *integer* frozen values (the free coordinates z of the
numerical critical system, ``critical_system``), at a random data point u over GF(p), the ideal

    I = < J_c(z)^T (Q c(z) - Q u),  1 - t * Delta(z) >  in  GF(p)[z, t],
    Delta(z) = det(R^T J_c(z)) * l0(c(z))          (R a random D x k matrix, l0 a random linear form)

has as zeros (over the algebraic closure) the critical points of the squared distance |c - u|_Q^2 at
which J_c has rank k and c(z) != 0 (the Rabinowitsch variable t removes critical points of the
parametrization and the zero function; a smooth critical point is lost only if Delta vanishes there,
probability <= deg(Delta) / p per point).  When I is zero-dimensional, GF(p)[z, t] / I is a finite
vector space (basis: the standard monomials of a grevlex Groebner basis, sympy), and the eigenvalues of
multiplication by l(c(z)) (l a random linear form) are the values of l at the image points c(z) of M:
their number of distinct values, the degree of the squarefree part of the characteristic polynomial
(python-flint), is the number of distinct critical points of M (several slice points over one function
count once), unless l takes one value at two distinct images (probability <= n^2 / (2 p)).

The Groebner basis runs in a child process (forked) under a time limit, so that a too-large case is
refused with a reason instead of hanging; a Bezout-number guard refuses hopeless cases before that.
Measured seconds per prime (sympy 1.14, one core; Bezout number in brackets): linear (2,1,2) [27] 0.01,
(3,1,3) [243] 0.15, (4,1,4) [2187] 5.4, (4,2,3) [59049] > 120; mlp (2,1,1) r=3 [49] 0.25, r=4 3;
mlp (3,1,1) r=2 [125] 0.7 (euclidean), 0.02 (bombieri_weyl), > 100 (generic); mlp (2,2,1,1) r=2 [729] 10
(euclidean), [1210] 40 (bombieri_weyl); cnn k=(3,2) [625] 98 (bombieri_weyl).  The Bezout number is a
coarse predictor (the metric matters more), so the time limit is the real guard.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from itertools import combinations
from typing import Any, Sequence

import numpy as np

from ..arithmetic.modular import is_prime
from ..errors import InputError

EXACT_BEZOUT_LIMIT = 2500  # Bezout number of J_c^T (Q c - Q u) = 0 above which the exact route is not tried
EXACT_SECONDS = 60.0  # wall-clock limit of one modular count (child process)
MAX_QUOTIENT_DIMENSION = 3000  # standard monomials beyond this: not applied (dense matrix too large)
FROZEN_VALUES = (1, -1, 2, -2, 3, -3)  # integer frozen coordinates of the exact slice
SLICE_ATTEMPTS = 8


def _int_coefficients(C: np.ndarray) -> list[list[int]]:
    """The coefficient matrix of the coefficient map as Python integers (it is exact over Z)."""
    C = np.asarray(C)
    if np.any(np.abs(np.imag(C)) > 0) or np.any(np.abs(np.real(C)) >= 2.0**52):
        raise InputError("the coefficient map is not given by small integer coefficients; no exact route")
    R = np.real(C)
    if np.any(R != np.round(R)):
        raise InputError("the coefficient map has non-integer coefficients; no exact route")
    return [[int(v) for v in row] for row in np.round(R).astype(object)]


def metric_mod_p(monomials: Sequence[tuple[int, tuple[int, ...]]], metric: str, p: int,
                 rng: np.random.Generator) -> list[list[int]]:
    """The metric Q over GF(p): the identity (euclidean), diag(1 / multinomial(alpha, d - |alpha|))
    (bombieri_weyl, as in ``metric_matrix``: rational, reduced mod p), or a random symmetric matrix
    (generic: the ED degree is the same for every Q off a proper Zariski-closed set)."""
    D = len(monomials)
    if metric == "euclidean":
        return [[int(a == b) for b in range(D)] for a in range(D)]
    if metric == "bombieri_weyl":
        d = max((sum(a) for _, a in monomials), default=0)
        Q = [[0] * D for _ in range(D)]
        for i, (_, a) in enumerate(monomials):
            alpha = tuple(a) + (d - sum(a),)
            m = math.factorial(sum(alpha)) // math.prod(math.factorial(x) for x in alpha)
            if m % p == 0:
                raise InputError(f"the prime {p} divides a Bombieri-Weyl weight; use a larger prime")
            Q[i][i] = pow(m, -1, p)
        return Q
    if metric == "generic":
        A = rng.integers(0, p, (D, D)).tolist()
        return [[(int(A[a][b]) + int(A[b][a])) % p for b in range(D)] for a in range(D)]
    raise InputError(f"unknown metric {metric!r}")


def _random_prime(rng: np.random.Generator, avoid: Sequence[int]) -> int:
    """A random prime in [2^30, 2^31) not in ``avoid``."""
    while True:
        q = int(rng.integers(1 << 30, 1 << 31)) | 1
        if q not in avoid and is_prime(q):
            return q


def exact_problem(cmap: Any, free: Sequence[int], metric: str, p: int, rng: np.random.Generator) -> dict[str, Any]:
    """The data of one modular count as plain Python objects (picklable for the child process): c(z) on a
    coordinate slice with the free coordinates ``free`` and random integer frozen values (redrawn until
    J_c has rank k at a random point over GF(p), i.e. the slice maps dominantly onto M), the metric Q,
    the data point u, R, l0, l (random over GF(p))."""
    E = np.asarray(cmap.polynomials.exponents, dtype=int)
    C = _int_coefficients(cmap.polynomials.coefficients)
    N, free = E.shape[1], [int(i) for i in free]
    k, D = len(free), len(C)
    fixed = [i for i in range(N) if i not in set(free)]
    for attempt in range(SLICE_ATTEMPTS):
        frozen = {i: int(rng.choice(FROZEN_VALUES)) for i in fixed}
        # c_a(z) = sum_t C[a][t] * prod_{i fixed} frozen_i^E[t, i] * z^E[t, free]
        polys: list[dict[tuple[int, ...], int]] = [dict() for _ in range(D)]
        for t in range(E.shape[0]):
            f = math.prod(frozen[i] ** int(E[t, i]) for i in fixed if E[t, i])
            e = tuple(int(E[t, i]) for i in free)
            for a in range(D):
                if C[a][t]:
                    polys[a][e] = (polys[a].get(e, 0) + C[a][t] * f) % p
        polys = [{e: v for e, v in P.items() if v} for P in polys]
        z = [int(v) for v in rng.integers(1, p, k)]
        if _jacobian_rank(polys, z, k, p) == k:
            break
    else:
        raise InputError(f"no integer coordinate slice on the free coordinates {free} maps onto M with full "
                         f"rank over GF({p}) ({SLICE_ATTEMPTS} attempts)")
    Q = metric_mod_p(cmap.monomials, metric, p, rng)
    return {
        "p": int(p), "k": k, "D": D, "c": polys, "Q": Q,
        "u": [int(v) for v in rng.integers(0, p, D)],
        "R": [[int(v) for v in row] for row in rng.integers(1, p, (D, k))],
        "l0": [int(v) for v in rng.integers(1, p, D)],
        "l": [int(v) for v in rng.integers(1, p, D)],
        "frozen": {str(i): v for i, v in frozen.items()},
        "slice_attempts": attempt + 1,
    }


def _jacobian_rank(polys: list[dict[tuple[int, ...], int]], z: list[int], k: int, p: int) -> int:
    """Rank over GF(p) of J_c at the point z."""
    import flint

    rows = []
    for P in polys:
        row = []
        for j in range(k):
            s = 0
            for e, v in P.items():
                if e[j]:
                    term = v * e[j] * pow(z[j], e[j] - 1, p)
                    for i in range(k):
                        if i != j and e[i]:
                            term = term * pow(z[i], e[i], p) % p
                    s = (s + term) % p
            row.append(s)
        rows.append(row)
    return int(flint.nmod_mat(rows, p).rank()) if rows else 0


def _det(M: list[list[Any]], one: Any) -> Any:
    """Determinant of a square matrix over a commutative ring, by Laplace expansion along the rows with
    minors memoised by column subset (O(k 2^k) ring operations, division-free)."""
    k = len(M)
    minors: dict[tuple[int, ...], Any] = {(): one}
    for r in range(k):  # minors of the first r + 1 rows, indexed by their column subsets
        new: dict[tuple[int, ...], Any] = {}
        for cols in combinations(range(k), r + 1):
            s = 0 * one
            for pos, c in enumerate(cols):
                rest = cols[:pos] + cols[pos + 1:]
                term = M[r][c] * minors[rest]
                s = s + term if (r - pos) % 2 == 0 else s - term
            new[cols] = s
        minors = new
    return minors[tuple(range(k))]


def count_mod_p(problem: dict[str, Any]) -> dict[str, Any]:
    """The modular count of ``exact_problem``'s data (module docstring): the grevlex Groebner basis of
    I = <J_c^T (Q c - Q u), 1 - t Delta>, its zero-dimensionality, the quotient dimension (solutions with
    multiplicity), and the number of distinct values of l(c(z)) on V(I) (distinct points of M)."""
    import flint
    from sympy.polys.domains import GF
    from sympy.polys.groebnertools import groebner
    from sympy.polys.orderings import grevlex
    from sympy.polys.rings import ring

    t0 = time.perf_counter()
    p, k, D = problem["p"], problem["k"], problem["D"]
    names = [f"z{j}" for j in range(k)] + ["t"]
    Rg, *gens = ring(",".join(names), GF(p), grevlex)
    z, tv = gens[:k], gens[k]

    def lift(P: dict[tuple[int, ...], int]) -> Any:
        return Rg.from_dict({tuple(e) + (0,): v for e, v in P.items()}) if P else Rg.zero

    c = [lift(P) for P in problem["c"]]
    Q, u = problem["Q"], problem["u"]
    Qu = [sum(Q[a][b] * u[b] for b in range(D)) % p for a in range(D)]
    resid = [sum((Q[a][b] * c[b] for b in range(D) if Q[a][b]), Rg.zero) - Qu[a] for a in range(D)]
    J = [[c[a].diff(z[j]) for j in range(k)] for a in range(D)]  # (D, k)
    G = [sum((J[a][j] * resid[a] for a in range(D)), Rg.zero) for j in range(k)]
    Rm = problem["R"]
    RtJ = [[sum((Rm[a][i] * J[a][j] for a in range(D)), Rg.zero) for j in range(k)] for i in range(k)]
    delta = _det(RtJ, Rg.one) * sum((problem["l0"][a] * c[a] for a in range(D)), Rg.zero)
    gens_I = [g for g in G if g] + [Rg.one - tv * delta]
    t1 = time.perf_counter()
    gb = groebner(gens_I, Rg, method="buchberger")
    t2 = time.perf_counter()
    out: dict[str, Any] = {"prime": p, "delta_degree": int(delta.degree()) if delta else 0,
                           "groebner_basis_size": len(gb), "seconds_setup": round(t1 - t0, 3),
                           "seconds_groebner": round(t2 - t1, 3)}
    if len(gb) == 1 and gb[0] == Rg.one:
        out.update(zero_dimensional=True, quotient_dimension=0, distinct_points_of_M=0,
                   seconds=round(time.perf_counter() - t0, 3))
        return out
    lms = [g.LM for g in gb]
    nv = k + 1
    pure = [any(all((m[i] == 0) == (i != v) for i in range(nv)) for m in lms) for v in range(nv)]
    out["zero_dimensional"] = all(pure)
    if not out["zero_dimensional"]:
        out["reason"] = ("the critical ideal (with the Rabinowitsch variable) is not zero-dimensional: a positive-"
                         "dimensional family of smooth critical points over GF(p)")
        return out
    # standard monomials: not divisible by any leading monomial
    basis: list[tuple[int, ...]] = []
    seen = {(0,) * nv}
    frontier = [(0,) * nv]
    while frontier:
        m = frontier.pop()
        if any(all(m[i] >= lm[i] for i in range(nv)) for lm in lms):
            continue
        basis.append(m)
        if len(basis) > MAX_QUOTIENT_DIMENSION:
            out["reason"] = f"the quotient ring has more than {MAX_QUOTIENT_DIMENSION} standard monomials"
            return out
        for i in range(nv):
            n = m[:i] + (m[i] + 1,) + m[i + 1:]
            if n not in seen:
                seen.add(n)
                frontier.append(n)
    basis.sort()
    index = {m: i for i, m in enumerate(basis)}
    n = len(basis)
    lc = sum((problem["l"][a] * c[a] for a in range(D)), Rg.zero).rem(gb)
    M = [[0] * n for _ in range(n)]
    for j, m in enumerate(basis):
        f = (Rg.from_dict({m: 1}) * lc).rem(gb)
        for e, v in f.items():
            M[index[e]][j] = int(v) % p
    chi = flint.nmod_mat(M, p).charpoly()
    g = chi.gcd(chi.derivative())
    out.update(quotient_dimension=n, distinct_points_of_M=int(chi.degree() - g.degree()),
               seconds=round(time.perf_counter() - t0, 3))
    return out


def _child(problem: dict[str, Any], conn: Any) -> None:
    try:
        conn.send(count_mod_p(problem))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as a reason
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def run_with_limit(problem: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``count_mod_p`` in a forked child process stopped after ``seconds`` (the parent ends the child it
    started, by its handle); inline when fork is unavailable (then only the Bezout guard limits the cost)."""
    try:
        mp = multiprocessing.get_context("fork")
    except ValueError:
        return count_mod_p(problem)
    recv, send = mp.Pipe(duplex=False)
    proc = mp.Process(target=_child, args=(problem, send), daemon=True)
    try:
        proc.start()
    except (AssertionError, OSError):  # e.g. inside a daemonic worker process: no children allowed
        send.close()
        recv.close()
        return count_mod_p(problem)
    send.close()
    t0 = time.monotonic()
    try:
        while True:
            if recv.poll(0.05):
                res = recv.recv()
                break
            if not proc.is_alive():
                res = {"error": f"the child process ended without a result (exit code {proc.exitcode})"}
                break
            if time.monotonic() - t0 > seconds:
                res = {"timeout": True, "reason": f"the Groebner basis took longer than {seconds:g} s"}
                break
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        recv.close()
    return res


METHOD = ("grevlex Groebner basis (sympy, Buchberger) of the critical ideal with a Rabinowitsch variable over "
          "GF(p), standard monomials, multiplication matrix of a random linear form l(c), squarefree part of its "
          "characteristic polynomial (python-flint); one independent integer slice and data point per prime")
_METRIC_TEXT = {
    "euclidean": "the identity (the same metric as the numerical count)",
    "bombieri_weyl": "diag(1 / multinomial) reduced mod p (the same metric as the numerical count)",
    "generic": "a random symmetric matrix over GF(p) (the generic ED degree is the same for every Q off a proper "
               "Zariski-closed set, so it need not be the numerical run's Q)",
}

ARGUMENT = (
    "Over GF(p), at a random data point u, on a coordinate slice with random integer frozen values (checked "
    "dominant: rank J_c = k at a random point over GF(p)), the grevlex Groebner basis of <J_c^T (Q c - Q u), "
    "1 - t det(R^T J_c) l0(c)> is zero-dimensional and the number of distinct eigenvalues of multiplication by "
    "a random linear form l(c) on the quotient is the number of distinct smooth critical points of M over the "
    "algebraic closure of GF(p).  It equals the ED degree (characteristic 0) unless (i) p is one of finitely "
    "many bad primes of the problem (where reduction mod p of the generic Groebner basis over Z, or of the "
    "discriminant separating the critical points, degenerates), or (ii) a random choice is special: u on the ED "
    "discriminant or the slice image missing a critical point (proper hypersurfaces: probability O(deg / p)), "
    "Delta vanishing at a true critical point (<= deg(Delta) / p per point), l not separating two images "
    "(<= n^2 / (2p)).  The two primes (the analysis prime and a random one, both near 2^31) use independent "
    "slices, u, R, l0, l; a miscount must happen in both, by the same amount, to go unnoticed.  This is a "
    "probabilistic certificate (Monte Carlo over random choices, and no proof that neither prime is bad), "
    "not a proof."
)


def exact_ed_counts(cmap: Any, free: Sequence[int], k: int, metric: str, primes: Sequence[int],
                    rng: np.random.Generator, bezout_number: int, *, seconds: float | None = None,
                    bezout_limit: int | None = None) -> dict[str, Any]:
    """Modular counts of the ED degree at ``primes`` (one independent slice and data point each):
    {"applied": bool, "value": the common count or None, "runs": [...], "agree": bool, "argument": ...}
    or {"applied": False, "reason": "not applied: ..."} when the cost guard refuses (limits: ``seconds`` per
    prime, default EXACT_SECONDS; ``bezout_limit``, default EXACT_BEZOUT_LIMIT)."""
    seconds = EXACT_SECONDS if seconds is None else float(seconds)
    bezout_limit = EXACT_BEZOUT_LIMIT if bezout_limit is None else int(bezout_limit)
    if bezout_number > bezout_limit:
        return {"applied": False, "reason": (
            f"not applied: the critical system has Bezout number {bezout_number} > {bezout_limit} (the limit "
            "of the sympy Groebner basis route)")}
    runs: list[dict[str, Any]] = []
    for p in primes:
        problem = exact_problem(cmap, free, metric, int(p), rng)
        res = run_with_limit(problem, seconds)
        res.setdefault("prime", int(p))
        res["slice_frozen_values"] = problem["frozen"]
        runs.append(res)
        if "distinct_points_of_M" not in res:
            why = res.get("reason") or res.get("error") or "no count"
            return {"applied": False, "runs": runs, "reason": f"not applied: over GF({p}): {why}"}
    values = [r["distinct_points_of_M"] for r in runs]
    agree = len(set(values)) == 1
    return {"applied": True, "value": values[0] if agree else None, "counts": values, "agree": agree,
            "runs": runs, "method": METHOD, "metric_over_GF(p)": _METRIC_TEXT[metric], "argument": ARGUMENT}


def exact_primes(prime: int, rng: np.random.Generator) -> list[int]:
    """Two primes near 2^31: the analysis prime (when it is at least 2^30; a small prime would make the
    probabilistic bounds of the module docstring useless) and independent random ones in [2^30, 2^31)."""
    primes = [int(prime)] if prime >= 1 << 30 else []
    while len(primes) < 2:
        primes.append(_random_prime(rng, primes))
    return primes


__all__ = ["count_mod_p", "exact_problem", "exact_ed_counts", "exact_primes", "metric_mod_p",
           "EXACT_BEZOUT_LIMIT", "EXACT_SECONDS"]
