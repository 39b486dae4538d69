"""Voronoi masses: which stratum of M is nearest to a random target.

For a target u in coefficient space (a function, in the metric Q of
``parametrization.coefficients.metric_matrix``), its nearest point on the real neuromanifold M is
the image of a real critical point of
theta -> 1/2 |c(theta) - u|_Q^2 with the smallest value (M is semialgebraic; working in parameter space
covers its boundary, where the nearest point is the image of a critical point of mu).  We solve
the critical-point system once completely at a generic complex target (total-degree homotopy, pure
points completed by monodromy and certified by trace tests), move every solution to each sampled
target by parameter homotopies (``critical_points.move_solutions``), and record the stratum of the
nearest point: ``smooth`` (rank d mu = dim M at the nearest parameter point) or the rank of d mu there
(critical points of mu: subnetworks, lower-rank strata), and ``zero function`` when c = 0.

The Voronoi cell of a stratum S is the set of targets whose nearest point lies in S; its mass under
the target distribution is estimated by the fraction of samples, with a Wilson 95% interval.  Targets
where a path failed or two paths met are ``uncertain`` and reported, not classified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..architectures import Architecture
from ..context import Context, as_context
from ..errors import InputError
from ..result import html_badge, html_card, html_evidence, html_table, html_text, jsonable

Distribution = Callable[[np.random.Generator, int], np.ndarray]


def wilson_interval(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k / n (95% by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class VoronoiResult:
    architecture: Architecture
    metric: str
    strata: dict[str, dict[str, Any]]  # label -> count, mass, ci95, rank of d mu, cell dimension
    n_samples: int
    n_uncertain: int
    evidence: dict[str, Any] = field(default_factory=dict)
    nearest_loss: np.ndarray | None = None

    @property
    def status(self) -> str:
        """Masses are Monte Carlo estimates (with 95% intervals): always numerical."""
        return "numerical"

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"architecture": self.architecture.spec(), "metric": self.metric, "status": self.status,
                         "strata": self.strata, "samples": self.n_samples, "uncertain": self.n_uncertain,
                         "evidence": self.evidence})

    def _repr_html_(self) -> str:
        """Jupyter: one row per stratum (targets, mass, 95% interval, cell dimension), the status, the evidence."""
        rows = []
        for name, st in sorted(self.strata.items(), key=lambda kv: -kv[1]["count"]):
            lo, hi = st["ci95"]
            cd = st.get("cell_dimension")
            rows.append((name, st["count"], f"{st['mass']:.4f}", f"[{float(lo):.4f}, {float(hi):.4f}]",
                         "-" if cd is None else f"{cd} ({st.get('cell_dimension_status', 'numerical')})"))
        body = [f"<p>Voronoi masses of the strata ({html_text(self.metric)} metric, {self.n_samples} targets, "
                f"{self.n_uncertain} uncertain) {html_badge(self.status)}</p>",
                html_table(("stratum", "targets", "mass", "95% interval", "cell dimension"), rows),
                html_evidence(self.evidence)]
        return html_card(f"<code>{html_text(self.architecture.spec())}</code>: Voronoi masses", body, kind="voronoi")


def nearest_points(cs: Any, base: Any, U: np.ndarray, rng: np.random.Generator) -> tuple[list, dict[str, Any]]:
    """For targets U (G, D): the nearest real critical point of 1/2 |c - u|_Q^2 (a dict with the
    parameter slice point z, its function c, squared distance, rank and gap of J_c), or None when the
    target is undecided (a failed or merged path, no real critical point, a tie between different
    functions, a nearest point within numerical distance of the singular locus)."""
    from .critical_points import move_solutions
    from ..invariants.critical_system import NEAR_SINGULAR

    n, k = len(base.z), cs.k
    P = cs.parameters(U)
    Z, ok, stats = move_solutions(cs, base, P, rng)
    G = len(U)
    Z, ok = Z.reshape(G, n, k), ok.reshape(G, n)
    out: list[dict[str, Any] | None] = []
    for g in range(G):
        if not ok[g].all():
            out.append(None)
            continue
        zg = Z[g]
        real = np.all(np.abs(zg.imag) <= 1e-7 * (1 + np.abs(zg.real)), axis=1)
        if not real.any():
            out.append(None)  # no real critical point: the infimum is not attained in the slice
            continue
        zr = zg[real].real
        c = cs.c.evaluate(zr.astype(complex)).real
        r = c - U[g][None, :]
        dist2 = np.einsum("bi,ij,bj->b", r, cs.Q, r)
        order = np.argsort(dist2)
        i = int(order[0])
        if len(order) > 1 and dist2[order[1]] - dist2[i] <= 1e-10 * (1 + dist2[i]):
            # two real critical points equally near: a target on a cell boundary (measure zero)
            if np.max(np.abs(c[order[1]] - c[i])) > 1e-8 * (1 + np.max(np.abs(c[i]))):
                out.append(None)
                continue
        sv = np.linalg.svd(cs.c.jacobian(zr[i : i + 1].astype(complex))[0], compute_uv=False)
        gap = sv[-1] / max(sv[0], 1e-300)
        if NEAR_SINGULAR[0] < gap < NEAR_SINGULAR[1]:
            out.append(None)  # too close to the singular locus to call
            continue
        out.append({"z": zr[i], "c": c[i], "dist2": float(dist2[i]), "gap": float(gap),
                    "rank": int(np.sum(sv > 1e-9 * sv[0]))})
    return out, stats


def optimised_nearest_points(cs: Any, U: np.ndarray, rng: np.random.Generator, restarts: int) -> tuple[list, dict]:
    """Nearest points by the best of ``restarts`` trust-region least-squares runs on the slice, minimising
    |L (c(z) - u)| with Q = L L^T (not certified: the global minimum can be missed)."""
    from ..parametrization.coefficients import real_least_squares

    L = np.linalg.cholesky(cs.Q)
    out: list[dict[str, Any] | None] = []
    for u in U:
        best = real_least_squares(cs.c, u, rng, restarts, weight=L.T, max_nfev=300)
        z = best.x
        c = cs.c.evaluate(z.astype(complex)[None, :])[0].real
        sv = np.linalg.svd(cs.c.jacobian(z.astype(complex)[None, :])[0], compute_uv=False)
        gap = sv[-1] / max(sv[0], 1e-300)
        # a local optimiser approaches a singular stratum only asymptotically: loose rank tolerance
        out.append({"z": z, "c": c, "dist2": float(2 * best.cost), "gap": float(gap),
                    "rank": int(np.sum(sv > OPT_RANK_TOL * sv[0])), "rank_tol": OPT_RANK_TOL})
    return out, {"paths_tracked": 0, "optimisation_runs": restarts * len(U)}


OPT_RANK_TOL = 1e-4


def stratum_label(nr: dict[str, Any], u: np.ndarray) -> str:
    """The stratum of a nearest point: ``zero function``, ``smooth`` (sigma_min / sigma_max of the slice
    Jacobian above the rank gap) or ``critical of mu (rank r)``."""
    from ..invariants.critical_system import RANK_GAP

    if np.max(np.abs(nr["c"])) <= 1e-9 * (1 + np.max(np.abs(u))):
        return "zero function"
    if nr["gap"] > nr.get("rank_tol", RANK_GAP):
        return "smooth"
    return f"critical of mu (rank {nr['rank']})"


def voronoi_masses(
    spec: str | Architecture | Context,
    *,
    metric: str = "euclidean",
    distribution: str | Distribution = "gaussian",
    n_samples: int = 1000,
    batch: int = 200,
    seed: int | None = None,
    total_degree_limit: int = 50_000,
    restarts: int = 20,
    cell_probes: int = 3,
    progress: bool = False,
) -> VoronoiResult:
    """Masses of the Voronoi cells of the strata of M under a target distribution in coefficient space.

    distribution: "gaussian" (standard normal coefficients) or a callable rng, n -> (n, D) targets.
    Nearest points are exact when the critical-point system has Bezout number <= total_degree_limit;
    otherwise the best of ``restarts`` local optimisations per target, labelled as such in the evidence.

    The Voronoi cell of a nearest point x is the fiber of the nearest-point map u -> x(u) over x.  For
    each stratum, at ``cell_probes`` of its sampled targets u, the Jacobian of u -> x(u) is taken by
    central differences (the nearest points of u +- h e_j, which must stay in the stratum); its rank rho
    is the local dimension of the stratum's nearest points and D - rho the dimension of their cells
    (numerical: singular-value gap; D - dim M at smooth points, larger at singular ones)."""
    from .critical_points import base_solutions
    from ..invariants.ed_degree import ed_critical_system

    t0 = time.perf_counter()
    if n_samples < 1 or batch < 1:
        raise InputError("n_samples and batch must be positive")
    ctx = as_context(spec, seed=seed, progress=progress, options={"metric": metric})
    cs = ed_critical_system(ctx, metric)
    D, k = cs.cmap.dimension, cs.k
    exact = cs.system.bezout_number <= total_degree_limit
    rng = ctx.rng("voronoi")
    if isinstance(distribution, str):
        if distribution != "gaussian":
            raise InputError(f"unknown distribution {distribution!r}; use 'gaussian' or a callable (rng, n) -> (n, {D})")

        def draw(r: np.random.Generator, n: int) -> np.ndarray:
            return r.standard_normal((n, D))
    else:
        draw = distribution
    probe = np.asarray(draw(np.random.default_rng(0), 2), dtype=float)
    if probe.ndim != 2 or probe.shape[1] != D:
        raise InputError(
            f"the distribution gives targets of shape {probe.shape[1:]} but M lives in R^{D} (the coefficients of "
            f"{ctx.arch.spec()}); return arrays of shape (n, {D})"
        )
    pstar = cs.parameters(rng.standard_normal(D) + 1j * rng.standard_normal(D))
    base = base_solutions(ctx, cs, pstar, rng) if exact else None
    labels: list[str] = []
    ranks: dict[str, list[int]] = {}
    probes: dict[str, list[tuple[np.ndarray, dict[str, Any]]]] = {}  # stratum -> (target, nearest point)
    losses = []
    uncertain = tracked = 0
    from ..runtime.progress import Bar

    # on stderr, a bar on a terminal, else a plain line every few seconds
    batches = Bar(range(0, n_samples, batch), desc=f"voronoi: {n_samples} targets in batches of {batch}",
                  unit="batches", enabled=progress)
    for start in batches:
        U = np.asarray(draw(rng, min(batch, n_samples - start)), dtype=float)
        if U.shape[1:] != (D,) or not np.all(np.isfinite(U)):
            raise InputError(f"the distribution must give finite targets of shape (n, {D})")
        near, stats = nearest_points(cs, base, U, rng) if exact else optimised_nearest_points(cs, U, rng, restarts)
        tracked += stats["paths_tracked"]
        for g, nr in enumerate(near):
            if nr is None:
                uncertain += 1
                continue
            label = stratum_label(nr, U[g])
            labels.append(label)
            ranks.setdefault(label, []).append(nr["rank"])
            if len(probes.setdefault(label, [])) < cell_probes:
                probes[label].append((U[g].copy(), nr))
            losses.append(nr["dist2"] / 2)
    m = len(labels)
    nearest_fn = (lambda V: nearest_points(cs, base, V, rng)[0]) if exact else None
    strata: dict[str, dict[str, Any]] = {}
    for name in sorted(set(labels)):
        cnt = labels.count(name)
        lo, hi = wilson_interval(cnt, m)
        cell = _cell_dimension(cs, probes[name], name, nearest_fn, D)
        strata[name] = {
            "count": cnt,
            "mass": cnt / m if m else 0.0,
            "ci95": [lo, hi],
            "rank_of_slice_jacobian": int(np.median(ranks[name])),
            "cell_dimension": cell["value"],
            "cell_dimension_status": cell["status"],
            "cell_dimension_evidence": cell["evidence"],
        }
    ev = {
        "method": "nearest real critical point of 1/2 |c(theta) - u|_Q^2 for each sampled target u: complete solve "
        "at a generic complex target, parameter homotopies to the samples",
        **(base.evidence if base is not None else {}),
        "paths_tracked": tracked,
        "coefficients": D,
        "dim_M": k,
        "seconds": round(time.perf_counter() - t0, 3),
        "nearest_point": "exact (complete critical-point solve)" if exact else (
            f"optimisation: best of {restarts} trust-region least-squares runs from random real starts per target "
            f"(the Bezout number {cs.system.bezout_number} exceeds total_degree_limit = {total_degree_limit}); "
            "an upper bound on the distance, the stratum of a local optimum when the runs miss the global one"),
    }
    return VoronoiResult(ctx.arch, metric, strata, m, uncertain, ev, np.array(losses))


CELL_STEP = 1e-5  # central-difference step, relative to 1 + |u|_inf
CELL_RANK_TOL = 1e-4  # singular values of the nearest-point Jacobian below this (relative) are zero
CELL_GAP = 1e3  # ... when the next one up is at least this much larger


def _polish(cs: Any, z0: np.ndarray, u: np.ndarray) -> dict[str, Any]:
    """The local nearest point continued from the slice point z0 to the target u (least squares, warm start)."""
    from scipy.optimize import least_squares

    L = np.linalg.cholesky(cs.Q)
    fun = lambda z: L.T @ (cs.c.evaluate(z.astype(complex)[None, :])[0].real - u)  # noqa: E731
    jac = lambda z: L.T @ cs.c.jacobian(z.astype(complex)[None, :])[0].real  # noqa: E731
    r = least_squares(fun, z0, jac=jac, method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=500)
    return {"c": cs.c.evaluate(r.x.astype(complex)[None, :])[0].real}


def _cell_dimension(cs: Any, probes: list, label: str, nearest_fn: Any, D: int) -> dict[str, Any]:
    """Dimension of the Voronoi cells of a stratum: D - rank of d(u -> nearest point) at probe targets."""
    dims, evid = [], []
    for u, nr in probes:
        h = CELL_STEP * (1 + np.max(np.abs(u)))
        V = np.concatenate([u[None, :] + h * np.eye(D), u[None, :] - h * np.eye(D)])
        if nearest_fn is not None:
            near = nearest_fn(V)
            if any(q is None or stratum_label(q, v) != label for q, v in zip(near, V)):
                evid.append({"skipped": "a perturbed target was undecided or left the stratum"})
                continue
            X = np.array([q["c"] for q in near])
        else:  # optimisation fallback: continue the local optimum found for u
            X = np.array([_polish(cs, nr["z"], v)["c"] for v in V])
        Jx = (X[:D] - X[D:]).T / (2 * h)  # (D, D): d x / d u
        sv = np.linalg.svd(Jx, compute_uv=False)
        if sv[0] <= 1e-8:
            rho, gap = 0, float("inf")  # the nearest point does not move: a vertex (zero function)
        else:
            rel = sv / sv[0]
            rho = int(np.sum(rel > CELL_RANK_TOL))
            gap = float(rel[rho - 1] / rel[rho]) if rho < D and rel[rho] > 0 else float("inf")
            if rho == D and rel[-1] < CELL_GAP * CELL_RANK_TOL:
                gap = 0.0  # the smallest singular value is neither clearly zero nor clearly not
        if gap < CELL_GAP:
            evid.append({"skipped": "no clear singular-value gap", "singular_values": sv.tolist()})
            continue
        dims.append(D - rho)
        evid.append({"rank_of_nearest_point_map": rho, "gap": gap, "singular_values": sv.tolist()})
    if not dims:
        return {"value": None, "status": "inconclusive", "evidence": evid}
    if len(set(dims)) > 1:
        return {"value": min(dims), "status": "lower_bound", "evidence": evid + [{"note": "probes disagree"}]}
    return {"value": dims[0], "status": "numerical", "evidence": evid}


@dataclass
class VoronoiCell:
    """The Voronoi cell of one point x of M, probed by targets near x."""

    point: np.ndarray  # (D,) coefficients of x
    smooth: bool  # rank d mu = dim M at a real preimage of x
    dimension: int  # estimated dimension of the cell
    fraction_ball: tuple[int, int]  # (targets with nearest point x, decided targets) in a ball around x
    fraction_normal: tuple[int, int]  # the same for targets x + normal vectors
    evidence: dict[str, Any] = field(default_factory=dict)
    status: str = "numerical"  # a sampling estimate (probes of a ball and of the normal space)

    def _repr_html_(self) -> str:
        """Jupyter: the cell's dimension with its status, the probe counts, the evidence."""
        point = ", ".join(f"{v:.4g}" for v in np.asarray(self.point, dtype=float).ravel())
        rows = [("point (coefficients)", point), ("smooth point of M", "yes" if self.smooth else "no"),
                ("targets in a ball nearest to the point", f"{self.fraction_ball[0]} of {self.fraction_ball[1]}"),
                ("targets along the normal space nearest to it", f"{self.fraction_normal[0]} of {self.fraction_normal[1]}")]
        body = [f"<p>cell dimension: <span class='nm-value'>{self.dimension}</span> {html_badge(self.status)}</p>",
                html_table(("", ""), rows), html_evidence(self.evidence)]
        return html_card("Voronoi cell of a point of M", body, kind="voronoi_cell")


