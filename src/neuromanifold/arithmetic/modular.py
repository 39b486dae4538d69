"""Exact arithmetic in Z/p for p < 2^31, with BLAS-speed matrix products.

``ModArray`` wraps an int64 array of residues in [0, p).  Elementwise products fit in int64
(p^2 < 2^62).  Matrix products split both factors into 16-bit limbs and run three float64 GEMMs (Karatsuba),
each exact because every partial sum stays below 2^53 (inner dimensions up to 2^19).
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_PRIME = 2147483629  # largest prime below 2^31 - 18; any prime < 2^31 works
SECOND_PRIME = 2147483587  # an independent prime for repeat certificates

_MAX_INNER = 1 << 19  # (2^17)^2 * 2^19 = 2^53: Karatsuba's middle product stays exact


def is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for n < 3.3e24."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    for q in small:
        if n % q == 0:
            return n == q
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _fmatmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 matmul with numpy broadcasting; one big GEMM when a factor is 2-D."""
    if a.ndim == 2 and b.ndim > 2:
        k, n = b.shape[-2], b.shape[-1]
        lead = b.shape[:-2]
        bb = np.moveaxis(b, -2, 0).reshape(k, -1)
        c = a @ bb
        return np.moveaxis(c.reshape((a.shape[0],) + lead + (n,)), 0, -2)
    if b.ndim == 2 and a.ndim > 2:
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))
    return np.matmul(a, b)


