"""The polynomial systems the toolkit solves, written exactly (rational coefficients) for other solvers.

Every system lives on the coordinate slice the toolkit itself uses (``invariants.critical_system.choose_slice``:
the gauge of ``architectures.gauge`` freezes the known continuous symmetries, pivoted QR of the Jacobian
completes it to k = dim M free parameters z).  c(z) is the exact coefficient map of the network function on
that slice (``parametrization.coefficients``; integer polynomials in theta, the frozen parameters set to
rationals).  With the same seed the free coordinates are the ones the toolkit's own solve picks; the random
numbers (frozen values, slice, metric, data) are drawn anew as small integers and dyadic rationals, so
every exported number is exact (Macaulay2 can work over QQ):

* ``degree``:   F(z; b) = R c(z) - b = 0, R a random integer k x D matrix and b = R c(z0) for an integer
  point z0 of the slice (a start solution), i.e. M cut by the generic affine space {R y = b} through c(z0).
  Nonsingular isolated solutions: deg(M) * f, f the number of points of a generic fiber of mu on the slice;
  their distinct images c(z): deg(M) (``invariants.witness_set``).
* ``ed``:       G(z; p) = J_c(z)^T (Q c(z) - p) = 0 (the gradient of 1/2 c^T Q c - p^T c), Q the Gram matrix
  of the metric scaled to integers, p = Q u for a random integer data point u; a start pair (z0, p0) for
  monodromy: p0 = Q c(z0) - w with w an integer vector of ker J_c(z0)^T (z0 is a critical point at p0).
  Distinct images c(z) of the nonsingular solutions with rank J_c(z) = k and c(z) != 0: the ED degree in
  that metric (``invariants.ed_degree``); the others are critical points of the parametrization.
* ``critical``: the same G for the mean-squared loss on a data set (X, Y) (``landscape.critical_points``):
  Q = A^T A, p = A^T y (A the design matrix of the monomials at the samples: (n/2) times the toolkit's Q, p,
  same critical points).  Nonsingular isolated solutions: the regular isolated critical points on the slice
  (``counts["complex"]``); distinct images of those with full-rank J_c: ``counts["functions_pure"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm
from typing import Any, Sequence

import numpy as np

from ..architectures.gauge import gauge_indices
from ..context import Context
from ..errors import InputError
from ..homotopy import PolynomialSystem
from ..invariants.critical_system import CriticalSystem, choose_slice
from ..invariants.dimension import dimension_data
from ..invariants.witness_set import COEFFICIENT_MAX_AMBIENT, COEFFICIENT_MAX_PARAMS, cached_coefficient_map
from ..parametrization.coefficients import METRICS, CoefficientMap, SparsePolynomials

Monomial = tuple[int, ...]
Polynomial = dict[Monomial, Fraction]

SYSTEMS = ("degree", "ed", "critical")
MAX_EXPORT_TERMS = 200_000  # terms of all equations together: beyond, the file is too large to be useful
MAX_EXPANSION = 1_000_000  # products of terms in the exact expansion of J_c^T (Q c - p) (~20 s in Fractions)
DRAWS = 20  # random frozen values / start points tried before giving up on a full-rank slice
RANK_GAP = 1e-8  # sigma_k / sigma_1 of J_c on the slice at a test point above this: full rank


@dataclass
class ExportedSystem:
    """A square polynomial system with exact rational coefficients: equations in the unknowns z (then the
    parameters), the parameter values, the image map c(z) and what a solver's counts mean."""

    kind: str  # "degree" | "ed" | "critical"
    spec: str
    seed: int
    unknowns: list[str]  # z1 .. zk
    unknown_labels: list[str]  # the network parameter each unknown is (e.g. Q1[0,1])
    parameters: list[str]  # b1 .. bk or p1 .. pD
    parameter_values: list[Fraction]
    equations: list[Polynomial]  # exponents over unknowns + parameters
    image: list[Polynomial]  # c(z): D polynomials in the unknowns
    frozen: list[tuple[str, Fraction]]  # the frozen network parameters and their values
    dim: int  # k = dim M
    metric: str | None = None
    start: list[int] | None = None  # an integer solution z0 at the exported parameter values
    # (z0, p0): z0 an integer solution at other parameter values p0 (a start pair for monodromy)
    start_pair: tuple[list[int], list[Fraction]] | None = None
    description: list[str] = field(default_factory=list)  # what the system is (comment lines)
    expected: list[str] = field(default_factory=list)  # what the counts equal (comment lines)
    data: dict[str, Any] = field(default_factory=dict)  # further exact data (R, Q, u, ...) for the record

    @property
    def n_terms(self) -> int:
        return sum(len(f) for f in self.equations)

    def specialized(self) -> list[Polynomial]:
        """The equations with the parameters replaced by their values (polynomials in the unknowns only)."""
        k = len(self.unknowns)
        out = []
        for f in self.equations:
            g: Polynomial = {}
            for e, c in f.items():
                v = c
                for j, a in enumerate(e[k:]):
                    if a:
                        v *= self.parameter_values[j] ** a
                key = e[:k]
                g[key] = g.get(key, Fraction(0)) + v
            out.append({e: c for e, c in g.items() if c != 0})
        return out

    def polynomial_system(self) -> PolynomialSystem:
        """The same system as the toolkit's ``PolynomialSystem`` (complex128 coefficients, same parameters)."""
        polys = [{e: complex(float(c)) for e, c in f.items()} for f in self.equations]
        return PolynomialSystem(polys, len(self.unknowns), len(self.parameters), variable_names=self.unknowns,
                                parameter_names=self.parameters)

    def parameter_point(self) -> np.ndarray:
        """The parameter values as a complex vector."""
        return np.array([float(v) for v in self.parameter_values], dtype=complex)

    def image_map(self) -> SparsePolynomials:
        """c(z) as ``SparsePolynomials`` (D polynomials in the k unknowns, complex128)."""
        return _to_sparse(self.image, len(self.unknowns))

    def bezout_number(self) -> int:
        """The product of the degrees of the equations in the unknowns (paths of a total-degree homotopy)."""
        out = 1
        for f in self.specialized():
            out *= max((sum(e) for e in f), default=0)
        return out


