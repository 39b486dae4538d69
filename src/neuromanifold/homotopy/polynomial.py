"""Polynomial systems F(z; p) with fast batched evaluation of values and derivatives.

Each F_i = sum_t c_{it} z^{a_t} p^{b_t} is stored through one table of monomials in the joint
variables x = (z, p) that is closed under "divide by the first variable that occurs":
every monomial x^e of total degree d is x^{e - e_j} * x_j with x^{e - e_j} already in the table.
A batch of monomial values V (B, M) is thus built degree by degree in D vectorised products
(D = the largest total degree), and then

    F   = V C_F            C_F (M, n)
    F_z = V C_Z            C_Z (M, n*n),  the monomials of dF_i/dz_j with their coefficients
    F_p = V C_P            C_P (M, n*m)

are three complex matrix products over the whole batch.  No Python loop runs over paths.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from .system import ParametrizedSystem

Terms = Mapping[tuple[int, ...], complex]
"""One polynomial: {exponent tuple over (z, p): coefficient}."""


def monomial_chain(exponents: Any) -> tuple[list[tuple[int, ...]], dict[tuple[int, ...], int], list[tuple[int, int]]]:
    """The monomials x^e (e in ``exponents``, with 1 = x^0) and every parent they need, each built as parent *
    variable: closed under x^e -> x^(e - e_j), j the first variable occurring, and sorted by (degree, e).
    Returns (monomials, their rows, steps) with steps[i - 1] = (parent row, variable) of monomial i >= 1."""
    needed = {tuple(int(v) for v in e) for e in exponents}
    if needed:
        needed.add((0,) * len(next(iter(needed))))
    stack = list(needed)
    while stack:
        e = stack.pop()
        if sum(e) == 0:
            continue
        j = next(k for k, v in enumerate(e) if v)
        parent = e[:j] + (e[j] - 1,) + e[j + 1 :]
        if parent not in needed:
            needed.add(parent)
            stack.append(parent)
    monos = sorted(needed, key=lambda e: (sum(e), e))
    index = {e: k for k, e in enumerate(monos)}
    steps = []
    for e in monos[1:]:
        j = next(q for q, v in enumerate(e) if v)
        steps.append((index[e[:j] + (e[j] - 1,) + e[j + 1 :]], j))
    return monos, index, steps


DENSE_COEFFICIENT_LIMIT = 100_000  # coefficient tables up to this many entries stay dense numpy arrays


def _coefficient_rows(A: np.ndarray) -> Any:
    """A coefficient table for products ``A @ V``: dense when small (no scipy import, which is most of
    a short command's start-up), a CSR matrix when large and sparse."""
    if A.size <= DENSE_COEFFICIENT_LIMIT:
        return np.ascontiguousarray(A)
    from scipy import sparse

    return sparse.csr_matrix(A)


class PolynomialSystem(ParametrizedSystem):
    """A square polynomial system F(z; p) = 0: n equations in n unknowns z, m parameters p.

    Build it from sympy expressions (``PolynomialSystem.from_sympy``) or from term dictionaries
    / exponent and coefficient arrays (``PolynomialSystem(polynomials, n_vars, n_params)``).
    """

    def __init__(
        self,
        polynomials: Sequence[Terms],
        n_vars: int,
        n_params: int = 0,
        *,
        variable_names: Sequence[str] | None = None,
        parameter_names: Sequence[str] | None = None,
    ) -> None:
        if len(polynomials) != n_vars:
            raise InputError(
                f"the system is not square: {len(polynomials)} equations in {n_vars} unknowns; "
                "homotopy continuation needs as many equations as unknowns (add random linear "
                "combinations or random linear slices to make it square)"
            )
        if n_vars == 0:
            raise InputError("the system has no unknowns; pass at least one variable")
        self.n_vars = int(n_vars)
        self.n_params = int(n_params)
        nv = self.n_vars + self.n_params
        polys: list[dict[tuple[int, ...], complex]] = []
        for i, poly in enumerate(polynomials):
            clean: dict[tuple[int, ...], complex] = {}
            for exp, c in poly.items():
                exp = tuple(int(e) for e in exp)
                if len(exp) != nv:
                    raise InputError(
                        f"equation {i}: exponent {exp} has {len(exp)} entries; it needs n_vars + n_params = {nv}"
                    )
                if min(exp, default=0) < 0:
                    raise InputError(f"equation {i}: negative exponent {exp}; only polynomials are allowed")
                c = complex(c)
                if c != 0:
                    clean[exp] = clean.get(exp, 0) + c
            polys.append(clean)
        self.polynomials = polys
        self.variable_names = list(variable_names) if variable_names else [f"z{j}" for j in range(self.n_vars)]
        self.parameter_names = list(parameter_names) if parameter_names else [f"p{j}" for j in range(self.n_params)]
        self._build_tables()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_sympy(
        cls, equations: Sequence, variables: Sequence, parameters: Sequence = ()
    ) -> "PolynomialSystem":
        """Square system from sympy expressions (each expression = 0) in ``variables``, with
        ``parameters`` allowed to enter polynomially."""
        import sympy

        from ..arithmetic.polynomial_text import parse_polynomial

        gens = list(variables) + list(parameters)
        polys = []
        for i, eq in enumerate(equations):
            if isinstance(eq, str):  # text: read by a whitelist in the variables and parameters, never evaluated
                expr = parse_polynomial(eq, [g if isinstance(g, sympy.Symbol) else str(g) for g in gens])
            else:
                try:
                    expr = sympy.sympify(eq, strict=True)  # strict: never parses or evaluates text
                except sympy.SympifyError:
                    raise InputError(f"equation {i}: {type(eq).__name__} is not a sympy expression, a number or "
                                     "polynomial text") from None
            if isinstance(expr, sympy.Equality):
                expr = expr.lhs - expr.rhs
            try:
                P = sympy.Poly(sympy.expand(expr), *gens)
            except sympy.PolynomialError as exc:
                raise InputError(f"equation {i} is not a polynomial in the variables and parameters: {exc}") from exc
            terms = {}
            for monom, coeff in P.terms():
                try:
                    terms[tuple(monom)] = complex(coeff)
                except TypeError as exc:
                    raise InputError(
                        f"equation {i}: coefficient {coeff} is not a number; list every symbol it uses "
                        "among the variables or the parameters"
                    ) from exc
            polys.append(terms)
        return cls(
            polys,
            len(variables),
            len(parameters),
            variable_names=[str(v) for v in variables],
            parameter_names=[str(q) for q in parameters],
        )

    @classmethod
    def from_arrays(
        cls,
        exponents: Sequence[np.ndarray],
        coefficients: Sequence[np.ndarray],
        n_vars: int,
        n_params: int = 0,
    ) -> "PolynomialSystem":
        """Equation i is sum_t coefficients[i][t] * x^{exponents[i][t]} with x = (z, p);
        ``exponents[i]`` has shape (T_i, n_vars + n_params)."""
        if len(exponents) != len(coefficients):
            raise InputError("pass one exponent array and one coefficient array per equation")
        polys = []
        for E, c in zip(exponents, coefficients):
            E = np.atleast_2d(np.asarray(E, dtype=int))
            c = np.atleast_1d(np.asarray(c, dtype=complex))
            if E.shape[0] != c.shape[0]:
                raise InputError(f"{E.shape[0]} exponent rows but {c.shape[0]} coefficients in one equation")
            terms: dict[tuple[int, ...], complex] = {}
            for row, ci in zip(E, c):
                key = tuple(int(v) for v in row)
                terms[key] = terms.get(key, 0) + complex(ci)
            polys.append(terms)
        return cls(polys, n_vars, n_params)

    # ------------------------------------------------------------------ tables
    def _build_tables(self) -> None:
        n, m = self.n_vars, self.n_params
        nv = n + m
        needed: set[tuple[int, ...]] = {(0,) * nv}
        for poly in self.polynomials:
            for exp in poly:
                needed.add(exp)
                for j in range(nv):
                    if exp[j] > 0:
                        needed.add(exp[:j] + (exp[j] - 1,) + exp[j + 1 :])
        monos, index, steps = monomial_chain(needed)
        M = len(monos)
        self.monomials = np.array(monos, dtype=int).reshape(M, nv)
        self._levels: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        degs = self.monomials.sum(axis=1)
        for d in range(1, int(degs.max(initial=0)) + 1):
            ks = np.flatnonzero(degs == d)
            if len(ks) == 0:
                continue
            parents = [steps[k - 1][0] for k in ks]
            vars_ = [steps[k - 1][1] for k in ks]
            self._levels.append((int(ks[0]), int(ks[-1]) + 1, np.array(parents), np.array(vars_)))
        CF = np.zeros((M, n), dtype=complex)
        CZ = np.zeros((M, n, n), dtype=complex)
        CP = np.zeros((M, n, m), dtype=complex)
        for i, poly in enumerate(self.polynomials):
            for exp, c in poly.items():
                CF[index[exp], i] += c
                for j in range(nv):
                    if exp[j] > 0:
                        k = index[exp[:j] + (exp[j] - 1,) + exp[j + 1 :]]
                        if j < n:
                            CZ[k, i, j] += c * exp[j]
                        else:
                            CP[k, i, j - n] += c * exp[j]
        self._CF = CF
        self._CZ = CZ.reshape(M, n * n)
        self._CP3 = CP
        self._CP = CP.reshape(M, n * m)
        # transposed forms: F^T = CF^T V^T, and [F; F_z] stacked, for a (M, B) layout of V
        self._sFT = _coefficient_rows(CF.T)
        self._sFZT = _coefficient_rows(np.concatenate([CF, self._CZ], axis=1).T)
        self._sPT = _coefficient_rows(self._CP.T)
        self._dp_cache: tuple[bytes, Any] | None = None
        self._n_monomials = M

    @property
    def degrees(self) -> np.ndarray:
        """Total degree of each equation in the unknowns z (parameters do not count)."""
        n = self.n_vars
        return np.array([max((sum(e[:n]) for e in poly), default=0) for poly in self.polynomials], dtype=int)

    @property
    def bezout_number(self) -> int:
        """prod_i deg F_i: the number of paths of the total-degree homotopy."""
        return int(np.prod(self.degrees.astype(object)))

    # ------------------------------------------------------------------ evaluation
    def monomial_values(self, z: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        """V[k, b] = x_b^{e_k} for x = (z, p): shape (M, B) (monomials first), built degree by degree."""
        z = np.asarray(z, dtype=complex)
        B = z.shape[0]
        XT = np.empty((self.n_vars + self.n_params, B), dtype=complex)
        XT[: self.n_vars] = z.T
        if self.n_params:
            pp = np.asarray(p, dtype=complex)
            XT[self.n_vars :] = pp[:, None] if pp.ndim == 1 else pp.T
        VT = np.empty((self._n_monomials, B), dtype=complex)
        VT[0] = 1.0
        with np.errstate(over="ignore", invalid="ignore"):  # far-out points give inf/nan, handled by callers
            for lo, hi, parents, vars_ in self._levels:
                np.multiply(VT[parents], XT[vars_], out=VT[lo:hi])
        return VT

    def evaluate(self, z: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        """F(z; p), shape (B, n)."""
        return (self._sFT @ self.monomial_values(z, p)).T

    def jacobian(self, z: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        """dF/dz, shape (B, n, n)."""
        return self.evaluate_and_jacobian(z, p)[1]

    def parameter_jacobian(self, z: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        """dF/dp, shape (B, n, m)."""
        VT = self.monomial_values(z, p)
        return np.ascontiguousarray((self._sPT @ VT).T).reshape(-1, self.n_vars, self.n_params)

    def evaluate_and_jacobian(self, z: np.ndarray, p: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        n = self.n_vars
        out = (self._sFZT @ self.monomial_values(z, p)).T  # (B, n + n*n)
        return out[:, :n], np.ascontiguousarray(out[:, n:]).reshape(-1, n, n)

    def evaluate_with_derivatives(
        self, z: np.ndarray, p: np.ndarray | None, dp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(F, dF/dz, (dF/dp) dp) from one table of monomial values."""
        n = self.n_vars
        VT = self.monomial_values(z, p)
        out = (self._sFZT @ VT).T
        F, Fz = out[:, :n], np.ascontiguousarray(out[:, n:]).reshape(-1, n, n)
        if self.n_params == 0:
            return F, Fz, np.zeros_like(F)
        dp = np.asarray(dp, dtype=complex)
        if dp.ndim == 1:
            key = dp.tobytes()
            if self._dp_cache is None or self._dp_cache[0] != key:
                self._dp_cache = (key, _coefficient_rows((self._CP3 @ dp).T))
            return F, Fz, (self._dp_cache[1] @ VT).T
        Fp = np.ascontiguousarray((self._sPT @ VT).T).reshape(-1, n, self.n_params)
        return F, Fz, np.einsum("bnm,bm->bn", Fp, dp)

    def path_taylor(
        self,
        z0: np.ndarray,
        x1: np.ndarray,
        p_series: np.ndarray,
        solve: Callable[[np.ndarray], np.ndarray],
        order: int,
    ) -> list[np.ndarray]:
        """Taylor coefficients x_2..x_order of the curve x(s) = sum_k x_k s^k with x_0 = z0 (B, n),
        x_1 = x1 and F(x(s); p(s)) = 0, where p(s) = sum_k p_series[k] s^k (p_series: (K+1, B, m)).

        Order by order, [s^k] F(x(s); p(s)) = c_k + F_z(x_0) x_k with c_k the coefficient of s^k
        of F(x_0 + ... + x_{k-1} s^{k-1}; p(s)); hence x_k = -F_z^{-1} c_k, ``solve(c)`` returning
        F_z(x_0)^{-1} c for c (B, n).  The monomial table is evaluated over truncated power series:
        a monomial m = parent * x_j has the Cauchy product [s^k] m = sum_i [s^i] parent [s^(k-i)] x_j,
        and once x_k is known its contribution to [s^k] of every monomial is the tangent
        propagation d m = d parent * x_j(0) + parent(0) * d x_j (two products per monomial).
        """
        n, m, K = self.n_vars, self.n_params, int(order)
        z0 = np.asarray(z0, dtype=complex)
        B = z0.shape[0]
        X = np.zeros((K + 1, n + m, B), dtype=complex)  # series coefficients of (z, p), variables first
        X[0, :n] = z0.T
        X[1, :n] = np.asarray(x1).T
        if m:
            X[:, n:] = np.transpose(np.asarray(p_series, dtype=complex)[: K + 1], (0, 2, 1))
        V = np.empty((K + 1, self._n_monomials, B), dtype=complex)
        V[:, 0] = 0.0
        V[0, 0] = 1.0
        out: list[np.ndarray] = []
        with np.errstate(over="ignore", invalid="ignore"):
            for lo, hi, parents, vars_ in self._levels:  # orders 0 and 1: x_0, x_1 are known
                Vp, Xv = V[:2, parents], X[:2, vars_]
                np.multiply(Vp[0], Xv[0], out=V[0, lo:hi])
                V[1, lo:hi] = Vp[0] * Xv[1] + Vp[1] * Xv[0]
            for k in range(2, K + 1):
                for lo, hi, parents, vars_ in self._levels:  # [s^k] with x_k = 0 (p_k as given)
                    V[k, lo:hi] = np.einsum("ilb,ilb->lb", V[: k + 1, parents], X[k::-1, vars_])
                xk = -solve(np.ascontiguousarray((self._sFT @ V[k]).T))
                out.append(xk)
                if k == K:
                    break
                dX = np.zeros((n + m, B), dtype=complex)
                dX[:n] = xk.T
                X[k, :n] = xk.T
                dV = np.zeros((self._n_monomials, B), dtype=complex)
                for lo, hi, parents, vars_ in self._levels:  # tangent propagation of x_k
                    dV[lo:hi] = dV[parents] * X[0, vars_] + V[0, parents] * dX[vars_]
                V[k] += dV
        return out

    # ------------------------------------------------------------------ transformations
    def homogenize(self, chart: np.ndarray) -> "PolynomialSystem":
        """The projective closure in w = (z_1..z_n, z_0) on the affine chart <chart, w> = 1.

        Equations: z_0^{d_i} F_i(z / z_0; p) for i < n, and sum_j chart_j w_j - 1.  Solutions at
        infinity of F are the solutions with z_0 = 0.
        """
        n, m = self.n_vars, self.n_params
        chart = np.asarray(chart, dtype=complex)
        if chart.shape != (n + 1,):
            raise InputError(f"chart must have length n_vars + 1 = {n + 1}")
        degs = self.degrees
        polys = []
        for poly, d in zip(self.polynomials, degs):
            polys.append({e[:n] + (int(d) - sum(e[:n]),) + e[n:]: c for e, c in poly.items()})
        lin: dict[tuple[int, ...], complex] = {}
        for j in range(n + 1):
            e = [0] * (n + 1 + m)
            e[j] = 1
            lin[tuple(e)] = chart[j]
        lin[(0,) * (n + 1 + m)] = -1.0
        polys.append(lin)
        return PolynomialSystem(
            polys,
            n + 1,
            m,
            variable_names=self.variable_names + ["z_hom"],
            parameter_names=self.parameter_names,
        )

    def specialize(self, p: np.ndarray | None) -> "PolynomialSystem":
        """F(z; p) at fixed parameter values: a system without parameters."""
        n, m = self.n_vars, self.n_params
        if m == 0:
            return self
        p = np.asarray(p, dtype=complex).reshape(-1)
        if p.shape != (m,):
            raise InputError(f"parameters must have length {m}; got {p.shape[0]}")
        polys = []
        for poly in self.polynomials:
            new: dict[tuple[int, ...], complex] = {}
            for e, c in poly.items():
                val = c * complex(np.prod(p ** np.asarray(e[n:])))
                new[e[:n]] = new.get(e[:n], 0) + val
            polys.append(new)
        return PolynomialSystem(polys, n, 0, variable_names=self.variable_names)

    @staticmethod
    def straight_line(target: "PolynomialSystem", start: "PolynomialSystem", gamma: complex) -> "PolynomialSystem":
        """K(z; t) = (1 - t) F(z) + gamma t G(z) as one system with the single parameter t
        (F, G without parameters): one evaluation gives H, H_z and H_t = dK/dt."""
        if target.n_params or start.n_params:
            raise InputError("specialize the parameters of both systems first")
        n = target.n_vars
        polys = []
        for f, g in zip(target.polynomials, start.polynomials):
            new: dict[tuple[int, ...], complex] = {}
            for e, c in f.items():
                new[e + (0,)] = new.get(e + (0,), 0) + c
                new[e + (1,)] = new.get(e + (1,), 0) - c
            for e, c in g.items():
                new[e + (1,)] = new.get(e + (1,), 0) + gamma * c
            polys.append(new)
        return PolynomialSystem(polys, n, 1, variable_names=target.variable_names, parameter_names=["t"])

    def to_sympy(self) -> list:
        """The equations as sympy expressions in symbols named after the variables/parameters."""
        import sympy

        syms = sympy.symbols(self.variable_names + self.parameter_names)
        syms = list(syms) if isinstance(syms, (list, tuple)) else [syms]
        out = []
        for poly in self.polynomials:
            expr = 0
            for e, c in poly.items():
                coeff = sympy.nsimplify(c.real) + sympy.I * sympy.nsimplify(c.imag) if c.imag else sympy.nsimplify(c.real)
                expr += coeff * sympy.Mul(*[s**k for s, k in zip(syms, e)])
            out.append(expr)
        return out

    def __repr__(self) -> str:
        return (
            f"PolynomialSystem(n_vars={self.n_vars}, n_params={self.n_params}, "
            f"degrees={self.degrees.tolist()}, monomials={self._n_monomials})"
        )


# ---------------------------------------------------------------------- test systems
def _unit(nv: int, *pairs: tuple[int, int]) -> tuple[int, ...]:
    e = [0] * nv
    for j, k in pairs:
        e[j] += k
    return tuple(e)


def katsura(n: int) -> PolynomialSystem:
    """katsura-n: n+1 unknowns x_0..x_n, Bezout number 2^n, all 2^n solutions finite and regular.

    x_0 + 2 sum_{i=1}^n x_i = 1 and, for m = 0..n-1, sum_{l=-n}^{n} x_{|l|} x_{|m-l|} = x_m
    (with x_k = 0 for k > n).
    """
    if n < 1:
        raise InputError("katsura(n) needs n >= 1")
    nv = n + 1
    polys: list[dict[tuple[int, ...], complex]] = []
    lin = {_unit(nv, (0, 1)): 1.0, _unit(nv): -1.0}
    for i in range(1, nv):
        lin[_unit(nv, (i, 1))] = 2.0
    polys.append(lin)
    for mm in range(n):
        terms: dict[tuple[int, ...], complex] = {}
        for l in range(-n, n + 1):
            a, b = abs(l), abs(mm - l)
            if b > n:
                continue
            e = _unit(nv, (a, 1), (b, 1))
            terms[e] = terms.get(e, 0) + 1.0
        e = _unit(nv, (mm, 1))
        terms[e] = terms.get(e, 0) - 1.0
        polys.append(terms)
    return PolynomialSystem(polys, nv, 0, variable_names=[f"x{i}" for i in range(nv)])


def cyclic(n: int) -> PolynomialSystem:
    """cyclic-n roots: sum_i prod_{j<k} z_{(i+j) mod n} = 0 for k = 1..n-1 and prod z - 1 = 0.

    Bezout number n!; cyclic-5 has 70 isolated roots, cyclic-6 156, cyclic-7 924.
    """
    if n < 2:
        raise InputError("cyclic(n) needs n >= 2")
    polys: list[dict[tuple[int, ...], complex]] = []
    for k in range(1, n):
        terms: dict[tuple[int, ...], complex] = {}
        for i in range(n):
            e = [0] * n
            for j in range(k):
                e[(i + j) % n] += 1
            terms[tuple(e)] = terms.get(tuple(e), 0) + 1.0
        polys.append(terms)
    polys.append({(1,) * n: 1.0, (0,) * n: -1.0})
    return PolynomialSystem(polys, n, 0)


def univariate(coefficients: Sequence[complex]) -> PolynomialSystem:
    """f(z) = c_0 z^d + c_1 z^{d-1} + ... + c_d (highest degree first, as ``numpy.roots``)."""
    c = np.atleast_1d(np.asarray(coefficients, dtype=complex))
    if c.ndim != 1 or len(c) < 2 or c[0] == 0:
        raise InputError("univariate needs coefficients [c_0, ..., c_d] with d >= 1 and c_0 != 0")
    d = len(c) - 1
    return PolynomialSystem([{(d - k,): c[k] for k in range(d + 1)}], 1, 0)


def univariate_family(degree: int) -> PolynomialSystem:
    """f(z; a) = a_0 + a_1 z + ... + a_d z^d with the d+1 coefficients a as parameters."""
    if degree < 1:
        raise InputError("univariate_family needs degree >= 1")
    d = int(degree)
    terms = {_unit(d + 2, (0, k), (1 + k, 1)): 1.0 for k in range(d + 1)}
    return PolynomialSystem([terms], 1, d + 1, variable_names=["z"], parameter_names=[f"a{k}" for k in range(d + 1)])


def with_constant_parameters(system: PolynomialSystem) -> PolynomialSystem:
    """F(z) - p: the family obtained by moving the constant terms, one parameter per equation.

    Useful for monodromy on a system without parameters: F(z) - p = 0 at p = F(z0) has the
    known solution z0 for any z0, and a generic p has the generic number of solutions.
    """
    n, m = system.n_vars, system.n_params
    polys = []
    for i, poly in enumerate(system.polynomials):
        new = {e[:n] + e[n:] + (0,) * n: c for e, c in poly.items()}
        new[(0,) * (n + m) + tuple(1 if k == i else 0 for k in range(n))] = -1.0
        polys.append(new)
    return PolynomialSystem(
        polys,
        n,
        m + n,
        variable_names=system.variable_names,
        parameter_names=system.parameter_names + [f"c{i}" for i in range(n)],
    )


__all__ = [
    "PolynomialSystem",
    "katsura",
    "cyclic",
    "univariate",
    "univariate_family",
    "with_constant_parameters",
]
