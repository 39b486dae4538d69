"""Finite groups and their permutation actions, for the equivariant architecture families.

A group is a multiplication table on the indices 0..|G|-1 (0 the identity):

* ``C<n>``, cyclic of order n: a^i (index i), a^i a^j = a^(i+j mod n);
* ``D<n>``, dihedral of order 2n: a^i b^e (index i + n e, e in {0, 1}), b a b^-1 = a^-1, so
  (i, e)(j, f) = (i + (-1)^e j mod n, e + f mod 2);
* ``S<n>``, symmetric of order n!: the permutations of {0..n-1} in lexicographic order,
  (s t)(x) = s(t(x));
* ``product_group(G, H)``, the direct product: (g, h) at index g |H| + h, componentwise product.

A permutation action (a G-set X) is an integer array ``perm`` of shape (|G|, |X|) with
perm[g, x] = g.x and perm[gh] = perm[g] o perm[h]:

* ``regular``: G on itself by left multiplication, g.h = gh (|X| = |G|);
* ``natural``: C_n and D_n on the vertices Z/n of the n-gon (a: x -> x + 1, b: x -> -x),
  S_n on {0..n-1} (|X| = n); G x H on X x Y componentwise.

``orbitals`` gives the G-orbits on X x X.  Their 0/1 indicator matrices O_k are a basis of the
commutant End_G(R^X) = {A : A P_g = P_g A for all g} (a permutation matrix P_g commutes with A
iff A[g.o, g.i] = A[o, i]), and O_k O_l = sum_m c_klm O_m with non-negative integers c_klm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations
from math import factorial

import numpy as np

from ..errors import SpecError

MAX_ORDER = 256  # largest group order we build tables for
ACTIONS = ("regular", "natural")
GROUP_FORMS = "'C<n>' (cyclic, order n), 'D<n>' (dihedral, order 2n) or 'S<n>' (symmetric, order n!), n >= 1"


@dataclass(frozen=True)
class FiniteGroup:
    """A finite group as its multiplication table ``table[g, h] = index of g h`` (identity at index 0),
    with a faithful permutation action ``natural``.  ``dynamics.harmonics.GroupWithIrreps`` adds a
    complete set of unitary irreducible representations."""

    name: str
    table: np.ndarray  # (|G|, |G|) int64
    natural: np.ndarray  # (|G|, n) int64: the natural permutation action

    @property
    def order(self) -> int:
        return int(self.table.shape[0])

    @property
    def inverse(self) -> np.ndarray:
        """inverse[g] = index of g^-1."""
        return np.argmax(self.table == 0, axis=1)

    def action(self, kind: str) -> np.ndarray:
        """The permutation action ``kind`` ('regular' or 'natural') as an array (|G|, |X|)."""
        if kind == "regular":
            return self.table.copy()
        if kind == "natural":
            return self.natural.copy()
        raise ValueError(f"unknown action {kind!r}")


def _cyclic(n: int) -> FiniteGroup:
    i = np.arange(n)
    table = (i[:, None] + i[None, :]) % n
    return FiniteGroup(f"C{n}", table.astype(np.int64), table.astype(np.int64))


def _dihedral(n: int) -> FiniteGroup:
    rot, ref = np.arange(2 * n) % n, np.arange(2 * n) // n
    sign = np.where(ref == 1, -1, 1)
    table = (rot[:, None] + sign[:, None] * rot[None, :]) % n + n * ((ref[:, None] + ref[None, :]) % 2)
    x = np.arange(n)
    natural = (sign[:, None] * x[None, :] + rot[:, None]) % n  # a^i b^e: x -> (-1)^e x + i
    return FiniteGroup(f"D{n}", table.astype(np.int64), natural.astype(np.int64))


def _symmetric(n: int) -> FiniteGroup:
    perms = [tuple(p) for p in permutations(range(n))]
    index = {p: k for k, p in enumerate(perms)}
    table = np.array([[index[tuple(s[t[x]] for x in range(n))] for t in perms] for s in perms], dtype=np.int64)
    return FiniteGroup(f"S{n}", table.reshape(len(perms), len(perms)), np.array(perms, dtype=np.int64).reshape(-1, n))


def product_group(G: FiniteGroup, H: FiniteGroup) -> FiniteGroup:
    """G x H: element (g, h) at index g |H| + h, (g, h)(g', h') = (g g', h h'); natural action on
    X x Y componentwise, (g, h).(x, y) = (g.x, h.y) at index x |Y| + y."""
    m = H.order
    table = G.table[:, None, :, None] * m + H.table[None, :, None, :]  # [g, h, g', h']
    k = H.natural.shape[1]
    natural = G.natural[:, None, :, None] * k + H.natural[None, :, None, :]  # [g, h, x, y]
    return FiniteGroup(f"{G.name}x{H.name}", table.reshape(G.order * m, G.order * m).astype(np.int64),
                       natural.reshape(G.order * m, -1).astype(np.int64))


_ORDER = {"C": lambda n: n, "D": lambda n: 2 * n, "S": factorial}
_BUILD = {"C": _cyclic, "D": _dihedral, "S": _symmetric}


@lru_cache(maxsize=64)
def _group(kind: str, n: int) -> FiniteGroup:
    return _BUILD[kind](n)


def parse_group(family: str, value: object, form: str) -> str:
    """Validate a group name (``C5``, ``D4``, ``S3``; case-insensitive) and return it canonical."""
    m = re.fullmatch(r"\s*([CcDdSs])\s*(\d+)\s*", value) if isinstance(value, str) else None
    if m is None:
        raise SpecError(f"{family}: unsupported group {value!r}; use {GROUP_FORMS}; valid form: {form}")
    kind, n = m.group(1).upper(), int(m.group(2))
    if n < 1:
        raise SpecError(f"{family}: group {value!r} needs n >= 1; valid form: {form}")
    if n > 100 or _ORDER[kind](n) > MAX_ORDER:
        raise SpecError(
            f"{family}: group {kind}{n} is too large (order > {MAX_ORDER}); use a smaller n; valid form: {form}"
        )
    return f"{kind}{n}"


def group(name: str) -> FiniteGroup:
    """The group of a canonical name from ``parse_group``."""
    return _group(name[0], int(name[1:]))


# -- permutation actions ------------------------------------------------------------------------


def orbits(perm: np.ndarray) -> np.ndarray:
    """Orbit index of every point of the G-set (orbits numbered by their smallest point)."""
    n = perm.shape[1]
    out = np.full(n, -1, dtype=np.int64)
    k = 0
    for x in range(n):
        if out[x] < 0:
            out[perm[:, x]] = k
            k += 1
    return out


@lru_cache(maxsize=64)
def _orbitals_cached(key: bytes, shape: tuple[int, int]) -> tuple[np.ndarray, int]:
    perm = np.frombuffer(key, dtype=np.int64).reshape(shape)
    n = shape[1]
    out = np.full((n, n), -1, dtype=np.int64)
    k = 0
    for o in range(n):
        for i in range(n):
            if out[o, i] < 0:
                out[perm[:, o], perm[:, i]] = k
                k += 1
    out.setflags(write=False)
    return out, k


def orbitals(perm: np.ndarray) -> tuple[np.ndarray, int]:
    """G-orbits on X x X: (O, K) with O[o, i] the orbital of the pair (o, i), numbered in order of
    first occurrence in row-major order, and K their number (the rank of the action)."""
    perm = np.ascontiguousarray(perm, dtype=np.int64)
    return _orbitals_cached(perm.tobytes(), perm.shape)


def structure_constants(O: np.ndarray, K: int) -> np.ndarray:
    """c[k, l, m] with O_k O_l = sum_m c[k, l, m] O_m for the orbital matrices O_k = [O == k]."""
    mats = [(O == k).astype(np.int64) for k in range(K)]
    reps = [tuple(np.argwhere(O == m)[0]) for m in range(K)]
    c = np.zeros((K, K, K), dtype=np.int64)
    for k in range(K):
        for l in range(K):
            prod = mats[k] @ mats[l]
            c[k, l] = [prod[r] for r in reps]
            if not np.array_equal(prod, c[k, l][O]):  # the product lies in the commutant
                raise AssertionError("orbital matrices do not span an algebra (not a group action?)")
    return c


def equivariant_automorphisms(perm: np.ndarray) -> int:
    """Number of permutations of a transitive G-set X commuting with G: |N_G(H)/H|, H the
    stabiliser of a point, = the number of points whose stabiliser is that of point 0."""
    stabs = [frozenset(np.flatnonzero(perm[:, x] == x).tolist()) for x in range(perm.shape[1])]
    return sum(1 for s in stabs if s == stabs[0])


def cycle_lengths(perm_row: np.ndarray) -> list[int]:
    """Cycle type of one permutation."""
    seen = np.zeros(len(perm_row), dtype=bool)
    out = []
    for x in range(len(perm_row)):
        if not seen[x]:
            length, y = 0, x
            while not seen[y]:
                seen[y] = True
                y = int(perm_row[y])
                length += 1
            out.append(length)
    return out


def fixed_monomials(cycles: list[int], degree: int) -> int:
    """Monomials of the given degree fixed by a permutation of the variables with these cycle
    lengths: exponents constant on cycles, i.e. the coefficient of t^degree in prod 1/(1 - t^len)."""
    coef = [1] + [0] * degree
    for length in cycles:
        for e in range(length, degree + 1):
            coef[e] += coef[e - length]
    return coef[degree]


# -- isotypic decomposition ---------------------------------------------------------------------


def conjugacy_classes(G: FiniteGroup) -> np.ndarray:
    """Class index of every element (classes numbered by their smallest element)."""
    inv = G.inverse
    out = np.full(G.order, -1, dtype=np.int64)
    k = 0
    for g in range(G.order):
        if out[g] < 0:
            out[G.table[G.table[:, g], inv]] = k  # h g h^-1 for every h
            k += 1
    return out


@dataclass(frozen=True)
class IsotypicComponent:
    """The isotypic component U of one real irreducible representation in the permutation
    representation R^X: ``projector`` (orthogonal, |X| x |X|), ``character`` chi_U(g) = trace(P_g|U),
    ``trivial`` (U = the constants, the G-invariant vectors)."""

    projector: np.ndarray
    character: np.ndarray
    trivial: bool

    @property
    def dimension(self) -> int:
        return int(round(float(np.trace(self.projector))))


def permutation_matrices(perm: np.ndarray) -> np.ndarray:
    """P_g with (P_g x)[g.x] = x[x], shape (|G|, |X|, |X|)."""
    n_g, n = perm.shape
    P = np.zeros((n_g, n, n))
    P[np.repeat(np.arange(n_g), n), perm.reshape(-1), np.tile(np.arange(n), n_g)] = 1.0
    return P


def isotypic_components(G: FiniteGroup, perm: np.ndarray) -> list[IsotypicComponent]:
    """The real isotypic decomposition of R^X under the permutation action ``perm`` of G.

    Z = sum_g f(g) P_g with f a random real class function with f(g) = f(g^-1) is a symmetric element of
    the centre of the group algebra: it acts on the isotypic component of a real irreducible sigma by the
    scalar sum_g f(g) chi(g) / chi(1) (chi a complex constituent of sigma; chi and its conjugate give the
    same value), and these scalars separate the real irreducibles for generic f (irreducible characters
    are linearly independent).  The eigenspaces of Z are the isotypic components.  Trivial first, then by
    dimension and character."""
    cls = conjugacy_classes(G)
    real = np.minimum(cls, cls[G.inverse])  # a class merged with its inverse class
    P = permutation_matrices(np.asarray(perm))
    n = P.shape[1]
    rng = np.random.default_rng(20260)  # only separates eigenvalues; the result does not depend on it
    for _ in range(5):
        f = rng.standard_normal(int(real.max()) + 1)[real]
        Z = np.einsum("g,gij->ij", f, P)
        Z = (Z + Z.T) / 2
        lam, V = np.linalg.eigh(Z)
        tol = 1e-8 * max(1.0, float(np.max(np.abs(lam))))
        groups, start = [], 0
        for j in range(1, n + 1):
            if j == n or lam[j] - lam[j - 1] > tol:
                groups.append(V[:, start:j])
                start = j
        comps = []
        for B in groups:
            proj = B @ B.T
            chi = np.einsum("gij,ji->g", P, proj)
            comps.append((proj, chi))
        # an eigenspace of Z is invariant under every P_g (Z is central); generic f merges no two components
        if all(np.allclose(Pg @ pr, pr @ Pg, atol=1e-9) for pr, _ in comps for Pg in P):
            break
    else:  # pragma: no cover - generic f separates
        raise AssertionError("isotypic decomposition did not separate")
    ones = np.ones(n) / np.sqrt(n)
    out = [IsotypicComponent(pr, np.round(chi, 10) + 0.0, bool(np.allclose(pr @ ones, ones, atol=1e-9)))
           for pr, chi in comps]
    out.sort(key=lambda c: (not c.trivial, c.dimension, tuple(-c.character)))
    return out
