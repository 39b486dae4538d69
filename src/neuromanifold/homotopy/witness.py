"""Pseudo-witness sets of images of polynomial maps (as NumericalImplicitization).

For phi: C^N -> C^A with image closure X of dimension k, pick a random affine slice of
parameter space theta = base + U z (z in C^k; U spans a gauge-complementary or generic
k-plane) and a random linear map R: C^A -> C^k.  Then

    F(z; b) = R phi(base + U z) - b = 0

is a square system whose solutions map onto X ∩ {R y = b}: a pseudo-witness set.  Its image
points, deduplicated, number deg X; the solutions over one image point form the fiber of phi
restricted to the slice.  ``b`` is the parameter moved by monodromy and by the trace test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .polynomial import PolynomialSystem, monomial_chain
from .system import ParametrizedSystem


class BatchedMap(Protocol):
    """phi with forward-mode derivatives: (theta (B, N), directions (N, k)) ->
    (phi(theta) (B, A), d phi(theta) . directions (k, B, A)); with k = 0 only the values matter."""

    def __call__(self, theta: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class ImageSliceSystem(ParametrizedSystem):
    """F(z; b) = R phi(base + U z) - b: k equations, k unknowns, k parameters.

    ``chunk``: points per call of ``phi`` (0: the whole batch at once).  Forward-mode arrays grow
    with the batch; evaluating a large batch in cache-sized chunks is faster than in one go.
    ``values``: optional theta (B, N) -> phi(theta) (B, A) without derivatives (default: ``phi``
    with no directions).
    """

    phi: BatchedMap
    base: np.ndarray  # (N,)
    U: np.ndarray  # (N, k)
    R: np.ndarray  # (k, A)
    chunk: int = 0
    values: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        self.n_vars = self.U.shape[1]
        self.n_params = self.R.shape[0]
        if self.n_vars != self.n_params:
            from ..errors import InputError

            raise InputError(
                f"slice system is not square: {self.n_params} linear equations for {self.n_vars} unknowns; "
                "the number of image slices must equal the slice dimension (dim of the image)"
            )
        self._RT = np.ascontiguousarray(self.R.T)

    def theta(self, z: np.ndarray) -> np.ndarray:
        return self.base[None, :] + z @ self.U.T

    def _chunks(self, B: int) -> list[slice]:
        c = self.chunk if self.chunk > 0 else B
        return [slice(a, min(a + c, B)) for a in range(0, B, max(c, 1))]

    def image(self, z: np.ndarray) -> np.ndarray:
        """phi(theta(z)) for a batch z (B, k): the points of the image."""
        theta = self.theta(z)
        if self.values is not None:
            parts = [self.values(theta[sl]) for sl in self._chunks(len(theta))]
        else:
            parts = [self.phi(theta[sl], self.U[:, :0])[0] for sl in self._chunks(len(theta))]
        if not parts:
            return np.zeros((0, self.R.shape[1]), dtype=complex)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def evaluate_and_jacobian(self, z: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = self.theta(z)
        B, k = z.shape[0], self.n_vars
        F = np.empty((B, k), dtype=complex)
        Fz = np.empty((B, k, k), dtype=complex)
        for sl in self._chunks(B):
            vals, tang = self.phi(theta[sl], self.U)  # (b, A), (k, b, A)
            np.matmul(vals, self._RT, out=F[sl])
            # Fz[b, i, j] = sum_a R[i, a] tang[j, b, a]
            Fz[sl] = np.matmul(tang, self._RT).transpose(1, 2, 0)
        F -= p
        return F, Fz

    def evaluate_with_derivatives(
        self, z: np.ndarray, p: np.ndarray, dp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        F, Fz = self.evaluate_and_jacobian(z, p)
        return F, Fz, -np.broadcast_to(np.asarray(dp, dtype=complex), F.shape)

    def evaluate(self, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.image(z) @ self._RT - p

    def jacobian(self, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.evaluate_and_jacobian(z, p)[1]

    def parameter_jacobian(self, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        B = z.shape[0]
        return np.broadcast_to(-np.eye(self.n_params, dtype=complex), (B, self.n_params, self.n_params)).copy()


class PolynomialImageSliceSystem(PolynomialSystem):
    """F(z; b) = R P(z) - b for a polynomial map P: C^k -> C^A given by exponents E (T, k) and
    coefficients C (A, T) (P_a(z) = sum_t C[a, t] z^{E[t]}); a ``PolynomialSystem`` (monomial
    tables: fast batched values and Jacobians) with the k offsets b as parameters, plus ``image``."""

    def __init__(self, exponents: np.ndarray, coefficients: np.ndarray, R: np.ndarray) -> None:
        E = np.asarray(exponents, dtype=int)
        C = np.asarray(coefficients, dtype=complex)
        R = np.asarray(R, dtype=complex)
        k = E.shape[1]
        if R.shape != (k, C.shape[0]):
            from ..errors import InputError

            raise InputError(
                f"slice system is not square: {R.shape[0]} linear equations for {k} unknowns; the number of "
                "image slices must equal the slice dimension (dim of the image)"
            )
        RC = R @ C  # (k, T)
        polys = []
        for i in range(k):
            terms: dict[tuple[int, ...], complex] = {}
            for e, v in zip(E, RC[i]):
                if v != 0:
                    key = tuple(int(x) for x in e) + (0,) * k
                    terms[key] = terms.get(key, 0) + complex(v)
            unit = tuple(1 if j == i else 0 for j in range(k))
            terms[(0,) * k + unit] = -1.0
            polys.append(terms)
        super().__init__(polys, k, k, parameter_names=[f"b{i}" for i in range(k)])
        self.R = R
        self._E, self._C = E, C

    def _monomial_plan(self) -> tuple[list[tuple[int, int]], np.ndarray, int]:
        """Every monomial of ``_E`` (and the parents it needs) as parent * variable, degree by degree:
        (steps (parent row, variable) for rows 1.., the row of each monomial of ``_E``, number of rows)."""
        plan = getattr(self, "_plan", None)
        if plan is None:
            k = self._E.shape[1]
            order, index, steps = monomial_chain(self._E)  # (the constant 1 = x^0 is row 0)
            assert order[0] == (0,) * k
            rows = np.array([index[tuple(int(v) for v in e)] for e in self._E], dtype=int)
            plan = self._plan = (steps, rows, len(order))
        return plan

    def image(self, z: np.ndarray, projection: np.ndarray | None = None) -> np.ndarray:
        """P(z) for a batch z (B, k): the points of the image (with ``projection`` (A, q): P(z) @ projection,
        computed as monomials @ (C^T projection), without the A coordinates).  The monomials are built degree
        by degree, one product per monomial (a complex ``**`` per monomial, variable and point cost ~10% of a
        monodromy run), in chunks of points (bounded memory)."""
        z = np.asarray(z, dtype=complex)
        B = z.shape[0]
        steps, rows, M = self._monomial_plan()
        CT = self._C.T if projection is None else self._C.T @ np.asarray(projection, dtype=complex)
        out = np.empty((B, CT.shape[1]), dtype=complex)
        for lo in range(0, B, 4096):
            zt = np.ascontiguousarray(z[lo : lo + 4096].T)  # (k, b)
            V = np.empty((M, zt.shape[1]), dtype=complex)
            V[0] = 1.0
            for i, (par, j) in enumerate(steps, start=1):
                np.multiply(V[par], zt[j], out=V[i])
            out[lo : lo + 4096] = V[rows].T @ CT
        return out


def image_keys(points: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Complex keys of image points under a fixed random projection (A,) or (A, m)."""
    return points @ projection


def random_unitary_like(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A random complex matrix with rows of unit norm (well-scaled generic linear map)."""
    M = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return M / np.linalg.norm(M, axis=1, keepdims=True)


KeyFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
