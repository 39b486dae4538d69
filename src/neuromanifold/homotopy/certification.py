"""Certified solutions of a square polynomial system F(z; p) = 0 by the Krawczyk test in ball arithmetic.

The mathematics (Krawczyk 1969; Moore 1977, "A test for existence of solutions to nonlinear systems";
Rump 1983 / 2010, "Verification methods", Acta Numerica 19, section 13).  Let F: C^n -> C^n be
holomorphic, y in C^n, X a compact convex box containing y, Y any complex n x n matrix and J(X) an
interval matrix containing every Jacobian F_z(x), x in X.  The Krawczyk operator is

    K(X) = y - Y F(y) + (I - Y J(X)) (X - y).

If K(X) lies in the interior of X, then Y and every matrix of J(X) are nonsingular, X contains exactly
one root z* of F, that root is regular (det F_z(z*) != 0), and Newton's method converges to it from
every point of X.  Over C this is the same theorem applied to F as a map R^{2n} -> R^{2n}: a
complex-linear J(X) acts on C^n = R^{2n} as a real matrix, and the complex product in ball arithmetic
encloses the real one.

What is computed here.
  * The field is C: boxes are products of complex *rectangles* (one ``acb`` ball per coordinate:
    real part [Re y_i - r, Re y_i + r] times imaginary part [Im y_i - r, Im y_i + r], the same radius r
    for every coordinate of one point, r a power of two so that the ball is exactly that rectangle).
  * The system certified is the one with exactly the stored double-precision coefficients and the
    given double-precision parameter values p (converted exactly to balls): a certificate is about
    that system, not about a nearby one the doubles approximate.
  * F(y) is evaluated in ``acb`` ball arithmetic at the point y; J(X) by evaluating the partial
    derivatives dF_i/dz_j (their monomials and coefficients) with the box X itself as argument, so it
    encloses F_z over X; Y is the floating-point inverse of F_z(y) (any Y is allowed: the theorem
    holds for every Y, a good one makes the test pass); all products and sums are rigorous
    (python-flint / Arb), at ``precision`` bits.
  * ``certified[b]``: K(X) is contained in the interior of X (``acb.contains_interior`` on every
    coordinate of K(X) - y against the centred box), so the box of midpoint ``midpoints[b]`` and
    radius ``radii[b]`` contains exactly one root of F, and it is regular.  Singular (multiple) roots
    and non-isolated solutions can never pass this test.
  * ``real[b]``: False when X does not meet its complex conjugate (|Im y_i| > r for some i): the root
    is not real.  True when the system has real coefficients and real parameters and the Krawczyk
    test passes on the conjugation-symmetric box X' centred at Re(y) with radius r' = 2^k r containing
    X: F(conj z) = conj F(z) maps the unique root of X' to a root in X', hence to itself, so the root
    (the one of X, as X is inside X') is real.  None when neither was proven.
  * ``distinct[b]``: the certified box of b is disjoint from every other certified box (tested with a
    conservative floating-point margin), so certified distinct points are different roots.

Before the test each point gets ``newton_steps`` floating-point Newton steps and then up to
``refine_steps`` simplified Newton steps y <- y - mid(Y F(y)) with F(y) in ball arithmetic at the working
precision (the centre stays a double, but one as close to the root as a double allows, also where F
cannot be evaluated accurately in floating point).  A polished point may converge to a root other than
the nearest one; the box always contains the root it certifies.  Ill-conditioned points (cond F_z(y) > 1e7) get
the preconditioner Y = mid(F_z(y)^-1) computed at the working precision; points that still fail are retried about
a centre refined at the working precision (exact ball centres, Newton steps y <- mid(y - Y F(y))): a double centre
is ~eps |y| from the root, too far when I - Y J(X) only contracts on smaller boxes.  Their unique root lies in the
box y +- ``uniqueness_radii`` about y = ``midpoints`` + ``centre_low``; the reported box ``midpoints`` +- ``radii``
contains it.  The radius is
r = 2^ceil(log2(max(inflation * delta, floor))) with delta the size of the Newton step Y F(y) computed
in ball arithmetic and floor = 4 eps (1 + |y|_inf); if the test fails it is retried with the factors 16
and inflation^2 in place of ``inflation``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .linear_algebra import batched_solve_numpy
from .polynomial import PolynomialSystem
from .system import as_batch

METHOD = (
    "Krawczyk test in ball arithmetic (python-flint acb): K(X) = y - Y F(y) + (I - Y J(X))(X - y) "
    "inside the interior of X proves a unique regular root in X (Krawczyk; Moore 1977; Rump 2010); "
    "boxes are products of complex rectangles of equal radius; real roots by a conjugation-symmetric box, "
    "non-real ones by X disjoint from conj(X); distinct = certified boxes pairwise disjoint"
)

_EPS = np.finfo(float).eps
# condition number of F_z(y) from which the preconditioner Y is inverted in ball arithmetic at the working
# precision instead of in doubles
HIGH_PRECISION_INVERSE_COND = 1e7


@dataclass
class Certification:
    """Per-point outcome of ``certify_solutions`` (B points of n coordinates)."""

    certified: np.ndarray  # (B,) bool: the box contains exactly one root, regular
    real: np.ndarray  # (B,) object: True certified real, False certified non-real, None undecided
    distinct: np.ndarray  # (B,) bool: certified and the box meets no other certified box
    midpoints: np.ndarray  # (B, n) complex: box centres (the polished points)
    radii: np.ndarray  # (B,) float: |Re, Im (z_i - mid_i)| <= r for every i; NaN if not certified
    reason: list[str]  # (B,) why a point was not certified ("" when it was)
    precision: int = 106
    real_system: bool = False  # real coefficients and real parameters
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # exactly one root lies in the box y +- uniqueness_radii about the centre y = midpoints + centre_low (rounded to
    # double-double): equal to the box midpoints +- radii except at ill-conditioned roots certified about a centre
    # refined at the working precision, whose box midpoints +- radii contains that unique root)
    centre_low: np.ndarray | None = None
    uniqueness_radii: np.ndarray | None = None
    # (B, n): half-widths per coordinate of a box about ``midpoints`` that contains the certified root (``radii``
    # broadcast, except at badly scaled roots certified in rescaled variables: radii r s_i, much tighter than the
    # cube of radius ``radii``; ``enclose_map`` takes them for tight image boxes)
    coordinate_radii: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return int(len(self.certified))

    @property
    def n_certified(self) -> int:
        return int(np.sum(self.certified))

    @property
    def n_distinct(self) -> int:
        return int(np.sum(self.distinct))

    def summary(self) -> dict[str, Any]:
        """Counts, the method and the timing, as a JSON-ready dictionary."""
        cert = self.certified
        real = np.array([v is True for v in self.real], dtype=bool)
        nonreal = np.array([v is False for v in self.real], dtype=bool)
        return {
            "method": METHOD,
            "field": "C (boxes: products of complex rectangles)",
            "precision_bits": int(self.precision),
            "points": self.n_points,
            "certified": self.n_certified,
            "not_certified": int(np.sum(~cert)),
            "distinct": self.n_distinct,
            "certified_not_distinct": int(np.sum(cert & ~self.distinct)),
            "real": int(np.sum(real)),
            "non_real": int(np.sum(nonreal)),
            "real_undecided": int(np.sum(cert & ~real & ~nonreal)),
            "real_system": bool(self.real_system),
            "max_radius": float(np.nanmax(self.radii)) if self.n_certified else None,
            "system_certified": ("the exact system (coefficients enclosed in balls)"
                                 if self.extra.get("exact_coefficients") else "the stored double-precision system"),
            "seconds": round(float(self.seconds), 4),
        }

    evidence = summary

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"Certification(points={s['points']}, certified={s['certified']}, distinct={s['distinct']}, "
            f"real={s['real']}, non_real={s['non_real']}, {self.seconds:.2f}s)"
        )


class _BallSystem:
    """The tables of a PolynomialSystem as ball-arithmetic data (built under the working precision).

    ``terms``: per equation {exponent over (z, p): acb ball}, enclosures of the exact coefficients of the system
    whose roots are certified (e.g. a slice of an exact polynomial map with a coefficient-wise rounding in the
    double system); None: the stored doubles of ``system``, taken exactly."""

    def __init__(self, system: PolynomialSystem, p: np.ndarray, terms: list | None = None) -> None:
        from flint import acb, acb_mat

        self.n, self.m = system.n_vars, system.n_params
        self.M = int(system.monomials.shape[0])
        self.levels = [(lo, list(map(int, par)), list(map(int, var))) for lo, _hi, par, var in system._levels]
        n, M = self.n, self.M
        if terms is None:
            self.CF = acb_mat(M, n, [acb(complex(c)) for c in system._CF.reshape(-1)])
            self.CZ = acb_mat(M, n * n, [acb(complex(c)) for c in system._CZ.reshape(-1)])
        else:
            index = {tuple(int(v) for v in e): k for k, e in enumerate(system.monomials)}
            CF = [acb(0)] * (M * n)
            CZ = [acb(0)] * (M * n * n)
            for i, poly in enumerate(terms):
                for exp, c in poly.items():
                    if exp not in index:
                        raise InputError(f"the exact system has the monomial {exp}, which the double one lacks")
                    CF[index[exp] * n + i] += c
                    for j in range(n):
                        if exp[j] > 0:
                            k = index[exp[:j] + (exp[j] - 1,) + exp[j + 1:]]
                            CZ[k * n * n + i * n + j] += c * exp[j]
            self.CF = acb_mat(M, n, CF)
            self.CZ = acb_mat(M, n * n, CZ)
        self.p = [acb(complex(c)) for c in p]
        self.one = acb(1)

    def monomials(self, xs: list) -> list:
        """The monomial values x^e (x = (z, p) as balls), degree by degree: a list of M balls."""
        V = [self.one] * self.M
        for lo, parents, vars_ in self.levels:
            k = lo
            for a, j in zip(parents, vars_):
                V[k] = V[a] * xs[j]
                k += 1
        return V

    def evaluate(self, points: list[list]) -> list[list]:
        """F at each point (a list of n balls): one list of n balls per point."""
        from flint import acb_mat

        if not points:
            return []
        rows = [v for x in points for v in self.monomials(list(x) + self.p)]
        out = (acb_mat(len(points), self.M, rows) * self.CF).entries()
        n = self.n
        return [out[b * n : (b + 1) * n] for b in range(len(points))]

    def jacobian(self, points: list[list]) -> list:
        """dF/dz over each box (a list of n balls): one n x n ``acb_mat`` per box."""
        from flint import acb_mat

        if not points:
            return []
        rows = [v for x in points for v in self.monomials(list(x) + self.p)]
        out = (acb_mat(len(points), self.M, rows) * self.CZ).entries()
        n2 = self.n * self.n
        return [acb_mat(self.n, self.n, out[b * n2 : (b + 1) * n2]) for b in range(len(points))]


def _pow2_ceil(x: float) -> float:
    """The smallest power of two >= x (x > 0 finite): exactly representable as a ball radius."""
    m, e = math.frexp(x)
    return math.ldexp(1.0, e - 1) if m == 0.5 else math.ldexp(1.0, e)


def _krawczyk(
    balls: _BallSystem, centres: np.ndarray, radii: np.ndarray, Ys: list, Fs: list
) -> np.ndarray:
    """For each centre y (row of ``centres``: doubles, or a list of exact acb balls), radius r, inverse Y
    (acb_mat) and F(y) (balls): whether K(X) - y lies in the interior of the centred box r ([-1, 1] + i [-1, 1])^n."""
    from flint import acb, acb_mat, arb

    n = balls.n
    B = len(centres)
    if B == 0:
        return np.zeros(0, dtype=bool)
    boxes = []
    for y, r in zip(centres, radii):
        if isinstance(y, np.ndarray):  # double centres
            boxes.append([acb(arb(float(v.real), float(r)), arb(float(v.imag), float(r))) for v in y])
        else:  # exact ball centres (high precision): the box is y + r ([-1, 1] + i [-1, 1])
            boxes.append([v + acb(arb(0, float(r)), arb(0, float(r))) for v in y])
    Js = balls.jacobian(boxes)
    eye = acb_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
    ok = np.zeros(B, dtype=bool)
    for b in range(B):
        r = float(radii[b])
        D = acb(arb(0, r), arb(0, r))
        Y = Ys[b]
        Fy = acb_mat(n, 1, Fs[b])
        Kmy = (eye - Y * Js[b]) * acb_mat(n, 1, [D] * n) - Y * Fy
        ok[b] = all(D.contains_interior(k) for k in Kmy.entries())
    return ok


def _high_precision_centres(balls: _BallSystem, Z: np.ndarray, todo: np.ndarray, Ys: dict, precision: int,
                            factors: list[float], steps: int) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    """Krawczyk about centres refined at the working precision (exact balls, Newton steps y <- mid(y - Y F(y))) for
    the points ``todo`` that failed with double centres: {b: (double midpoint, low part, radius of the box about
    midpoint + low part that holds exactly one root)}."""
    from flint import acb, acb_mat

    n = balls.n
    out: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
    for b in map(int, todo):
        Y = Ys[b]
        y = [acb(complex(v)) for v in Z[b]]
        for _ in range(steps):
            F = balls.evaluate([y])[0]
            st = (Y * acb_mat(n, 1, F)).entries()
            y = [(yi - si).mid() for yi, si in zip(y, st)]
        F = balls.evaluate([y])[0]
        st = (Y * acb_mat(n, 1, F)).entries()
        delta = max(float(max(s.real.abs_upper(), s.imag.abs_upper())) for s in st)
        size = max(float(abs(v).mid()) for v in y)
        floor = math.ldexp(1.0 + size, -(precision - 8))
        if not np.isfinite(delta):
            continue
        for f in factors:
            r = _pow2_ceil(max(f * delta, floor))
            if _krawczyk(balls, [y], np.array([r]), [Y], [F])[0]:
                hi = np.array([complex(float(v.real.mid()), float(v.imag.mid())) for v in y])
                lo = np.array([complex(float(e.real.mid()), float(e.imag.mid())) for e in
                               (yi - acb(complex(h)) for yi, h in zip(y, hi))])
                out[b] = (hi, lo, r)
                break
    return out


def _scaled_centres(system: PolynomialSystem, p: np.ndarray, exact_terms: Any, Z: np.ndarray, todo: np.ndarray,
                    precision: int, factors: list[float], steps: int) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    """Krawczyk for the points ``todo`` in rescaled variables z = s u, s_i = 2^round(log2 |z_i|) (exact): G(u) =
    F(s u) has the coefficients c prod s_i^e_i (exact products by powers of two of the balls of F), the centre is
    refined at the working precision (``_high_precision_centres``) and a cube of radius r in u is a box of radii
    r s_i in z.  {b: (double midpoint in z, low part, the radii r s_i (n,))}."""
    from flint import acb, acb_mat

    n = system.n_vars
    base = exact_terms() if exact_terms is not None else [{e: acb(complex(c)) for e, c in poly.items()}
                                                          for poly in system.polynomials]
    out: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
    for b in map(int, todo):
        y = Z[b]
        if not np.all(np.isfinite(y)):
            continue
        with np.errstate(divide="ignore"):
            ex = np.where(np.abs(y) > 0, np.round(np.log2(np.abs(y))), 0).astype(int)
        ex = np.clip(ex, -900, 900)
        if not np.any(ex):
            continue  # already well scaled: nothing new to try
        two = [acb(2) ** int(e) for e in ex]
        terms = []
        for poly in base:
            row = {}
            for e, c in poly.items():
                f = c
                for j in range(n):
                    if e[j]:
                        f = f * two[j] ** int(e[j])
                row[e] = f
            terms.append(row)
        try:
            balls = _BallSystem(system, p, terms)
        except InputError:
            continue
        u = np.array([math.ldexp(v.real, -int(k)) + 1j * math.ldexp(v.imag, -int(k)) for v, k in zip(y, ex)])
        Ju = balls.jacobian([[acb(complex(v)) for v in u]])[0]
        try:
            inv = Ju.inv()
        except ZeroDivisionError:
            continue
        Y = acb_mat(n, n, [e.mid() for e in inv.entries()])
        hp = _high_precision_centres(balls, u[None, :], np.array([0]), {0: Y}, precision, factors, steps)
        if 0 not in hp:
            continue
        hi_u, lo_u, r_u = hp[0]
        sc = np.array([math.ldexp(1.0, int(k)) for k in ex])
        # z = s u exactly: hi * s is exact in doubles (a power of two), lo * s too (barring underflow)
        out[b] = (hi_u * sc, lo_u * sc, r_u * sc)
    return out


def certify_solutions(
    system: PolynomialSystem,
    z: np.ndarray,
    p: np.ndarray | None = None,
    *,
    precision: int = 106,
    inflation: float = 1e3,
    newton_steps: int = 2,
    refine_steps: int = 3,
    exact_terms: Any = None,
) -> Certification:
    """Certify approximate solutions z (B, n) of the square polynomial system F(z; p) = 0.

    ``exact_terms``: a callable returning, under the working precision, per equation {exponent over (z, p): acb
    ball} enclosing the coefficients of the *exact* system that ``system`` rounds to doubles (same monomials; e.g.
    ``ExactImageSlice.slice_terms``): the ball-arithmetic steps (refinement, Krawczyk, reality) then use those
    balls, so every certificate is about the exact system (``extra["exact_coefficients"]``).

    ``p``: the parameter values, one vector (m,) for every point or one row per point (B, m) (points of
    different systems of the family: each group of equal rows is certified as one system, and
    ``distinct`` compares only points of the same system).

    For every point: ``newton_steps`` floating-point Newton steps and ``refine_steps`` refinement steps in
    ball arithmetic, then the Krawczyk test on a box of
    complex rectangles around it in ball arithmetic at ``precision`` bits (see the module docstring for
    the theorem and the exact meaning of each flag).  ``certified`` proves existence and uniqueness of a
    regular root in the box ``midpoints[b] +- radii[b]`` (real and imaginary parts of every coordinate);
    ``real`` / ``distinct`` are proven as described there; ``reason[b]`` says why point b failed.
    """
    start = time.perf_counter()
    if not isinstance(system, PolynomialSystem):
        raise InputError(f"certify_solutions needs a PolynomialSystem; got {type(system).__name__}")
    n, m = system.n_vars, system.n_params
    Z = np.array(as_batch(z, n, "z"), dtype=complex)
    if m and p is not None and np.ndim(p) == 2:
        if exact_terms is not None:
            raise InputError("exact_terms needs one parameter vector p for every point")
        return _certify_per_point(system, Z, np.asarray(p, dtype=complex), start, precision=precision,
                                  inflation=inflation, newton_steps=newton_steps, refine_steps=refine_steps)
    if m:
        if p is None:
            raise InputError(f"this system has {m} parameters: pass p of shape ({m},) or ({len(Z)}, {m})")
        pv = np.asarray(p, dtype=complex)
        if pv.shape != (m,):
            raise InputError(f"p must have shape ({m},) or ({len(Z)}, {m}); got {pv.shape}")
        if not np.all(np.isfinite(pv)):
            raise InputError("p must be finite")
    else:
        if p is not None and np.asarray(p).size:
            raise InputError(f"this system has no parameters; pass p=None (got shape {np.shape(p)})")
        pv = np.zeros(0, dtype=complex)
    if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)) or not 53 <= precision <= 4096:
        raise InputError(f"precision must be an integer number of bits in [53, 4096]; got {precision!r}")
    if isinstance(inflation, bool) or not isinstance(inflation, (int, float)) or not (1 < inflation < 1e15):
        raise InputError(f"inflation must be a number in (1, 1e15); got {inflation!r}")
    if isinstance(newton_steps, bool) or not isinstance(newton_steps, (int, np.integer)) or not 0 <= newton_steps <= 50:
        raise InputError(f"newton_steps must be an integer in [0, 50]; got {newton_steps!r}")
    if isinstance(refine_steps, bool) or not isinstance(refine_steps, (int, np.integer)) or not 0 <= refine_steps <= 50:
        raise InputError(f"refine_steps must be an integer in [0, 50]; got {refine_steps!r}")

    B = Z.shape[0]
    P = np.broadcast_to(pv, (B, m))
    finite = np.all(np.isfinite(Z), axis=1)
    reason = ["" for _ in range(B)]
    for b in np.flatnonzero(~finite):
        reason[b] = "the approximate solution is not finite"

    # ---- floating-point Newton polishing (records the step sizes for the diagnosis of failures)
    history: list[list[float]] = [[] for _ in range(B)]
    for k in range(newton_steps):
        with np.errstate(all="ignore"):
            F, J = system.evaluate_and_jacobian(Z, P)
            dz = batched_solve_numpy(J, -F) if B else np.zeros((0, n), dtype=complex)
            new = Z + np.where(np.isfinite(dz), dz, 0)
        good = finite & np.all(np.isfinite(dz), axis=1) & np.all(np.isfinite(new), axis=1)
        Z[good] = new[good]
        for b in np.flatnonzero(good):
            history[b].append(float(np.max(np.abs(dz[b]))))
    with np.errstate(all="ignore"):
        _, J = system.evaluate_and_jacobian(np.where(finite[:, None], Z, 0), P)
        Yf = batched_solve_numpy(J, np.repeat(np.eye(n, dtype=complex)[None], B, axis=0)) if B else J
    inv_ok = finite & np.all(np.isfinite(Yf), axis=(1, 2))
    with np.errstate(all="ignore"):
        cond = np.where(inv_ok, np.linalg.norm(J, ord=np.inf, axis=(1, 2)) * np.linalg.norm(
            np.where(np.isfinite(Yf), Yf, 0), ord=np.inf, axis=(1, 2)), np.inf)
    for b in np.flatnonzero(finite & ~inv_ok):
        reason[b] = ("the Jacobian at the point is singular (or overflows) in floating point: a singular root "
                     "(Krawczyk certifies only regular roots) or not near a root")

    low = np.zeros_like(Z)
    unique_radii = np.full(B, np.nan)
    real_system = all(c.imag == 0 for poly in system.polynomials for c in poly.values()) and bool(
        np.all(pv.imag == 0)
    )
    certified = np.zeros(B, dtype=bool)
    radii = np.full(B, np.nan)
    real = np.full(B, None, dtype=object)
    factors = list(dict.fromkeys([float(inflation), 16.0, float(min(inflation**2, 1e15))]))

    from flint import acb, acb_mat, ctx

    with ctx.workprec(int(precision)):
        balls = _BallSystem(system, pv, None if exact_terms is None else exact_terms())
        idx = np.flatnonzero(inv_ok)
        Ys = {int(b): acb_mat(n, n, [acb(complex(c)) for c in Yf[b].reshape(-1)]) for b in idx}
        # ill-conditioned points: the double-precision inverse leaves I - Y F_z(y) of size ~ cond * eps, which
        # can keep K(X) from fitting in any box; there Y = mid(F_z(y)^-1) at the working precision
        hard = [int(b) for b in idx if cond[b] > HIGH_PRECISION_INVERSE_COND]
        if hard:
            for b, Jb in zip(hard, balls.jacobian([[acb(complex(v)) for v in Z[b]] for b in hard])):
                try:
                    inv = Jb.inv()
                except ZeroDivisionError:
                    continue
                Ys[b] = acb_mat(n, n, [e.mid() for e in inv.entries()])
        # refinement at the working precision: y <- y - mid(Y F(y)) with F(y) in ball arithmetic, so the
        # centre is as close to the root as a double allows even where F cannot be evaluated accurately
        # in floating point (large coefficients with cancellation); Y stays fixed (simplified Newton)
        Fs: dict[int, list] = {}
        active = [int(b) for b in idx]
        for k in range(refine_steps + 1):
            for b, f in zip(active, balls.evaluate([[acb(complex(v)) for v in Z[b]] for b in active])):
                Fs[b] = f
            if k == refine_steps:
                break
            moved = []
            for b in active:
                st = np.array([complex(e.mid()) for e in (Ys[b] * acb_mat(n, 1, Fs[b])).entries()])
                size = float(np.max(np.abs(st)))
                new = Z[b] - st
                if np.isfinite(size) and np.all(np.isfinite(new)) and size > 2 * _EPS * (1 + np.max(np.abs(Z[b]))):
                    Z[b] = new
                    history[b].append(size)
                    moved.append(b)
            active = moved
        delta = np.zeros(B)
        for b in idx:  # |Y F(y)|_inf, the Newton step in ball arithmetic (an upper bound)
            step = (Ys[int(b)] * acb_mat(n, 1, Fs[int(b)])).entries()
            delta[b] = max(float(max(s.real.abs_upper(), s.imag.abs_upper())) for s in step)
        delta_ok = np.isfinite(delta)
        for b in np.flatnonzero(inv_ok & ~delta_ok):
            reason[b] = "F or its Newton step overflows at the point"
        floor = 4 * _EPS * (1 + np.max(np.abs(np.where(finite[:, None], Z, 0)), axis=1))
        todo = np.flatnonzero(inv_ok & delta_ok)
        tried: dict[int, list[float]] = {int(b): [] for b in todo}
        for f in factors:
            if len(todo) == 0:
                break
            rs = np.array([_pow2_ceil(max(f * delta[b], floor[b])) for b in todo])
            ok = _krawczyk(balls, Z[todo], rs, [Ys[int(b)] for b in todo], [Fs[int(b)] for b in todo])
            certified[todo[ok]] = True
            radii[todo[ok]] = rs[ok]
            for b, r in zip(todo, rs):
                tried[int(b)].append(float(r))
            todo = todo[~ok]
        # ill-conditioned roots: a double centre is too far from the root (|Y F(y)| ~ eps |y|) for a box small
        # enough that I - Y J(X) contracts; there the centre is refined at the working precision (an exact ball
        # centre, reported as the double midpoint plus ``centre_low``)
        if len(todo):
            hp = _high_precision_centres(balls, Z, todo, Ys, int(precision), factors, refine_steps + 3)
            for b, (hi, lo, r_unique) in hp.items():
                certified[b] = True
                Z[b], low[b], unique_radii[b] = hi, lo, r_unique
                spill = float(np.max(np.maximum(np.abs(lo.real), np.abs(lo.imag))))
                radii[b] = _pow2_ceil((r_unique + spill) * (1 + 1e-9) + 1e-300)
            todo = np.array([b for b in todo if int(b) not in hp], dtype=int)
        # badly scaled roots (coordinates of very different sizes, e.g. 1e-14 beside 1e2): a box of one radius for
        # every coordinate is either too wide for the small ones or too narrow for the others; there the
        # variables are rescaled by powers of two, z = s u (exact), and the root of G(u) = F(s u) is certified in
        # a cube in u, a box of radii r s_i in z
        scaled = np.zeros(B, dtype=bool)
        coord = np.full((B, n), np.nan)
        if len(todo):
            sc = _scaled_centres(system, pv, exact_terms, Z, todo, int(precision), factors, refine_steps + 3)
            for b, (hi, lo, r_vec) in sc.items():
                certified[b], scaled[b] = True, True
                Z[b], low[b] = hi, lo
                spill = np.maximum(np.abs(lo.real), np.abs(lo.imag))
                coord[b] = (r_vec + spill) * (1 + 1e-9) + 1e-300  # per coordinate: y_i +- that holds the root
                radii[b] = _pow2_ceil(float(coord[b].max()))
            todo = np.array([b for b in todo if int(b) not in sc], dtype=int)
        for b in todo:
            rs = ", ".join(f"{r:.1e}" for r in sorted(set(tried[int(b)])))
            why = "K(X) is not inside the interior of X"
            s = history[b]
            hint = ""
            if len(s) >= 2 and s[-2] > 0 and s[-1] > 1e-12 * (1 + np.max(np.abs(Z[b]))) and s[-1] / s[-2] > 0.1:
                hint = (f"; Newton steps shrink only linearly (ratio {s[-1] / s[-2]:.2f}): this looks like a "
                        "singular (multiple) root, which Krawczyk cannot certify")
            elif cond[b] > 1e12:
                hint = f"; the Jacobian is ill-conditioned (cond ~ {cond[b]:.1e}): singular or nearly singular root"
            else:
                hint = f"; Newton step {delta[b]:.1e}: the point may be too far from a root"
            reason[b] = f"{why} for every radius tried (r = {rs}){hint}"

        # ---- reality: X disjoint from conj(X) -> non-real; real system and a symmetric box X' > X -> real
        cert_idx = np.flatnonzero(certified)
        if len(cert_idx):
            im = np.max(np.abs(Z[cert_idx].imag), axis=1)
            nonreal = im > radii[cert_idx]
            real[cert_idx[nonreal]] = False
            if real_system:
                cand = cert_idx[~nonreal & np.all(low[cert_idx] == 0, axis=1)]
                if len(cand):
                    Zr = Z[cand].real.astype(complex)
                    Fr = balls.evaluate([[acb(complex(v)) for v in Zr[i]] for i in range(len(cand))])
                    Yr = [Ys[int(b)] for b in cand]
                    pending = np.arange(len(cand))
                    for k in (1, 2, 4):
                        if len(pending) == 0:
                            break
                        rs = 2.0 * k * radii[cand[pending]]  # |Im y| <= r, so X inside X' = Re y + 2k r (...)
                        ok = _krawczyk(balls, Zr[pending], rs, [Yr[i] for i in pending], [Fr[i] for i in pending])
                        real[cand[pending[ok]]] = True
                        pending = pending[~ok]

    # ---- distinctness: certified boxes pairwise disjoint (conservative floating-point test)
    coord_radii = np.where(scaled[:, None], coord, radii[:, None])
    plain = certified & np.isnan(unique_radii) & ~scaled
    unique_radii[plain] = radii[plain]  # (rescaled points: unique in a box of radii r s_i, not in a cube: NaN)
    distinct = certified.copy()
    ci = np.flatnonzero(certified)
    if len(ci) > 1:
        distinct[ci] = disjoint_boxes(Z[ci], radii[ci])

    return Certification(
        certified=certified,
        real=real,
        distinct=distinct,
        midpoints=Z,
        radii=radii,
        reason=reason,
        precision=int(precision),
        real_system=bool(real_system),
        centre_low=low,
        uniqueness_radii=unique_radii,
        coordinate_radii=coord_radii,
        seconds=time.perf_counter() - start,
        extra={"newton_steps": int(newton_steps), "refine_steps": int(refine_steps),
               "inflation": float(inflation), "factors": factors, "exact_coefficients": exact_terms is not None,
               "rescaled_points": int(scaled.sum())},
    )


def _certify_per_point(system: PolynomialSystem, Z: np.ndarray, P: np.ndarray, start: float,
                       **kw: Any) -> Certification:
    """``certify_solutions`` with one parameter row per point: one run per distinct row, merged."""
    B, m = Z.shape[0], system.n_params
    if P.shape != (B, m):
        raise InputError(f"p must have shape ({m},) or ({B}, {m}); got {P.shape}")
    if not np.all(np.isfinite(P)):
        raise InputError("p must be finite")
    _, inverse = np.unique(P.view(np.float64).reshape(B, 2 * m), axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    certified, distinct = np.zeros(B, dtype=bool), np.zeros(B, dtype=bool)
    real = np.full(B, None, dtype=object)
    mid, radii = Z.copy(), np.full(B, np.nan)
    reason = ["" for _ in range(B)]
    real_system = True
    extra: dict[str, Any] = {}
    for g in range(int(inverse.max(initial=-1)) + 1):
        idx = np.flatnonzero(inverse == g)
        c = certify_solutions(system, Z[idx], P[idx[0]], **kw)
        certified[idx], distinct[idx], real[idx] = c.certified, c.distinct, c.real
        mid[idx], radii[idx] = c.midpoints, c.radii
        for i, r in zip(idx, c.reason):
            reason[i] = r
        real_system &= c.real_system
        extra = c.extra
    return Certification(certified, real, distinct, mid, radii, reason, int(kw["precision"]), bool(real_system),
                         time.perf_counter() - start, {**extra, "systems": int(inverse.max(initial=-1)) + 1})


def disjoint_boxes(centres: np.ndarray, radii: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """For boxes prod_i {|Re(w_i - centres[b, i])|, |Im(w_i - centres[b, i])| <= radii[b, i]} (radii (B,) or
    (B, A)): whether box b meets no other box (with a conservative floating-point margin).  With ``labels``,
    boxes of the same label may meet (copies of one object): only boxes of different labels count."""
    C = np.asarray(centres, dtype=complex)
    B = C.shape[0]
    R = np.asarray(radii, dtype=float)
    R = np.broadcast_to(R[:, None] if R.ndim == 1 else R, C.shape)
    lab = np.arange(B) if labels is None else np.asarray(labels)
    out = np.ones(B, dtype=bool)
    if B < 2:
        return out
    order = np.argsort(C[:, 0].real)
    C, R, lab_s, idx = C[order], R[order], lab[order], order
    re0, r0 = C[:, 0].real, R[:, 0]
    rmax = float(r0.max())
    for a in range(B):
        hi = np.searchsorted(re0, re0[a] + (r0[a] + rmax) * (1 + 8 * _EPS) + 8 * _EPS * abs(re0[a]), side="right")
        if hi <= a + 1:
            continue
        d = C[a + 1 : hi] - C[a]
        lim = (R[a + 1 : hi] + R[a][None, :]) * (1 + 8 * _EPS)
        sep = np.maximum(np.abs(d.real), np.abs(d.imag)) * (1 - 8 * _EPS) - 8 * _EPS * np.abs(C[a])[None, :]
        overlap = ~np.any(sep > lim, axis=1) & (lab_s[a + 1 : hi] != lab_s[a])
        if np.any(overlap):
            out[idx[a]] = False
            out[idx[a + 1 : hi][overlap]] = False
    return out


@dataclass
class MapEnclosure:
    """Rectangles containing the values of a polynomial map over boxes: for every box b and output a,
    P_a(X_b) lies in {|Re(w - centres[b, a])| <= re_radii[b, a], |Im(w - centres[b, a])| <= im_radii[b, a]}."""

    centres: np.ndarray  # (B, A) complex
    re_radii: np.ndarray  # (B, A)
    im_radii: np.ndarray  # (B, A)

    @property
    def radii(self) -> np.ndarray:
        """One half-width per rectangle (the larger of the two): squares containing the rectangles."""
        return np.maximum(self.re_radii, self.im_radii)

    @property
    def excludes_zero(self) -> np.ndarray:
        """(B,): some output's rectangle does not contain 0, so P(x) != 0 for every x of the box."""
        return np.any((np.abs(self.centres.real) > self.re_radii) | (np.abs(self.centres.imag) > self.im_radii),
                      axis=1)


