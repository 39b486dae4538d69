"""Critical points of a quadratic loss on the neuromanifold, as a square polynomial system.

A loss that is quadratic in the network function is, in the coefficient vector c of the
function (``parametrization.coefficients``), L(c) = 1/2 (c - u)^T Q (c - u) + const with Q symmetric positive
definite: the squared distance from a data point u in the metric Q (for mean-squared error on a
data set, Q is the Gram matrix of the monomials at the samples and u the least-squares fit).
On a coordinate slice of parameter space, theta_i = frozen_i for i outside ``free`` (a gauge
freezing the known symmetries, completed by pivoted QR of the Jacobian so that the k = dim M free
coordinates z map generically finitely onto M), the critical points of theta -> L(c(theta)) solve

    G(z; p) = grad_z [ 1/2 c(z)^T Q c(z) - p^T c(z) ] = J_c(z)^T (Q c(z) - p) = 0,  p = Q u,

k polynomial equations in k unknowns with parameters p (entering linearly).  Solutions with J_c
of full rank k are critical points of the distance on the smooth locus of M (the ED problem);
solutions with rank J_c < k are critical points of the parametrization ("spurious").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..architectures.gauge import gauge_indices
from ..arithmetic.rank import pivot_columns
from ..parametrization.coefficients import CoefficientMap, SparsePolynomials
from ..errors import InputError
from ..homotopy import PolynomialSystem
from ..result import html_card, html_evidence, html_table

MAX_SYSTEM_TERMS = 400_000


@dataclass
class CriticalSystem:
    """G(z; p) = J_c(z)^T (Q c(z) - p) on a coordinate slice of parameter space."""

    cmap: CoefficientMap
    Q: np.ndarray  # (D, D) metric on coefficients
    free: np.ndarray  # (k,) indices of theta that are the unknowns z
    frozen: np.ndarray  # (N,) values of theta (entries at ``free`` unused)
    c: SparsePolynomials  # c(z) on the slice, D polynomials in k unknowns
    system: PolynomialSystem  # G(z; p), k equations, k unknowns, D parameters
    slice_info: dict[str, Any]

    @property
    def k(self) -> int:
        return int(len(self.free))

    @cached_property
    def c_abs(self) -> SparsePolynomials:
        """c(z) with every coefficient replaced by its absolute value: evaluated at |z| (and its Jacobian),
        the size of the terms that make up c(z) (and J_c(z)), i.e. the scale of their round-off."""
        return SparsePolynomials(self.c.exponents, np.abs(self.c.coefficients).astype(complex))

    @cached_property
    def c_derivatives(self) -> list[SparsePolynomials]:
        """dc/dz_j, j < k: the columns of J_c as polynomial maps."""
        return [self.c.derivative(j) for j in range(self.k)]

    def certify(self, z: np.ndarray, p: np.ndarray, labels: np.ndarray | None = None, **kw: Any) -> "CertifiedPoints":
        """Interval certificates (``homotopy.certification``) of approximate critical points z (B, k) at data
        parameters p ((D,) or one row per point): existence and uniqueness of a regular root of G(z; p) = 0 in
        a box around each, real / non-real, distinct roots, and for the function c(z): J_c of rank k and
        c(z) != 0 on the whole box (a certified smooth critical point) and image boxes of points with
        different ``labels`` (distinct functions) disjoint (certified distinct points of M)."""
        return certify_critical_points(self, z, p, labels, **kw)

    def classify(self, z: np.ndarray) -> "PointTypes":
        """Scale-free decisions at slice points z (B, k): is c(z) the zero function, is J_c(z) of full
        rank k?  Both compare with the size of the terms (``c_abs``), not with the largest singular
        value: at c(z) = 0 every singular value of J_c is round-off and sigma_k / sigma_1 says nothing."""
        return classify_points(self, z)

    def theta(self, z: np.ndarray) -> np.ndarray:
        """Parameter points (B, N) of slice points z (B, k)."""
        z = np.atleast_2d(z)
        th = np.broadcast_to(self.frozen.astype(complex), (z.shape[0], len(self.frozen))).copy()
        th[:, self.free] = z
        return th

    def parameters(self, u: np.ndarray) -> np.ndarray:
        """p = Q u for data points u (..., D) in coefficient space."""
        return np.asarray(u, dtype=complex) @ self.Q.T

    def start_pairs(self, z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """For slice points z (B, k): parameters p (B, D) making every z_i a critical point,
        p_i = Q c(z_i) - w_i with w_i a random vector of ker J_c(z_i)^T (a random normal vector)."""
        z = np.atleast_2d(np.asarray(z, dtype=complex))
        c = self.c.evaluate(z)
        J = self.c.jacobian(z)  # (B, D, k)
        B, D, k = J.shape
        p = c @ self.Q.T
        if D > k:
            Qf, _ = np.linalg.qr(J, mode="complete")  # (B, D, D); last D - k columns: col(J)^perp
            N = np.conj(Qf[:, :, k:])  # J^T conj(Q2) = 0
            r = (rng.standard_normal((B, D - k)) + 1j * rng.standard_normal((B, D - k))) / np.sqrt(2)
            scale = 1.0 + np.linalg.norm(c, axis=1, keepdims=True)
            p = p - np.einsum("bdk,bk->bd", N, r) * scale
        return z, p


SLICE_CANDIDATES = 6  # random coordinate slices drawn; the best conditioned one is used


def choose_slice(
    arch: Architecture, cmap: CoefficientMap, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(free coordinates, frozen values, description): freeze the gauge (``gauge_indices``) and, if
    more than k coordinates remain, keep the k that pivoted QR of J_c at a random point picks.
    Frozen values are real, of absolute value in [1/2, 3/2] (so real data keeps real equations).
    Of ``SLICE_CANDIDATES`` such random slices the one on which c(z) is best conditioned (median of
    sigma_k / sigma_1 of J_c at random complex points z) is kept: a nearly degenerate slice makes paths
    fail and hides critical points.  Raises InputError when no coordinate slice maps onto M with full rank."""
    best: tuple[float, Any] | None = None
    for _ in range(SLICE_CANDIDATES):
        free, frozen, info = _slice_candidate(arch, cmap, k, rng)
        c = cmap.restrict(free, frozen)
        z = (rng.standard_normal((4, k)) + 1j * rng.standard_normal((4, k))) / np.sqrt(2)
        sv = np.linalg.svd(c.jacobian(z), compute_uv=False)
        score = float(np.median(sv[:, -1] / np.maximum(sv[:, 0], 1e-300)))
        if best is None or score > best[0]:
            best = (score, (free, frozen, info))
    score, (free, frozen, info) = best
    info = dict(info, slice_candidates=SLICE_CANDIDATES, conditioning_on_slice=score)
    return free, frozen, info


