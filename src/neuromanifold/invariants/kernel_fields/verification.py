"""Exact verification of a kernel field: d mu(theta) . v(theta) = 0 as a polynomial identity in (theta, x).

The network is evaluated once over Z[theta, x] (sympy's sparse polynomial ring; one symbolic input
sample: an identity in x holds for every sample); sum_k v_k d f / d theta_k is expanded and compared
with 0.  The arithmetic aborts past TERM_LIMIT terms or VERIFY_BUDGET seconds (``VerificationTooLarge``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .fields import PolynomialField

VERIFY_BUDGET = 4.0  # seconds for the exact symbolic verification
TERM_LIMIT = 100_000  # largest polynomial (terms) built in the symbolic forward pass


class VerificationTooLarge(Exception):
    """The symbolic computation exceeds its size or time limit."""


class _Guarded:
    """A sympy sparse polynomial whose arithmetic aborts past a size or time limit."""

    __slots__ = ("p", "limits")

    def __init__(self, p: Any, limits: tuple[int, float]):
        self.p = p
        self.limits = limits

    def _wrap(self, r: Any) -> "_Guarded":
        terms, deadline = self.limits
        if len(r) > terms or time.perf_counter() > deadline:
            raise VerificationTooLarge
        return _Guarded(r, self.limits)

    def _un(self, o: Any) -> Any:
        if isinstance(o, _Guarded):
            return o.p
        if isinstance(o, (int, np.integer)):
            return int(o)
        return NotImplemented

    def __add__(self, o: Any) -> Any:
        u = self._un(o)
        return NotImplemented if u is NotImplemented else self._wrap(self.p + u)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Any:
        u = self._un(o)
        return NotImplemented if u is NotImplemented else self._wrap(self.p - u)

    def __rsub__(self, o: Any) -> Any:
        u = self._un(o)
        return NotImplemented if u is NotImplemented else self._wrap(u - self.p)

    def __mul__(self, o: Any) -> Any:
        u = self._un(o)
        return NotImplemented if u is NotImplemented else self._wrap(self.p * u)

    __rmul__ = __mul__

    def __neg__(self) -> "_Guarded":
        return _Guarded(-self.p, self.limits)

    def __pow__(self, r: int) -> "_Guarded":
        out = self._wrap(self.p.ring.one)
        for _ in range(int(r)):
            out = out * self
        return out


class SymbolicVerifier:
    """Exact check of d mu(theta) . v(theta) = 0 as a polynomial identity in (theta, x).

    The network is evaluated once over Z[theta, x] (one symbolic input sample: an identity in x
    holds for every sample); the directional derivative sum_k v_k d f / d theta_k is expanded
    and compared with 0.  Raises ``VerificationTooLarge`` when the expansion exceeds the limits.
    """

    def __init__(self, arch: Any, seconds: float | None = None, term_limit: int | None = None):
        from sympy import ZZ
        from sympy.polys.rings import ring

        self.arch = arch
        self.deadline = time.perf_counter() + (VERIFY_BUDGET if seconds is None else seconds)
        limits = (TERM_LIMIT if term_limit is None else term_limit, self.deadline)
        N = arch.n_params
        in_shape = arch.input_shape(1)
        n_x = int(np.prod(in_shape))
        names = [f"t{i}" for i in range(N)] + [f"x{i}" for i in range(n_x)]
        R, *gens = ring(names, ZZ)
        self.ring = R
        self.theta = gens[:N]
        theta = np.empty(N, dtype=object)
        theta[:] = [_Guarded(g, limits) for g in gens[:N]]
        X = np.empty(n_x, dtype=object)
        X[:] = [_Guarded(g, limits) for g in gens[N:]]
        Y = arch.output_to_matrix(arch.forward(arch.unflatten(theta), X.reshape(in_shape)), 1)
        self.outputs = [y.p if isinstance(y, _Guarded) else R(int(y)) for y in np.asarray(Y, dtype=object).reshape(-1)]
        self._d: dict[int, list[Any]] = {}

    def _derivative(self, k: int) -> list[Any]:
        if k not in self._d:
            g = self.theta[k]
            self._d[k] = [f.diff(g) for f in self.outputs]
        return self._d[k]

    def field_polys(self, v: PolynomialField) -> dict[int, Any]:
        comps: dict[int, Any] = {}
        for k, c, mono in v.terms:
            term = self.ring(int(c))
            for i in mono:
                term = term * self.theta[i]
            comps[k] = comps.get(k, self.ring.zero) + term
        return comps

    def verify(self, v: PolynomialField) -> bool:
        """True iff sum_k v_k(theta) d f_o / d theta_k is the zero polynomial for every output o."""
        comps = self.field_polys(v)
        for o in range(len(self.outputs)):
            acc = self.ring.zero
            for k, vk in comps.items():
                if time.perf_counter() > self.deadline:
                    raise VerificationTooLarge
                acc = acc + vk * self._derivative(k)[o]
            if acc != 0:
                return False
        return True


__all__ = ["SymbolicVerifier", "VerificationTooLarge"]