# ---------------------------------------------------------------------------------------- exact polynomials
def _add(f: Polynomial, g: Polynomial, scale: Fraction = Fraction(1)) -> None:
    for e, c in g.items():
        v = f.get(e, Fraction(0)) + scale * c
        if v:
            f[e] = v
        else:
            f.pop(e, None)


def _mul(f: Polynomial, g: Polynomial) -> Polynomial:
    out: Polynomial = {}
    for e1, c1 in f.items():
        for e2, c2 in g.items():
            e = tuple(a + b for a, b in zip(e1, e2))
            v = out.get(e, Fraction(0)) + c1 * c2
            if v:
                out[e] = v
            else:
                out.pop(e)
    return out


def _derivative(f: Polynomial, j: int) -> Polynomial:
    out: Polynomial = {}
    for e, c in f.items():
        if e[j]:
            d = list(e)
            d[j] -= 1
            out[tuple(d)] = c * e[j]
    return out


def _pad(f: Polynomial, n: int) -> Polynomial:
    """The same polynomial with n more variables (not occurring)."""
    z = (0,) * n
    return {e + z: c for e, c in f.items()}


def _evaluate(f: Polynomial, point: Sequence[Fraction]) -> Fraction:
    total = Fraction(0)
    for e, c in f.items():
        v = c
        for x, a in zip(point, e):
            if a:
                v *= Fraction(x) ** a
        total += v
    return total


def _integer_map(cmap: CoefficientMap) -> tuple[np.ndarray, list[list[int]]]:
    """The exponents (T, N) and the integer coefficients (D rows of T) of the coefficient map."""
    C = cmap.polynomials.coefficients
    R = np.rint(C.real)
    if np.any(C.imag != 0) or np.any(R != C.real) or np.any(np.abs(R) >= 2.0**53):
        raise InputError(f"{cmap.arch.spec()}: the coefficient map has non-integer coefficients; it cannot be "
                         "written exactly")
    return cmap.polynomials.exponents, [[int(v) for v in row] for row in R]


