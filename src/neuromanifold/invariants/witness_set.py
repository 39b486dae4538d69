"""Pseudo-witness sets of neuromanifolds, gathered by monodromy and certified by trace tests.

M is seen through mu_S (values at S generic complex inputs).  With k = dim M, the parameters
are cut to a k-dimensional affine slice: the gauge of ``architectures.gauge`` freezes one
point of every orbit of the known continuous symmetries (plus a random linear slice when the
fiber has more, hidden, directions); M is cut by a random linear space {R y = b} of
codimension k.  The square system R mu_S(theta(z)) = b is solved by ``monodromy_solve`` from
one seeded point and a batch of random points of the slice (each solves the system for its own
offset b = R mu_S(theta(z)) and is tracked to b0), and the image points are tested by two trace
tests with independent directions (homotopy.trace).  When mu_S is injective on span(M) (checked numerically: the
values of span(M) at the S inputs have full rank), the image points number deg M; otherwise
deg mu_S(M) <= deg M is only a lower bound.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np

from ..architectures.gauge import gauge_indices
from ..architectures.monomials import evaluation_injective
from ..arithmetic import Complex128
from ..context import Context
from ..errors import InputError
from ..homotopy import MonodromyOptions, monodromy_solve
from ..homotopy.monodromy import MonodromyResult, attempt_checkpoint
from ..homotopy.trace import make_trace_test
from ..homotopy.solutions import deduplicate
from ..parametrization.coefficients import coefficient_map
from ..homotopy.witness import ImageSliceSystem, PolynomialImageSliceSystem, random_unitary_like
from ..parametrization.evaluation import Parametrization, jacobian_batch
from ..arithmetic.rank import numerical_rank
from .dimension import ambient_data, dimension_data

INJECTIVITY_LIMIT = 3000  # largest ambient dimension for which injectivity of mu_S is checked
DEFAULT_MAX_DEGREE = 20000
# pencil half-width of the trace tests, relative to |b0|: with thousands of witness points a wide
# pencil often meets an ill-conditioned point; the trace of an incomplete set stays far from
# linear (residuals ~1e-4..1e-1 against a threshold of 1e-6) at this width
TRACE_DELTA = 0.2
# image points closer than this (relative) are one point: ill-conditioned witness points have
# images accurate to ~cond * 1e-16, and the trace test calls endpoints this close a path jump
KEY_TOL = 1e-6


@dataclass
class NetworkWitnessSet:
    """A pseudo-witness set of M: slice system, solutions, and how they were obtained."""

    system: ImageSliceSystem | PolynomialImageSliceSystem
    parametrization: Parametrization | None  # None: sliced through the exact coefficient map
    p0: np.ndarray
    result: MonodromyResult
    image_projection: np.ndarray
    n_samples: int
    injective: bool
    injectivity_evidence: dict[str, Any]
    gauge: dict[str, Any]
    per_fiber: bool  # True: solutions are all slice points (keyed by theta); False: one per image point
    attempts: list[dict[str, Any]] = field(default_factory=list)  # evidence of every monodromy run (restarts)
    # coefficient slices: theta[free] = z, theta elsewhere = frozen (None for slices through mu_S)
    slice_free: np.ndarray | None = None
    slice_frozen: np.ndarray | None = None
    # the exact coefficient map (integer SparsePolynomials in theta) of a coefficient slice: certificates are then
    # about the exact slice of M, not about the double-precision system that rounds it
    exact_map: Any = None

    def image_labels(self) -> np.ndarray:
        img = self.system.image(self.result.solutions) @ self.image_projection
        return deduplicate(img, tol=1e-6, return_labels=True)

    def certify(self) -> dict[str, Any]:
        """Interval certificates of the witness points (``homotopy.certification``): a Krawczyk box around each
        solution z of the slice system F(z; b0) = 0 with exactly one regular root, and ball enclosures of its
        image point projected (``image_projection``) -- disjoint image boxes prove distinct points of M cut by
        the linear space (their number is a rigorous lower bound on deg M for a linear space meeting M in
        finitely many points; per fiber: distinct roots with one image point are distinct fiber points).
        Only slice systems that are explicit polynomial systems (through the exact coefficient map) can be
        certified; otherwise the evidence says why not."""
        from ..homotopy import PolynomialSystem
        from ..homotopy.certification import ExactImageSlice, certify_solutions, disjoint_boxes, enclose_map

        import time

        t0 = time.perf_counter()
        sols = self.result.solutions
        if not isinstance(self.system, PolynomialSystem):
            return {"certified": None, "points": int(len(sols)), "reason": (
                "the slice system is evaluated through forward passes at sample inputs, not an explicit polynomial "
                f"system; certification needs the exact coefficient map (networks up to {COEFFICIENT_MAX_PARAMS} "
                f"parameters and {COEFFICIENT_MAX_AMBIENT} coefficients)")}
        exact = None
        exact_note = "no exact coefficient map: the stored double-precision slice system is certified"
        if self.exact_map is not None and self.slice_free is not None:
            ex = ExactImageSlice(self.exact_map.exponents, self.exact_map.coefficients, self.slice_free,
                                 self.slice_frozen, self.system._E, self.system.R)
            if ex.supported:
                exact = ex
                exact_note = ("the exact slice system R c(theta) = b0 (integer coefficient map c, frozen parameters, R "
                              "and b0 the stored doubles taken exactly; its coefficients enclosed in balls), and the "
                              "exact image points c(theta): the certified points are points of M on {R y = b0}")
            else:
                exact_note = ("the exact slice has monomials whose rounded coefficients vanish in the double system: "
                              "the stored double-precision slice system is certified")
        try:
            cert = certify_solutions(self.system, sols, self.p0,
                                     exact_terms=None if exact is None else exact.slice_terms)
        except InputError as exc:  # the exact system does not fit the double system's monomial table
            exact, exact_note = None, f"{exc}: the stored double-precision slice system is certified"
            cert = certify_solutions(self.system, sols, self.p0)
        ev: dict[str, Any] = dict(cert.summary())
        ev["exact_system"] = exact is not None
        ev["system_note"] = exact_note
        idx = np.flatnonzero(cert.certified)
        img_distinct = np.zeros(len(sols), dtype=bool)
        lab = self.image_labels() if self.per_fiber else None
        if len(idx):
            # per-coordinate radii: badly scaled roots have boxes far tighter than their covering cube
            rad = cert.coordinate_radii if cert.coordinate_radii is not None else cert.radii
            enc = enclose_map(self.system._E, self.system._C, cert.midpoints[idx], rad[idx],
                              projection=self.image_projection, precision=cert.precision,
                              coefficient_matrix=None if exact is None else exact.coefficient_matrix)
            img_distinct[idx] = disjoint_boxes(enc.centres, enc.radii, None if lab is None else lab[idx])
        ev["image_points_certified_distinct"] = (
            int(len(set(lab[img_distinct].tolist()))) if lab is not None else int(img_distinct.sum()))
        if lab is not None:
            per = {int(g): int(np.sum(cert.distinct & (lab == g))) for g in sorted(set(lab[lab >= 0].tolist()))}
            ev["fiber_points_certified_distinct"] = min(per.values()) if per else 0
        ev["meaning"] = (
            "certified: a box around the witness point holds exactly one regular root of the slice system (Krawczyk, "
            "ball arithmetic); image_points_certified_distinct: their image points (random projection, ball "
            "enclosures) lie in pairwise disjoint boxes, so they are distinct points of M on the linear space"
            + ("; fiber_points_certified_distinct: the fewest certified distinct roots over one image point"
               if self.per_fiber else ""))
        reasons = [r for r in cert.reason if r]
        if reasons:
            ev["first_failure"] = reasons[0]
        # "seconds" times the Krawczyk tests; this adds the image enclosures and the disjointness test
        ev["seconds_total"] = round(time.perf_counter() - t0, 4)
        return ev

    @property
    def n_image_points(self) -> int:
        if not self.per_fiber:
            return self.result.n_solutions
        lab = self.image_labels()
        return int(len(set(lab[lab >= 0].tolist())))


def checkpoint_path(ctx: Context, name: str) -> Path | None:
    """Where a long computation ``name`` of this (architecture, seed) saves and resumes (None: no checkpoints)."""
    root = ctx.options.checkpoint_dir
    if not root:
        return None
    tag = hashlib.sha256(f"{ctx.arch.spec()}|{ctx.seed}|{name}".encode()).hexdigest()[:16]
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{name}-{tag}.npz"


_CMAP_FORMAT = 1


def cached_coefficient_map(ctx: Context) -> Any:
    """``coefficient_map(ctx.arch)``, cached in ``ctx``; with a checkpoint directory also on disk (np.savez,
    exact integer coefficients, no pickles), so that a resumed run skips the symbolic expansion (and the
    import of sympy): the same map, so the same results."""

    def compute() -> Any:
        from ..parametrization.coefficients import CoefficientMap, SparsePolynomials
        from ..homotopy.monodromy import _write_npz

        path = checkpoint_path(ctx, "coefficient_map")
        spec = ctx.arch.spec()
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as f:
                    if int(f["format"]) == _CMAP_FORMAT and str(f["spec"]) == spec:
                        mon, E, C = np.asarray(f["monomials"]), np.asarray(f["exponents"]), np.asarray(f["coefficients"])
                        if E.shape[1] == ctx.arch.n_params and C.shape == (len(mon), len(E)):
                            monomials = [(int(r[0]), tuple(int(a) for a in r[1:])) for r in mon]
                            return CoefficientMap(ctx.arch, monomials, SparsePolynomials(E.astype(int), C))
            except (OSError, ValueError, KeyError):  # unreadable: expand again
                pass
        cmap = coefficient_map(ctx.arch)
        if path is not None:
            mon = np.array([[o, *a] for o, a in cmap.monomials], dtype=np.int64).reshape(len(cmap.monomials), -1)
            _write_npz(path, {"format": _CMAP_FORMAT, "spec": np.array(spec), "monomials": mon,
                              "exponents": cmap.polynomials.exponents, "coefficients": cmap.polynomials.coefficients})
        return cmap

    return ctx.cached("coefficient_map", compute)


def _attempt_path(ckpt: Path | None, attempt: int) -> Path | None:
    """The checkpoint of restart ``attempt`` (0: ``ckpt`` itself; ``attempt_checkpoint``)."""
    return attempt_checkpoint(ckpt, attempt)


def witness_set(ctx: Context, *, per_fiber: bool = False, coefficients: bool | None = None,
                stop_at_bound: bool = False) -> NetworkWitnessSet:
    """The pseudo-witness set of M (``per_fiber``: every slice point, for fiber counts).

    coefficients: slice M in coefficient space through the exact coefficient map (a polynomial
    system: fast, and M itself rather than a projection) -- the default when the network is small
    enough to expand symbolically; False: through mu_S (values at sample inputs, forward mode).
    stop_at_bound: with a proven upper bound on deg M (``degree.multiprojective_bound``) and a certifiable
    (coefficient) slice, stop the monodromy as soon as that many image points are found (stopping rule
    ``target_count``, no trace test): the caller certifies them (``certify``), and certified distinct points
    reaching the bound prove the degree.  The set is then cached apart from the trace-tested one."""
    use = _coefficients_feasible(ctx) if coefficients is None else bool(coefficients)
    bound = None
    if stop_at_bound and use and not per_fiber:
        from .degree import multiprojective_bound

        b = multiprojective_bound(ctx)
        bound = None if b is None else int(b["value"])
    key = ("witness_fiber" if per_fiber else "witness_image") + ("_coefficients" if use else "_samples")
    # the points gathered depend on the monodromy knobs: a derived context with others builds its own
    key += f"_{ctx.options.max_degree}_{ctx.options.loops_without_new}"
    if bound is not None:
        key += f"_upto{bound}"
    return ctx.cached(key, lambda: _build(ctx, per_fiber, use, bound))


# the coefficient map is expanded symbolically only for networks this small (beyond, mu_S)
COEFFICIENT_MAX_PARAMS = 40
COEFFICIENT_MAX_AMBIENT = 2000


def _coefficients_feasible(ctx: Context) -> bool:
    arch = ctx.arch
    if arch.n_params > COEFFICIENT_MAX_PARAMS or arch.ambient_upper_bound()[0] > COEFFICIENT_MAX_AMBIENT:
        return False
    try:
        cached_coefficient_map(ctx)
    except InputError:
        return False
    return True


@dataclass
class _Slice:
    system: Any
    par: Parametrization | None
    z0: np.ndarray
    b0: np.ndarray
    proj: np.ndarray
    start_pairs: Any
    n_samples: int
    injective: bool
    injectivity: dict[str, Any]
    gauge_info: dict[str, Any]
    free: np.ndarray | None = None
    frozen: np.ndarray | None = None
    exact_map: Any = None


def _coefficient_slice(ctx: Context, k: int, rng: np.random.Generator) -> _Slice:
    """R c(z) = b on a coordinate slice of parameter space (gauge + pivoted QR), c the exact coefficient map."""
    from .critical_system import choose_slice

    cmap = cached_coefficient_map(ctx)
    free, frozen, info = choose_slice(ctx.arch, cmap, k, rng)
    P = cmap.restrict(free, frozen)
    D = cmap.dimension
    R = random_unitary_like(rng, (k, D))
    system = PolynomialImageSliceSystem(P.exponents, P.coefficients, R)
    z0 = (rng.standard_normal((1, k)) + 1j * rng.standard_normal((1, k))) / np.sqrt(2) + frozen[free][None, :]
    b0 = system.evaluate(z0, np.zeros((1, k), dtype=complex))[0]
    proj = random_unitary_like(rng, (3, D)).T
    centre = frozen[free][None, :]

    def start_pairs(r: np.random.Generator, B: int) -> tuple[np.ndarray, np.ndarray]:
        """Random points z of the slice (around the frozen scale) and the offsets b they solve for."""
        sc = 10.0 ** r.uniform(np.log10(0.5), np.log10(2.0), size=(B, 1))
        z = centre + sc * (r.standard_normal((B, k)) + 1j * r.standard_normal((B, k))) / np.sqrt(2)
        return z, system.evaluate(z, np.zeros((B, k), dtype=complex))

    gauge_info = {
        "frozen": int(info["frozen"]),
        "complete": info["extra_frozen_by_pivoted_qr"] == 0,
        "free": int(k),
        "gauge_frozen": info["gauge_frozen"],
    }
    if not gauge_info["complete"]:
        gauge_info["coordinate_slice"] = (
            f"{info['extra_frozen_by_pivoted_qr']} more coordinates frozen (pivoted QR of the Jacobian)"
        )
    injectivity = {
        "checked": True,
        "method": "exact coefficient map (symbolic expansion over Z): the slice is cut in coefficient space, "
        "so the image points are points of M itself",
        "coefficients": D,
    }
    return _Slice(system, None, z0, b0, proj, start_pairs, 0, True, injectivity, gauge_info, free, frozen,
                  cmap.polynomials)


def _sampled_slice(ctx: Context, d: Any, rng: np.random.Generator) -> _Slice:
    """R mu_S(theta0 + U z) = b: mu_S the values at generic sample inputs (forward mode)."""
    arch = ctx.arch
    k, N, out = d.lower, d.n_params, arch.output_size()
    amb = ambient_data(ctx)
    field = Complex128()
    check_injective = amb["certified"] and amb["value"] <= INJECTIVITY_LIMIT
    monos = None if check_injective else arch.containing_monomials()
    if monos is not None and max(len(m) for m in monos) > INJECTIVITY_LIMIT:
        monos = None
    if check_injective:
        n_samples = max(d.n_samples, ceil((amb["value"] + 2) / out))
    elif monos is not None:
        n_samples = max(d.n_samples, max(len(m) for m in monos) + 2)
    else:
        n_samples = max(d.n_samples, ceil((2 * k + 2) / out))
    par = Parametrization(arch, field, n_samples, rng)

    def phi(theta: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return jacobian_batch(par, theta, directions=directions, transposed=True)

    injectivity: dict[str, Any]
    if check_injective:
        thetas = field.random((amb["value"] + 4, N), rng)
        vals = par.values_batch(thetas)
        nr = numerical_rank(vals)
        injective = nr.rank == amb["value"]
        injectivity = {
            "checked": True,
            "span_dimension": amb["value"],
            "rank_of_sampled_values": nr.rank,
            "gap": nr.gap,
            "meaning": "mu_S is injective on span(M) when the sampled values have full rank",
        }
    elif monos is not None:
        ok, injectivity = evaluation_injective(arch, par.inputs)
        injective = bool(ok)
    else:
        injective = False
        injectivity = {
            "checked": False,
            "reason": "span(M) is not certified or too large to sample; mu_S(M) is a projection of M and "
            "deg mu_S(M) <= deg M",
        }

    theta0 = field.random((N,), rng)
    gauge = gauge_indices(arch) or []
    G = arch.symmetry_matrix(theta0) if d.n_generators else np.zeros((N, 0))
    if gauge and np.linalg.matrix_rank(G[gauge, :]) != len(gauge):
        gauge = []  # not transversal to the orbits: do not use it
    free = np.array([i for i in range(N) if i not in set(gauge)], dtype=int)
    if len(free) < k:
        raise InputError(f"{arch.spec()}: the gauge leaves {len(free)} free parameters for dim M = {k}")
    E = np.eye(N, dtype=complex)[:, free]
    if len(free) == k:
        U = E
        gauge_info = {"frozen": len(gauge), "complete": True, "free": int(len(free))}
    else:
        Q, _ = np.linalg.qr(field.random((len(free), k), rng))
        U = E @ Q
        gauge_info = {
            "frozen": len(gauge),
            "complete": False,
            "free": int(len(free)),
            "random_linear_slice": f"{len(free)} free coordinates cut to a random {k}-plane",
        }
    A = n_samples * out
    R = random_unitary_like(rng, (k, A))
    system = ImageSliceSystem(phi, theta0, U, R, chunk=par.points_per_chunk(k), values=par.values_batch)
    z0 = np.zeros((1, k), dtype=complex)
    b0 = system.evaluate(z0, np.zeros((1, k), dtype=complex))[0]  # R mu_S(theta0)
    proj = random_unitary_like(rng, (3, A)).T

    def start_pairs(r: np.random.Generator, B: int) -> tuple[np.ndarray, np.ndarray]:
        """Random points z of the slice (at scales 1/2 to 2) and the offsets b they solve for."""
        sc = 10.0 ** r.uniform(np.log10(0.5), np.log10(2.0), size=(B, 1))
        z = sc * (r.standard_normal((B, k)) + 1j * r.standard_normal((B, k))) / np.sqrt(2)
        return z, system.evaluate(z, np.zeros((B, k), dtype=complex))

    return _Slice(system, par, z0, b0, proj, start_pairs, n_samples, injective, injectivity, gauge_info)


def _build(ctx: Context, per_fiber: bool, use_coefficients: bool = False,
           bound: int | None = None) -> NetworkWitnessSet:
    arch = ctx.arch
    d = dimension_data(ctx)
    if not d.certified:
        raise InputError(
            f"{arch.spec()}: the degree needs a certified dimension, but only {d.lower} <= dim M <= {d.upper} "
            "is known"
        )
    k = d.lower
    rng = ctx.rng("witness-set" + ("-fiber" if per_fiber else ""))
    sl = _coefficient_slice(ctx, k, rng) if use_coefficients else _sampled_slice(ctx, d, rng)
    system, b0, proj, start_pairs = sl.system, sl.b0, sl.proj, sl.start_pairs

    def image(z: np.ndarray, p: np.ndarray) -> np.ndarray:
        if isinstance(system, PolynomialImageSliceSystem):
            return system.image(z, projection=proj)  # the projected image without the A coordinates
        return system.image(z) @ proj

    key = (lambda z, p: z) if per_fiber else image
    strategy = MonodromyOptions(
        tol=KEY_TOL,
        target_count=min(ctx.options.max_degree or DEFAULT_MAX_DEGREE, bound or DEFAULT_MAX_DEGREE)
        if bound else ctx.options.max_degree or DEFAULT_MAX_DEGREE,
        loop_vertices=2,
        # one batch of random starts: small fibers are then mostly found before the first loop
        # (fewer sequential rounds); on large ones loops are cheaper per new point than more
        # random starts, whose endpoints repeat (their distribution over the fiber is uneven)
        sample_batch=64,
        sample_limit=64,
        # large sets: test only after a loop that grew the set by <= 2% (a failed test costs as
        # much as a loop, which would still find new points)
        trace_growth=0.02,
        trace_growth_from=256,
    )
    if bound:
        # a proven bound on the count: stop there; the trace test is needed only if the count stays below it
        # (the map is not birational), so it runs only after a fresh loop found nothing new (a failed test on
        # an incomplete set of thousands of points costs as much as a loop)
        strategy = replace(strategy, trace_growth=0.0)
    # the trace test certifies the image points; fiber points are gathered until stagnation
    trace = (
        None
        if per_fiber
        else make_trace_test(system, image=image, repeats=2, delta=TRACE_DELTA, seed=int(rng.integers(2**31)))
    )
    ckpt = checkpoint_path(ctx, "fiber" if per_fiber else ("degree" if bound is None else f"degree-upto{bound}"))
    stall = ctx.options.loops_without_new or (10 if per_fiber else 8)
    starts = sl.z0
    attempts: list[dict[str, Any]] = []
    for attempt in range(3):
        result = monodromy_solve(
            system,
            b0,
            starts,
            options=replace(strategy, loops_without_new=stall),
            key=key,
            trace_test=trace,
            start_pairs=start_pairs,
            seed=int(rng.integers(2**31)),
            progress=ctx.progress,
            # one file per attempt: a resumed run continues each attempt's loop state exactly
            checkpoint=_attempt_path(ckpt, attempt),
            resume=_attempt_path(ckpt, attempt),
        )
        attempts.append(result.evidence())
        # stagnation with a failing trace test: the set is incomplete, keep looping (longer)
        if per_fiber or result.stopping_rule != "stagnation" or result.trace_test_passed:
            break
        starts, stall = result.solutions, 2 * stall
    return NetworkWitnessSet(
        system=system,
        parametrization=sl.par,
        p0=b0,
        result=result,
        image_projection=proj,
        n_samples=sl.n_samples,
        injective=sl.injective,
        injectivity_evidence=sl.injectivity,
        gauge=sl.gauge_info,
        per_fiber=per_fiber,
        attempts=attempts,
        slice_free=sl.free,
        slice_frozen=sl.frozen,
        exact_map=sl.exact_map,
    )
