"""Forward-mode differentiation over any number system: dual numbers with many directions.

A ``Dual`` carries a value ``v`` (any array type supporting +, *, @, **, slicing, .mT:
numpy float/complex/object arrays, ``ModArray``, torch tensors) and a tangent ``dv`` of shape
``(n_directions, *v.shape)``.  The rules are exact (Leibniz), so over Z/p they give exact
Jacobians of polynomial maps.
"""

from __future__ import annotations

from typing import Any


def _ndim(x: Any) -> int:
    return getattr(x, "ndim", 0)


def _lift(dv: Any, vndim: int, target: int) -> Any:
    """Reshape a tangent (n, *vshape) to (n, 1, ..., 1, *vshape) with ``target`` value axes."""
    if target == vndim:
        return dv
    shape = tuple(dv.shape)
    return dv.reshape((shape[0],) + (1,) * (target - vndim) + shape[1:])


class Dual:
    """Value ``v`` with tangent ``dv`` (leading axis: directions)."""

    __array_ufunc__ = None
    __array_priority__ = 2000

    def __init__(self, v: Any, dv: Any):
        self.v = v
        self.dv = dv

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.v.shape)

    @property
    def ndim(self) -> int:
        return _ndim(self.v)

    @property
    def mT(self) -> "Dual":
        return Dual(self.v.mT, self.dv.mT)

    def reshape(self, *shape: Any) -> "Dual":
        if len(shape) == 1 and isinstance(shape[0], tuple):
            shape = shape[0]
        v = self.v.reshape(shape)
        return Dual(v, self.dv.reshape((self.dv.shape[0],) + tuple(v.shape)))

    def __getitem__(self, idx: Any) -> "Dual":
        if not isinstance(idx, tuple):
            idx = (idx,)
        return Dual(self.v[idx], self.dv[(slice(None),) + idx])

    def sum(self, axis: int) -> "Dual":
        ax = axis if axis < 0 else axis + 1
        return Dual(self.v.sum(axis=axis), self.dv.sum(axis=ax))

    # -- elementwise ----------------------------------------------------------------
    def _binary_nd(self, other: Any) -> int:
        return max(self.ndim, _ndim(other.v if isinstance(other, Dual) else other))

    def __add__(self, other: Any) -> "Dual":
        nd = self._binary_nd(other)
        if isinstance(other, Dual):
            return Dual(self.v + other.v, _lift(self.dv, self.ndim, nd) + _lift(other.dv, other.ndim, nd))
        return Dual(self.v + other, _lift(self.dv, self.ndim, nd) + 0 * other)

    __radd__ = __add__

    def __neg__(self) -> "Dual":
        return Dual(-self.v, -self.dv)

    def __sub__(self, other: Any) -> "Dual":
        return self + (-other)

    def __rsub__(self, other: Any) -> "Dual":
        return (-self) + other

    def __mul__(self, other: Any) -> "Dual":
        nd = self._binary_nd(other)
        if isinstance(other, Dual):
            return Dual(
                self.v * other.v,
                _lift(self.dv, self.ndim, nd) * other.v + self.v * _lift(other.dv, other.ndim, nd),
            )
        return Dual(self.v * other, _lift(self.dv, self.ndim, nd) * other)

    __rmul__ = __mul__

    def __pow__(self, r: int) -> "Dual":
        r = int(r)
        if r < 0:
            raise TypeError("Dual ** needs a non-negative integer exponent")
        if r == 0:
            return Dual(self.v**0, 0 * self.dv)
        if r == 1:
            return self
        return Dual(self.v**r, self.dv * (r * self.v ** (r - 1)))

    # -- matrix products --------------------------------------------------------------
    def __matmul__(self, other: Any) -> "Dual":
        if isinstance(other, Dual):
            nd = max(self.ndim, other.ndim)
            return Dual(
                self.v @ other.v,
                _lift(self.dv, self.ndim, nd) @ other.v + self.v @ _lift(other.dv, other.ndim, nd),
            )
        nd = max(self.ndim, _ndim(other))
        return Dual(self.v @ other, _lift(self.dv, self.ndim, nd) @ other)

    def __rmatmul__(self, other: Any) -> "Dual":
        nd = max(self.ndim, _ndim(other))
        return Dual(other @ self.v, other @ _lift(self.dv, self.ndim, nd))