def restricted_map(cmap: CoefficientMap, free: Sequence[int], frozen: dict[int, Fraction]) -> list[Polynomial]:
    """c(z) exactly on the coordinate slice theta_i = frozen[i] (i not free), z = theta[free]."""
    E, C = _integer_map(cmap)
    free = list(free)
    factors = []
    for row in E:
        v = Fraction(1)
        for i, a in enumerate(row):
            if a and i in frozen:
                v *= frozen[i] ** int(a)
        factors.append(v)
    out: list[Polynomial] = []
    for coeffs in C:
        f: Polynomial = {}
        for t, c in enumerate(coeffs):
            if c:
                e = tuple(int(E[t, i]) for i in free)
                v = f.get(e, Fraction(0)) + c * factors[t]
                if v:
                    f[e] = v
                else:
                    f.pop(e)
        out.append(f)
    return out


def _to_sparse(polys: list[Polynomial], k: int) -> SparsePolynomials:
    mons = sorted({e for f in polys for e in f})
    index = {e: t for t, e in enumerate(mons)}
    C = np.zeros((len(polys), len(mons)), dtype=complex)
    for a, f in enumerate(polys):
        for e, c in f.items():
            C[a, index[e]] = float(c)
    return SparsePolynomials(np.array(mons, dtype=int).reshape(len(mons), k), C)


# ---------------------------------------------------------------------------------------- the slice
@dataclass
class ExactSlice:
    """The toolkit's coordinate slice with exact frozen values: c(z) exactly and the names."""

    ctx: Context
    cmap: CoefficientMap
    k: int
    free: np.ndarray
    frozen: dict[int, Fraction]
    c: list[Polynomial]
    info: dict[str, Any]

    @property
    def unknown_labels(self) -> list[str]:
        labels = self.ctx.arch.param_labels()
        return [labels[i] for i in self.free]

    def frozen_list(self) -> list[tuple[str, Fraction]]:
        labels = self.ctx.arch.param_labels()
        return [(labels[i], v) for i, v in sorted(self.frozen.items())]

    def jacobian(self, z: Sequence[Fraction]) -> list[list[Fraction]]:
        """J_c(z) exactly: D rows, k columns."""
        return [[_evaluate(_derivative(f, j), z) for j in range(self.k)] for f in self.c]

    def float_map(self) -> SparsePolynomials:
        return _to_sparse(self.c, self.k)


def _rational_value(rng: np.random.Generator) -> Fraction:
    """A frozen value: +-n/8, n in 4..12 (|value| in [1/2, 3/2] as the toolkit's; exact in binary)."""
    return Fraction(int(rng.integers(4, 13)), 8) * int(rng.choice([-1, 1]))


def _full_rank(P: SparsePolynomials, k: int, z: np.ndarray) -> bool:
    sv = np.linalg.svd(P.jacobian(np.atleast_2d(z)), compute_uv=False)
    return bool(sv.shape[-1] == k and np.all(sv[:, -1] > RANK_GAP * np.maximum(sv[:, 0], 1e-300)))


def _context(spec: str | Context, seed: int) -> Context:
    ctx = spec if isinstance(spec, Context) else Context(spec, seed=seed)
    arch = ctx.arch
    if arch.n_params > COEFFICIENT_MAX_PARAMS or arch.ambient_upper_bound()[0] > COEFFICIENT_MAX_AMBIENT:
        raise InputError(
            f"{arch.spec()}: {arch.n_params} parameters and up to {arch.ambient_upper_bound()[0]} coefficients; "
            f"systems are exported from the exact coefficient map, which the toolkit expands only up to "
            f"{COEFFICIENT_MAX_PARAMS} parameters and {COEFFICIENT_MAX_AMBIENT} coefficients: choose smaller widths")
    return ctx


