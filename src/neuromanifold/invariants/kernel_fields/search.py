"""The search for kernel fields mod p (heuristic, cheap, may fail) and the certificate it gives.

The unknown field is sum c_{m,k} m(theta) e_k over monomials m of degree <= D, for D = 1, 2, ... up to
MAX_DEGREE while the enumeration stays small.  Every grading of f (a weight vector lambda with f
lambda-homogeneous: homogeneity in a parameter array or in all parameters, or the weights of a diagonal
known generator, under which f is invariant) splits the kernel condition into independent classes of
equal weight w(m) - lambda_k, so each class is a small linear system.  Imposing J_S(theta_j) v(theta_j) = 0
mod p at random integer points theta_j gives its nullspace; fields that raise the rank of [G | fields] at
theta_p are lifted to integer coefficients (rational reconstruction) and verified *identically*
(``verification``).  Only verified fields enter the certificate dim M <= N - rank_p [G | V](theta_p); a
field checked only at random points is reported as probabilistic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations_with_replacement
from math import ceil, comb, gcd
from typing import Any

import numpy as np

from ...arithmetic import ModArray, ModP, rank_mod_p
from ...arithmetic.modular import matmul_mod, rational_reconstruction
from ...arithmetic.span import Span
from ...parametrization.evaluation import Parametrization
from .fields import PROBABILISTIC_POINTS, KernelFields, PolynomialField
from .verification import TERM_LIMIT, VERIFY_BUDGET, SymbolicVerifier, VerificationTooLarge

MAX_DEGREE = 4  # largest total degree of the monomials in a searched field (PAIR_LIMIT permitting)
PAIR_LIMIT = 300_000  # largest number of (component, monomial) unknowns enumerated per degree
CLASS_UNKNOWN_LIMIT = 600  # largest linear system (unknowns) solved for one weight class
SEARCH_BUDGET = 3.0  # seconds for the mod-p search
MIN_PRIME = 1 << 24  # smaller primes make random points degenerate and reconstruction useless


def _mix_rows(A: np.ndarray, rows: int, rng: np.random.Generator, p: int) -> np.ndarray:
    """min(rows, A.rows) random linear combinations (16-bit coefficients) of the rows of A mod p.

    Two float64 GEMMs on the 16-bit limbs of A are exact: every partial sum is below
    2^32 * A.rows < 2^53."""
    n = A.shape[0]
    if n >= 1 << 21:
        R = rng.integers(0, p, size=(min(rows, n), n), dtype=np.int64)
        return matmul_mod(R, A % p, p)
    R = rng.integers(0, 1 << 16, size=(min(rows, n), n)).astype(np.float64)
    A = np.asarray(A, dtype=np.int64) % p
    lo = (R @ (A & 0xFFFF).astype(np.float64)).astype(np.int64) % p
    hi = (R @ (A >> 16).astype(np.float64)).astype(np.int64) % p
    return (lo + hi * (1 << 16)) % p


class _Pool:
    """Random integer points theta_j with the exact Jacobian of mu_S and the values mu_S there.

    Rows are replaced by random combinations (R_j J, R_j mu), at most (upper bound on dim M) + 2
    of them: the kernel is kept generically, every leading block of rows is generic, and R_j J and
    R_j mu stay consistent for the homogeneity test.
    """

    def __init__(self, ctx: Any, n_samples: int, max_rank: int):
        self.p = ctx.prime
        self.P = Parametrization(ctx.arch, ModP(self.p), n_samples, ctx.rng("kernel-fields-inputs"))
        self.rng = ctx.rng("kernel-fields-points")
        self.max_rank = max_rank
        self.points: list[np.ndarray] = []
        self.jacobians: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def ensure(self, n: int) -> None:
        p = self.p
        while len(self.points) < n:
            theta = self.rng.integers(0, p, size=self.P.arch.n_params, dtype=np.int64)
            th = ModArray(theta, p, reduced=True)
            J = self.P.jacobian(th) % p
            mu = (self.P.field.to_numpy(self.P(th)).reshape(-1, 1) % p).astype(np.int64)
            JM = _mix_rows(np.concatenate([J, mu], axis=1), self.max_rank + 2, self.rng, p)
            J, mu = JM[:, :-1], JM[:, -1:]
            self.points.append(theta)
            self.jacobians.append(J)
            self.values.append(mu.reshape(-1))


def _homogeneous(pool: _Pool, cols: np.ndarray) -> bool:
    """Is f homogeneous in the parameters ``cols`` (Euler: J[:, cols] theta[cols] = c f)?  Checked at
    two random points; used only to split the search, so an error costs completeness, not rigour."""
    p = pool.p
    pool.ensure(2)
    c_seen = None
    for theta, J, mu in zip(pool.points[:2], pool.jacobians[:2], pool.values[:2]):
        u = matmul_mod(J[:, cols], theta[cols].reshape(-1, 1), p).reshape(-1)
        nz = np.flatnonzero(mu)
        if not len(nz):
            return False
        i = int(nz[0])
        c = int(u[i]) * pow(int(mu[i]), -1, p) % p
        if (c_seen is not None and c != c_seen) or np.any((u - c * mu) % p):
            return False
        c_seen = c
    return True


def _gradings(ctx: Any, pool: _Pool) -> tuple[np.ndarray, list[str]]:
    """Weight vectors lambda (rows) for which f is lambda-homogeneous."""
    arch = ctx.arch
    N = arch.n_params
    rows: list[np.ndarray] = []
    names: list[str] = []
    offs, shapes = arch.offsets(), arch.param_shapes()
    blocks = [(name, np.arange(offs[name], offs[name] + int(np.prod(shapes[name])))) for name in shapes]
    blocks.append(("all parameters", np.arange(N)))
    for name, cols in blocks:
        if len(cols) and _homogeneous(pool, cols):
            lam = np.zeros(N, dtype=np.int64)
            lam[cols] = 1
            rows.append(lam)
            names.append(f"degree in {name}")
    for g in arch.symmetries():
        if g.constant or any(t != s for t, s, _ in g.linear):
            continue
        lam = np.zeros(N, dtype=np.int64)
        for t, _, c in g.linear:
            lam[t] += c
        rows.append(lam)
        names.append(f"weights of the diagonal symmetry: {g.name}")
    if not rows:
        return np.zeros((0, N), dtype=np.int64), names
    return np.array(rows, dtype=np.int64), names


@dataclass
class _Class:
    ks: np.ndarray  # component index per unknown
    mons: np.ndarray  # (unknowns, D) parameter indices, N meaning the constant 1

    @property
    def size(self) -> int:
        return len(self.ks)


def _classes(N: int, D: int, Lam: np.ndarray) -> list[_Class]:
    """Weight classes of the unknowns (monomial of degree <= D, component k) containing a monomial
    of degree exactly D (the others were solved at lower degree), smallest first."""
    mons = np.array(list(combinations_with_replacement(range(N + 1), D)), dtype=np.int64).reshape(-1, D)
    exact = np.all(mons < N, axis=1)
    n_mon = len(mons)
    ks = np.tile(np.arange(N), n_mon)
    mi = np.repeat(np.arange(n_mon), N)
    if Lam.shape[0]:
        Lext = np.concatenate([Lam, np.zeros((Lam.shape[0], 1), dtype=np.int64)], axis=1)
        wm = Lext[:, mons].sum(axis=2).T  # n_mon x l
        # class key: the weight vector w(m) - lambda_k, hashed by a random integer functional
        # (a collision merges two classes, which is still a valid, only larger, system)
        h = np.random.default_rng(D).integers(1, 1 << 40, size=Lam.shape[0], dtype=np.int64)
        keys = (wm @ h)[mi] - (Lam.T @ h)[ks]
        _, inv = np.unique(keys, return_inverse=True)
    else:
        inv = np.zeros(len(ks), dtype=np.int64)
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    out = []
    for grp in np.split(order, bounds):
        if not exact[mi[grp]].any():
            continue
        out.append(_Class(ks[grp], mons[mi[grp]]))
    out.sort(key=lambda c: c.size)
    return out


def _monomial_values(theta: np.ndarray, mons: np.ndarray, p: int) -> np.ndarray:
    th = np.append(theta % p, 1)
    vals = np.ones(len(mons), dtype=np.int64)
    for j in range(mons.shape[1]):
        vals = vals * th[mons[:, j]] % p
    return vals


class _Nullspace:
    """A nullspace basis kept in flint (columns 0..nullity-1 of ``ns``); only the values at a point
    and the columns actually used are converted to numpy."""

    def __init__(self, ns: Any, nullity: int, p: int):
        self.ns, self.nullity, self.p = ns, nullity, p

    def values_at(self, cls: _Class, theta: np.ndarray, N: int) -> np.ndarray:
        """N x nullity matrix of the candidate fields evaluated at theta (mod p)."""
        import flint

        if self.nullity * cls.size <= 50_000:  # few candidates: convert them and evaluate in numpy
            C = np.stack([self.column(j) for j in range(self.nullity)], axis=1)
            W = _monomial_values(theta, cls.mons, self.p)[:, None] * C % self.p
            F = np.zeros((N, self.nullity), dtype=np.int64)
            np.add.at(F, cls.ks, W)  # at most cls.size terms < 2^31 per entry: no overflow
            return F % self.p
        E = np.zeros((N, cls.size), dtype=np.int64)
        E[cls.ks, np.arange(cls.size)] = _monomial_values(theta, cls.mons, self.p)
        F = flint.nmod_mat(E.tolist(), self.p) * self.ns
        return np.array([int(x) for x in F.entries()], dtype=np.int64).reshape(N, -1)[:, : self.nullity]

    def column(self, j: int) -> np.ndarray:
        return np.array([int(self.ns[i, j]) for i in range(self.ns.nrows())], dtype=np.int64)


def _solve_class(cls: _Class, K: np.ndarray, rK: int, pool: _Pool, kf: KernelFields) -> _Nullspace:
    """Basis (mod p) of the coefficient vectors c with J(theta_j) v_c(theta_j) = 0 at enough random
    points theta_j to pin down the class's kernel fields (generically).

    ``K`` are the components the class touches and ``rK`` the generic rank of J[:, K]: each
    point contributes rK independent equations (rK + 1 random row combinations are used)."""
    import flint

    p = pool.p
    if rK == 0:
        return _Nullspace(flint.nmod_mat(np.eye(cls.size, dtype=np.int64).tolist(), p), cls.size, p)
    pos = np.searchsorted(K, cls.ks)
    n_points = ceil((cls.size + 4) / rK) + 1
    pool.ensure(n_points)
    blocks = []
    for j in range(n_points):
        B = pool.jacobians[j][: rK + 1][:, K]
        mv = _monomial_values(pool.points[j], cls.mons, p)
        blocks.append(B[:, pos] * mv[None, :] % p)
    A = np.concatenate(blocks, axis=0)
    kf.classes_solved += 1
    kf.unknowns += cls.size
    if A.size > kf.largest_system[0] * kf.largest_system[1]:
        kf.largest_system = A.shape
    ns, nullity = flint.nmod_mat(A.tolist(), p).nullspace()
    return _Nullspace(ns, int(nullity), p)


def _lift(cls: _Class, c: np.ndarray, p: int, N: int) -> PolynomialField | None:
    """Rational reconstruction of a coefficient vector mod p, scaled to coprime integers."""
    nz = np.flatnonzero(c % p)
    fracs = []
    for u in nz:
        rr = rational_reconstruction(int(c[u]), p)
        if rr is None:
            return None
        fracs.append(rr)
    den = 1
    for _, d in fracs:
        den = den * d // gcd(den, d)
    nums = [n * (den // d) for n, d in fracs]
    g = 0
    for n in nums:
        g = gcd(g, n)
    g = g or 1
    terms = []
    for u, n in zip(nz, nums):
        mono = tuple(int(i) for i in cls.mons[u] if i < N)
        terms.append((int(cls.ks[u]), n // g, mono))
    return PolynomialField(terms)


def _check_at_points(pool: _Pool, v: PolynomialField, n: int) -> bool:
    """J(theta_j) v(theta_j) = 0 mod p at ``n`` further random points (probabilistic only)."""
    p = pool.p
    start = len(pool.points)
    pool.ensure(start + n)
    for j in range(start, start + n):
        val = v.evaluate_mod(pool.points[j], p)
        if np.any(matmul_mod(pool.jacobians[j], val.reshape(-1, 1), p)):
            return False
    return True


class _Collector:
    """The spans found so far: known generators + verified fields (rigorous), and, once exact
    verification is out of reach, also fields checked at random points (probabilistic)."""

    def __init__(self, arch: Any, G_p: np.ndarray, theta_p: np.ndarray, pool: _Pool, kf: KernelFields):
        self.arch, self.theta_p, self.pool, self.kf = arch, theta_p, pool, kf
        self.p = pool.p
        self.labels = arch.param_labels()
        self.span = Span(arch.n_params, self.p)
        for col in np.asarray(G_p, dtype=np.int64).T:
            self.span.add(col)
        self.prob_span: Span | None = None
        self.verifier: SymbolicVerifier | None = None

    @property
    def active(self) -> Span:
        return self.prob_span if self.prob_span is not None else self.span

    def offer(self, v: PolynomialField) -> None:
        """Verify a candidate field and keep it if it raises the rank at theta_p."""
        kf = self.kf
        val = v.evaluate_mod(self.theta_p, self.p)
        if self.prob_span is None:
            try:
                if self.verifier is None:
                    self.verifier = SymbolicVerifier(self.arch, VERIFY_BUDGET, TERM_LIMIT)  # this module's limits
                ok = self.verifier.verify(v)
            except VerificationTooLarge:
                self.prob_span = self.span.copy()
                kf.verification_note = (
                    f"symbolic verification exceeded its limits ({TERM_LIMIT} terms or {VERIFY_BUDGET} s); "
                    "later fields are only checked at random points mod p"
                )
            else:
                if not ok:
                    kf.rejected += 1
                elif self.span.add(val):
                    kf.fields.append(v)
                    kf.formulas.append(v.formulas(self.labels))
                    kf.rank = self.span.rank
                return
        if not _check_at_points(self.pool, v, PROBABILISTIC_POINTS):
            kf.rejected += 1
        elif self.prob_span is not None and self.prob_span.add(val):
            kf.probabilistic.append(v.formulas(self.labels))
            kf.probabilistic_rank = self.prob_span.rank


def certify_with_kernel_fields(ctx: Any, data: Any, G_p: np.ndarray) -> KernelFields:
    """Try to close the gap lower < upper of ``data`` with verified polynomial kernel fields.

    Sets ``data.polynomial_fields``; when fields verified identically lower the upper bound,
    updates ``data.upper`` = N - rank_p [G | V](theta_p) and ``data.upper_method`` (rigorous, see
    the module docstring).  Fields checked only at random points never change the bounds.
    """
    t0 = time.perf_counter()
    deadline = t0 + SEARCH_BUDGET
    arch, p, N = ctx.arch, ctx.prime, data.n_params
    theta_p = np.asarray(data.theta_p, dtype=np.int64) % p
    target = N - data.lower
    kf = KernelFields(target_rank=target, generator_rank=0)
    data.polynomial_fields = kf
    reason = ""
    if p < MIN_PRIME:
        reason = f"not searched: the prime {p} is too small for random points and rational reconstruction"
    elif MAX_DEGREE < 1 or N * (N + 1) > PAIR_LIMIT:
        reason = f"not searched: {N} parameters (affine fields alone: {N} x {N + 1} unknowns; limit {PAIR_LIMIT})"
    if reason:
        kf.generator_rank = kf.rank = data.generator_rank_p
        kf.stopped = reason
        kf.seconds = time.perf_counter() - t0
        return kf
    pool = _Pool(ctx, data.n_samples, data.upper)
    col = _Collector(arch, G_p, theta_p, pool, kf)
    kf.generator_rank = kf.rank = col.span.rank
    Lam, kf.gradings = _gradings(ctx, pool)
    # J at the certification point (rows mixed): a class can raise the rank at theta_p only if
    # ker J(theta_p) has more vectors supported on its components than the span found so far
    Jp = _mix_rows(np.asarray(data.jacobian_p, dtype=np.int64), data.upper + 2, ctx.rng("kernel-fields-mix"), p)
    rank_K: dict[bytes, int] = {}  # rank of J(theta_p)[:, K]
    span_K: dict[tuple[bytes, int], int] = {}  # dim of the span found so far supported on K

    def reached() -> bool:
        return col.active.rank >= target

    for D in range(1, MAX_DEGREE + 1):
        if reached() or kf.stopped:
            break
        if N * comb(N + D, D) > PAIR_LIMIT:
            kf.stopped = f"degree {D} not searched: {N} x C({N}+{D},{D}) unknowns exceed the enumeration limit {PAIR_LIMIT}"
            break
        kf.degrees_searched.append(D)
        for cls in _classes(N, D, Lam):
            if reached():
                break
            if time.perf_counter() > deadline:
                kf.stopped = f"search time budget of {SEARCH_BUDGET} s exhausted at degree {D}"
                break
            if cls.size > CLASS_UNKNOWN_LIMIT:
                kf.classes_too_large += 1
                continue
            active = col.active
            K = np.unique(cls.ks)
            key = K.tobytes()
            if key not in rank_K:
                rank_K[key] = rank_mod_p(Jp[:, K], p)
            if (key, active.rank) not in span_K:
                outside = np.setdiff1d(np.arange(N), K)
                span_K[key, active.rank] = active.rank - rank_mod_p(active.matrix()[outside], p)
            if len(K) - rank_K[key] <= span_K[key, active.rank]:
                continue  # every kernel vector of J(theta_p) supported on K is already explained
            ns = _solve_class(cls, K, rank_K[key], pool, kf)
            if not ns.nullity:
                continue
            F = ns.values_at(cls, theta_p, N)
            if rank_mod_p(np.concatenate([active.matrix(), F], axis=1), p) == active.rank:
                continue  # only multiples of directions already found
            for j in range(ns.nullity):
                if reached():
                    break
                if not np.any(col.active.reduce(F[:, j])):
                    continue
                v = _lift(cls, ns.column(j), p, N)
                if v is None:
                    kf.rejected += 1
                    continue
                col.offer(v)
    if not reached() and not kf.stopped:
        kf.stopped = f"no further fields found up to degree {MAX_DEGREE}"

    new_upper = N - col.span.rank
    if kf.fields and new_upper < data.upper:
        data.upper = new_upper
        kf.certified_upper = new_upper
        data.upper_method = (
            f"n_params - rank mod p of the known symmetry generators and {len(kf.fields)} polynomial kernel "
            "field(s) verified identically, at the certification point"
        )
    kf.seconds = time.perf_counter() - t0
    return kf


__all__ = ["certify_with_kernel_fields"]
