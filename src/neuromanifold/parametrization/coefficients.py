"""The coefficient map theta -> c(theta): the network function written in the monomial basis.

The network function f_theta is a tuple of polynomials in the inputs x; its coefficients
c_{o,alpha}(theta) (output o, monomial x^alpha) are polynomials in theta with integer
coefficients.  ``coefficient_map`` expands the forward pass exactly over Z once (sparse integer
polynomials, ``arithmetic.integer_polynomials``; sympy only as the fallback); ``SparsePolynomials``
then evaluates any such list of polynomials, and their Jacobians, in complex128 over a batch of points.
Metrics on function space (``metric_matrix``) are quadratic forms on the coefficient vector c:

* ``euclidean``: sum_{o,alpha} |c_{o,alpha}|^2 (the Frobenius norm for linear networks);
* ``bombieri_weyl``: sum_{o,alpha} |c_{o,alpha}|^2 / binom(d; alpha), the O(n)-invariant norm of
  forms of degree d (inhomogeneous polynomials are homogenised with one extra variable first);
* ``generic``: a random real positive-definite form A^T A / D (the metric of a large generic
  data set).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial, prod
from typing import Any, Sequence

import numpy as np

from ..architectures import Architecture
from ..context import METRICS
from ..errors import InputError

MAX_SYMBOLIC_TERMS = 200_000  # terms of the expanded network function (x and theta together)


@dataclass
class SparsePolynomials:
    """D polynomials in n variables on a shared list of T monomials: p_a(z) = sum_t C[a, t] z^{E[t]}."""

    exponents: np.ndarray  # (T, n) int
    coefficients: np.ndarray  # (D, T) complex

    @property
    def n_vars(self) -> int:
        return int(self.exponents.shape[1])

    def __len__(self) -> int:
        return int(self.coefficients.shape[0])

    @property
    def degrees(self) -> np.ndarray:
        """Total degree of every polynomial (0 for the zero polynomial)."""
        d = self.exponents.sum(axis=1)
        nz = self.coefficients != 0
        return np.array([int(d[row].max(initial=0)) for row in nz], dtype=int)

    def monomials(self, z: np.ndarray) -> np.ndarray:
        """z^{E[t]} for a batch z (B, n): (B, T)."""
        z = np.asarray(z, dtype=complex)
        out = np.ones((z.shape[0], self.exponents.shape[0]), dtype=complex)
        for j in range(self.n_vars):
            e = self.exponents[:, j]
            if np.any(e):
                out *= z[:, j : j + 1] ** e[None, :]
        return out

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        """(B, D) values."""
        return self.monomials(z) @ self.coefficients.T

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        """(B, D, n): d p_a / d z_j."""
        z = np.asarray(z, dtype=complex)
        cols = []
        for j in range(self.n_vars):
            d = self.derivative(j)
            cols.append(d.evaluate(z))
        return np.stack(cols, axis=2)

    def derivative(self, j: int) -> "SparsePolynomials":
        """d/dz_j of every polynomial."""
        e = self.exponents[:, j]
        keep = e > 0
        E = self.exponents[keep].copy()
        E[:, j] -= 1
        return SparsePolynomials(E, self.coefficients[:, keep] * e[keep][None, :])

    def compact(self, *, tol: float = 0.0) -> "SparsePolynomials":
        """Merge equal monomials and drop monomials whose coefficients all vanish."""
        E, inv = np.unique(self.exponents, axis=0, return_inverse=True)
        C = np.zeros((len(self), len(E)), dtype=complex)
        np.add.at(C.T, inv.reshape(-1), self.coefficients.T)
        keep = np.any(np.abs(C) > tol, axis=0)
        return SparsePolynomials(E[keep], C[:, keep])

    def quadratic_form(self, Q: np.ndarray) -> "SparsePolynomials":
        """The single polynomial 1/2 p(z)^T Q p(z) (Q symmetric D x D)."""
        C = self.coefficients
        M = C.T @ (np.asarray(Q, dtype=complex) @ C) * 0.5  # (T, T): coefficient of z^{E_s + E_t}
        T = C.shape[1]
        E = (self.exponents[:, None, :] + self.exponents[None, :, :]).reshape(T * T, -1)
        return SparsePolynomials(E, M.reshape(1, T * T)).compact()


def real_least_squares(
    P: SparsePolynomials,
    y: np.ndarray,
    rng: np.random.Generator,
    restarts: int,
    *,
    weight: np.ndarray | None = None,
    rows: Any = None,
    stop_tol: float | None = None,
    max_nfev: int = 500,
) -> Any:
    """min over real z of |W (P(z)[rows] - y)| by trust-region least squares from ``restarts`` standard
    normal starts; the best run (a scipy OptimizeResult).  With ``stop_tol`` (a preimage search) the runs
    use tight tolerances and stop at the first residual <= stop_tol (1 + |y|_inf)."""
    from scipy.optimize import least_squares

    sel = slice(None) if rows is None else rows
    W = np.eye(len(y)) if weight is None else weight

    def fun(z: np.ndarray) -> np.ndarray:
        return W @ (P.evaluate(z.astype(complex)[None, :])[0].real[sel] - y)

    def jac(z: np.ndarray) -> np.ndarray:
        return W @ P.jacobian(z.astype(complex)[None, :])[0].real[sel]

    tight = {"xtol": 1e-15, "ftol": 1e-15, "gtol": 1e-15} if stop_tol is not None else {}
    best = None
    for _ in range(restarts):
        r = least_squares(fun, rng.standard_normal(P.n_vars), jac=jac, method="trf", max_nfev=max_nfev, **tight)
        if best is None or r.cost < best.cost:
            best = r
        if stop_tol is not None and np.max(np.abs(r.fun)) <= stop_tol * (1 + np.max(np.abs(y))):
            break
    return best


@dataclass
class CoefficientMap:
    """theta -> coefficients of the network function in the monomial basis (exact, over Z).

    ``monomials[a]`` = (output o, exponent alpha over the inputs) of coordinate a of c, and
    ``polynomials`` the D coordinate polynomials c_a(theta) in the N parameters.
    """

    arch: Architecture
    monomials: list[tuple[int, tuple[int, ...]]]
    polynomials: SparsePolynomials  # in the N parameters

    @property
    def dimension(self) -> int:
        """D: the number of coefficients (ambient dimension of the space of such polynomials)."""
        return len(self.monomials)

    def homogeneous_block(self) -> tuple[str, int] | None:
        """A parameter array in which every coefficient is homogeneous of one degree d >= 1, with d (exact: every
        term of the expansion has the same degree in that array), the last such array; None if there is none.
        Scaling it by t scales the function by t^d, so M is a cone (closed under positive real scaling) with
        vertex 0."""
        E = self.polynomials.exponents
        used = np.any(self.polynomials.coefficients != 0, axis=0)
        off = self.arch.offsets()
        for name, shape in reversed(list(self.arch.param_shapes().items())):
            size = int(np.prod(shape)) if shape else 1
            block = E[used][:, off[name]: off[name] + size].sum(axis=1)
            if block.size and block.min() >= 1 and block.min() == block.max():
                return name, int(block[0])
        return None

    def restrict(self, free: Sequence[int], frozen_values: np.ndarray) -> SparsePolynomials:
        """c(theta) on the coordinate slice theta_i = frozen_values[i] for i not in ``free``,
        as polynomials in z = theta[free]."""
        N = self.arch.n_params
        free = np.asarray(free, dtype=int)
        fixed = np.setdiff1d(np.arange(N), free)
        E = self.polynomials.exponents
        vals = np.asarray(frozen_values, dtype=complex)
        factor = np.ones(E.shape[0], dtype=complex)
        for i in fixed:
            e = E[:, i]
            if np.any(e):
                factor *= vals[i] ** e
        P = SparsePolynomials(E[:, free], self.polynomials.coefficients * factor[None, :])
        return P.compact()


def _too_many_terms(arch: Architecture) -> InputError:
    return InputError(
        f"{arch.spec()}: the expanded network function has more than {MAX_SYMBOLIC_TERMS} terms; "
        "critical-point systems are built from the coefficient map and this network is too large "
        "for it (use a smaller architecture)"
    )


def coefficient_map(arch: Architecture) -> CoefficientMap:
    """Expand the forward pass exactly: every coefficient of the network function as an integer polynomial
    in theta.  Integer polynomials (``arithmetic.integer_polynomials``) go through the forward pass; sympy
    only where they cannot (a forward pass with a non-integer constant).  Raises InputError when the
    expansion exceeds MAX_SYMBOLIC_TERMS."""
    from ..arithmetic.integer_polynomials import DegreeOverflow, TooManyTerms

    for bits in (16, 32, 64):
        try:
            return _coefficient_map_packed(arch, bits)
        except DegreeOverflow:
            continue  # an exponent may not fit: wider fields
        except TooManyTerms:
            raise _too_many_terms(arch) from None
        except TypeError:
            break  # something the integer polynomials do not represent
    return _coefficient_map_sympy(arch)


def _coefficient_map_packed(arch: Architecture, bits: int) -> CoefficientMap:
    """``coefficient_map`` by sparse integer polynomials packed ``bits`` bits per variable (inputs first,
    then the parameters, in the order of the sympy expansion)."""
    from ..arithmetic.integer_polynomials import polynomial_type, unpack_exponents

    Poly = polynomial_type(bits, MAX_SYMBOLIC_TERMS)
    xshape = tuple(arch.input_shape(1))
    n_x = int(np.prod(xshape)) if xshape else 1
    n_th = int(arch.n_params)
    X = np.empty(n_x, dtype=object)
    X[:] = [Poly.variable(i) for i in range(n_x)]
    theta = np.empty(n_th, dtype=object)
    theta[:] = [Poly.variable(n_x + i) for i in range(n_th)]
    Y = np.asarray(arch.output_to_matrix(arch.forward(arch.unflatten(theta), X.reshape(xshape)), 1)).reshape(-1)
    outs: list[int] = []
    keys: list[int] = []
    coeffs: list[int] = []
    for o, p in enumerate(Y):
        if not isinstance(p, Poly):
            p = Poly({}, 0) + p  # a constant output (an integer): TypeError for anything else
        if len(keys) + len(p.t) > MAX_SYMBOLIC_TERMS:
            raise _too_many_terms(arch)
        outs.extend([o] * len(p.t))
        keys.extend(p.t.keys())
        coeffs.extend(p.t.values())
    if not keys:
        return CoefficientMap(arch, [], SparsePolynomials(np.zeros((0, n_th), dtype=int), np.zeros((0, 0), complex)))
    exps = unpack_exponents(keys, n_x + n_th, bits)
    # coordinates (o, alpha) ordered by output, degree, alpha; parameter monomials lexicographically
    rows = np.column_stack([np.asarray(outs, dtype=np.int64), exps[:, :n_x].sum(axis=1), exps[:, :n_x]])
    urows, row_of = np.unique(rows, axis=0, return_inverse=True)
    E, col_of = np.unique(exps[:, n_x:], axis=0, return_inverse=True)
    C = np.zeros((len(urows), len(E)), dtype=complex)
    C[row_of.reshape(-1), col_of.reshape(-1)] = np.array(coeffs, dtype=object).astype(complex)
    monomials = [(int(r[0]), tuple(int(v) for v in r[2:])) for r in urows]
    return CoefficientMap(arch, monomials, SparsePolynomials(E.astype(int).reshape(len(E), n_th), C))


def _coefficient_map_sympy(arch: Architecture) -> CoefficientMap:
    """``coefficient_map`` by sympy (the reference expansion; the fallback of the integer polynomials)."""
    import sympy

    from .evaluation import symbolic_function

    theta, X, Y = symbolic_function(arch)
    ths = list(np.asarray(theta).reshape(-1))
    xs = list(np.asarray(X).reshape(-1))
    n_th = len(ths)
    rows: list[tuple[int, tuple[int, ...], tuple[int, ...], int]] = []
    total = 0
    for o, expr in enumerate(Y):
        P = sympy.Poly(sympy.expand(expr), *xs, *ths)
        terms = P.terms()
        total += len(terms)
        if total > MAX_SYMBOLIC_TERMS:
            raise _too_many_terms(arch)
        for monom, coeff in terms:
            rows.append((o, tuple(monom[: len(xs)]), tuple(monom[len(xs) :]), int(coeff)))
    keys = sorted({(o, a) for o, a, _, _ in rows}, key=lambda k: (k[0], sum(k[1]), k[1]))
    index = {k: i for i, k in enumerate(keys)}
    th_exps = sorted({t for _, _, t, _ in rows})
    tindex = {t: i for i, t in enumerate(th_exps)}
    C = np.zeros((len(keys), len(th_exps)), dtype=complex)
    for o, a, t, c in rows:
        C[index[(o, a)], tindex[t]] += c
    E = np.array(th_exps, dtype=int).reshape(len(th_exps), n_th)
    return CoefficientMap(arch, keys, SparsePolynomials(E, C))


def _multinomial(alpha: Sequence[int]) -> int:
    return factorial(sum(alpha)) // prod(factorial(a) for a in alpha)


def metric_matrix(cmap: CoefficientMap, metric: str, rng: np.random.Generator) -> np.ndarray:
    """The Gram matrix Q (D x D, real symmetric positive definite) of ``metric`` on coefficients."""
    D = cmap.dimension
    if metric == "euclidean":
        return np.eye(D)
    if metric == "bombieri_weyl":
        d = max((sum(a) for _, a in cmap.monomials), default=0)
        # homogenise with x_0 of degree d - |alpha| (forms: nothing changes)
        w = [1.0 / _multinomial(tuple(a) + (d - sum(a),)) for _, a in cmap.monomials]
        return np.diag(w)
    if metric == "generic":
        A = rng.standard_normal((D, D))
        return A.T @ A / D + np.eye(D) / D
    raise InputError(f"unknown metric {metric!r}; choose from: {', '.join(METRICS)}")


__all__ = ["CoefficientMap", "SparsePolynomials", "coefficient_map", "metric_matrix", "real_least_squares", "METRICS"]
