"""Forward-mode differentiation over any number system: dual numbers with many directions.

A ``Dual`` carries a value ``v`` (any array type supporting +, *, @, **, slicing, .mT:
numpy float/complex/object arrays, ``ModArray``, torch tensors) and a tangent ``dv`` of shape
``(n_directions, *v.shape)``.  The rules are exact (Leibniz), so over Z/p they give exact
Jacobians of polynomial maps.

numpy tangents may also be *broadcast*: ``dv`` of shape ``(n_directions, *s)`` with ``s``
broadcastable to ``v.shape`` (same number of axes, size 1 where the tangent does not vary).  A
batch of parameter points moved along the same directions has tangents that do not depend on
the point (``jacobian_batch``): the first layers of a network then work on arrays without the
batch axis.  Reshapes, sums and indexing that would mix a broadcast axis expand it first, so a
broadcast tangent always means the same as its expansion.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _ndim(x: Any) -> int:
    return getattr(x, "ndim", 0)


def _lift(dv: Any, vndim: int, target: int) -> Any:
    """Reshape a tangent (n, *vshape) to (n, 1, ..., 1, *vshape) with ``target`` value axes."""
    if target == vndim:
        return dv
    shape = tuple(dv.shape)
    return dv.reshape((shape[0],) + (1,) * (target - vndim) + shape[1:])


def _vshape(x: Any) -> tuple[int, ...]:
    return tuple(getattr(x, "shape", ()))


def _expand(dv: Any, vshape: tuple[int, ...]) -> Any:
    """A broadcast numpy tangent expanded to its full shape (n, *vshape)."""
    full = (dv.shape[0],) + tuple(vshape)
    if tuple(dv.shape) == full:
        return dv
    return np.broadcast_to(dv, full)


def _broadcast_axes(dv: Any, vshape: tuple[int, ...]) -> tuple[int, ...]:
    """Value axes along which the tangent is broadcast (size 1 in dv, larger in v)."""
    ds = tuple(dv.shape[1:])
    if ds == vshape:
        return ()
    return tuple(i for i, (a, b) in enumerate(zip(ds, vshape)) if a == 1 and b != 1)


def _indexed_axes(idx: tuple[Any, ...], ndim: int) -> set[int] | None:
    """Axes of an ndim-array that basic index ``idx`` restricts (not a full ``:``); None if unsure."""
    consumed = [e for e in idx if e is not None and e is not Ellipsis]
    if any(not isinstance(e, (int, np.integer, slice)) for e in consumed):
        return None  # fancy indexing: let the caller expand
    n_ell = sum(1 for e in idx if e is Ellipsis)
    if n_ell > 1:
        return None
    out: set[int] = set()
    axis = 0
    for e in idx:
        if e is None:
            continue
        if e is Ellipsis:
            axis += ndim - len(consumed)
            continue
        if not (isinstance(e, slice) and e == slice(None)):
            out.add(axis)
        axis += 1
    return out


class Dual:
    """Value ``v`` with tangent ``dv`` (leading axis: directions)."""

    __slots__ = ("v", "dv")
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

    def expanded_dv(self) -> Any:
        """The tangent with every broadcast axis expanded, shape (n, *v.shape)."""
        if isinstance(self.dv, np.ndarray):
            return _expand(self.dv, _vshape(self.v))
        return self.dv

    @property
    def mT(self) -> "Dual":
        return Dual(self.v.mT, self.dv.mT)

    def reshape(self, *shape: Any) -> "Dual":
        if len(shape) == 1 and isinstance(shape[0], tuple):
            shape = shape[0]
        old = _vshape(self.v)
        v = self.v.reshape(shape)
        new = tuple(v.shape)
        dv = self.dv
        n = dv.shape[0]
        ds = tuple(dv.shape[1:])
        if ds == old:
            return Dual(v, dv.reshape((n,) + new))
        # broadcast tangent: keep its broadcast leading axes when only trailing axes are reshaped
        p = 0
        while p < min(len(old), len(new)) and old[p] == new[p]:
            p += 1
        if ds[p:] == old[p:]:
            return Dual(v, dv.reshape((n,) + ds[:p] + new[p:]))
        return Dual(v, _expand(dv, old).reshape((n,) + new))

    def __getitem__(self, idx: Any) -> "Dual":
        if not isinstance(idx, tuple):
            idx = (idx,)
        dv = self.dv
        if isinstance(dv, np.ndarray):
            vshape = _vshape(self.v)
            bcast = _broadcast_axes(dv, vshape)
            if bcast:
                touched = _indexed_axes(idx, len(vshape))
                if touched is None or touched & set(bcast):
                    dv = _expand(dv, vshape)
        return Dual(self.v[idx], dv[(slice(None),) + idx])

    def sum(self, axis: int) -> "Dual":
        ax = axis if axis < 0 else axis + 1
        dv = self.dv
        if isinstance(dv, np.ndarray):
            dv = _expand(dv, _vshape(self.v))
        return Dual(self.v.sum(axis=axis), dv.sum(axis=ax))

    # -- elementwise ----------------------------------------------------------------
    def __add__(self, other: Any) -> "Dual":
        snd = _ndim(self.v)
        if isinstance(other, Dual):
            ond = _ndim(other.v)
            nd = max(snd, ond)
            return Dual(self.v + other.v, _lift(self.dv, snd, nd) + _lift(other.dv, ond, nd))
        nd = max(snd, _ndim(other))
        return Dual(self.v + other, _lift(self.dv, snd, nd) + 0 * other)

    __radd__ = __add__

    def __neg__(self) -> "Dual":
        return Dual(-self.v, -self.dv)

    def __sub__(self, other: Any) -> "Dual":
        return self + (-other)

    def __rsub__(self, other: Any) -> "Dual":
        return (-self) + other

    def __mul__(self, other: Any) -> "Dual":
        snd = _ndim(self.v)
        if isinstance(other, Dual):
            ond = _ndim(other.v)
            nd = max(snd, ond)
            a = _lift(self.dv, snd, nd) * other.v
            b = self.v * _lift(other.dv, ond, nd)
            return Dual(self.v * other.v, _sum_into(a, b))
        nd = max(snd, _ndim(other))
        return Dual(self.v * other, _lift(self.dv, snd, nd) * other)

    __rmul__ = __mul__

    def __pow__(self, r: int) -> "Dual":
        r = int(r)
        if r < 0:
            raise TypeError("Dual ** needs a non-negative integer exponent")
        if r == 0:
            return Dual(self.v**0, 0 * self.dv)
        if r == 1:
            return self
        if r == 2:
            return Dual(self.v * self.v, self.dv * (2 * self.v))
        return Dual(self.v**r, self.dv * (r * self.v ** (r - 1)))

    # -- matrix products --------------------------------------------------------------
    def __matmul__(self, other: Any) -> "Dual":
        snd = _ndim(self.v)
        if isinstance(other, Dual):
            ond = _ndim(other.v)
            nd = max(snd, ond)
            a = _lift(self.dv, snd, nd) @ other.v
            b = self.v @ _lift(other.dv, ond, nd)
            return Dual(self.v @ other.v, _sum_into(a, b))
        nd = max(snd, _ndim(other))
        return Dual(self.v @ other, _lift(self.dv, snd, nd) @ other)

    def __rmatmul__(self, other: Any) -> "Dual":
        nd = max(_ndim(self.v), _ndim(other))
        return Dual(other @ self.v, other @ _lift(self.dv, _ndim(self.v), nd))


def _sum_into(a: Any, b: Any) -> Any:
    """a + b, in place in ``a`` when ``a`` is a fresh numpy array of the result's shape and type."""
    if (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.flags.writeable
        and a.flags.owndata
        and a.shape == np.broadcast_shapes(a.shape, b.shape)
        and a.dtype == np.result_type(a, b)
    ):
        np.add(a, b, out=a)
        return a
    return a + b