def enclose_map(exponents: np.ndarray, coefficients: np.ndarray, midpoints: np.ndarray, radii: np.ndarray, *,
                projection: np.ndarray | None = None, precision: int = 106,
                coefficient_matrix: Any = None) -> MapEnclosure:
    """Ball-arithmetic enclosures of P(X_b) (or of P(X_b) @ projection) for the polynomial map
    P_a(z) = sum_t coefficients[a, t] z^exponents[t] over the boxes X_b = midpoints[b] +- radii[b] (radii (B,), or
    (B, n) per coordinate; complex
    rectangles, as certified by ``certify_solutions``; a NaN radius gives NaN rectangles).  The
    coefficients and the projection are taken exactly as the stored doubles; ``coefficient_matrix``: a callable
    returning, under the working precision, the (T, A) acb_mat of balls enclosing the exact coefficients
    (transposed; e.g. ``ExactImageSlice.coefficient_matrix``) to use instead of ``coefficients``."""
    from flint import acb, acb_mat, arb, ctx

    E = np.asarray(exponents, dtype=int)
    Cf = np.asarray(coefficients, dtype=complex)
    Zm = np.asarray(midpoints, dtype=complex)
    rr = np.asarray(radii, dtype=float)
    B, n = Zm.shape
    rr = np.broadcast_to(rr[:, None] if rr.ndim == 1 else rr, (B, n))  # (B,) cubes or (B, n) boxes
    W = Cf.T if projection is None else None
    A = Cf.shape[0] if projection is None else np.asarray(projection).shape[1]
    cen = np.full((B, A), np.nan + 0j)
    rre, rim = np.full((B, A), np.nan), np.full((B, A), np.nan)
    ok = np.flatnonzero(np.all(np.isfinite(rr), axis=1) & np.all(np.isfinite(Zm), axis=1))
    if len(ok) == 0:
        return MapEnclosure(cen, rre, rim)
    T = E.shape[0]
    dmax = E.max(axis=0) if T else np.zeros(n, dtype=int)
    with ctx.workprec(int(precision)):
        CT = (acb_mat(T, Cf.shape[0], [acb(complex(c)) for c in Cf.T.reshape(-1)]) if coefficient_matrix is None
              else coefficient_matrix())
        if projection is None:
            Wm = CT
        else:
            Pm = np.asarray(projection, dtype=complex)
            Wm = CT * acb_mat(Cf.shape[0], A, [acb(complex(c)) for c in Pm.reshape(-1)])
        # in chunks of boxes: one (boxes x T) ball matrix of 15,000 boxes held ~2 GB
        for lo in range(0, len(ok), 512):
            chunk = ok[lo : lo + 512]
            rows = []
            for b in chunk:
                xs = [acb(arb(float(v.real), float(r)), arb(float(v.imag), float(r))) for v, r in zip(Zm[b], rr[b])]
                pw = []
                for j in range(n):
                    col = [acb(1)]
                    for _ in range(int(dmax[j])):
                        col.append(col[-1] * xs[j])
                    pw.append(col)
                for t in range(T):
                    v = acb(1)
                    for j in range(n):
                        e = int(E[t, j])
                        if e:
                            v = v * pw[j][e]
                    rows.append(v)
            out = (acb_mat(len(chunk), T, rows) * Wm).entries()
            for i, b in enumerate(chunk):
                for a in range(A):
                    e = out[i * A + a]
                    cen[b, a] = complex(float(e.real.mid()), float(e.imag.mid()))
                    rre[b, a], rim[b, a] = float(e.real.rad()), float(e.imag.rad())
    # the rounding of the centres to doubles: widen by one ulp-scale margin (rigorous, conservative)
    slack = 4 * _EPS * np.abs(cen)
    return MapEnclosure(cen, rre + slack.real + 1e-300, rim + slack.real + 1e-300)


