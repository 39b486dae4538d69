"""Certified bounds on the number of conservation laws of a polynomial network (issue 20).

N = D - dim Lie(W_phi)(theta) at a generic theta (Marcotte, Gribonval, Peyre 2023), W_phi(theta) = span of
grad c_a(theta) over the coefficients c_a of the network function in the monomial basis of its inputs (integer
polynomials in theta, expanded exactly by a forward pass over python-flint fmpz_mpoly).  Two exact bounds:

* **upper** N <= D - rank_p: the generator fields X_a = grad c_a and right-nested brackets [G, Z] = DZ.G - DG.Z
  of random integer combinations (G of the generators, Z of the fields of the previous depth) are evaluated at a
  random point t of (Z/p)^D: a depth's brackets from the jets (value, Jacobian) at t of its two arguments, which
  are computed from their exact terms (the generators' gradients and Hessians mod p); the fields of a depth are
  expanded as polynomials over Z/p (nmod_mpoly, the reductions of the brackets over Z) only to build the next
  depth.  rank_p = the rank mod p (nmod_mat) of all these values.  Every such field is an element of Lie(W_phi)
  with integer coefficients, so rank_p <= rank over Q at t <= its generic rank <= dim Lie(W_phi)(theta generic).
* **lower** rho <= N: the polynomial laws found numerically (``polynomial_laws``, rational coefficients) whose
  identity grad h . grad c_a == 0 holds *as polynomials over Z* for every coefficient a (fmpz_mpoly, no
  sampling) are conservation laws; rho = rank mod p of their gradients at t <= their generic rank, which
  is at most N (a law's gradient is orthogonal to Lie(W_phi) at every point, since [X, Y]h = X(Yh) - Y(Xh)).
  When these do not reach the upper bound: if the Q-span B of the generators, extended by their brackets, closes
  (rank_Q(B, [X_a, B]) = |B|, exact fmpz_mat ranks) then Lie(W_phi) = span B and N >= D - |B| (``lie_closure``;
  e.g. a scalar function, one generator).

Nothing here is probabilistic: a bad random draw can only keep the bounds apart.  The count is certified
when lower = upper.  Polynomials are expanded in full, so the certificate is attempted only for small networks
(MAX_PARAMS parameters; MAX_TERMS terms in the network function and in the fields of one bracket depth; MAX_WORK
pairs of terms in one product of the forward pass); otherwise it is skipped or stopped with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from math import comb, lcm
from typing import Any, Sequence

import numpy as np

from ...arithmetic.modular import is_prime
from ...errors import InputError
from .polynomial_laws import PolynomialLaw

MAX_PARAMS = 40  # parameters up to which the brackets are expanded exactly
MAX_TERMS = 300_000  # terms of the network function, and of the bracket fields of one depth
MAX_WORK = 20_000_000  # pairs of terms of one product in the forward pass
MAX_DEPTH = 6  # bracket depth at which the certificate gives up (the bounds stay apart)
MARGIN = 6  # bracket fields per depth beyond the missing rank
COEFFICIENT_RANGE = 1000  # random combinations use integer coefficients in [1, COEFFICIENT_RANGE]

Field = list  # a polynomial vector field: D nmod_mpoly components


@dataclass
class Certificate:
    """Exact bounds laws_lower <= N <= laws_upper on the number N of conservation laws (module docstring)."""

    n_params: int
    lie_lower: int | None = None  # rank mod p of bracket values: a lower bound on dim Lie(W_phi)
    laws_lower: int = 0  # rank mod p of the gradients of the identically verified laws
    evidence: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def laws_upper(self) -> int | None:
        return None if self.lie_lower is None else self.n_params - self.lie_lower

    @property
    def certified(self) -> bool:
        return self.skipped is None and self.laws_upper == self.laws_lower


# -- exact polynomials ----------------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


class _Capped:
    """An fmpz_mpoly in the forward pass whose arithmetic refuses results of more than MAX_TERMS terms and products
    of more than MAX_WORK pairs of terms (so that a large network is refused quickly, not expanded for minutes)."""

    __slots__ = ("p",)

    def __init__(self, p: Any):
        if len(p) > MAX_TERMS:
            raise _TooLarge
        self.p = p

    @staticmethod
    def _un(o: Any) -> Any:
        return o.p if isinstance(o, _Capped) else o

    def __add__(self, o: Any) -> "_Capped":
        return _Capped(self.p + self._un(o))

    def __radd__(self, o: Any) -> "_Capped":
        return _Capped(self._un(o) + self.p)

    def __sub__(self, o: Any) -> "_Capped":
        return _Capped(self.p - self._un(o))

    def __rsub__(self, o: Any) -> "_Capped":
        return _Capped(self._un(o) - self.p)

    def __neg__(self) -> "_Capped":
        return _Capped(-self.p)

    def __pos__(self) -> "_Capped":
        return self

    def __mul__(self, o: Any) -> "_Capped":
        q = self._un(o)
        if hasattr(q, "is_zero") and len(self.p) * len(q) > MAX_WORK:
            raise _TooLarge
        return _Capped(self.p * q)

    __rmul__ = __mul__

    def __pow__(self, e: int) -> "_Capped":
        if not isinstance(e, (int, np.integer)) or e < 0:
            return NotImplemented
        if e > 1 and comb(len(self.p) + int(e) - 1, int(e)) > MAX_WORK:
            raise _TooLarge
        return _Capped(self.p ** int(e))


def coefficient_polynomials(arch: Any) -> tuple[Any, list[Any]]:
    """The coefficients c_a(theta) of the network function in the monomial basis of its inputs, exactly over Z:
    (fmpz_mpoly context in the D parameters, [c_a]).  A forward pass on fmpz_mpoly in (theta, x), grouped by the
    exponent of x.  InputError when the forward pass does not run on polynomials or exceeds MAX_TERMS."""
    import flint

    D = int(arch.n_params)
    n_x = int(np.prod(arch.input_shape(1)))
    ring = flint.fmpz_mpoly_ctx.get(("v", D + n_x), "degrevlex")
    gens = ring.gens()
    theta = np.empty(D, dtype=object)
    theta[:] = [_Capped(g) for g in gens[:D]]
    X = np.empty(n_x, dtype=object)
    X[:] = [_Capped(g) for g in gens[D:]]
    too_large = (f"the network function of {arch.spec()} has more than {MAX_TERMS} terms in (theta, x) (or its "
                 f"expansion more than {MAX_WORK} products of terms); use a smaller network for the certificate")
    try:
        Y = arch.output_to_matrix(arch.forward(arch.unflatten(theta), X.reshape(arch.input_shape(1))), 1)
        outputs = list(np.asarray(Y, dtype=object).reshape(-1))
    except _TooLarge:
        raise InputError(too_large) from None
    except Exception as exc:  # an architecture whose forward pass needs numbers (not polynomials)
        raise InputError(f"the forward pass of {arch.spec()} does not run on exact polynomials "
                         f"({type(exc).__name__}); the certificate needs a polynomial network") from None
    groups: dict[tuple[int, tuple[int, ...]], dict[tuple[int, ...], int]] = {}
    total = 0
    for o, y in enumerate(outputs):
        y = y.p if isinstance(y, _Capped) else y
        if not isinstance(y, flint.fmpz_mpoly):
            y = ring.constant(int(y))
        total += len(y)
        if total > MAX_TERMS:
            raise InputError(too_large)
        for e, c in y.to_dict().items():
            groups.setdefault((o, tuple(e[D:])), {})[tuple(e[:D])] = int(c)
    pring = flint.fmpz_mpoly_ctx.get(("t", D), "degrevlex")
    return pring, [pring.from_dict(terms) for _, terms in sorted(groups.items())]


def law_polynomial(law: PolynomialLaw, ring: Any) -> Any:
    """L h as an fmpz_mpoly (L = lcm of the denominators of h's rational coefficients)."""
    D = ring.nvars()
    den = lcm(*[c.denominator for _, c in law.terms]) if law.terms else 1
    terms: dict[tuple[int, ...], int] = {}
    for mono, c in law.terms:
        e = [0] * D
        for v, pw in mono:
            e[v] += pw
        q = Fraction(c) * den
        terms[tuple(e)] = terms.get(tuple(e), 0) + int(q)
    return ring.from_dict({e: c for e, c in terms.items() if c})


def is_law_identically(h: Any, coefficient_gradients: Sequence[Sequence[Any]]) -> bool:
    """grad h . grad c_a == 0 as a polynomial over Z for every coefficient a (no sampling)."""
    D = h.context().nvars()
    gh = [h.derivative(j) for j in range(D)]
    for gc in coefficient_gradients:
        s = h.context().constant(0)
        for j in range(D):
            if not gh[j].is_zero() and not gc[j].is_zero():
                s += gh[j] * gc[j]
        if not s.is_zero():
            return False
    return True


# -- fields over Z/p ------------------------------------------------------------------------------------


def _to_mod_p(poly: Any, pring: Any) -> Any:
    p = pring.modulus()
    return pring.from_dict({e: int(c) % p for e, c in poly.to_dict().items()})


def _grad(f: Any, D: int) -> Field:
    return [f.derivative(j) for j in range(D)]


def _combine(fields: Sequence[Field], coefs: Sequence[int], zero: Any) -> Field:
    D = len(fields[0])
    out = [zero] * D
    for F, c in zip(fields, coefs):
        out = [out[i] + F[i] * c if not F[i].is_zero() else out[i] for i in range(D)]
    return out


def bracket(X: Field, Y: Field) -> Field:
    """[X, Y] = DY.X - DX.Y, component i: sum_j X_j d_j Y_i - Y_j d_j X_i (exact over the field's ring)."""
    D = len(X)
    zero = X[0].context().constant(0)
    out = []
    for i in range(D):
        s = zero
        for j in range(D):
            if not X[j].is_zero() and not Y[i].is_zero():
                d = Y[i].derivative(j)
                if not d.is_zero():
                    s += X[j] * d
            if not Y[j].is_zero() and not X[i].is_zero():
                d = X[i].derivative(j)
                if not d.is_zero():
                    s -= Y[j] * d
        out.append(s)
    return out


def _rank_mod_p(rows: Sequence[Sequence[int]], p: int) -> int:
    """Exact rank over Z/p (flint nmod_mat) of integer rows."""
    import flint

    return int(flint.nmod_mat([[int(v) for v in row] for row in rows], p).rank()) if len(rows) else 0


class Point:
    """A point t of (Z/p)^D with nonzero coordinates (p < 2^31): values, gradients and Hessians mod p of
    polynomials (fmpz_mpoly or nmod_mpoly) at t, from their terms (vectorised int64; no polynomial derivative)."""

    def __init__(self, t: Sequence[int], p: int):
        self.t = [int(v) % p for v in t]
        if p >= 1 << 31 or not all(self.t):
            raise InputError("the point needs nonzero coordinates mod a prime p < 2^31")
        self.p, self.D = p, len(self.t)
        self.inv = np.array([pow(v, -1, p) for v in self.t], dtype=np.int64)
        self._powers: dict[int, np.ndarray] = {}

    def _power_table(self, j: int, e: int) -> np.ndarray:
        tab = self._powers.get(j)
        if tab is None or len(tab) <= e:
            tab = np.array([pow(self.t[j], k, self.p) for k in range(max(e + 1, 8))], dtype=np.int64)
            self._powers[j] = tab
        return tab

    def _terms(self, f: Any) -> tuple[np.ndarray, np.ndarray]:
        """(c_k t^{e_k} mod p, exponents E (T x D)) of f = sum_k c_k theta^{e_k}."""
        d = f.to_dict()
        E = np.array(list(d.keys()), dtype=np.int64).reshape(len(d), self.D)
        W = np.array([int(c) % self.p for c in d.values()], dtype=np.int64)
        for j in np.nonzero(E.any(axis=0))[0]:
            W = W * self._power_table(int(j), int(E[:, j].max()))[E[:, j]] % self.p
        return W, E

    def value_gradient(self, f: Any) -> tuple[int, np.ndarray]:
        """(f(t), grad f(t)) mod p."""
        if f.is_zero():
            return 0, np.zeros(self.D, dtype=np.int64)
        W, E = self._terms(f)
        g = (W[:, None] * E % self.p).sum(axis=0) % self.p * self.inv % self.p
        return int(W.sum() % self.p), g

    def gradient_hessian(self, f: Any) -> tuple[np.ndarray, np.ndarray]:
        """(grad f(t), Hess f(t)) mod p: the jet (value, Jacobian) of the gradient field of f."""
        p, D = self.p, self.D
        if f.is_zero():
            return np.zeros(D, dtype=np.int64), np.zeros((D, D), dtype=np.int64)
        W, E = self._terms(f)
        WE = W[:, None] * E % p  # c_k t^e_k e_ki
        s = WE.sum(axis=0) % p
        H = ((WE.T @ E) % p - np.diag(s)) % p  # sum_k c_k t^e_k e_ki (e_kj - delta_ij)
        H = H * self.inv[:, None] % p * self.inv[None, :] % p
        return s * self.inv % p, H

    def jet(self, F: Field) -> tuple[np.ndarray, np.ndarray]:
        """(F(t), DF(t)) mod p of a vector field, DF[i, j] = d_j F_i."""
        vals, rows = zip(*(self.value_gradient(c) for c in F))
        return np.array(vals, dtype=np.int64), np.array(rows, dtype=np.int64)


def bracket_value(G: tuple[np.ndarray, np.ndarray], Z: tuple[np.ndarray, np.ndarray], p: int) -> list[int]:
    """[G, Z](t) = DZ(t) G(t) - DG(t) Z(t) mod p from the jets (value, Jacobian) of G and Z at t."""
    o = object  # products of two residues overflow int64 when summed: Python integers
    return [int(v) % p for v in (Z[1].astype(o).dot(G[0].astype(o)) - G[1].astype(o).dot(Z[0].astype(o)))]


def _combine_jets(jets: tuple[np.ndarray, np.ndarray], coefs: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """The jet of sum_k coefs[k] F_k from the stacked jets (values (K, D), Jacobians (K, D, D)); coefs < 2^10,
    K < 2^20, residues < 2^31: no int64 overflow."""
    c = np.asarray(coefs, dtype=np.int64)
    return np.tensordot(c, jets[0], axes=1) % p, np.tensordot(c, jets[1], axes=1) % p


def _stack(jets: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return np.stack([v for v, _ in jets]), np.stack([J for _, J in jets])


def lie_rank_lower_bound(coefficients: Sequence[Any], pring: Any, point: Point, rng: np.random.Generator,
                         *, target: int, max_depth: int = MAX_DEPTH) -> tuple[int, list[dict[str, Any]], str | None]:
    """rank mod p at ``point`` of the generator fields grad c_a and of right-nested brackets [G, Z] (G a random
    integer combination of the generators, Z of the fields of the previous depth), depth by depth until the rank
    reaches ``target`` or a depth adds no direction.  The brackets of a depth are evaluated from the jets at the
    point (brackets are bilinear, so the jet of a combination is the combination of the jets); they are expanded
    as polynomials over Z/p only to build the next depth.  Returns (rank, per-depth record, reason it stopped
    early)."""
    D, p = point.D, point.p
    cs = [c for c in coefficients if not c.is_zero()]
    if not cs:
        return 0, [{"depth": 0, "fields": 0, "rank": 0}], None
    gen_jets = _stack([point.gradient_hessian(c) for c in cs])
    rows: list[Any] = list(gen_jets[0])
    rank = _rank_mod_p(rows, p)
    levels: list[dict[str, Any]] = [{"depth": 0, "fields": len(cs), "rank": rank, "new_directions": rank}]
    gens: list[Field] | None = None  # the generator fields over Z/p, built when a depth >= 2 needs them
    prev: list[Field] | None = None
    prev_jets = gen_jets
    zero = pring.constant(0)
    for depth in range(1, max_depth + 1):
        if rank >= target:
            return rank, levels, None
        n = D - rank + MARGIN
        pairs = [(rng.integers(1, COEFFICIENT_RANGE + 1, len(cs)), rng.integers(1, COEFFICIENT_RANGE + 1,
                                                                               len(prev_jets[0])))
                 for _ in range(n)]
        rows += [bracket_value(_combine_jets(gen_jets, a, p), _combine_jets(prev_jets, b, p), p) for a, b in pairs]
        before, rank = rank, _rank_mod_p(rows, p)
        levels.append({"depth": depth, "fields": n, "rank": rank, "new_directions": rank - before})
        if rank >= target:
            return rank, levels, None
        if rank == before:
            return rank, levels, f"depth {depth} added no direction at the point"
        if depth == max_depth:
            break
        if gens is None:
            gens = [_grad(_to_mod_p(c, pring), D) for c in cs]
        nxt: list[Field] = []
        terms = 0
        for a, b in pairs:
            Z = _combine(prev if prev is not None else gens, b.tolist(), zero)
            F = bracket(_combine(gens, a.tolist(), zero), Z)
            terms += sum(len(c) for c in F)
            if terms > MAX_TERMS:
                return rank, levels, (f"the bracket fields of depth {depth} have more than {MAX_TERMS} terms: depth "
                                      f"{depth + 1} not attempted")
            nxt.append(F)
        levels[-1]["terms"] = terms
        prev = nxt
        prev_jets = _stack([point.jet(F) for F in prev])
    return rank, levels, f"bracket depth {max_depth} reached"


# -- closure over Q: a finite-dimensional Lie algebra ----------------------------------------------------


def _vector(F: Field) -> dict[tuple[int, tuple[int, ...]], int]:
    return {(i, tuple(e)): int(c) for i, comp in enumerate(F) for e, c in comp.to_dict().items() if int(c)}


def _exact_rank(vectors: Sequence[dict[tuple[int, tuple[int, ...]], int]]) -> int:
    """Rank over Q (flint fmpz_mat, exact) of sparse integer vectors."""
    import flint

    keys = sorted({k for v in vectors for k in v})
    if not keys or not vectors:
        return 0
    col = {k: j for j, k in enumerate(keys)}
    M = flint.fmpz_mat(len(vectors), len(keys))
    for i, v in enumerate(vectors):
        for k, c in v.items():
            M[i, col[k]] = c
    return int(M.rank())


def lie_closure(coefficients: Sequence[Any], *, max_dim: int, max_rounds: int = MAX_DEPTH,
                prime: int | None = None, rng: np.random.Generator | None = None) -> tuple[int | None, dict[str, Any]]:
    """dim_Q of Lie(W_phi) as a vector space of polynomial vector fields when it is finite and small: a basis B
    of span_Q{grad c_a} is extended by the brackets [grad c_a, b] (exact over Z, fmpz_mpoly) until
    rank_Q(B, grad c_a, [grad c_a, B]) = |B| (exact fmpz_mat rank).  Then span B is closed under the brackets with
    the generators, so it contains every right-nested bracket: Lie(W_phi) = span B and dim Lie(W_phi)(theta) <=
    |B| at every theta.  None (with the reason) when |B| exceeds ``max_dim`` or MAX_TERMS, or after
    ``max_rounds`` rounds.  With ``prime`` and ``rng``, a quick refusal first: the rank mod p of the generators'
    values at a few random points is at most their dimension over Q."""
    if not coefficients:
        return 0, {"closed": True, "dimension": 0, "rounds": 0}
    D = coefficients[0].context().nvars()
    if prime is not None and rng is not None:
        pts = [Point(rng.integers(1, prime, D).tolist(), prime) for _ in range(max_dim // D + 2)]
        probe = [np.concatenate([pt.value_gradient(c)[1] for pt in pts]) for c in coefficients]
        if _rank_mod_p(probe, prime) > max_dim:
            return None, {"closed": False, "reason": f"the generators span more than {max_dim} dimensions (rank mod "
                          f"{prime} of their values at {len(pts)} random points)"}
    gens = [F for F in (_grad(c, D) for c in coefficients) if any(not x.is_zero() for x in F)]
    gvec = [_vector(F) for F in gens]
    basis: list[Field] = []
    bvec: list[dict[tuple[int, tuple[int, ...]], int]] = []
    frontier: list[Field] = []
    if _exact_rank(gvec) > max_dim:
        return None, {"closed": False, "reason": f"the generators span more than {max_dim} dimensions"}
    for F, v in zip(gens, gvec):  # a basis of the generators (independent rows over Q)
        if _exact_rank(bvec + [v]) > len(bvec):
            basis.append(F)
            bvec.append(v)
            frontier.append(F)
    if len(basis) > max_dim:
        return None, {"closed": False, "reason": f"{len(basis)} independent generators > {max_dim}"}
    terms = 0
    for rnd in range(max_rounds + 1):
        new = [bracket(g, b) for g in gens for b in frontier]
        terms += sum(len(c) for F in new for c in F)
        if terms > MAX_TERMS:
            return None, {"closed": False, "reason": f"more than {MAX_TERMS} terms in the brackets of round {rnd}"}
        nvec = [_vector(F) for F in new]
        if _exact_rank(bvec + gvec + nvec) == len(bvec):
            return len(basis), {"closed": True, "dimension": len(basis), "rounds": rnd,
                                "brackets_checked": len(new)}
        frontier = []
        for F, v in zip(new, nvec):
            if v and _exact_rank(bvec + [v]) > len(bvec):
                basis.append(F)
                bvec.append(v)
                frontier.append(F)
                if len(basis) > max_dim:
                    return None, {"closed": False, "reason": f"dim_Q of the Lie algebra > {max_dim}"}
    return None, {"closed": False, "reason": f"not closed after {max_rounds} rounds"}


# -- the certificate ------------------------------------------------------------------------------------


def certify(arch: Any, laws: Sequence[PolynomialLaw], prime: int, rng: np.random.Generator, *,
            labels: Sequence[str] | None = None, max_depth: int = MAX_DEPTH) -> Certificate:
    """Exact bounds on the number of conservation laws of the polynomial network ``arch`` (module docstring):
    the identically verified ``laws`` give the lower bound, bracket values mod ``prime`` the upper one."""
    import flint

    t0 = time.perf_counter()
    D = int(arch.n_params)
    cert = Certificate(D)
    if isinstance(prime, bool) or not isinstance(prime, (int, np.integer)) or not 2 < int(prime) < (1 << 31) \
            or not is_prime(int(prime)):
        raise InputError(f"prime must be an odd prime below 2^31, got {prime!r}")
    p = int(prime)
    if D > MAX_PARAMS:
        cert.skipped = f"{D} parameters > {MAX_PARAMS}: exact brackets are not attempted"
        cert.evidence = {"skipped": cert.skipped}
        return cert
    try:
        ring, coeffs = coefficient_polynomials(arch)
    except InputError as exc:
        cert.skipped = str(exc)
        cert.evidence = {"skipped": cert.skipped}
        return cert
    labels = list(labels) if labels is not None else [f"theta{i}" for i in range(D)]
    pring = flint.nmod_mpoly_ctx.get(("t", D), modulus=p, ordering="degrevlex")
    point = Point(rng.integers(1, p, D).tolist(), p)
    # lower bound: laws verified identically, rank of their gradients mod p
    grads_c = [_grad(c, D) for c in coeffs]
    verified: list[Any] = []
    failed: list[str] = []
    not_exact = 0
    for law in laws:
        if not law.exact:
            not_exact += 1
            continue
        h = law_polynomial(law, ring)
        if not h.is_zero() and is_law_identically(h, grads_c):
            verified.append(h)
        else:
            failed.append(law.formula(labels))
    law_rows = [point.value_gradient(h)[1] for h in verified]
    law_rank = cert.laws_lower = _rank_mod_p(law_rows, p)
    # upper bound: brackets mod p
    rank, levels, stop = lie_rank_lower_bound(coeffs, pring, point, rng, target=D - cert.laws_lower,
                                              max_depth=max_depth)
    cert.lie_lower = rank
    upper = D - rank
    closure: dict[str, Any] | None = None
    if upper != cert.laws_lower and D - cert.laws_lower - 1 >= 1:
        # the laws found do not account for the missing directions: is the Lie algebra a small finite-dimensional
        # space of fields (e.g. one generator)?  Then N >= D - its dimension.
        dim, closure = lie_closure(coeffs, max_dim=D - cert.laws_lower - 1, prime=p, rng=rng)
        if dim is not None and D - dim > cert.laws_lower:
            cert.laws_lower = D - dim
    cert.evidence = {
        "status": "certified" if upper == cert.laws_lower else "open" if upper > cert.laws_lower else "inconsistent",
        "lower": cert.laws_lower,
        "upper": upper,
        "lie_rank_lower_bound": rank,
        "prime": p,
        "point": point.t,
        "coefficients": len(coeffs),
        "bracket_depth": levels[-1]["depth"],
        "bracket_fields": sum(lv["fields"] for lv in levels),
        "levels": levels,
        **({"stopped": stop} if stop and upper != cert.laws_lower else {}),
        "laws_rank": law_rank,
        **({"closure": closure} if closure is not None else {}),
        "laws_verified_identically": len(verified),
        "laws_failed": failed,
        "laws_not_exact": not_exact,
        "seconds": round(time.perf_counter() - t0, 3),
        "method": "upper: D - rank mod p, at a random point of (Z/p)^D, of the values of the generator fields grad c_a "
        "(c_a: the coefficients of the network function, integer polynomials in theta) and of right-nested brackets "
        "[G, Z] = DZ.G - DG.Z of random integer combinations, evaluated exactly mod p from the jets (value, Jacobian) "
        "of G and Z at the point, computed from their exact terms (deeper brackets expanded over Z/p with python-flint "
        "nmod_mpoly); "
        "lower: rank mod p at the same point of the gradients of the polynomial laws h with grad h . grad c_a == 0 "
        "identically over Z for every a (python-flint fmpz_mpoly), or D - dim_Q Lie(W_phi) when the Q-span of the "
        "generators and their brackets closes (exact fmpz_mat ranks)",
        "argument": "rank mod p <= rank over Q at the point <= generic rank, both for the bracket values (elements of "
        "Lie(W_phi), so <= dim Lie(W_phi)(theta generic)) and for the law gradients (orthogonal to Lie(W_phi), so "
        "their generic rank <= D - dim Lie(W_phi)); a closed finite Q-span of fields is the whole Lie algebra, so dim "
        "Lie(W_phi)(theta) <= its dimension; hence lower <= count <= upper, with no probabilistic step",
    }
    return cert


__all__ = ["Certificate", "bracket", "certify", "coefficient_polynomials", "is_law_identically",
           "Point", "bracket_value", "law_polynomial", "lie_closure", "lie_rank_lower_bound"]