def exact_slice(ctx: Context, purpose: str) -> ExactSlice:
    """The coordinate slice of ``purpose`` (the toolkit's random stream of that name, so the same free
    coordinates as its own solve with this seed) with exact rational frozen values, checked full rank."""
    arch = ctx.arch
    if not getattr(arch, "polynomial", True):
        raise InputError(f"{arch.spec()} is not a polynomial network: there is no polynomial system to export")
    try:
        cmap = cached_coefficient_map(ctx)
    except (TypeError, NotImplementedError):
        raise InputError(f"{arch.spec()}: no exact coefficient map (not a polynomial network); nothing to export") \
            from None
    d = dimension_data(ctx)
    if not d.certified:
        raise InputError(f"{arch.spec()}: the dimension is not certified ({d.lower} <= dim M <= {d.upper}); the "
                         "systems need dim M to have k equations in k unknowns")
    k = d.lower
    if k == 0:
        raise InputError(f"{arch.spec()}: M is a point (dim 0); there is no system to solve")
    free, _, info = choose_slice(arch, cmap, k, ctx.rng(purpose))
    rng = ctx.rng(f"export-{purpose}")
    fixed = [i for i in range(arch.n_params) if i not in set(free.tolist())]
    for _ in range(DRAWS):
        frozen = {i: _rational_value(rng) for i in fixed}
        c = restricted_map(cmap, free, frozen)
        P = _to_sparse(c, k)
        z = (rng.standard_normal((3, k)) + 1j * rng.standard_normal((3, k))) / np.sqrt(2)
        if _full_rank(P, k, z):
            gauge = set(gauge_indices(arch) or [])
            info = dict(info, frozen_values="+-n/8, n in 4..12 (exact)",
                        gauge_frozen=[arch.param_labels()[i] for i in fixed if i in gauge])
            return ExactSlice(ctx, cmap, k, free, frozen, c, info)
    raise InputError(f"{arch.spec()}: no rational frozen values gave a slice on which c has full rank k = {k}; "
                     "try another --seed")


def _integer_point(sl: ExactSlice, rng: np.random.Generator) -> list[int]:
    """A nonzero integer point z0 of the slice (entries +-1..+-3) where J_c has full rank."""
    P = sl.float_map()
    for _ in range(DRAWS):
        z0 = [int(v) * int(s) for v, s in zip(rng.integers(1, 4, sl.k), rng.choice([-1, 1], sl.k))]
        if _full_rank(P, sl.k, np.array(z0, dtype=complex)):
            return z0
    raise InputError(f"{sl.ctx.arch.spec()}: no integer point of the slice with J_c of full rank; try another --seed")


def _names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i + 1}" for i in range(n)]


# ---------------------------------------------------------------------------------------- the three systems
def degree_system(spec: str | Context, *, seed: int = 0) -> ExportedSystem:
    """F(z; b) = R c(z) - b on the degree's coordinate slice (``invariants.witness_set``), R a random integer
    k x D matrix (entries in -9..9), b = R c(z0) for an integer start point z0."""
    ctx = _context(spec, seed)
    sl = exact_slice(ctx, "witness-set")
    k, D = sl.k, len(sl.c)
    rng = ctx.rng("export-degree-data")
    R = [[int(v) for v in rng.integers(-9, 10, D)] for _ in range(k)]
    z0 = _integer_point(sl, rng)
    cz0 = [_evaluate(f, z0) for f in sl.c]
    b = [sum((Fraction(R[i][a]) * cz0[a] for a in range(D)), Fraction(0)) for i in range(k)]
    eqs: list[Polynomial] = []
    for i in range(k):
        f: Polynomial = {}
        for a in range(D):
            if R[i][a]:
                _add(f, _pad(sl.c[a], k), Fraction(R[i][a]))
        f[(0,) * k + tuple(1 if j == i else 0 for j in range(k))] = Fraction(-1)
        eqs.append(f)
    _check_size(ctx, "degree", eqs)
    return ExportedSystem(
        kind="degree", spec=ctx.arch.spec(), seed=ctx.seed, unknowns=_names("z", k), unknown_labels=sl.unknown_labels,
        parameters=_names("b", k), parameter_values=b, equations=eqs, image=sl.c, frozen=sl.frozen_list(), dim=k,
        start=z0,
        description=[
            "F(z; b) = R c(z) - b = 0: M cut by the affine linear space {y : R y = b} of codimension k = dim M,",
            f"c(z) the {D} coefficients of the network function on the toolkit's coordinate slice "
            "(gauge + pivoted QR),",
            "R a random integer matrix, b = R c(z0) with z0 the start solution below (a pseudo-witness set).",
        ],
        expected=[
            "number of nonsingular isolated solutions = deg(M) * f, f = points of a generic fiber of mu on this slice",
            f"number of distinct points c(z) among them = deg(M) (neuromanifold analyze '{ctx.arch.spec()}' "
            "--only degree)",
        ],
        data={"R": R, "slice": sl.info},
    )