def full_rank_on_boxes(jacobian_columns: list[tuple[np.ndarray, np.ndarray]], midpoints: np.ndarray,
                       radii: np.ndarray, *, precision: int = 106) -> np.ndarray:
    """(B,) bool: the D x k matrix J(z) with columns J[:, j] = P_j(z) (``jacobian_columns[j]`` =
    (exponents, coefficients) of the polynomial map P_j: C^n -> C^D) has rank k at every z of box b: a k x k
    minor (rows chosen by pivoted QR at the midpoint) whose ball determinant excludes 0."""
    from flint import acb, acb_mat, arb, ctx

    from ..arithmetic.rank import pivot_columns

    Zm = np.asarray(midpoints, dtype=complex)
    B = Zm.shape[0]
    k = len(jacobian_columns)
    encl = [enclose_map(E, C, Zm, radii, precision=precision) for E, C in jacobian_columns]
    out = np.zeros(B, dtype=bool)
    with ctx.workprec(int(precision)):
        for b in range(B):
            if not np.isfinite(radii[b]):
                continue
            Jm = np.stack([e.centres[b] for e in encl], axis=1)  # (D, k)
            if not np.all(np.isfinite(Jm)) or Jm.shape[0] < k:
                continue
            rows = pivot_columns(Jm.T, k)
            entries = []
            for i in rows:
                for j, e in enumerate(encl):
                    c = e.centres[b, i]
                    entries.append(acb(arb(float(c.real), float(e.re_radii[b, i])),
                                       arb(float(c.imag), float(e.im_radii[b, i]))))
            det = acb_mat(k, k, entries).det()
            out[b] = not det.contains(0)
    return out


