"""Sparse multivariate polynomials over Z, fast enough to expand a forward pass exactly without sympy.

A polynomial is a dict {packed exponent vector: nonzero Python int}: the exponent of variable i sits in bits
[bits * i, bits * (i + 1)) of one Python int, so multiplying monomials is adding their keys.  The
polynomials go into numpy object arrays and through ``Architecture.forward`` like any number system that
has +, -, * and ** with a non-negative integer exponent (numpy's object ``@`` uses only + and *).

Exactness guards, each refusing rather than answering wrongly:

* every polynomial carries an upper bound on its total degree; an exponent field that could overflow its
  ``bits`` raises ``DegreeOverflow`` (the caller repacks with wider fields);
* a constant that is not an integer (a float, a Fraction, a sympy number) is refused: the operation returns
  NotImplemented, so Python raises TypeError (the caller falls back to sympy);
* a product or sum with more than ``max_terms`` terms raises ``TooManyTerms`` as soon as it is seen (inside
  the multiplication loop, so a hopeless expansion stops early).
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from .modular import binary_power


class DegreeOverflow(ArithmeticError):
    """An exponent might not fit the packing: repack with wider fields."""


class TooManyTerms(ArithmeticError):
    """An intermediate polynomial of the expansion has more terms than the limit."""


def polynomial_type(bits: int, max_terms: int) -> type:
    """A fresh class of integer polynomials packed ``bits`` bits per variable whose sums and products refuse
    more than ``max_terms`` terms (a class per expansion, so concurrent expansions never share limits)."""
    max_degree = (1 << bits) - 1

    def coerce(o: Any) -> Any:
        if isinstance(o, IntPoly):
            return o
        if isinstance(o, Integral):  # int, bool, numpy integers
            c = int(o)
            return IntPoly({0: c} if c else {}, 0)
        return None

    class IntPoly:
        __slots__ = ("t", "d")

        def __init__(self, t: dict[int, int], d: int) -> None:
            self.t = t  # {packed exponent: nonzero coefficient}
            self.d = d  # upper bound on the total degree

        @classmethod
        def variable(cls, i: int) -> "IntPoly":
            return cls({1 << (bits * i): 1}, 1)

        def __add__(self, o: Any) -> Any:
            o = coerce(o)
            if o is None:
                return NotImplemented
            a, b = (self.t, o.t) if len(self.t) >= len(o.t) else (o.t, self.t)
            r = dict(a)
            get = r.get
            for k, v in b.items():
                w = get(k, 0) + v
                if w:
                    r[k] = w
                else:
                    del r[k]
            if len(r) > max_terms:
                raise TooManyTerms(len(r))
            return IntPoly(r, max(self.d, o.d))

        __radd__ = __add__

        def __neg__(self) -> "IntPoly":
            return IntPoly({k: -v for k, v in self.t.items()}, self.d)

        def __pos__(self) -> "IntPoly":
            return self

        def __sub__(self, o: Any) -> Any:
            o = coerce(o)
            if o is None:
                return NotImplemented
            return self + (-o)

        def __rsub__(self, o: Any) -> Any:
            o = coerce(o)
            if o is None:
                return NotImplemented
            return o + (-self)

        def __mul__(self, o: Any) -> Any:
            o = coerce(o)
            if o is None:
                return NotImplemented
            if not self.t or not o.t:
                return IntPoly({}, 0)
            d = self.d + o.d
            if d > max_degree:
                raise DegreeOverflow(d)
            a, b = (self.t, o.t) if len(self.t) <= len(o.t) else (o.t, self.t)  # outer loop over the shorter
            if len(a) == 1:
                ((k1, v1),) = a.items()
                return IntPoly({k1 + k: v1 * v for k, v in b.items()}, d)
            r: dict[int, int] = {}
            get = r.get
            guard = 2 * max_terms  # keys with a (rare) transient zero coefficient included
            for k1, v1 in a.items():
                for k2, v2 in b.items():
                    k = k1 + k2
                    r[k] = get(k, 0) + v1 * v2
                if len(r) > guard:
                    raise TooManyTerms(len(r))
            r = {k: v for k, v in r.items() if v}
            if len(r) > max_terms:
                raise TooManyTerms(len(r))
            return IntPoly(r, d)

        __rmul__ = __mul__

        def __pow__(self, n: Any, mod: Any = None) -> Any:
            if mod is not None or not isinstance(n, Integral) or int(n) < 0:
                return NotImplemented
            n = int(n)
            if n * self.d > max_degree:
                raise DegreeOverflow(n * self.d)
            return binary_power(self, n, IntPoly({0: 1}, 0))

        def __repr__(self) -> str:
            return f"IntPoly({len(self.t)} terms, degree <= {self.d})"

    IntPoly.bits = bits  # type: ignore[attr-defined]
    return IntPoly


def unpack_exponents(keys: list[int], n_vars: int, bits: int) -> np.ndarray:
    """The exponent vectors (len(keys), n_vars) int64 of packed keys."""
    width = bits // 8
    if not keys or n_vars == 0:
        return np.zeros((len(keys), n_vars), dtype=np.int64)
    raw = b"".join(k.to_bytes(width * n_vars, "little") for k in keys)
    return np.frombuffer(raw, dtype=f"<u{width}").reshape(len(keys), n_vars).astype(np.int64)


__all__ = ["DegreeOverflow", "TooManyTerms", "polynomial_type", "unpack_exponents"]