def _left_kernel_vector(J: list[list[Fraction]], rng: np.random.Generator) -> list[int]:
    """A random integer vector w with J^T w = 0 (J: D x k of rank k), by exact elimination."""
    D, k = len(J), len(J[0]) if J else 0
    A = [[J[a][j] for a in range(D)] for j in range(k)]  # k x D: rows of J^T
    pivots: list[int] = []
    r = 0
    for col in range(D):
        piv = next((i for i in range(r, k) if A[i][col] != 0), None)
        if piv is None:
            continue
        A[r], A[piv] = A[piv], A[r]
        inv = 1 / A[r][col]
        A[r] = [v * inv for v in A[r]]
        for i in range(k):
            if i != r and A[i][col] != 0:
                m = A[i][col]
                A[i] = [v - m * w for v, w in zip(A[i], A[r])]
        pivots.append(col)
        r += 1
        if r == k:
            break
    free_cols = [c for c in range(D) if c not in pivots]
    w = [Fraction(0)] * D
    for c in free_cols:  # nonzero: a zero here can leave w in a special subspace (e.g. a low-rank data matrix)
        w[c] = Fraction(int(rng.integers(1, 10)) * int(rng.choice([-1, 1])))
    for i, pc in enumerate(pivots):
        w[pc] = -sum((A[i][c] * w[c] for c in free_cols), Fraction(0))
    den = lcm(*(v.denominator for v in w)) if w else 1
    return [int(v * den) for v in w]


def _gradient_system(sl: ExactSlice, Q: list[list[Fraction]]) -> list[Polynomial]:
    """G_j(z; p) = sum_a dc_a/dz_j ((Q c(z))_a - p_a), exponents over z then p."""
    k, D = sl.k, len(sl.c)
    # the work of the exact expansion: products of dc_a/dz_j with (Q c)_a, before merging equal monomials
    diagonal = all(Q[a][b_] == 0 for a in range(D) for b_ in range(D) if a != b_)
    every = len({e for f in sl.c for e in f})  # (Q c)_a has at most every monomial of c
    qc_sizes = [(len(sl.c[a]) if diagonal else every) + 1 for a in range(D)]
    work = sum(len(_derivative(sl.c[a], j)) * qc_sizes[a] for j in range(k) for a in range(D))
    if work > MAX_EXPANSION:
        raise InputError(f"{sl.ctx.arch.spec()}: expanding the critical-point system exactly takes about {work:.2e} "
                         f"products of terms (limit {MAX_EXPANSION:.0e}); choose a smaller architecture")
    Qc: list[Polynomial] = []
    for a in range(D):
        f: Polynomial = {}
        for b_ in range(D):
            if Q[a][b_]:
                _add(f, sl.c[b_], Q[a][b_])
        Qc.append(_pad(f, D))
        Qc[-1][(0,) * k + tuple(1 if i == a else 0 for i in range(D))] = Fraction(-1)
    eqs = []
    for j in range(k):
        g: Polynomial = {}
        for a in range(D):
            dc = _derivative(sl.c[a], j)
            if dc:
                _add(g, _mul(_pad(dc, D), Qc[a]))
        eqs.append(g)
    _check_size(sl.ctx, "critical-point", eqs)
    return eqs


def _check_size(ctx: Context, what: str, eqs: list[Polynomial]) -> None:
    n_terms = sum(len(g) for g in eqs)
    if n_terms > MAX_EXPORT_TERMS:
        raise InputError(f"{ctx.arch.spec()}: the {what} system has {n_terms} terms (limit {MAX_EXPORT_TERMS}); "
                         "choose a smaller architecture")