def _real_preimage(cs: Any, y: np.ndarray, rng: np.random.Generator, restarts: int = 20) -> np.ndarray | None:
    """A real slice point z with c(z) = y (trust-region least squares from random starts), or None."""
    from ..parametrization.coefficients import real_least_squares

    r = real_least_squares(cs.c, y, rng, restarts, stop_tol=1e-9)
    return r.x if np.max(np.abs(r.fun)) <= 1e-9 * (1 + np.max(np.abs(y))) else None


def voronoi_cell(
    spec: str | Architecture | Context,
    point: Any,
    *,
    metric: str = "euclidean",
    radius: float = 1e-2,
    n_samples: int = 200,
    seed: int | None = None,
) -> VoronoiCell:
    """Dimension of the Voronoi cell of the point ``point`` of M (its coefficient vector, length D).

    Targets u = x + radius * w are sampled with w uniform in the unit ball (``fraction_ball``) and in the
    unit ball of the normal space (metric Q) of the stratum through x, whose tangent space is the image
    of d mu at a real preimage (rank r: dim M at a smooth point) (``fraction_normal``); the exact nearest
    point of each is found as in ``voronoi_masses``.  A positive fraction in the ball means a
    full-dimensional cell (D); else a positive fraction along the normal space means dimension D - r;
    else no sampled target besides x itself is nearest to x (reported 0; numerical)."""
    from .critical_points import base_solutions
    from ..invariants.ed_degree import ed_critical_system

    ctx = as_context(spec, seed=seed, options={"metric": metric})
    cs = ed_critical_system(ctx, metric)
    D, k = cs.cmap.dimension, cs.k
    x = np.asarray(point, dtype=float).reshape(-1)
    if x.shape != (D,) or not np.all(np.isfinite(x)):
        raise InputError(f"the point must be a finite coefficient vector of length {D} for {ctx.arch.spec()}; "
                         f"got shape {np.asarray(point).shape}")
    rng = ctx.rng("voronoi-cell")
    z = _real_preimage(cs, x, rng)
    if z is None:
        raise InputError(f"the point is not on the real neuromanifold of {ctx.arch.spec()} (no real parameters "
                         "reproduce it, to 1e-9 relative); pass the coefficients of a network function")
    J = cs.c.jacobian(z.astype(complex)[None, :])[0].real
    sv = np.linalg.svd(J, compute_uv=False)
    smooth = bool(sv[-1] > 1e-8 * sv[0])
    base = base_solutions(ctx, cs, cs.parameters(rng.standard_normal(D) + 1j * rng.standard_normal(D)), rng)
    scale = radius * (1 + np.max(np.abs(x)))

    def hits(W: np.ndarray) -> tuple[int, int]:
        near, _ = nearest_points(cs, base, x[None, :] + scale * W, rng)
        dec = [nr for nr in near if nr is not None]
        tol = 1e-6 * (1 + np.max(np.abs(x)))
        return sum(np.max(np.abs(nr["c"] - x)) <= tol for nr in dec), len(dec)

    def ball(dim: int, n: int) -> np.ndarray:
        g = rng.standard_normal((n, dim))
        return g / np.linalg.norm(g, axis=1, keepdims=True) * rng.random((n, 1)) ** (1 / dim)

    fb = hits(ball(D, n_samples))
    # the stratum through x: tangent space = column space of J at the preimage (rank r; r = dim M at a
    # smooth point, less on a stratum of critical values); its normal space in the metric Q
    r = int(np.sum(sv > 1e-8 * sv[0]))
    fn = (0, 0)
    if D > r:
        U, _, _ = np.linalg.svd(J, full_matrices=True)
        T = U[:, :r]  # orthonormal tangent basis
        Nq = np.linalg.svd((cs.Q @ T).T)[2][r:].T if r else np.eye(D)  # (D, D - r): n with T^T Q n = 0
        fn = hits(ball(D - r, n_samples) @ Nq.T)
    if fb[0] > 0:
        dim = D
    elif fn[0] > 0:
        dim = D - r
    else:
        dim = 0
    ev = {"radius": scale, "metric": metric, "rank_of_jacobian_at_preimage": r,
          "dim_M": k, "coefficients": D,
          "meaning": "dimension D: a positive fraction of a ball around x is nearest to x; D - r: only normal "
          "directions of the stratum through x are; 0: no sampled target besides x itself (numerical)"}
    return VoronoiCell(x, smooth, dim, fb, fn, ev)


__all__ = ["voronoi_masses", "voronoi_cell", "VoronoiResult", "VoronoiCell", "nearest_points", "wilson_interval"]
