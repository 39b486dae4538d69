"""Polynomial conservation laws: every polynomial h of degree <= k (no constant term) with grad h orthogonal
to W_phi, found by linear algebra and checked.

grad h(theta_t) . W_phi(theta_t) = 0 at random points theta_t is a linear system in the monomial
coefficients of h: its null space (SVD; beyond SVD_MONOMIALS unknowns the eigenvectors of its Gram
matrix), shrunk by the equations of further points until a round removes nothing (piecewise-linear maps
give dependent equations per point), reduced to row echelon form.  Coefficients recognised as small
rationals are verified exactly for polynomial families (the identity grad h . grad_theta f(theta, x) = 0
at random points of (Z/p)^(D + inputs), a Schwartz-Zippel test), otherwise numerically (residual at
fresh points).  The number of functionally independent laws (rank of their gradients) is a lower bound on
the number of conservation laws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import comb
from typing import Any, Sequence

import numpy as np

from ...arithmetic.rank import NumericalRank, numerical_rank
from ...runtime.torch import torch_module
from .lie_algebra import FieldFamily

MAX_MONOMIALS = 2500  # unknowns of the polynomial search
SVD_MONOMIALS = 700  # up to this many unknowns an SVD, beyond it the Gram matrix's eigenvectors
GRAM_FLOOR = 1e-6  # relative singular values below this are noise when read from the Gram matrix
REFINE_TOLERANCE = 1e-7  # |equation . candidate law| above this (unit rows, orthonormal candidates): not a law
LAW_RESIDUAL = 1e-8  # relative residual below which a polynomial counts as a law numerically
MAX_DENOMINATOR = 1000

Monomial = tuple[tuple[int, int], ...]  # ((variable, power), ...), variables increasing


def monomials(n_vars: int, degree: int) -> list[Monomial]:
    """Monomials of degree 1..degree in n_vars variables, graded (degree 1 first), lexicographic within."""
    from itertools import combinations_with_replacement

    out: list[Monomial] = []
    for d in range(1, degree + 1):
        for combo in combinations_with_replacement(range(n_vars), d):
            powers: dict[int, int] = {}
            for v in combo:
                powers[v] = powers.get(v, 0) + 1
            out.append(tuple(sorted(powers.items())))
    return out


def _monomial_gradients(monos: list[Monomial], theta: np.ndarray) -> np.ndarray:
    """D x A matrix of grad theta^alpha at theta."""
    G = np.zeros((theta.shape[0], len(monos)))
    for a, mono in enumerate(monos):
        for i, (v, p) in enumerate(mono):
            val = float(p) * theta[v] ** (p - 1)
            for j, (w, q) in enumerate(mono):
                if j != i:
                    val *= theta[w] ** q
            G[v, a] += val
    return G


@dataclass
class PolynomialLaw:
    """h(theta) = sum_alpha c_alpha theta^alpha (coefficients Fractions when recognised, else floats)."""

    terms: list[tuple[Monomial, Any]]

    @property
    def exact(self) -> bool:
        return all(isinstance(c, Fraction) for _, c in self.terms)

    def value(self, theta: np.ndarray) -> float:
        return float(sum(float(c) * np.prod([theta[v] ** p for v, p in m]) for m, c in self.terms))

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        monos = [m for m, _ in self.terms]
        return _monomial_gradients(monos, theta) @ np.array([float(c) for _, c in self.terms])

    def sympy(self, labels: Sequence[str]) -> Any:
        import sympy

        syms = {}
        expr = sympy.Integer(0)
        for m, c in self.terms:
            coef = sympy.Rational(c.numerator, c.denominator) if isinstance(c, Fraction) else sympy.Float(c, 12)
            term = coef
            for v, p in m:
                if v not in syms:
                    syms[v] = sympy.Symbol(labels[v])
                term = term * syms[v] ** p
            expr = expr + term
        return expr

    def formula(self, labels: Sequence[str]) -> str:
        return str(self.sympy(labels))


def _rref(N: np.ndarray, tol: float = 1e-8) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form of a matrix with orthonormal rows (partial pivoting, columns in order)."""
    A = N.copy()
    L, n = A.shape
    pivots: list[int] = []
    r = 0
    for c in range(n):
        if r == L:
            break
        i = r + int(np.argmax(np.abs(A[r:, c])))
        if abs(A[i, c]) < tol:
            continue
        A[[r, i]] = A[[i, r]]
        A[r] /= A[r, c]
        for k in range(L):
            if k != r:
                A[k] -= A[k, c] * A[r]
        pivots.append(c)
        r += 1
    return A[:r], pivots