def metric_gram(cmap: CoefficientMap, metric: str, rng: np.random.Generator) -> list[list[Fraction]]:
    """The Gram matrix of ``metric`` on coefficients (``parametrization.coefficients.metric_matrix``), exact and
    scaled to integers: euclidean I; bombieri_weyl diag(1/multinomial(alpha)) times their lcm; generic
    A^T A + I with A a random integer D x D matrix (entries in -2..2)."""
    from math import factorial, prod

    D = cmap.dimension
    if metric == "euclidean":
        return [[Fraction(int(a == b)) for b in range(D)] for a in range(D)]
    if metric == "bombieri_weyl":
        d = max((sum(al) for _, al in cmap.monomials), default=0)
        mult = [factorial(d) // prod(factorial(v) for v in tuple(al) + (d - sum(al),)) for _, al in cmap.monomials]
        L = lcm(*mult)
        return [[Fraction(L // mult[a]) if a == b else Fraction(0) for b in range(D)] for a in range(D)]
    if metric == "generic":
        A = rng.integers(-2, 3, (D, D))
        G = A.T @ A + np.eye(D, dtype=np.int64)
        return [[Fraction(int(G[a, b])) for b in range(D)] for a in range(D)]
    raise InputError(f"unknown metric {metric!r}; choose from: {', '.join(METRICS)}")


def ed_system(spec: str | Context, *, metric: str = "generic", seed: int = 0) -> ExportedSystem:
    """G(z; p) = J_c(z)^T (Q c(z) - p) for the squared distance in ``metric`` on the ED degree's coordinate slice
    (``invariants.ed_degree``), p = Q u for a random integer data point u (entries +-1..+-3); the start pair
    (z0, p0 = Q c(z0) - w, w an integer vector of ker J_c(z0)^T) has z0 a critical point at p0."""
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose from: {', '.join(METRICS)}")
    ctx = _context(spec, seed)
    sl = exact_slice(ctx, f"critical-slice-{metric}")
    k, D = sl.k, len(sl.c)
    rng = ctx.rng(f"export-ed-data-{metric}")
    Q = metric_gram(sl.cmap, metric, rng)
    eqs = _gradient_system(sl, Q)
    u = [int(v) * int(sg) for v, sg in zip(rng.integers(1, 4, D), rng.choice([-1, 1], D))]
    p = [sum((Q[a][b_] * u[b_] for b_ in range(D)), Fraction(0)) for a in range(D)]
    # a start pair for monodromy (HomotopyContinuation.jl): z0 is a critical point at p0 = Q c(z0) - w
    z0 = _integer_point(sl, rng)
    cz0 = [_evaluate(f, z0) for f in sl.c]
    w = _left_kernel_vector(sl.jacobian([Fraction(v) for v in z0]), rng) if D > k else [0] * D
    p0 = [sum((Q[a][b_] * cz0[b_] for b_ in range(D)), Fraction(0)) - w[a] for a in range(D)]
    return ExportedSystem(
        kind="ed", spec=ctx.arch.spec(), seed=ctx.seed, unknowns=_names("z", k), unknown_labels=sl.unknown_labels,
        parameters=_names("p", D), parameter_values=p, equations=eqs, image=sl.c, frozen=sl.frozen_list(), dim=k,
        metric=metric, start_pair=(z0, p0),
        description=[
            "G(z; p) = J_c(z)^T (Q c(z) - p) = 0: the critical points of 1/2 (c(z) - u)^T Q (c(z) - u), p = Q u,",
            f"c(z) the {D} coefficients of the network function on the toolkit's coordinate slice "
            "(gauge + pivoted QR),",
            f"Q the Gram matrix of the {metric} metric (scaled to integers), u a random integer data point:",
            "data point u = (" + ", ".join(str(v) for v in u) + ")",
        ],
        expected=[
            "number of distinct points c(z) over the nonsingular isolated solutions with rank J_c(z) = k and",
            f"c(z) != 0 = the ED degree of M in the {metric} metric (neuromanifold analyze '{ctx.arch.spec()}' "
            f"--only ed_degree --metric {metric});",
            "the other nonsingular solutions (rank J_c < k) are critical points of the parametrization",
        ],
        data={"Q": [[str(v) for v in row] for row in Q], "u": u, "slice": sl.info},
    )


def _exact_number(x: Any) -> Fraction:
    return Fraction(int(x)) if float(x).is_integer() else Fraction(float(x))


def random_data(arch: Any, rng: np.random.Generator, n: int | None = None, D: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """A random integer data set (X entries in -5..5, Y in -5..5) with twice as many output values as
    coefficients (plus two samples)."""
    out = arch.output_size()
    n = n if n is not None else 2 * -(-int(D or 1) // out) + 2
    return rng.integers(-5, 6, (n, arch.n_inputs)).astype(float), rng.integers(-5, 6, (n, out)).astype(float)


def critical_loss_system(spec: str | Context, X: Any = None, Y: Any = None, *, seed: int = 0) -> ExportedSystem:
    """G(z; p) = J_c(z)^T (Q c(z) - p) for the mean-squared loss on (X, Y) (``landscape.critical_points``) with
    Q = A^T A and p = A^T y, A the design matrix of the monomials at the samples (exact: every float of X, Y is
    a dyadic rational).  Without data: a random integer data set (``random_data``), seeded."""
    from ..landscape.critical_points import loss_data

    ctx = _context(spec, seed)
    arch = ctx.arch
    sl = exact_slice(ctx, "critical-slice-data")
    k, D = sl.k, len(sl.c)
    if (X is None) != (Y is None):
        raise InputError("give both X and Y (a data set), or neither (a random integer data set)")
    if X is None:  # random integer data; redrawn (a few times) if they do not determine every coefficient
        rng = ctx.rng("export-critical-data")
        for attempt in range(5):
            X, Y = random_data(arch, rng, D=D)
            try:
                loss_data(arch, sl.cmap, X, Y)
                break
            except InputError:
                if attempt == 4:
                    raise InputError(f"{arch.spec()}: random integer data sets do not determine the {D} coefficients "
                                     "of the network function; pass a data set (--X, --Y)") from None
    loss_data(arch, sl.cmap, X, Y)  # validates shapes, finiteness and that the data determine every coefficient
    Xa = np.asarray(X, dtype=float).reshape(np.asarray(X).shape[0], -1)
    Ya = np.asarray(Y, dtype=float).reshape(Xa.shape[0], -1)
    n, out = Xa.shape[0], Ya.shape[1]
    Xq = [[_exact_number(v) for v in row] for row in Xa]
    rows: list[list[Fraction]] = []  # A: (n * out) x D
    targets: list[Fraction] = []
    for i in range(n):
        for o in range(out):
            row = []
            for oa, alpha in sl.cmap.monomials:
                if oa != o:
                    row.append(Fraction(0))
                    continue
                v = Fraction(1)
                for x, e in zip(Xq[i], alpha):
                    if e:
                        v *= x ** e
                row.append(v)
            rows.append(row)
            targets.append(_exact_number(Ya[i, o]))
    Q, p = _gram(rows, targets, arch.spec())
    eqs = _gradient_system(sl, Q)
    return ExportedSystem(
        kind="critical", spec=arch.spec(), seed=ctx.seed, unknowns=_names("z", k), unknown_labels=sl.unknown_labels,
        parameters=_names("p", D), parameter_values=p, equations=eqs, image=sl.c, frozen=sl.frozen_list(), dim=k,
        description=[
            f"G(z; p) = J_c(z)^T (Q c(z) - p) = 0: the critical points of the mean-squared loss on {n} samples,",
            "L = (1/n) |A c(z) - y|^2 = (2/n) (1/2 c^T Q c - p^T c) + const with Q = A^T A, p = A^T y (A: the",
            f"monomials of the {D} coefficients at the samples), c(z) on the toolkit's coordinate slice "
            "(gauge + pivoted QR).",
        ],
        expected=[
            "number of nonsingular isolated solutions = the isolated regular critical points of the loss on this slice",
            "(neuromanifold critical: counts['complex']; polyhedral solvers such as PHCpack's blackbox find only those",
            "with all coordinates nonzero); distinct points c(z) among those with rank J_c(z) = k and c(z) != 0 =",
            "counts['functions_pure'] (critical points of the loss on the smooth locus of M)",
        ],
        data={"Q": [[str(v) for v in row] for row in Q], "X": [[str(v) for v in row] for row in Xq],
              "Y": [[str(_exact_number(v)) for v in row] for row in Ya],
              "slice": sl.info},
    )


MAX_GRAM_WORK = 50_000_000  # integer products of the exact Gram matrix A^T A when they do not fit in int64


def _gram(rows: list[list[Fraction]], targets: list[Fraction], spec: str
          ) -> tuple[list[list[Fraction]], list[Fraction]]:
    """Q = A^T A and p = A^T y exactly: A and y scaled to integers by the lcm L of their denominators, the
    products in int64 when they cannot overflow (else Python integers), then divided by L^2."""
    m, D = len(rows), len(rows[0]) if rows else 0
    L = lcm(*(v.denominator for r in rows for v in r), *(t.denominator for t in targets))
    A = np.empty((D + 1, m), dtype=object)  # the columns of [A | y], scaled to integers
    for i, (r, t) in enumerate(zip(rows, targets)):
        A[:D, i] = [int(v * L) for v in r]
        A[D, i] = int(t * L)
    big = max((abs(int(v)) for v in A.reshape(-1)), default=0)
    if big * big * max(m, 1) < 2**62:
        A64 = A.astype(np.int64)
        G = (A64 @ A64.T).astype(object)
    else:
        if (D + 1) ** 2 * m > MAX_GRAM_WORK:
            raise InputError(f"{spec}: the exact Gram matrix of this data set takes about {(D + 1) ** 2 * m:.1e} "
                             f"products of large integers (limit {MAX_GRAM_WORK:.0e}); pass fewer samples or data "
                             "with short binary expansions (e.g. small integers)")
        G = A @ A.T
    den = L * L
    Q = [[Fraction(int(G[a, b_]), den) for b_ in range(D)] for a in range(D)]
    return Q, [Fraction(int(G[a, D]), den) for a in range(D)]


def critical_system_object(es: ExportedSystem) -> CriticalSystem:
    """For an ``ed`` or ``critical`` export: the toolkit's ``CriticalSystem`` of exactly this system (float
    coefficients), to solve and classify it with the toolkit's own code (``solve_critical``, ``classify``)."""
    if es.kind not in ("ed", "critical"):
        raise InputError(f"a CriticalSystem exists for the ed and critical systems, not for {es.kind!r}")
    ctx = Context(es.spec, seed=es.seed)
    cmap = cached_coefficient_map(ctx)
    labels = ctx.arch.param_labels()
    free = np.array([labels.index(lab) for lab in es.unknown_labels], dtype=int)
    frozen = np.zeros(ctx.arch.n_params)
    for lab, v in es.frozen:
        frozen[labels.index(lab)] = float(v)
    Q = np.array([[float(Fraction(v)) for v in row] for row in es.data["Q"]])
    return CriticalSystem(cmap, Q, free, frozen, es.image_map(), es.polynomial_system(), dict(es.data.get("slice", {})))


def build_system(spec: str | Context, system: str, *, seed: int = 0, metric: str = "generic",
                 X: Any = None, Y: Any = None) -> ExportedSystem:
    """The named system (``SYSTEMS``) of ``spec``."""
    if system == "degree":
        return degree_system(spec, seed=seed)
    if system == "ed":
        return ed_system(spec, metric=metric, seed=seed)
    if system == "critical":
        return critical_loss_system(spec, X, Y, seed=seed)
    raise InputError(f"unknown system {system!r}; choose from: {', '.join(SYSTEMS)}")


__all__ = ["ExportedSystem", "ExactSlice", "SYSTEMS", "build_system", "degree_system", "ed_system",
           "critical_loss_system", "critical_system_object", "metric_gram", "random_data", "restricted_map",
           "exact_slice", "MAX_EXPORT_TERMS"]