def matmul_mod(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    """Exact (a @ b) mod p for int64 residue arrays (numpy broadcasting rules)."""
    k = a.shape[-1]
    if k > _MAX_INNER:
        # split the inner dimension; each piece is exact
        out = None
        for s in range(0, k, _MAX_INNER):
            part = matmul_mod(a[..., s : s + _MAX_INNER], b[..., s : s + _MAX_INNER, :], p)
            out = part if out is None else (out + part) % p
        return out
    a0 = (a & 0xFFFF).astype(np.float64)
    a1 = (a >> 16).astype(np.float64)
    b0 = (b & 0xFFFF).astype(np.float64)
    b1 = (b >> 16).astype(np.float64)
    f00 = _fmatmul(a0, b0)
    f11 = _fmatmul(a1, b1)
    fmid = _fmatmul(a0 + a1, b0 + b1)  # Karatsuba: three GEMMs; limb sums < 2^17, products summed < 2^53
    fmid -= f00
    fmid -= f11
    c00 = f00.astype(np.int64) % p
    c11 = f11.astype(np.int64) % p
    c01 = fmid.astype(np.int64) % p
    r16 = (1 << 16) % p
    r32 = (1 << 32) % p
    return (c00 + (c01 * r16) % p + (c11 * r32) % p) % p


def binary_power(base: Any, n: int, one: Any) -> Any:
    """base^n (n >= 0) by repeated squaring in any ring whose elements multiply with ``*`` (``one``: its 1)."""
    result = one
    while n:
        if n & 1:
            result = result * base
        n >>= 1
        if n:
            base = base * base
    return result


class ModArray:
    """An array of residues mod a prime p < 2^31 supporting +, -, *, **, @, slicing, .mT."""

    __array_ufunc__ = None  # make numpy defer to our reflected operators

    def __init__(self, data: Any, p: int, reduced: bool = False):
        if p >= (1 << 31) or p < 2:
            raise ValueError("ModArray needs a prime 2 <= p < 2^31")
        if reduced:
            self.a = data
        else:
            arr = np.asarray(data)
            if arr.dtype.kind not in "iub":
                raise TypeError(f"ModArray needs integer data, got dtype {arr.dtype}")
            self.a = arr.astype(np.int64) % p
        self.p = p

    # -- helpers -------------------------------------------------------------------
    def _wrap(self, a: np.ndarray) -> "ModArray":
        return ModArray(a, self.p, reduced=True)

    def _other(self, other: Any) -> np.ndarray:
        if isinstance(other, ModArray):
            if other.p != self.p:
                raise ValueError("mixing residues modulo different primes")
            return other.a
        if isinstance(other, (int, np.integer)):
            return np.int64(int(other) % self.p)
        arr = np.asarray(other)
        if arr.dtype.kind not in "iub":
            return NotImplemented  # type: ignore[return-value]
        return arr.astype(np.int64) % self.p

    # -- array protocol ------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.a.shape

    @property
    def ndim(self) -> int:
        return self.a.ndim

    @property
    def mT(self) -> "ModArray":
        return self._wrap(np.swapaxes(self.a, -1, -2))

    def reshape(self, *shape: Any) -> "ModArray":
        return self._wrap(self.a.reshape(*shape))

    def __getitem__(self, idx: Any) -> "ModArray":
        return self._wrap(self.a[idx])

    def __len__(self) -> int:
        return len(self.a)

    def sum(self, axis: Any = None) -> "ModArray":
        # residues < 2^31: int64 sums are exact for < 2^32 terms
        return self._wrap(self.a.sum(axis=axis) % self.p)

    def __repr__(self) -> str:
        return f"ModArray({self.a!r}, p={self.p})"

    # -- arithmetic ----------------------------------------------------------------
    def __add__(self, other: Any) -> "ModArray":
        o = self._other(other)
        if o is NotImplemented:
            return NotImplemented
        return self._wrap((self.a + o) % self.p)

    __radd__ = __add__

    def __sub__(self, other: Any) -> "ModArray":
        o = self._other(other)
        if o is NotImplemented:
            return NotImplemented
        return self._wrap((self.a - o) % self.p)

    def __rsub__(self, other: Any) -> "ModArray":
        o = self._other(other)
        if o is NotImplemented:
            return NotImplemented
        return self._wrap((o - self.a) % self.p)

    def __neg__(self) -> "ModArray":
        return self._wrap((-self.a) % self.p)

    def __mul__(self, other: Any) -> "ModArray":
        o = self._other(other)
        if o is NotImplemented:
            return NotImplemented
        return self._wrap((self.a * o) % self.p)

    __rmul__ = __mul__

    def __pow__(self, r: int) -> "ModArray":
        if not isinstance(r, (int, np.integer)) or r < 0:
            raise TypeError("ModArray ** needs a non-negative integer exponent")
        return binary_power(self, int(r), self._wrap(np.ones_like(self.a)))

    def __matmul__(self, other: Any) -> "ModArray":
        o = self._other(other)
        if o is NotImplemented:
            return NotImplemented
        return self._wrap(matmul_mod(self.a, np.asarray(o), self.p))

    def __rmatmul__(self, other: Any) -> "ModArray":
        o = self._other(other)
        if o is NotImplemented:
            return NotImplemented
        return self._wrap(matmul_mod(np.asarray(o), self.a, self.p))

    def symmetric_lift(self) -> np.ndarray:
        """Representatives in (-p/2, p/2]."""
        a = self.a.copy()
        a[a > self.p // 2] -= self.p
        return a


FLINT_RANK_ENTRIES = 4_000_000  # above this many entries the rank runs as blocked elimination with GEMM updates


def rank_mod_p(mat: np.ndarray, p: int, *, progress: bool = False) -> int:
    """Exact rank of an integer matrix over Z/p: python-flint's nmod_mat LU for up to ``FLINT_RANK_ENTRIES``
    entries, else ``elimination.rank_blocked`` (8 bytes an entry instead of a Python integer each)."""
    mat = np.asarray(mat)
    if mat.size == 0:
        return 0
    if mat.size > FLINT_RANK_ENTRIES:
        from .elimination import rank_blocked

        return rank_blocked(mat, p, progress=progress)  # reduces mod p row block by row block
    import flint

    mat = mat.astype(np.int64) % p

    return int(flint.nmod_mat(mat.tolist(), p).rank())


def nullspace_mod_p(mat: np.ndarray, p: int) -> np.ndarray:
    """A basis of the right kernel of an integer matrix over Z/p, as columns (int64 residues)."""
    import flint

    mat = np.asarray(mat, dtype=np.int64) % p
    rows, cols = mat.shape
    if rows == 0:
        return np.eye(cols, dtype=np.int64)
    ns, nullity = flint.nmod_mat(mat.tolist(), p).nullspace()
    if nullity == 0:
        return np.zeros((cols, 0), dtype=np.int64)
    full = np.array([[int(ns[i, j]) for j in range(nullity)] for i in range(cols)], dtype=np.int64)
    return full


def rational_reconstruction(a: int, p: int) -> tuple[int, int] | None:
    """Find n/d with n = a d mod p, |n|, d <= sqrt(p/2) (extended Euclid), or None."""
    a %= p
    bound = int((p // 2) ** 0.5)
    r0, r1 = p, a
    s0, s1 = 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        s0, s1 = s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound:
        return None
    if s1 < 0:
        r1, s1 = -r1, -s1
    return r1, s1