def _recognise(x: float) -> Fraction | float:
    if abs(x) < 1e-11:
        return Fraction(0)
    q = Fraction(x).limit_denominator(MAX_DENOMINATOR)
    return q if abs(float(q) - x) <= 1e-9 * max(1.0, abs(x)) else float(x)


@dataclass
class PolynomialLaws:
    degree: int
    laws: list[PolynomialLaw]
    independent: int  # rank of the gradients of the laws at a random point
    numerical: NumericalRank | None
    n_monomials: int
    points: int
    residual: float  # largest relative residual of grad h . w at fresh points
    verification: dict[str, Any] = field(default_factory=dict)
    status: str = "numerical"
    skipped: str | None = None


def polynomial_laws(family: FieldFamily, degree: int, rng: np.random.Generator, *,
                    arch: Any = None, prime: int | None = None, progress: bool = False) -> PolynomialLaws:
    """Every polynomial h of degree <= ``degree`` (no constant term) with grad h orthogonal to W_phi at
    random points: the null space of the stacked system Q_t G_t c = 0 (Q_t: orthonormal basis of
    W_phi(theta_t), G_t: gradients of the monomials), by SVD with the singular-value gap, then in
    reduced row echelon form.  ``arch`` (a polynomial family) and ``prime`` enable the exact check."""
    torch = torch_module()
    D = family.n_params
    A = comb(D + degree, degree) - 1
    if A > MAX_MONOMIALS:
        return PolynomialLaws(degree, [], 0, None, A, 0, float("nan"),
                              skipped=f"{A} monomials of degree <= {degree} in {D} parameters > {MAX_MONOMIALS}; "
                              f"lower --law-degree or use a smaller network")
    monos = monomials(D, degree)
    blocks: list[np.ndarray] = []
    rows, points = 0, 0
    n_w = 2 * D + 8

    def add_point() -> None:
        nonlocal rows, points
        th = rng.standard_normal(D)
        W = family.rows(torch.as_tensor(th), n_w, rng)
        W = W[np.linalg.norm(W, axis=1) > 0]
        points += 1
        if W.shape[0] == 0:
            return
        _, s, vt = np.linalg.svd(W / np.linalg.norm(W, axis=1, keepdims=True), full_matrices=False)
        r = numerical_rank(W, singular_values=s).rank
        blocks.append(vt[:r] @ _monomial_gradients(monos, th))
        rows += r

    def normalised(M: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(M, axis=1)
        return M[norms > 0] / norms[norms > 0, None]

    def solve() -> tuple[NumericalRank, np.ndarray]:
        """Null space (rows) of the stacked, row-normalised system: SVD, or for many unknowns the eigenvectors
        of the Gram matrix M^T M (singular values = square roots of its eigenvalues; ~8 digits, enough for
        the gaps met here, and ~10x faster)."""
        M = normalised(np.concatenate(blocks))
        if A <= SVD_MONOMIALS:
            if M.shape[0] < A:  # wide: pad with zero rows so that vt is A x A
                M = np.vstack([M, np.zeros((A - M.shape[0], A))])
            _, s, vt = np.linalg.svd(M, full_matrices=False)
        else:
            from scipy.linalg import eigh

            w, V = eigh(M.T @ M)
            s, vt = np.sqrt(np.clip(w[::-1], 0.0, None)), V[:, ::-1].T
            if s.size and s[0] > 0:
                # below sqrt(machine eps) the square roots are rounding noise: floor them to zero, read the rank
                # there, and report the gap to the unfloored value
                floored = np.where(s < GRAM_FLOOR * s[0], 0.0, s)
                num = numerical_rank(M, singular_values=floored)
                r = num.rank
                if r < len(s):
                    num.gap = float(s[r - 1] / s[r]) if r and s[r] > 0 else float("inf")
                    num.clear = num.gap >= 1e4
                num.singular_values = s
                return num, vt[r:]
        num = numerical_rank(M, singular_values=s) if s.size and s[0] > 0 else \
            NumericalRank(0, s, float("inf"), True)
        return num, vt[num.rank:]

    bar = None
    if progress:
        from ...runtime.progress import Bar

        # A + 20 equations are always collected (more when a point adds several)
        bar = Bar(total=A + 20, desc=f"polynomial laws (degree <= {degree})", unit="equations")
    while rows < A + 20 or points < 3:
        before = rows
        add_point()
        if bar is not None:
            bar.update(rows - before)
    if bar is not None:
        bar.close()
    num, N = solve()
    # the constraints of different points can be dependent (piecewise-linear maps have few activation
    # patterns per point): project the equations of further points on the null space found and shrink it
    # until a round of points removes nothing
    refinements: list[int] = []
    for _ in range(20):
        if N.shape[0] == 0:
            break
        blocks.clear()
        for _ in range(max(3, points // 4)):
            add_point()
        if not blocks:
            continue
        C = normalised(np.concatenate(blocks)) @ N.T  # unit rows; N orthonormal rows
        _, sc, vc = np.linalg.svd(C, full_matrices=True)
        drop = int(np.sum(sc > REFINE_TOLERANCE))
        refinements.append(drop)
        if drop == 0:
            break
        N = vc[drop:] @ N
    laws: list[PolynomialLaw] = []
    if N.shape[0]:
        R, _ = _rref(N)
        for row in R:
            terms = [(monos[a], _recognise(x)) for a, x in enumerate(row) if abs(x) > 1e-11]
            terms = [(m, c) for m, c in terms if c != 0]
            laws.append(PolynomialLaw(terms))
    # independence and a residual check at fresh points
    th = rng.standard_normal(D)
    indep = numerical_rank(np.array([law.gradient(th) for law in laws])).rank if laws else 0
    residual = 0.0
    for _ in range(2):
        th = rng.standard_normal(D)
        W = family.rows(torch.as_tensor(th), 2 * n_w, rng)
        W = W[np.linalg.norm(W, axis=1) > 0]
        Wn = W / np.linalg.norm(W, axis=1, keepdims=True)
        for law in laws:
            g = law.gradient(th)
            if np.linalg.norm(g) > 0:
                residual = max(residual, float(np.max(np.abs(Wn @ g)) / np.linalg.norm(g)))
    out = PolynomialLaws(degree, laws, indep, num, A, points, residual)
    out.verification = {"numerical": {"max_relative_residual": residual, "fresh_points": 2,
                                      "passed": residual < LAW_RESIDUAL},
                        "null_space_refinement": {"removed_per_round": refinements,
                                                  "method": "equations of further random points projected on the "
                                                  "candidate null space until a round removes nothing"}}
    if residual >= LAW_RESIDUAL:
        out.status = "failed"  # the null space contains non-laws: too few or special sample points
    elif laws and arch is not None and prime is not None and all(law.exact for law in laws):
        ok, ev = _verify_mod_p(arch, laws, prime, rng)
        out.verification["exact"] = ev
        out.status = "certified" if ok else "failed"
    return out


def _verify_mod_p(arch: Any, laws: list[PolynomialLaw], p: int, rng: np.random.Generator,
                  points: int = 3) -> tuple[bool, dict[str, Any]]:
    """Schwartz-Zippel: grad h(theta) . d_theta f(theta, x_s) = 0 over Z/p at random (theta, x_s)."""
    from ...arithmetic import ModP
    from ...arithmetic.modular import matmul_mod
    from ...parametrization.evaluation import Parametrization

    D = arch.n_params
    n_samples = max(1, int(np.ceil((D + 8) / arch.output_size())))
    failures = 0
    for _ in range(points):
        P = Parametrization(arch, ModP(p), n_samples, rng)
        theta = P.random_point()
        J = P.jacobian(theta) % p
        th = [int(v) for v in np.asarray(theta.a).reshape(-1)]
        G = np.zeros((D, len(laws)), dtype=np.int64)
        for k, law in enumerate(laws):
            for mono, c in law.terms:
                cp = c.numerator % p * pow(c.denominator % p, -1, p) % p
                for i, (v, pw) in enumerate(mono):
                    val = cp * pw % p * pow(th[v], pw - 1, p) % p
                    for j, (w, q) in enumerate(mono):
                        if j != i:
                            val = val * pow(th[w], q, p) % p
                    G[v, k] = (int(G[v, k]) + val) % p
        if np.any(matmul_mod(J, G, p)):
            failures += 1
    ev = {
        "method": f"grad h(theta) . d f(theta, x_s)/d theta == 0 over Z/{p} at {points} random points of the parameters "
        f"and of {n_samples} inputs each (exact forward-mode Jacobian mod p); a nonzero polynomial in (theta, x) with "
        f"small integer coefficients vanishes at a uniformly random point with probability <= total degree / p "
        f"(Schwartz-Zippel)",
        "prime": p,
        "points": points,
        "failures": failures,
        "passed": failures == 0,
    }
    return failures == 0, ev


__all__ = ["Monomial", "PolynomialLaw", "PolynomialLaws", "monomials", "polynomial_laws"]