def _slice_candidate(
    arch: Architecture, cmap: CoefficientMap, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One random coordinate slice (``choose_slice``)."""
    N = arch.n_params
    # real, of size about one (tiny frozen values push the other coordinates of the slice far out)
    frozen = rng.uniform(0.5, 1.5, N) * rng.choice([-1.0, 1.0], N)
    gauge = gauge_indices(arch) or []
    theta = rng.standard_normal(N)
    J = cmap.polynomials.jacobian(theta[None, :])[0].real  # (D, N)
    cand = np.array([i for i in range(N) if i not in set(gauge)], dtype=int)
    scale = max(1.0, float(np.abs(J).max()))
    if len(cand) < k or np.linalg.matrix_rank(J[:, cand], tol=1e-9 * scale) < k:
        cand = np.arange(N)  # the gauge is not transversal: choose among all coordinates
        gauge = []
    free = np.sort(cand[pivot_columns(J[:, cand], k)])
    s = np.linalg.svd(J[:, free], compute_uv=False)
    if len(s) < k or s[k - 1] <= 1e-9 * s[0]:
        raise InputError(
            f"{arch.spec()}: no coordinate slice with {k} free parameters maps onto M with full rank; "
            "the critical-point system cannot be set up on a slice"
        )
    info = {
        "free": int(k),
        "frozen": int(N - k),
        "gauge_frozen": len(gauge),
        "extra_frozen_by_pivoted_qr": int(N - k - len(gauge)),
        "jacobian_singular_values_on_slice": [float(s[0]), float(s[k - 1])],
        "frozen_values": "real, |value| uniform in [1/2, 3/2], random sign",
    }
    return free, frozen, info


def critical_system(
    arch: Architecture, cmap: CoefficientMap, Q: np.ndarray, k: int, rng: np.random.Generator
) -> CriticalSystem:
    """The critical-point system G(z; p) of 1/2 (c - u)^T Q (c - u) on a coordinate slice."""
    D = cmap.dimension
    Q = np.asarray(Q, dtype=float)
    if Q.shape != (D, D):
        raise InputError(f"the metric must be a {D} x {D} matrix (one row per coefficient); got {Q.shape}")
    free, frozen, info = choose_slice(arch, cmap, k, rng)
    c = cmap.restrict(free, frozen)
    phi = c.quadratic_form(Q)
    n_terms = phi.exponents.shape[0] * k + c.exponents.shape[0] * D
    if n_terms > MAX_SYSTEM_TERMS:
        raise InputError(
            f"{arch.spec()}: the critical-point system would have about {n_terms} terms (limit "
            f"{MAX_SYSTEM_TERMS}); use a smaller architecture"
        )
    polys: list[dict[tuple[int, ...], complex]] = []
    zero_p = (0,) * D
    for j in range(k):
        terms: dict[tuple[int, ...], complex] = {}
        dphi = phi.derivative(j)
        for e, v in zip(dphi.exponents, dphi.coefficients[0]):
            if v != 0:
                key = tuple(int(x) for x in e) + zero_p
                terms[key] = terms.get(key, 0) + complex(v)
        dc = c.derivative(j)
        for a in range(D):
            unit = [0] * D
            unit[a] = 1
            ut = tuple(unit)
            for e, v in zip(dc.exponents, dc.coefficients[a]):
                if v != 0:
                    key = tuple(int(x) for x in e) + ut
                    terms[key] = terms.get(key, 0) - complex(v)
        polys.append(terms)
    system = PolynomialSystem(
        polys,
        k,
        D,
        variable_names=[arch.param_labels()[i] for i in free],
        parameter_names=[f"p{a}" for a in range(D)],
    )
    return CriticalSystem(cmap, Q, free, frozen, c, system, info)


__all__ = ["CriticalSystem", "critical_system", "choose_slice"]


@dataclass
class CriticalPoints:
    """Isolated complex solutions of G(z; p) = 0 found by a total-degree homotopy, split into
    critical points of the distance on the smooth locus (J_c of full rank k, c(z) != 0) and the others:
    critical points of the parametrization ("spurious": rank J_c < k), the zero function (the vertex
    of the cone) and points too close to call (``PointTypes``)."""

    z: np.ndarray  # (s, k) regular isolated solutions
    images: np.ndarray  # (s, D) their points c(z) of M
    full_rank: np.ndarray  # (s,) bool: smooth critical points (rank J_c(z) = k and c(z) != 0, decided)
    jacobian_gap: np.ndarray  # (s,) sigma_k(J_c(z)) / |J_abs(z)|_2 (scale-free, see ``classify_points``)
    image_labels: np.ndarray  # (s,) index of the distinct image point of each solution
    n_images_smooth: int  # distinct points of M among the full-rank solutions (the ED count)
    n_images_spurious: int  # distinct points of M among the rank-deficient ones
    solve: Any  # TotalDegreeResult
    singular_z: np.ndarray  # (q, k) singular endpoints (positive-dimensional or multiple)
    types: "PointTypes | None" = None

    def evidence(self) -> dict[str, Any]:
        ev = {
            "total_degree": self.solve.evidence(),
            "regular_solutions": int(len(self.z)),
            "full_rank_solutions": int(self.full_rank.sum()),
            "distinct_points_of_M_full_rank": self.n_images_smooth,
            "rank_deficient_solutions": int((~self.full_rank).sum()),
            "distinct_points_of_M_rank_deficient": self.n_images_spurious,
            "singular_endpoints": int(len(self.singular_z)),
        }
        if self.types is not None:
            ev["point_types"] = self.types.evidence()
        return ev

    def _repr_html_(self) -> str:
        """Jupyter: the solutions split into smooth (pure) and spurious ones, distinct points of M, the evidence."""
        rows = [("regular isolated solutions", len(self.z)),
                ("smooth critical points (J_c of full rank, c != 0)", int(self.full_rank.sum())),
                ("distinct points of M among them (the ED count)", self.n_images_smooth),
                ("spurious (critical points of the parametrization, zero function)", int((~self.full_rank).sum())),
                ("distinct points of M among the spurious ones", self.n_images_spurious),
                ("singular endpoints (positive-dimensional or multiple)", len(self.singular_z))]
        return html_card("critical points of the distance (total-degree solve)",
                         [html_table(("", "number"), rows), html_evidence(self.evidence())], kind="critical_system")


@dataclass
class CertifiedPoints:
    """Certificates of critical points z (B, k) of G(z; p) = J_c^T (Q c - p) (``CriticalSystem.certify``).

    ``certification``: the Krawczyk certificates of the roots (boxes, real / non-real, distinct roots);
    ``smooth[b]``: root b certified and, on its whole box, rank J_c = k and c != 0 (a certified critical point
    of the distance on the smooth part of the image, a "pure" point); ``distinct_function[b]``: root b
    certified and the enclosure of c over its box meets no enclosure of a point with another label."""

    certification: Any  # homotopy.Certification
    smooth: np.ndarray
    distinct_function: np.ndarray
    labels: np.ndarray

    @property
    def certified(self) -> np.ndarray:
        return self.certification.certified

    @property
    def real(self) -> np.ndarray:
        return self.certification.real

    def certified_functions(self, mask: np.ndarray | None = None) -> int:
        """Distinct functions (labels) of which some point is certified, smooth (when ``mask`` is None: any
        certified point) and certified distinct from every other function: a rigorous count."""
        ok = self.certification.certified & self.distinct_function
        if mask is not None:
            ok &= mask
        return int(len(set(self.labels[ok].tolist())))

    def evidence(self) -> dict[str, Any]:
        ev = dict(self.certification.summary())
        ev["smooth_on_box"] = int(self.smooth.sum())
        ev["distinct_functions_certified"] = self.certified_functions()
        ev["distinct_smooth_functions_certified"] = self.certified_functions(self.smooth)
        ev["meaning"] = (
            "certified: a box around the point contains exactly one root of the critical system, and it is "
            "regular (Krawczyk); real/non_real: proven by a conjugation-symmetric box / a box disjoint from its "
            "conjugate; smooth_on_box: on the box J_c has rank k (a k x k minor's ball determinant excludes 0) and "
            "c != 0; distinct functions: ball enclosures of c over the boxes of different functions are disjoint"
        )
        reasons = [r for r in self.certification.reason if r]
        if reasons:
            ev["first_failure"] = reasons[0]
        return ev


def certify_critical_points(cs: "CriticalSystem", z: np.ndarray, p: np.ndarray, labels: np.ndarray | None = None,
                            **kw: Any) -> CertifiedPoints:
    """``CriticalSystem.certify``."""
    from ..homotopy.certification import certify_solutions, disjoint_boxes, enclose_map, full_rank_on_boxes

    z = np.atleast_2d(np.asarray(z, dtype=complex))
    B = z.shape[0]
    lab = np.arange(B) if labels is None else np.asarray(labels, dtype=int)
    cert = certify_solutions(cs.system, z, np.asarray(p, dtype=complex), **kw)
    smooth = np.zeros(B, dtype=bool)
    distinct = np.zeros(B, dtype=bool)
    idx = np.flatnonzero(cert.certified)
    if len(idx):
        prec = int(cert.precision)
        mid, rad = cert.midpoints[idx], cert.radii[idx]
        enc = enclose_map(cs.c.exponents, cs.c.coefficients, mid, rad, precision=prec)
        full = full_rank_on_boxes([(d.exponents, d.coefficients) for d in cs.c_derivatives], mid, rad, precision=prec)
        smooth[idx] = full & enc.excludes_zero
        distinct[idx] = disjoint_boxes(enc.centres, enc.radii, lab[idx])
    return CertifiedPoints(cert, smooth, distinct, lab)


# Scale-free point decisions (``classify_points``).  gap = sigma_k(J_c(z)) / |J_abs(z)|_2 and size = |c(z)| /
# |c_abs(|z|)|, where J_abs, c_abs are J_c, c with all coefficients and coordinates replaced by their absolute
# values: the size of the terms, so round-off in J_c(z) and c(z) is about 1e-16 times J_abs and c_abs.
FULL_RANK_GAP = 1e-7  # gap above this: J_c has full rank k (a smooth critical point)
DEFICIENT_GAP = 1e-11  # gap below this: rank J_c < k (a critical point of the parametrization)
ZERO_IMAGE = 1e-11  # size below this: c(z) is the zero function (the vertex of the cone M)
NONZERO_IMAGE = 1e-7  # size above this: c(z) is not zero; sizes or gaps in between are undecided


@dataclass
class PointTypes:
    """Per point: ``smooth`` (J_c of full rank, c(z) != 0: counted), ``spurious`` (rank J_c < k, c(z) != 0),
    ``vertex`` (c(z) = 0: the zero function, a singular point of the cone M for every data point), and
    ``undecided`` (a gap or size between the two thresholds: too close to call, never counted as smooth
    and never certified)."""

    gap: np.ndarray
    size: np.ndarray
    smooth: np.ndarray
    spurious: np.ndarray
    vertex: np.ndarray
    undecided: np.ndarray

    def evidence(self) -> dict[str, Any]:
        ok = self.smooth
        return {
            "rule": f"rank J_c = k when sigma_k(J_c) / |J_abs|_2 > {FULL_RANK_GAP:g}, rank deficient below "
            f"{DEFICIENT_GAP:g}; c(z) = 0 when |c| / |c_abs| < {ZERO_IMAGE:g}, nonzero above "
            f"{NONZERO_IMAGE:g} (J_abs, c_abs: absolute values of all terms, the round-off scale)",
            "smooth": int(ok.sum()),
            "spurious": int(self.spurious.sum()),
            "vertex": int(self.vertex.sum()),
            "undecided": int(self.undecided.sum()),
            "smallest_gap_of_smooth": float(self.gap[ok].min()) if ok.any() else None,
            "smallest_size_of_smooth": float(self.size[ok].min()) if ok.any() else None,
        }


def classify_points(cs: "CriticalSystem", z: np.ndarray) -> PointTypes:
    """``CriticalSystem.classify``: the scale-free rank and zero-image decisions at slice points z."""
    z = np.atleast_2d(np.asarray(z, dtype=complex))
    if len(z) == 0:
        e = np.zeros(0, dtype=bool)
        return PointTypes(np.zeros(0), np.zeros(0), e, e, e, e)
    za = np.abs(z).astype(complex)
    finite = np.all(np.isfinite(z), axis=1)
    zf = np.where(finite[:, None], z, 0)
    zaf = np.where(finite[:, None], za, 0)
    J = cs.c.jacobian(zf)
    s = np.linalg.svd(J, compute_uv=False)
    Jabs = np.linalg.norm(cs.c_abs.jacobian(zaf).real, ord=2, axis=(1, 2))
    gap = s[:, -1] / np.maximum(Jabs, 1e-300)
    size = np.linalg.norm(cs.c.evaluate(zf), axis=1) / np.maximum(np.linalg.norm(cs.c_abs.evaluate(zaf).real, axis=1),
                                                                   1e-300)
    vertex = finite & (size < ZERO_IMAGE)
    nonzero = finite & (size > NONZERO_IMAGE)
    full = gap > FULL_RANK_GAP
    deficient = gap < DEFICIENT_GAP
    smooth = nonzero & full
    spurious = nonzero & deficient
    undecided = ~(smooth | spurious | vertex)
    return PointTypes(gap, size, smooth, spurious, vertex, undecided)


# sigma_k / sigma_1 of J_c below this: rank deficient (solutions are accurate to ~1e-14; pure critical
# points near a singular point of M, e.g. the zero function, have small but much larger gaps)
RANK_GAP = 1e-10
# sigma_k / sigma_1 in this band: a critical point too close to the singular locus to call pure or spurious
NEAR_SINGULAR = (1e-12, 1e-6)
IMAGE_TOL = 1e-6  # relative distance below which two functions c(z) are one
TRACE_DELTA = 0.2  # pencil half-width of the trace tests, relative to |p0|


def group_by_function(images: np.ndarray, full: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Labels of the distinct functions among the full-rank points (0..n_pure-1) and then among the
    rank-deficient ones (n_pure..), and the two counts; -1 for non-finite images."""
    from ..homotopy.solutions import deduplicate

    labels = np.full(len(images), -1, dtype=int)
    counts = []
    for mask in (full, ~full):
        idx = np.flatnonzero(mask)
        lab = deduplicate(images[idx], tol=IMAGE_TOL, return_labels=True) if len(idx) else np.zeros(0, dtype=int)
        offset = sum(counts)
        labels[idx] = np.where(lab >= 0, lab + offset, -1)
        counts.append(int(lab.max(initial=-1)) + 1)
    return labels, counts[0], counts[1]


def solve_critical(
    cs: CriticalSystem,
    p: np.ndarray,
    *,
    seed: int | None = 0,
    rng: np.random.Generator | None = None,
    progress: bool = False,
) -> CriticalPoints:
    """Every isolated solution of G(z; p) = 0 (total-degree homotopy: complete up to path failures,
    which the result reports), classified by ``classify_points`` (scale-free rank of J_c, zero function)
    and grouped by image point.  The random choices come from ``rng`` (a numpy Generator) when given,
    else from ``seed`` (an integer)."""
    from ..homotopy import solve_total_degree
    from ..runtime.progress import Progress

    # the tracker reports no per-path count: the job shows the number of paths it tracks and the time
    with Progress("total-degree homotopy", enabled=progress) as job:
        job.update(paths=f"tracking {cs.system.bezout_number} paths (Bezout number)")
        res = solve_total_degree(cs.system, np.asarray(p, dtype=complex).reshape(-1), seed=seed, rng=rng)
    Z = res.solutions
    D = cs.cmap.dimension
    types = cs.classify(Z)
    images = cs.c.evaluate(Z) if len(Z) else np.zeros((0, D), dtype=complex)
    full = types.smooth
    labels, n_smooth, n_spurious = group_by_function(images, full)
    return CriticalPoints(Z, images, full, types.gap, labels, n_smooth, n_spurious, res, res.singular_solutions,
                          types)


__all__ += ["CriticalPoints", "solve_critical", "RANK_GAP"]


def image_key(cs: CriticalSystem, rng: np.random.Generator):
    """(z, p) -> a random projection of c(z) to (at most) 4 complex coordinates: identifies critical points
    by their function (symmetric parameter points count once)."""
    D = cs.cmap.dimension
    m = min(D, 4)
    proj = (rng.standard_normal((D, m)) + 1j * rng.standard_normal((D, m))) / np.sqrt(2 * D)

    def key(z: np.ndarray, p: np.ndarray) -> np.ndarray:
        return cs.c.evaluate(z) @ proj

    return key


@dataclass
class FailedTraceTest:
    """A trace test that could not be run (its reason): counts as not passed."""

    reason: str
    passed: bool = False

    def __bool__(self) -> bool:
        return False

    def evidence(self) -> dict[str, Any]:
        return {"passed": False, "reason": self.reason}


def guarded_trace_test(test: Any) -> Any:
    """A trace-test callback whose input errors (witness points that Newton cannot refine at p0, e.g. points
    near the singular locus) become a failed test with the reason, not an error reaching the user."""

    def callback(points: np.ndarray, p0: np.ndarray) -> Any:
        try:
            return test(points, p0)
        except InputError as exc:
            return FailedTraceTest(f"trace test not run: {exc}")

    if hasattr(test, "get_state") and hasattr(test, "set_state"):  # a resumed monodromy run restores it
        callback.get_state, callback.set_state = test.get_state, test.set_state  # type: ignore[attr-defined]
    return callback


def critical_monodromy(
    cs: CriticalSystem,
    p0: np.ndarray,
    starts: np.ndarray,
    rng: np.random.Generator,
    *,
    progress: bool = False,
    loops_without_new: int = 8,
    retries: int = 0,
    target_count: int | None = None,
    checkpoint: Any = None,
    accept_undecided: bool = False,
) -> tuple[Any, list[dict[str, Any]]]:
    """Pure critical points over the data parameter p0 by monodromy from ``starts`` and random smooth
    critical pairs (``CriticalSystem.start_pairs``), deduplicated by function, stopped by two trace
    tests along independent pencils of data points or by stagnation.  Only smooth critical points
    (``classify_points``: J_c of full rank, c(z) != 0, decided scale-free) enter the set, so the trace
    test runs on exactly the set that is counted.  A stagnating run whose trace
    test fails is continued ``retries`` times with twice the patience.
    Returns (the last MonodromyResult, the evidence of every attempt)."""
    from ..homotopy import MonodromyOptions, make_trace_test, monodromy_solve
    from ..homotopy.monodromy import attempt_checkpoint

    k = cs.k
    key = image_key(cs, rng)

    def pairs(r: np.random.Generator, B: int) -> tuple[np.ndarray, np.ndarray]:
        sc = 10.0 ** r.uniform(np.log10(0.5), np.log10(2.0), size=(B, 1))
        z = sc * (r.standard_normal((B, k)) + 1j * r.standard_normal((B, k))) / np.sqrt(2)
        return cs.start_pairs(z, r)

    trace = guarded_trace_test(
        make_trace_test(cs.system, image=key, repeats=2, delta=TRACE_DELTA, seed=int(rng.integers(2**31))))

    def smooth(z: np.ndarray, p: np.ndarray) -> np.ndarray:
        t = cs.classify(z)
        return (t.smooth | t.undecided) if accept_undecided else t.smooth

    starts = np.atleast_2d(np.asarray(starts, dtype=complex))
    attempts: list[dict[str, Any]] = []
    stall = loops_without_new
    for attempt in range(retries + 1):
        ckpt = attempt_checkpoint(checkpoint, attempt)  # one file per attempt: each resumes its loop state
        res = monodromy_solve(
            cs.system, p0, starts,
            options=MonodromyOptions(tol=IMAGE_TOL, loops_without_new=stall, target_count=target_count,
                                     sample_limit=64, trace_growth=0.02, trace_growth_from=256),
            key=key, trace_test=trace, seed=int(rng.integers(2**31)), progress=progress, start_pairs=pairs,
            checkpoint=ckpt, resume=ckpt, accept=smooth,
        )
        attempts.append(res.evidence())
        if res.stopping_rule != "stagnation" or res.trace_test_passed:
            break
        starts, stall = res.solutions, 2 * stall
    return res, attempts


__all__ += ["critical_monodromy", "image_key", "group_by_function", "NEAR_SINGULAR", "IMAGE_TOL", "PointTypes",
            "classify_points", "guarded_trace_test"]
