"""Homotopies H(z, t): C^n x [0, 1] -> C^n from a start system H(., 1) to a target H(., 0).

Straight line (two systems):  H(z, t) = (1 - t) F(z; p_F) + gamma t G(z; p_G).
Parameter (one system):       H(z, t) = F(z; p(t)),  p(t) = (1 - s) p_target + s p_start,
                              s(t) = gamma t / (1 + (gamma - 1) t),
per path in ``ParameterHomotopyBatch``.  Each evaluates (H, H_z, H_t) over a batch of points; a
random gamma on the unit circle keeps every path off the discriminant with probability one.
Polynomial homotopies also give the truncated Taylor series of a path (``taylor_coefficients``)
and the tables of the compiled tracker (``compiled_form``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .system import ParametrizedSystem, broadcast_parameters


class Homotopy(ABC):
    """H(z, t): C^n x [0, 1] -> C^n with H(., 1) the start system and H(., 0) the target."""

    n_vars: int
    gamma: complex

    @abstractmethod
    def evaluate_all(self, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(H, H_z, H_t) at z (B, n), t (B,): shapes (B, n), (B, n, n), (B, n)."""

    def evaluate_and_jacobian(self, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, H_z); override when cheaper than ``evaluate_all``."""
        H, Hz, _ = self.evaluate_all(z, t)
        return H, Hz

    @abstractmethod
    def with_gamma(self, gamma: complex) -> "Homotopy":
        """The same homotopy with another gamma (a different path, same start and target)."""

    def subset(self, idx: Any) -> "Homotopy":
        """The homotopy of the paths ``idx`` (an index array or slice into the batch of start
        points).  Homotopies shared by every path return themselves; per-path ones
        (``ParameterHomotopyBatch``) slice their data, so the tracker can evaluate any subset."""
        return self

    #: True when ``taylor_coefficients`` is implemented (usable with ``predictor='taylor'``)
    has_taylor: bool = False

    def compiled_form(self, B: int) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray] | None:
        """The data of the compiled tracker (``compiled.py``) for polynomial homotopies:
        ((straight, gamma, tables of F, tables of G), p_target (B, m), dp (B, m), gamma (B,)) with
        H = (1 - t) F(z) + gamma t G(z) when straight, else H = F(z; p_target + s(t) dp),
        s(t) = gamma t / (1 + (gamma - 1) t); None for homotopies it cannot evaluate."""
        return None

    def taylor_coefficients(
        self, z: np.ndarray, t: np.ndarray, x1: np.ndarray, solve: Callable[[np.ndarray], np.ndarray], order: int
    ) -> list[np.ndarray]:
        """x_2..x_order of the path z(t - s) = sum_k x_k s^k through z = x_0 with x_1 = -dz/dt,
        given ``solve(c) = H_z(z, t)^{-1} c`` (c of shape (B, n)).  Only homotopies that can evaluate
        H over truncated power series implement it (``has_taylor``)."""
        raise NotImplementedError(f"{type(self).__name__} has no Taylor series evaluation")


def random_gamma(rng: np.random.Generator) -> complex:
    """A random point of the unit circle: the gamma trick avoids the discriminant with probability one."""
    return complex(np.exp(2j * np.pi * rng.random()))


def _tables(system: Any) -> Any:
    """The flat tables of a ``PolynomialSystem`` for the compiled tracker (built once per system)."""
    tab = getattr(system, "_compiled_tables", None)
    if tab is None:
        from .compiled import Tables

        tab = Tables(system)
        system._compiled_tables = tab
    return tab


def _gamma_or_random(gamma: complex | None, rng: np.random.Generator | int | None) -> complex:
    if gamma is not None:
        return complex(gamma)
    return random_gamma(np.random.default_rng(rng))


class StraightLineHomotopy(Homotopy):
    """H(z, t) = (1 - t) F(z; p_F) + gamma t G(z; p_G)."""

    def __init__(
        self,
        target: ParametrizedSystem,
        start: ParametrizedSystem,
        gamma: complex | None = None,
        target_params: np.ndarray | None = None,
        start_params: np.ndarray | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        if target.n_vars != start.n_vars:
            raise InputError(
                f"start system has {start.n_vars} unknowns but the target has {target.n_vars}; they must match"
            )
        self.target, self.start = target, start
        self.n_vars = target.n_vars
        self.gamma = _gamma_or_random(gamma, rng)
        self.target_params = None if target_params is None else np.asarray(target_params, dtype=complex)
        self.start_params = None if start_params is None else np.asarray(start_params, dtype=complex)
        broadcast_parameters(self.target_params, 1, target.n_params)
        broadcast_parameters(self.start_params, 1, start.n_params)
        self._specialized = None
        self._combined_system = None
        from .polynomial import PolynomialSystem

        if isinstance(target, PolynomialSystem) and isinstance(start, PolynomialSystem):
            self._specialized = (target.specialize(self.target_params), start.specialize(self.start_params))
            self._one = np.ones(1, dtype=complex)
            self.has_taylor = True

    @property
    def _combined(self):
        """For polynomial F, G: K(z; t) = (1 - t) F + gamma t G as one polynomial system in (z; t)
        (H, H_z, H_t from one table of monomials; built on first use by the numpy tracker)."""
        if self._specialized is not None and self._combined_system is None:
            from .polynomial import PolynomialSystem

            self._combined_system = PolynomialSystem.straight_line(*self._specialized, self.gamma)
        return self._combined_system

    def taylor_coefficients(self, z, t, x1, solve, order):
        """Along the path, H(x(s), t - s) = K(x(s); t - s) with K the combined system in (z; t):
        its Taylor coefficients come from ``PolynomialSystem.path_taylor`` with p(s) = t - s."""
        if self._combined is None:
            return super().taylor_coefficients(z, t, x1, solve, order)
        p_series = np.zeros((order + 1, z.shape[0], 1), dtype=complex)
        p_series[0, :, 0] = t
        p_series[1] = -1.0
        return self._combined.path_taylor(z, x1, p_series, solve, order)

    def compiled_form(self, B):
        if self._specialized is None:
            return None
        F, G = self._specialized
        empty = np.zeros((B, 0), dtype=complex)
        return (True, self.gamma, _tables(F), _tables(G)), empty, empty, np.ones(B, dtype=complex)

    def with_gamma(self, gamma: complex) -> "StraightLineHomotopy":
        return StraightLineHomotopy(self.target, self.start, gamma, self.target_params, self.start_params)

    def evaluate_and_jacobian(self, z, t):
        if self._combined is not None:
            return self._combined.evaluate_and_jacobian(z, np.asarray(t, dtype=complex)[:, None])
        H, Hz, _ = self.evaluate_all(z, t)
        return H, Hz

    def _both(self, z: np.ndarray):
        B = z.shape[0]
        F, Fz = self.target.evaluate_and_jacobian(z, broadcast_parameters(self.target_params, B, self.target.n_params))
        G, Gz = self.start.evaluate_and_jacobian(z, broadcast_parameters(self.start_params, B, self.start.n_params))
        return F, Fz, G, Gz

    def evaluate_all(self, z, t):
        if self._combined is not None:
            return self._combined.evaluate_with_derivatives(z, np.asarray(t, dtype=complex)[:, None], self._one)
        F, Fz, G, Gz = self._both(z)
        a = (1 - t)[:, None]
        b = (self.gamma * t)[:, None]
        return a * F + b * G, a[:, :, None] * Fz + b[:, :, None] * Gz, self.gamma * G - F


class ParameterHomotopy(Homotopy):
    """H(z, t) = F(z; p(t)) with p(t) = (1 - s) p_target + s p_start along the complex arc

        s(t) = gamma t / (1 + (gamma - 1) t),   s(1) = 1, s(0) = 0,

    which for a random gamma on the unit circle avoids the (real codimension two) discriminant
    with probability one.  H_t = (dF/dp)(p_start - p_target) ds/dt with ds/dt = gamma / (1 + (gamma-1) t)^2.
    gamma = 1 gives the straight segment.
    """

    def __init__(
        self,
        system: ParametrizedSystem,
        p_start: np.ndarray,
        p_target: np.ndarray,
        gamma: complex | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        self.system = system
        self.n_vars = system.n_vars
        self.p_start = np.asarray(p_start, dtype=complex).reshape(-1)
        self.p_target = np.asarray(p_target, dtype=complex).reshape(-1)
        for name, q in (("p_start", self.p_start), ("p_target", self.p_target)):
            if q.shape != (system.n_params,):
                raise InputError(f"{name} must have length n_params = {system.n_params}; got {q.shape[0]}")
        self.gamma = _gamma_or_random(gamma, rng)
        self._dp = self.p_start - self.p_target

    def with_gamma(self, gamma: complex) -> "ParameterHomotopy":
        return ParameterHomotopy(self.system, self.p_start, self.p_target, gamma)

    def compiled_form(self, B):
        from .polynomial import PolynomialSystem

        if not isinstance(self.system, PolynomialSystem):
            return None
        tab = _tables(self.system)
        return ((False, 1.0 + 0j, tab, tab), np.broadcast_to(self.p_target, (B, self.p_target.size)).copy(),
                np.broadcast_to(self._dp, (B, self._dp.size)).copy(), np.full(B, self.gamma, dtype=complex))

    def s(self, t: np.ndarray) -> np.ndarray:
        return self.gamma * t / (1 + (self.gamma - 1) * t)

    def parameters(self, t: np.ndarray) -> np.ndarray:
        """p(t), shape (B, m)."""
        return self.p_target[None, :] + self.s(np.asarray(t))[:, None] * self._dp[None, :]

    def evaluate_all(self, z, t):
        den = 1 + (self.gamma - 1) * t
        s = self.gamma * t / den
        P = self.p_target[None, :] + s[:, None] * self._dp[None, :]
        F, Fz, Fdp = self.system.evaluate_with_derivatives(z, P, self._dp)
        return F, Fz, Fdp * (self.gamma / den**2)[:, None]

    def evaluate_and_jacobian(self, z, t):
        return self.system.evaluate_and_jacobian(z, self.parameters(t))


class ParameterHomotopyBatch(Homotopy):
    """Parameter homotopies with their own endpoints and gamma for every path: path i follows
    F(z; p_i(t)), p_i(t) = (1 - s_i) p_target[i] + s_i p_start[i] along the gamma_i-arc of
    ``ParameterHomotopy``.  Many short homotopies (the legs of different monodromy loops, both
    sides of a trace test) are then tracked as one batch.
    """

    def __init__(
        self,
        system: ParametrizedSystem,
        p_start: np.ndarray,
        p_target: np.ndarray,
        gamma: np.ndarray | complex,
    ) -> None:
        self.system = system
        self.n_vars = system.n_vars
        self.p_start = np.asarray(p_start, dtype=complex)
        self.p_target = np.asarray(p_target, dtype=complex)
        m = system.n_params
        if self.p_start.ndim != 2 or self.p_start.shape[1] != m or self.p_target.shape != self.p_start.shape:
            raise InputError(
                f"p_start and p_target must both have shape (B, n_params = {m}); got {self.p_start.shape} and "
                f"{self.p_target.shape}"
            )
        self.gammas = np.broadcast_to(np.asarray(gamma, dtype=complex), (self.p_start.shape[0],)).copy()
        self.gamma = self.gammas  # per path
        self._dp = self.p_start - self.p_target

    def __len__(self) -> int:
        return int(self.p_start.shape[0])

    def with_gamma(self, gamma: complex) -> "ParameterHomotopyBatch":
        return ParameterHomotopyBatch(self.system, self.p_start, self.p_target, gamma)

    def subset(self, idx: Any) -> "ParameterHomotopyBatch":
        sub = ParameterHomotopyBatch.__new__(ParameterHomotopyBatch)
        sub.system, sub.n_vars = self.system, self.n_vars
        sub.p_start, sub.p_target = self.p_start[idx], self.p_target[idx]
        sub.gammas = self.gammas[idx]
        sub.gamma = sub.gammas
        sub._dp = self._dp[idx]
        return sub

    def compiled_form(self, B):
        from .polynomial import PolynomialSystem

        if not isinstance(self.system, PolynomialSystem):
            return None
        self._check(B)
        tab = _tables(self.system)
        return ((False, 1.0 + 0j, tab, tab), np.ascontiguousarray(self.p_target), np.ascontiguousarray(self._dp),
                np.ascontiguousarray(self.gammas))

    def _check(self, B: int) -> None:
        if B != self.p_start.shape[0]:
            raise InputError(
                f"this batch of homotopies has {self.p_start.shape[0]} paths but {B} points were given; "
                "evaluate subsets through .subset(idx)"
            )

    def parameters(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t)
        s = self.gammas * t / (1 + (self.gammas - 1) * t)
        return self.p_target + s[:, None] * self._dp

    def evaluate_all(self, z, t):
        self._check(z.shape[0])
        den = 1 + (self.gammas - 1) * t
        s = self.gammas * t / den
        P = self.p_target + s[:, None] * self._dp
        F, Fz, Fdp = self.system.evaluate_with_derivatives(z, P, self._dp)
        return F, Fz, Fdp * (self.gammas / den**2)[:, None]

    def evaluate_and_jacobian(self, z, t):
        self._check(z.shape[0])
        return self.system.evaluate_and_jacobian(z, self.parameters(t))


__all__ = ["Homotopy", "StraightLineHomotopy", "ParameterHomotopy", "ParameterHomotopyBatch", "random_gamma"]
