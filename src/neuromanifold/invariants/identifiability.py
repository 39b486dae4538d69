"""Identifiability: the points of a generic fiber of mu once the known continuous symmetries are frozen,
and the discrete symmetries that explain them.

Slice.  The gauge of ``architectures.gauge`` freezes one coordinate per continuous symmetry direction
(dense x^r networks: the first incoming weight W_i[j, 0] of every hidden neuron).  On that slice the
rescaling t_ij of a neuron must fix the frozen value c_ij != 0, so t_ij = 1: no roots of unity and no
sign flips (for even x^r the flip is t = -1) survive.  The group acting on the slice is then

    G = prod_i S_{d_i}   (a permutation of hidden layer i, followed by the unique rescaling that brings
                          the frozen coordinates back to their values, layer by layer)

of order prod d_i!, acting freely on generic points; for linear networks (r = 1) the frozen d_i x d_i
blocks fix GL(d_i) completely (permutations lie in GL): |G| = 1; for a polynomial activation without
rescalings nothing is frozen and G = permutations x sign flips (``act`` even or odd).  A generic fiber
of mu on the slice is a union of free G-orbits: count = |G| * beyond, and beyond = 1 means identifiable
up to the known symmetries.  The count is gathered by monodromy (``witness_set(per_fiber=True)``, the
points over one image point); the G-orbits of the points found are computed explicitly and matched
with them (a point of an orbit the monodromy missed makes the count a lower bound).

Certificate (shallow networks f = sum_j V[:, j] (w_j . x)^r, mlp(widths=(n, m, o)), x^r; with biases the same
on the homogenized tensor, ``kruskal_certificate``).
f determines the partially symmetric tensor T = sum_j V[:, j] (x) w_j^(x)r (polarization, char 0).
Group the r copies of W and the factor V into N >= 3 modes; the factor matrix of a mode holding V (if
it does) and a copies of W has columns V[:, j] (x) w_j^(x)a (the Veronese vector of degree a of w_j).
Kruskal (1977) for N = 3, Sidiropoulos and Bro (2000) for N >= 3: if the k-ranks satisfy

    k_1 + ... + k_N >= 2 m + N - 1,

then T has rank m and its decomposition into m rank-one terms is unique up to order; grouping modes
("reshaped Kruskal", Chiantini, Ottaviani and Vannieuwenhoven, SIAM J. Matrix Anal. Appl. 38 (2017)
656-681) turns any decomposition of f with m terms into one of the reshaped tensor, so the terms
V[:, j] w_j^(x)r of f are unique up to order.  On the slice w_j[0] = c_j != 0 a term determines (V[:, j],
w_j) (w -> s w, V -> s^(-r) V fixes w[0] only for s = 1): the fiber is exactly the m! permutations.
The k-ranks are computed exactly (ranks of integer matrices over Q, python-flint) at a random integer
point; the condition (every k-subset of columns independent) is Zariski open and holds at that point,
so it holds on a dense open set of parameters: the generic fiber has exactly m! points (``certified``).
Without the criterion the monodromy count is ``numerical``, like ``fiber_points`` (no trace test
certifies a fiber: the sum of fiber points over a pencil of targets need not be linear); the points
found can be certified distinct true solutions by the Krawczyk test (a certified lower bound).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from math import comb, factorial, prod
from typing import Any, Callable

import numpy as np

from ..architectures.base import Architecture
from ..context import Context
from ..errors import InputError
from ..result import Result

ORBIT_LIMIT = 5040  # largest |G| whose orbits are computed explicitly
CROSS_CHECK_LIMIT = 1000  # largest m! for which a Kruskal-certified count is also gathered by monodromy
KRAWCZYK_LIMIT = 400  # most fiber points certified by the Krawczyk test
KRUSKAL_MAX_SUBSETS = 60000  # most column subsets whose ranks the exact k-rank computation may take
MATCH_TOL = 1e-6  # relative distance below which an orbit point is a fiber point found by monodromy

REFERENCES = [
    "J. B. Kruskal, 'Three-way arrays: rank and uniqueness of trilinear decompositions', Linear Algebra Appl. "
    "18 (1977) 95-138",
    "N. D. Sidiropoulos, R. Bro, 'On the uniqueness of multilinear decomposition of N-way arrays', "
    "J. Chemometrics 14 (2000) 229-239",
    "L. Chiantini, G. Ottaviani, N. Vannieuwenhoven, 'Effective criteria for specific identifiability of tensors "
    "and forms', SIAM J. Matrix Anal. Appl. 38 (2017) 656-681 (reshaped Kruskal criterion)",
    "J. J. Sylvester (1851): a generic binary form of degree 2k-1 is uniquely a sum of k powers; "
    "Sylvester's pentahedral theorem: a general quaternary cubic is uniquely a sum of 5 cubes",
]


# -- the discrete group acting on the gauge slice ---------------------------------------------------


@dataclass
class SliceGroup:
    """The known discrete group acting on the gauge slice: its order, factors, and its action."""

    order: int
    description: str
    factors: list[dict[str, Any]]
    absorbed: list[str]  # discrete symmetries of the architecture that the frozen coordinates remove
    orbit: Callable[[np.ndarray, np.ndarray], np.ndarray] | None  # (theta, frozen indices) -> (|G|, N) orbit


def _is_plain_mlp(arch: Architecture) -> bool:
    from ..architectures.dense import MLP

    return isinstance(arch, MLP)


def slice_group(arch: Architecture) -> SliceGroup | None:
    """The discrete group acting on the gauge slice of ``arch`` (``gauge_indices``), None when unknown."""
    if not _is_plain_mlp(arch):
        return None
    hidden = list(arch.widths[1:-1])
    perms = prod(factorial(d) for d in hidden)
    names = [s.name for s in arch.discrete_symmetries()]
    if arch.r == 1:
        return SliceGroup(1, "trivial: the frozen d_i x d_i blocks fix GL(d_i), which contains the permutations",
                          [], names, lambda theta, frozen: theta[None, :].copy())
    if arch.act is None:
        desc = " x ".join(f"S_{d}" for d in hidden) if hidden else "trivial"
        return SliceGroup(
            perms,
            f"neuron permutations {desc} (order {perms}), each followed by the unique rescaling back to the frozen "
            "W_i[j, 0]; the frozen first incoming weights leave no roots of unity (and no sign flips)",
            [{"name": "neuron permutations", "order": perms}],
            [n for n in names if n != "neuron permutations"],
            lambda theta, frozen: _mlp_orbit(arch, theta, frozen, signs=None),
        )
    if arch.rescaling is None:  # a non-monomial activation: no continuous symmetry, nothing frozen
        parity = arch.act.parity
        flips = 2 ** sum(hidden) if parity in ("even", "odd") else 1
        factors = [{"name": "neuron permutations", "order": perms}]
        if flips > 1:
            factors.append({"name": f"neuron sign flips ({parity} activation)", "order": flips})
        return SliceGroup(perms * flips, " x ".join(f"{f['name']} ({f['order']})" for f in factors), factors, [],
                          lambda theta, frozen: _mlp_orbit(arch, theta, frozen, signs=parity))
    return None  # shifted activations: the rescalings move biases too; the group on the slice is not worked out


def _mlp_orbit(arch: Any, theta: np.ndarray, frozen: np.ndarray, *, signs: str | None) -> np.ndarray:
    """The orbit of ``theta`` under permutations (and sign flips) of hidden neurons, each point brought back
    to the slice theta[frozen] = theta[frozen] by the neuron rescalings (x^r; layer by layer)."""
    shapes = arch.param_shapes()
    base = {k: np.array(v, dtype=complex) for k, v in arch.unflatten(np.asarray(theta, dtype=complex)).items()}
    hidden = list(arch.widths[1:-1])
    target = dict(base)
    perm_sets = [list(itertools.permutations(range(d))) for d in hidden]
    sign_sets = ([list(itertools.product((1, -1), repeat=d)) for d in hidden] if signs in ("even", "odd")
                 else [[(1,) * d] for d in hidden])
    out = []
    for perms in itertools.product(*perm_sets):
        for sg in itertools.product(*sign_sets):
            Q = {k: v.copy() for k, v in base.items()}
            for i, (p, s) in enumerate(zip(perms, sg), start=1):
                p, s = list(p), np.array(s, dtype=complex)
                Q[f"W{i}"] = Q[f"W{i}"][p, :] * s[:, None]
                if arch.bias:
                    Q[f"b{i}"] = Q[f"b{i}"][p, :] * s[:, None]
                Q[f"W{i + 1}"] = Q[f"W{i + 1}"][:, p] * (s[None, :] if signs == "odd" else 1)
            if arch.act is None and arch.r >= 2 and len(frozen):
                for i in range(1, arch.depth):  # rescale neuron j by t = c / W_i[j, 0]
                    t = target[f"W{i}"][:, 0] / Q[f"W{i}"][:, 0]
                    Q[f"W{i}"] = Q[f"W{i}"] * t[:, None]
                    if arch.bias:
                        Q[f"b{i}"] = Q[f"b{i}"] * t[:, None]
                    Q[f"W{i + 1}"] = Q[f"W{i + 1}"] * (t ** (-arch.r))[None, :]
            out.append(np.concatenate([Q[k].reshape(-1) for k in shapes]))
    return np.array(out)


# -- the Kruskal criterion ---------------------------------------------------------------------------


def _partitions(r: int, largest: int | None = None) -> list[tuple[int, ...]]:
    largest = r if largest is None else largest
    if r == 0:
        return [()]
    return [(p,) + rest for p in range(min(r, largest), 0, -1) for rest in _partitions(r - p, p)]


def _monomials(n: int, a: int) -> list[tuple[int, ...]]:
    return [tuple(sum(1 for x in c if x == i) for i in range(n))
            for c in itertools.combinations_with_replacement(range(n), a)]


def _mode_matrix(V: np.ndarray, W: np.ndarray, with_v: bool, a: int) -> list[list[int]]:
    """Integer factor matrix of a mode: columns V[:, j] (x) (Veronese vector of degree a of w_j)."""
    n, m = W.shape
    mons = _monomials(n, a)
    cols = []
    for j in range(m):
        ver = [prod(int(W[i, j]) ** e[i] for i in range(n)) for e in mons]
        col = [int(v) * x for v in V[:, j] for x in ver] if with_v else ver
        cols.append(col)
    return [list(row) for row in zip(*cols)]


def k_rank(A: list[list[int]]) -> int:
    """The Kruskal rank of an integer matrix: the largest k such that every k columns are linearly
    independent (exact ranks over Q)."""
    import flint

    rows, m = len(A), len(A[0]) if A else 0
    for k in range(min(rows, m), 0, -1):
        ok = True
        for S in itertools.combinations(range(m), k):
            sub = flint.fmpz_mat(rows, k, [A[i][j] for i in range(rows) for j in S])
            if sub.rank() < k:
                ok = False
                break
        if ok:
            return k
    return 0


def _modes_for(r: int, o: int, n: int, m: int) -> list[tuple[list[tuple[bool, int]], int, int]]:
    """Groupings of (V, W, ..., W) into N >= 3 modes with their generic k-rank sum bound and N.  A mode is
    (holds V, number of W's)."""
    rows = {a: comb(n + a - 1, a) for a in range(r + 1)}
    out = []
    for parts in _partitions(r):
        groupings = []
        if len(parts) + 1 >= 3:
            groupings.append([(True, 0)] + [(False, p) for p in parts])
        if len(parts) >= 3:
            for p in sorted(set(parts)):
                rest = list(parts)
                rest.remove(p)
                groupings.append([(True, p)] + [(False, q) for q in rest])
        for g in groupings:
            bound = sum(min((o if v else 1) * rows[a], m) for v, a in g)
            out.append((g, bound, len(g)))
    return out


def kruskal_certificate(arch: Architecture, *, seed: int = 0, attempts: int = 3, entries: int = 9) -> dict[str, Any]:
    """The reshaped Kruskal criterion for a shallow network mlp(widths=(n, m, o), r) with x^r at a random integer
    point (entries in [-entries, entries] without 0).  Returns a dictionary with ``applies`` (the hypotheses can
    hold for these sizes), ``certified`` (the k-rank inequality held at a point: the terms of a generic network
    function are unique up to order, so the fiber on the gauge slice is the m! permutations) and the evidence.

    With biases, f(x) = sum_j V[:, j] (w_j . x + b_j)^r + c is, homogenized with x_0, the tensor with the m + 1
    terms V[:, j] (w_j, b_j)^(x)r and c e_0^(x)r; every point of the fiber has this form (w_j[0] = c_j != 0, so
    only the last term has direction e_0), and the criterion is applied to m + 1 terms in n + 1 variables."""
    if not isinstance(arch, Architecture):
        raise InputError("kruskal_certificate needs an Architecture (e.g. parse_spec(spec)); "
                         f"got {type(arch).__name__}")
    if int(attempts) < 1 or int(entries) < 1:
        raise InputError(f"kruskal_certificate needs attempts >= 1 and entries >= 1; got attempts={attempts}, "
                         f"entries={entries}")
    base = {"criterion": "reshaped Kruskal (Kruskal 1977; Sidiropoulos-Bro 2000): sum of k-ranks of the N >= 3 "
                         "mode factor matrices >= 2 R + N - 1 implies a unique decomposition into R rank-one terms"}
    from ..architectures.dense import Linear

    if not _is_plain_mlp(arch) or isinstance(arch, Linear) or arch.depth != 2 or arch.act is not None:
        return dict(base, applies=False, certified=False, reason=(
            f"{arch.spec()}: the criterion needs a shallow network mlp(widths=(n, m, o), r) with x^r (its function is "
            "a partially symmetric tensor sum_j V[:, j] (x) w_j^(x)r)"))
    n, m, o = arch.widths
    r, bias = arch.r, bool(arch.bias)
    if r < 2 or m < 2:
        return dict(base, applies=False, certified=False,
                    reason=f"{arch.spec()}: the criterion needs r >= 2 and m >= 2 neurons (r = {r}, m = {m})")
    ne, R = n + bias, m + bias  # variables and terms of the (homogenized) tensor
    modes = _modes_for(r, o, ne, R)
    cands = [(g, bound, N) for g, bound, N in modes if bound >= 2 * R + N - 1]
    if not cands:
        best = max(modes, key=lambda t: t[1] - (2 * R + t[2] - 1), default=None)
        why = (f"no grouping of the modes into N >= 3 factors can satisfy sum k_i >= 2 R + N - 1 (R = {R} terms) even "
               "with generic k-ranks (k_i <= min(rows, R))")
        if best is not None:
            why += f"; best: {_describe(best[0])}, sum <= {best[1]} < {2 * R + best[2] - 1}"
        return dict(base, applies=False, certified=False, reason=f"{arch.spec()}: {why}")
    cands.sort(key=lambda t: -(t[1] - (2 * R + t[2] - 1)))
    rng = np.random.default_rng([int(seed), 7331])
    tried: list[dict[str, Any]] = []
    for _ in range(int(attempts)):
        W = rng.integers(1, entries + 1, (ne, R)) * rng.choice([-1, 1], (ne, R))
        V = rng.integers(1, entries + 1, (o, R)) * rng.choice([-1, 1], (o, R))
        if bias:  # the last term is c e_0^(x)r: e_0 the homogenizing coordinate (last row)
            W[:, -1] = 0
            W[-1, -1] = 1
        cache: dict[tuple[bool, int], int] = {}
        for g, bound, N in cands:
            subsets = sum(comb(R, min((o if v else 1) * comb(ne + a - 1, a), R)) for v, a in g)
            if subsets > KRUSKAL_MAX_SUBSETS:
                continue
            ks = []
            for mode in g:
                if mode not in cache:
                    cache[mode] = k_rank(_mode_matrix(V, W, *mode))
                ks.append(cache[mode])
            entry = {"modes": _describe(g), "k_ranks": ks, "sum": sum(ks), "needed": 2 * R + N - 1}
            tried.append(entry)
            if sum(ks) >= 2 * R + N - 1:
                return dict(base, applies=True, certified=True, point={"W": W.tolist(), "V": V.tolist()},
                            grouping=entry, unique_terms=R, tried=tried, homogenized=bias,
                            meaning=(f"at this integer point the {R} terms of the {'homogenized ' if bias else ''}"
                                     f"tensor are unique up to order; k-rank conditions are Zariski open, so this "
                                     "holds for generic parameters"))
    if not tried:
        return dict(base, applies=False, certified=False,
                    reason=(f"{arch.spec()}: the exact k-ranks would need more than {KRUSKAL_MAX_SUBSETS} column "
                            "subsets"))
    return dict(base, applies=True, certified=False, tried=tried,
                reason=f"the inequality failed at {attempts} random integer points (the generic bound allows it)")


def _describe(g: list[tuple[bool, int]]) -> str:
    return " | ".join(("V" if v else "") + ("*" if v and a else "") + (f"W^{a}" if a else "") for v, a in g)


# -- the invariant -----------------------------------------------------------------------------------


def _finite_after_freezing(ctx: Context) -> dict[str, Any]:
    """Whether the generic fiber is finite once the known continuous symmetries are frozen: the hidden
    symmetries (fiber dimension minus the generic rank of the known generators) vanish."""
    from .dimension import dimension_data, generator_rank

    d = dimension_data(ctx)
    g = generator_rank(ctx)
    N = d.n_params
    lo, hi = max(0, N - d.upper - g["hi"]), N - d.lower - g["lo"]
    numerical = (N - d.numerical.rank) - g["numerical"] if d.float_computed or hi > 0 and lo == 0 else None
    ev = {"fiber_dimension_after_freezing": [lo, hi] if lo != hi else lo, "numerical": numerical,
          "formula": "n_params - dim M - generic rank of the known symmetry generators (hidden symmetries)"}
    if hi == 0:
        return dict(ev, finite=True, certified=True)
    if lo > 0:
        return dict(ev, finite=False, certified=True)
    return dict(ev, finite=numerical == 0, certified=False)


def fiber_parameters(ctx: Context) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The parameter points (B, N) of the generic fiber over one image point gathered by monodromy on the
    gauge slice (``witness_set(per_fiber=True)``), and ``info``: the witness set, the frozen indices, the count
    over that image point and per image point.  The points are None when the slice cannot be reconstructed."""
    from collections import Counter

    from ..architectures.gauge import gauge_indices
    from .witness_set import cached_coefficient_map, witness_set

    ws = witness_set(ctx, per_fiber=True)
    z = ws.result.solutions
    labels = ws.image_labels()
    base = labels[0] if len(labels) else -1
    sel = np.flatnonzero(labels == base) if base >= 0 else np.zeros(0, dtype=int)
    sizes = Counter(Counter(labels[labels >= 0].tolist()).values())
    info: dict[str, Any] = {"gauge": ws.gauge, "monodromy": ws.result.evidence(), "witness": ws, "count": len(sel),
                            "image_points": len(set(labels[labels >= 0].tolist())), "fiber_index": sel,
                            "points_per_image_point": {str(k): v for k, v in sorted(sizes.items())}}
    thetas: np.ndarray | None
    fixed: np.ndarray | None
    if ws.parametrization is None:  # coefficient slice: theta[free] = z, the rest frozen; checked on a few points
        cmap = cached_coefficient_map(ctx)
        free, frozen_vals = ws.slice_free, ws.slice_frozen
        probe = z[: min(len(z), 8)]
        a, b = cmap.restrict(free, frozen_vals).evaluate(probe), ws.system.image(probe)
        if a.shape == b.shape and np.allclose(a, b, rtol=1e-8, atol=1e-8 * max(1.0, float(np.abs(b).max(initial=0)))):
            thetas = np.tile(np.asarray(frozen_vals, dtype=complex), (len(z), 1))
            thetas[:, free] = z
            fixed = np.setdiff1d(np.arange(ctx.arch.n_params), free)
        else:
            thetas, fixed = None, None
            info["slice_not_reconstructed"] = "the coordinate slice does not reproduce the witness images: no orbit check"
    else:
        thetas = ws.system.theta(z)
        g = sorted(gauge_indices(ctx.arch) or [])
        fixed = np.array(g, dtype=int) if ws.gauge["complete"] and ws.gauge["frozen"] == len(g) else None
    info["frozen"] = fixed
    return (None if thetas is None else thetas[sel]), info


def _real(X: np.ndarray) -> np.ndarray:
    return np.concatenate([X.real, X.imag], axis=1)


def _orbits(group: SliceGroup, thetas: np.ndarray, frozen: np.ndarray) -> dict[str, Any]:
    """Partition the fiber points into G-orbits (computed explicitly); count orbit points the monodromy missed
    and orbits with fewer than |G| distinct points (a non-free action)."""
    from scipy.spatial import cKDTree

    tol = MATCH_TOL * max(1.0, float(np.abs(thetas).max()))
    tree = cKDTree(_real(thetas))
    unmatched = np.ones(len(thetas), dtype=bool)
    orbit_sizes, missing = [], 0
    while unmatched.any():
        i = int(np.flatnonzero(unmatched)[0])
        orb = _real(group.orbit(thetas[i], frozen))
        distinct = len(orb) - len(_merged(orb, tol))
        dist, idx = tree.query(orb, k=1)
        hit = dist <= tol
        found = set(idx[hit].tolist()) | {i}
        missing += distinct - len({int(j) for j in idx[hit]})
        unmatched[list(found)] = False
        orbit_sizes.append(distinct)
    return {"orbit_sizes": orbit_sizes, "orbits": len(orbit_sizes), "orbit_points_missed_by_monodromy": max(0, missing)}


def _merged(X: np.ndarray, tol: float) -> set[int]:
    """Indices of points within ``tol`` of an earlier point (duplicates)."""
    from scipy.spatial import cKDTree

    dup: set[int] = set()
    for a, b in cKDTree(X).query_pairs(tol):
        if a not in dup and b not in dup:
            dup.add(max(a, b))
    return dup


def _krawczyk(ws: Any, idx: np.ndarray) -> dict[str, Any]:
    """Krawczyk certificates of the fiber points (as solutions of the square slice system)."""
    from ..homotopy.certification import certify_solutions
    from ..homotopy.polynomial import PolynomialSystem

    if not isinstance(ws.system, PolynomialSystem):
        return {"checked": False, "reason": "the fiber was sliced through mu_S (not a polynomial system)"}
    if len(idx) > KRAWCZYK_LIMIT:
        return {"checked": False, "reason": f"{len(idx)} points > {KRAWCZYK_LIMIT}"}
    c = certify_solutions(ws.system, ws.result.solutions[idx], ws.p0)
    s = c.summary()
    s["meaning"] = ("each certified point lies in a box containing exactly one regular solution of the slice system "
                    "R c(z) = b0, the boxes pairwise disjoint: 'distinct' true solutions, a certified lower bound "
                    "on the points of this fiber (grouping by image point is numerical)")
    return s


def _cross_check_skipped(ctx: Context, count: int) -> str | None:
    """Why the monodromy cross-check of a Kruskal-certified count is skipped (None: run it).  It runs when M fills
    its linear span (dim M = ambient dimension, both certified: the slice system is the fiber itself, m! points) and
    m! <= CROSS_CHECK_LIMIT; otherwise the per-fiber witness set would gather deg M x m! points."""
    from .dimension import ambient_data, dimension_data

    if count > CROSS_CHECK_LIMIT:
        return f"skipped: {count} points > {CROSS_CHECK_LIMIT}"
    try:
        d, amb = dimension_data(ctx), ambient_data(ctx)
    except InputError as exc:
        return f"skipped: {exc}"
    if not (d.certified and amb["certified"] and d.lower == amb["value"]):
        return ("skipped: M does not fill its linear span (or that is not certified), so the per-fiber witness set "
                "would gather deg M x m! points; fiber_points gives the numerical count")
    return None


def identifiability(ctx: Context) -> Result:
    """Points of a generic fiber on the gauge slice (known continuous symmetries frozen), against the order of
    the known discrete group acting on that slice: beyond_symmetries = count / |G| (1: identifiable)."""
    t0 = time.perf_counter()
    arch = ctx.arch
    group = slice_group(arch)
    ev: dict[str, Any] = {
        "slice": "gauge_indices: one frozen coordinate per continuous symmetry direction (dense x^r: W_i[j, 0])",
        "known_discrete_symmetries": [{"name": s.name, "order": s.order} for s in arch.discrete_symmetries()],
        "references": REFERENCES,
    }
    if group is not None:
        ev["group_on_slice"] = {"order": group.order, "description": group.description, "factors": group.factors,
                                "absorbed_by_the_frozen_coordinates": group.absorbed}
    kr = ctx.cached("identifiability-kruskal", lambda: kruskal_certificate(arch, seed=ctx.seed))
    ev["kruskal"] = kr
    if _is_plain_mlp(arch) and arch.depth == 2 and arch.act is None and arch.r >= 2:
        m, r = arch.widths[1], arch.r
        ev["other_slice"] = (f"freezing the output weights W2[0, j] instead of W1[j, 0] leaves the r-th roots of unity "
                             f"of every rescaling (t^{r} = 1): that slice meets each fiber in count x {r}^{m} points, "
                             f"acted on by S_{m} x (Z/{r})^{m}")

    def done(value: Any, status: str) -> Result:
        return Result("identifiability", value, status, ev, time.perf_counter() - t0, ctx.seed)

    certified_count = factorial(arch.widths[1]) if kr.get("certified") else None
    if certified_count is not None:
        ev.update(count=certified_count, finite=True, finite_certified=True, explained=certified_count,
                  beyond_symmetries=1, identifiable_up_to_known_symmetries=True,
                  certificate=(f"reshaped Kruskal criterion at an integer point (exact k-ranks over Q): the "
                               f"{arch.widths[1]} terms are unique up to order, so the generic fiber on the slice "
                               f"w_j[0] = c_j is the {certified_count} permutations; the condition is Zariski open"))
        skip = _cross_check_skipped(ctx, certified_count)
        if skip:
            ev["monodromy_cross_check"] = skip
            return done(certified_count, "certified")
    else:
        try:
            fin = _finite_after_freezing(ctx)
        except InputError as exc:
            ev["reason"] = str(exc)
            return done(None, "failed")
        ev["finite"], ev["finite_certified"] = fin["finite"], fin["certified"]
        ev["fiber_dimension_after_freezing"] = fin["fiber_dimension_after_freezing"]
        if not fin["finite"]:
            dim = (fin["fiber_dimension_after_freezing"] if fin["certified"] else
                   f"{fin['numerical']} by numerical rank (exact bounds {fin['fiber_dimension_after_freezing']}: the "
                   "dimension of M is not certified)")
            ev["reason"] = ("not finite-to-one: the generic fiber has positive dimension "
                            f"{dim} after freezing the known continuous symmetries (hidden symmetries)")
            return done(None, "failed")
    try:
        thetas, info = fiber_parameters(ctx)
    except InputError as exc:
        if certified_count is not None:
            ev["monodromy_cross_check"] = f"not run: {exc}"
            return done(certified_count, "certified")
        ev["reason"] = str(exc)
        return done(None, "failed")
    ws = info.pop("witness")
    res = ws.result
    ev["monodromy"] = info["monodromy"]
    ev["gauge"] = info["gauge"]
    ev["image_points"] = info["image_points"]
    ev["points_per_image_point"] = info["points_per_image_point"]
    count = int(info["count"])
    if "slice_not_reconstructed" in info:
        ev["orbit_check"] = info["slice_not_reconstructed"]
    cut = not res.complete or res.stopping_rule in ("target_count", "interrupted", "budget")
    if res.stopping_rule in ("interrupted", "budget"):
        ev["interrupted"], ev["cut"] = True, res.stopping_rule
    if not info["gauge"]["complete"]:
        ev["reason"] = (f"no coordinate gauge freezes every continuous symmetry here (gauge: {info['gauge']}); the "
                        "points on a random slice are not the fiber count")
        if certified_count is not None:
            return done(certified_count, "certified")
        return done(None, "failed")
    from ..architectures.gauge import gauge_indices

    frozen = info["frozen"]
    group_ok = (group is not None and frozen is not None and thetas is not None
                and sorted(int(i) for i in frozen) == sorted(gauge_indices(arch) or []))
    orbit_ev: dict[str, Any] | None = None
    if group_ok and group.order <= ORBIT_LIMIT and group.orbit is not None:
        orbit_ev = _orbits(group, thetas, frozen)
        ev["orbits"] = orbit_ev
    try:
        ev["krawczyk"] = _krawczyk(ws, info["fiber_index"])
    except (InputError, ValueError, ArithmeticError) as exc:  # the certificate is evidence only
        ev["krawczyk"] = {"checked": False, "reason": f"{type(exc).__name__}: {exc}"}
    if certified_count is not None:
        ev["monodromy_count"] = count
        if count > certified_count:
            ev["reason"] = (f"the monodromy found {count} fiber points, more than the {certified_count} the Kruskal "
                            "criterion proves: numerical failure (spurious points); nothing is reported")
            return done(None, "failed")
        if count < certified_count:
            ev["monodromy_note"] = (f"the monodromy found {count} of the {certified_count} points (stopped by "
                                    f"{res.stopping_rule}); the certified value rests on the Kruskal criterion")
        return done(certified_count, "certified")
    if orbit_ev is not None and orbit_ev["orbit_points_missed_by_monodromy"]:
        count += orbit_ev["orbit_points_missed_by_monodromy"]
        cut = True
        ev["why_lower_bound"] = "the monodromy missed points of the orbits of the points it found (added here)"
    ev["count"] = count
    if group is not None and group_ok:
        ev["explained"] = group.order
        ev["beyond_symmetries"] = count // group.order if count % group.order == 0 else count / group.order
        ev["identifiable_up_to_known_symmetries"] = count == group.order
    else:
        ev["explained"] = None
        ev["beyond_symmetries"] = None
        ev["note"] = "the discrete group acting on this slice is not worked out for this family: the count alone"
    ev["method"] = ("monodromy on the gauge slice, every parameter point kept, grouped by image point; orbits of the "
                    "known discrete group matched with the points found")
    if len(info["points_per_image_point"]) != 1:
        ev["why_lower_bound"] = "the image points have different numbers of fiber points: the largest is reported"
        return done(max(int(k) for k in info["points_per_image_point"]), "lower_bound")
    if cut:
        ev.setdefault("why_lower_bound", f"monodromy cut short (stopped by {res.stopping_rule})")
        return done(count, "lower_bound")
    return done(count, "numerical")


def identifiability_cost_estimate(ctx: Context) -> dict[str, Any] | None:
    """Solutions the monodromy of ``identifiability`` may gather: none beyond m! when the Kruskal criterion
    certifies (cross-check only up to CROSS_CHECK_LIMIT), else the fiber_points Bezout bound."""
    from .degree import degree_cost_estimate

    kr = ctx.cached("identifiability-kruskal", lambda: kruskal_certificate(ctx.arch, seed=ctx.seed))
    if kr.get("certified"):
        m = factorial(ctx.arch.widths[1])
        bound = 0 if _cross_check_skipped(ctx, m) else m
        return {"invariant": "identifiability", "bound": bound, "deg_theta_mu": None, "dim": None,
                "formula": "m! (Kruskal criterion certifies; monodromy cross-check)"}
    try:
        fin = _finite_after_freezing(ctx)
    except InputError:
        return None
    if not fin["finite"]:  # reported from the dimensions alone, no monodromy
        return {"invariant": "identifiability", "bound": 0, "deg_theta_mu": None, "dim": None,
                "formula": "none: the fiber is positive-dimensional after freezing (no monodromy)"}
    est = degree_cost_estimate(ctx, name="fiber_points")
    return None if est is None else dict(est, invariant="identifiability")