class ExactImageSlice:
    """The exact slice system R p(theta) = b of a polynomial map p with integer coefficients, restricted to the
    coordinate slice theta[fixed] = frozen (doubles, taken exactly), in z = theta[free], and its image p: ball
    enclosures of the coefficients that the double system (``homotopy.witness.PolynomialImageSliceSystem``:
    coefficients C * prod frozen^e and R @ C rounded to doubles) approximates.  With them ``certify_solutions``
    and ``enclose_map`` certify roots and image boxes of the exact system, so that certified distinct image points
    are points of the exact variety on the exact linear space {R y = b}.

    exponents (T0, N), coefficients (D, T0): p(theta) = sum_t coefficients[:, t] theta^exponents[t];
    restricted (T, k): the monomials z^E of the double system (its ``_E``); R (k, D)."""

    def __init__(self, exponents: np.ndarray, coefficients: np.ndarray, free: np.ndarray, frozen: np.ndarray,
                 restricted: np.ndarray, R: np.ndarray) -> None:
        self.E0 = np.asarray(exponents, dtype=int)
        self.C0 = np.asarray(coefficients, dtype=complex)
        self.free = np.asarray(free, dtype=int)
        self.fixed = np.setdiff1d(np.arange(self.E0.shape[1]), self.free)
        self.frozen = np.asarray(frozen, dtype=complex)
        self.E = np.asarray(restricted, dtype=int)
        self.R = np.asarray(R, dtype=complex)
        self.index = {tuple(int(v) for v in e): t for t, e in enumerate(self.E)}
        keys = [tuple(int(v) for v in row) for row in self.E0[:, self.free]]
        used = np.any(self.C0 != 0, axis=0)
        # the double system dropped monomials whose rounded coefficients vanish: then the exact one cannot be
        # written on its monomials
        self.supported = all(k in self.index for k, u in zip(keys, used) if u)
        self._keys = keys

    def coefficient_matrix(self) -> Any:
        """(T, D) acb_mat: balls around the exact coefficients of p restricted to the slice (call under the
        working precision)."""
        from flint import acb, acb_mat

        D, T = self.C0.shape[0], self.E.shape[0]
        out = [acb(0)] * (T * D)
        fz = [acb(complex(v)) for v in self.frozen]
        for t0, key in enumerate(self._keys):
            col = self.C0[:, t0]
            nz = np.flatnonzero(col)
            if len(nz) == 0:
                continue
            f = acb(1)
            for j in self.fixed:
                e = int(self.E0[t0, j])
                if e:
                    f *= fz[j] ** e
            t = self.index[key]
            for a in nz:
                c = col[a]
                exact_c = acb(int(c.real)) if c.imag == 0 and c.real == int(c.real) else acb(complex(c))
                out[t * D + int(a)] += exact_c * f
        return acb_mat(T, D, out)

    def slice_terms(self) -> list[dict[tuple[int, ...], Any]]:
        """Per equation i, {exponent over (z, b): ball}: R p(theta(z)) - b with the coefficients enclosed (call
        under the working precision)."""
        from flint import acb, acb_mat

        k, D = self.R.shape
        T = self.E.shape[0]
        RC = acb_mat(k, D, [acb(complex(c)) for c in self.R.reshape(-1)]) * self.coefficient_matrix().transpose()
        terms: list[dict[tuple[int, ...], Any]] = []
        for i in range(k):
            row: dict[tuple[int, ...], Any] = {}
            for t in range(T):
                v = RC[i, t]
                if not v.is_zero():
                    row[tuple(int(x) for x in self.E[t]) + (0,) * k] = v
            row[(0,) * k + tuple(1 if j == i else 0 for j in range(k))] = acb(-1)
            terms.append(row)
        return terms


__all__ = ["Certification", "MapEnclosure", "certify_solutions", "disjoint_boxes", "enclose_map",
           "full_rank_on_boxes", "ExactImageSlice", "METHOD"]
