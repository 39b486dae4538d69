"""All critical points of the mean-squared loss of a network on a data set, with their types.

L(theta) = (1/n) sum_i |f_theta(x_i) - y_i|^2 is, in the coefficient vector c of f_theta,
(1/n) |A c - b|^2 with A the design matrix of the monomials at the samples; so
grad L = J_c^T (Q c - p) with Q = (2/n) A^T A and p = (2/n) A^T b, and the critical points on a
coordinate slice of parameter space (``invariants.critical_system``) solve a square polynomial system.  With at
most ``total_degree_limit`` paths the system is solved completely by the total-degree homotopy
(every isolated critical point, complex and real); otherwise the ED points (critical points on the
smooth locus of M) are gathered by monodromy at generic data and moved to these data by a
parameter homotopy.  Every critical point gets:

* ``kind``: ``pure`` (rank J_c = dim M: a critical point of the loss on M) or ``spurious`` (a
  critical point of the parametrization mu);
* for real parameter points, the loss, the Hessian eigenvalues on the slice (symmetry directions
  removed), in the full parameter space, and (pure points) of L restricted to M in orthonormal
  tangent coordinates; the type (local minimum, strict saddle, non-strict saddle, local maximum)
  from the last (same signature as on the slice, by Sylvester's law, but well scaled).

The global minimum over real parameters, when the loss attains it, is a critical point; it is
``certified`` as the best real critical point when the solve was complete (no failed paths) and no
positive-dimensional critical component has a smaller critical value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..context import Context, as_context
from ..parametrization.coefficients import CoefficientMap, SparsePolynomials, coefficient_map
from ..errors import InputError
from ..invariants.critical_system import (
    IMAGE_TOL,
    CriticalSystem,
    critical_monodromy,
    critical_system,
    group_by_function,
    solve_critical,
)
from ..result import HTML, html_badge, html_card, html_evidence, html_table, html_text, jsonable

REAL_TOL = 1e-7  # |Im| <= REAL_TOL (1 + |.|): real
EIG_TOL = 1e-7  # Hessian eigenvalues within EIG_TOL * max |eig| of 0 are zero
TOTAL_DEGREE_LIMIT = 50_000


@dataclass
class LossData:
    """The mean-squared loss as a quadratic form in the coefficients: L(c) = c^T Q c / 2 - p^T c + const."""

    Q: np.ndarray  # (D, D) = (2/n) A^T A
    p: np.ndarray  # (D,) = (2/n) A^T b
    const: float  # (1/n) |b|^2
    n_samples: int

    def loss(self, c: np.ndarray) -> np.ndarray:
        """L at coefficient vectors c (B, D) (complex values at complex points)."""
        return 0.5 * np.einsum("bi,ij,bj->b", c, self.Q, c) - c @ self.p + self.const


def loss_data(arch: Architecture, cmap: CoefficientMap, X: Any, Y: Any) -> LossData:
    """Validate the data and build the quadratic form of the mean-squared loss.

    X: (n, n_inputs) samples as rows (for attention also (n, d, t)); Y: (n, outputs) (or (n,) for
    one output; for attention also (n, d', t))."""
    X = np.asarray(X, dtype=float) if not isinstance(X, np.ndarray) else X
    Y = np.asarray(Y, dtype=float) if not isinstance(Y, np.ndarray) else Y
    if not (np.issubdtype(X.dtype, np.number) and np.issubdtype(Y.dtype, np.number)):
        raise InputError("X and Y must be numeric arrays")
    if np.iscomplexobj(X) or np.iscomplexobj(Y):
        raise InputError("X and Y must be real (the loss is the real mean-squared error)")
    X, Y = X.astype(float), Y.astype(float)
    if X.ndim == 0 or X.shape[0] == 0:
        raise InputError("X has no samples; pass an array of shape (n_samples, n_inputs)")
    n = X.shape[0]
    X = X.reshape(n, -1)
    if X.shape[1] != arch.n_inputs:
        raise InputError(
            f"X has {X.shape[1]} input variables per sample but {arch.spec()} takes {arch.n_inputs}; "
            f"pass X of shape (n_samples, {arch.n_inputs})"
        )
    out = arch.output_size()
    if Y.shape[0] != n:
        raise InputError(f"X has {n} samples but Y has {Y.shape[0]}; pass one output row per sample")
    Y = Y.reshape(n, -1)
    if Y.shape[1] != out:
        raise InputError(
            f"Y has {Y.shape[1]} outputs per sample but {arch.spec()} has {out}; pass Y of shape (n_samples, {out})"
        )
    for name, arr in (("X", X), ("Y", Y)):
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise InputError(f"{name} contains NaN or infinite values (first at row {bad[0]}); clean the data")
    D = cmap.dimension
    E = np.array([a for _, a in cmap.monomials], dtype=int).reshape(D, -1)
    outs = np.array([o for o, _ in cmap.monomials], dtype=int)
    V = np.prod(X[:, None, :] ** E[None, :, :], axis=2)  # (n, D): x_i^alpha of coefficient a
    A = np.zeros((n, out, D))
    A[:, outs, np.arange(D)] = V
    A = A.reshape(n * out, D)
    b = Y.reshape(n * out)
    rank = np.linalg.matrix_rank(A)
    if rank < D:
        raise InputError(
            f"the data determine only {rank} of the {D} coefficients of the network function (too few or "
            f"degenerate samples: {n} given); the loss is then flat along function space and its critical points "
            f"are not isolated. Pass at least {-(-D // out)} samples in general position"
        )
    Q = (2.0 / n) * A.T @ A
    p = (2.0 / n) * A.T @ b
    return LossData(Q, p, float(b @ b) / n, n)


def second_derivatives(P: SparsePolynomials) -> list[list[SparsePolynomials]]:
    firsts = [P.derivative(i) for i in range(P.n_vars)]
    return [[firsts[i].derivative(j) for j in range(P.n_vars)] for i in range(P.n_vars)]


def hessians(P: SparsePolynomials, seconds: list[list[SparsePolynomials]], x: np.ndarray, Q: np.ndarray,
             p: np.ndarray) -> np.ndarray:
    """Hessians (B, n, n) of c^T Q c / 2 - p^T c at points x (B, n): J^T Q J + sum_a (Q c - p)_a Hess c_a.
    p: (D,) or one row per point (B, D)."""
    x = np.atleast_2d(x)
    c = P.evaluate(x)
    J = P.jacobian(x)
    r = c @ Q.T - p
    n = P.n_vars
    H = np.einsum("bai,ac,bcj->bij", J, Q, J)
    for i in range(n):
        for j in range(n):
            H[:, i, j] += np.einsum("ba,ba->b", seconds[i][j].evaluate(x), r)
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def tangent_hessian_eigenvalues(cs: CriticalSystem, H_slice: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Eigenvalues (B, k) of the slice Hessians written in orthonormal coordinates of the tangent space of M
    (z = V S^{-1} w with J_c = U S V^T): the Hessian of L on M, same signature (Sylvester), well scaled."""
    _, sv, Vt = np.linalg.svd(cs.c.jacobian(np.atleast_2d(z)).real, full_matrices=False)
    T = np.swapaxes(Vt, 1, 2) / sv[:, None, :]
    return np.linalg.eigvalsh(np.swapaxes(T, 1, 2) @ H_slice @ T)


def classify(eigs: np.ndarray) -> str:
    """Type of a critical point from its Hessian eigenvalues (real, symmetric Hessian)."""
    scale = max(1.0, float(np.max(np.abs(eigs), initial=0.0)))
    pos = eigs > EIG_TOL * scale
    neg = eigs < -EIG_TOL * scale
    zero = ~pos & ~neg
    if np.all(pos):
        return "local minimum"
    if np.all(neg):
        return "local maximum"
    if np.any(pos) and np.any(neg):
        return "strict saddle"
    # semidefinite with zero eigenvalues: the second-order test is inconclusive
    return "non-strict saddle or degenerate minimum" if np.any(pos) or np.all(zero) else "non-strict saddle or degenerate maximum"


@dataclass
class CriticalPoint:
    """One isolated critical point of the loss on the parameter slice."""

    theta: np.ndarray  # (N,) complex parameter point
    coefficients: np.ndarray  # (D,) its function, coefficients
    function_label: int  # index of its distinct function (critical points of L on M, or spurious images)
    kind: str  # "pure" | "spurious"
    real: bool
    loss: complex
    jacobian_gap: float
    slice_hessian_eigenvalues: np.ndarray | None = None
    hessian_eigenvalues: np.ndarray | None = None
    tangent_hessian_eigenvalues: np.ndarray | None = None  # pure points: Hessian of L on M, orthonormal coordinates
    type: str | None = None
    certified: bool | None = None  # None: not checked; True: a box holds exactly one regular critical point
    certified_real: bool | None = None  # True / False proven real / non-real; None: not proven either way
    certified_pure: bool | None = None  # J_c of full rank and c != 0 on the whole box

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind,
            "real": self.real,
            "function": self.function_label,
            "loss": float(self.loss.real) if self.real else [self.loss.real, self.loss.imag],
            "jacobian_gap": self.jacobian_gap,
            "theta": self.theta.real.tolist() if self.real else [[v.real, v.imag] for v in self.theta],
        }
        if self.certified is not None:
            d["certified"] = {"root": self.certified, "real": self.certified_real, "pure": self.certified_pure}
        if self.real:
            d["type"] = self.type
            d["slice_hessian_eigenvalues"] = self.slice_hessian_eigenvalues
            d["hessian_eigenvalues"] = self.hessian_eigenvalues
            if self.tangent_hessian_eigenvalues is not None:
                d["tangent_hessian_eigenvalues"] = self.tangent_hessian_eigenvalues
        return jsonable(d)


@dataclass
class CriticalPointsResult:
    """Every isolated critical point found, the counts and the certified global minimum."""

    architecture: Architecture
    points: list[CriticalPoint]
    counts: dict[str, int]
    complete: bool
    status: str  # of the point list: "certified" / "numerical" / "lower_bound"
    global_minimum: dict[str, Any] | None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def real_points(self) -> list[CriticalPoint]:
        return [q for q in self.points if q.real]

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "architecture": self.architecture.spec(),
                "counts": self.counts,
                "complete": self.complete,
                "status": self.status,
                "global_minimum": self.global_minimum,
                "points": [q.to_dict() for q in self.points],
                "evidence": self.evidence,
            }
        )

    def _repr_html_(self) -> str:
        """Jupyter: the counts (complex, pure, spurious, real), the real points with loss and type, the global
        minimum with its status, the evidence."""
        c = self.counts
        keys = ("complex", "complex_pure", "complex_spurious", "functions_pure", "real", "real_pure", "real_spurious")
        body = [f"<p>critical points of the mean-squared loss {html_badge(self.status)}"
                f" (solve {'complete' if self.complete else 'not shown complete'})</p>",
                html_table(keys, [[c.get(k, "-") for k in keys]])]
        extra = [k for k in c if k not in keys]
        if extra:
            body.append(html_table(extra, [[c[k] for k in extra]]))
        rows = []
        for i, q in enumerate(sorted(self.real_points, key=lambda q: q.loss.real)):
            e = q.tangent_hessian_eigenvalues if q.tangent_hessian_eigenvalues is not None else q.slice_hessian_eigenvalues
            cert = "-" if q.certified is None else ("yes" if q.certified and q.certified_real is True else "no")
            rows.append((i, q.kind, f"{q.loss.real:.8g}", q.type, ", ".join(f"{v:.3g}" for v in (e if e is not None else [])),
                         cert))
        if rows:
            body.append(html_table(("#", "kind", "loss", "type", "Hessian eigenvalues", "certified"), rows))
        g = self.global_minimum
        if g is not None:
            loss = g["loss"] if isinstance(g.get("loss"), str) else f"{g['loss']:.10g}"
            body.append(HTML(f"<p>global minimum: loss {html_text(loss)} {html_badge(g['status'])} "
                             f"<span class='nm-note'>{html_text(g.get('why'))}</span></p>"))
        body.append(html_evidence(self.evidence))
        return html_card(f"<code>{html_text(self.architecture.spec())}</code>: critical points", body,
                         kind="critical_points")


def critical_points(
    spec: str | Architecture | Context,
    X: Any,
    Y: Any,
    *,
    seed: int | None = None,
    total_degree_limit: int = TOTAL_DEGREE_LIMIT,
    progress: bool = False,
    force: bool = False,
    on_estimate: Any = None,
    certify: bool = False,
) -> CriticalPointsResult:
    """All complex critical points of the mean-squared loss of ``spec`` on (X, Y), classified.

    ``certify``: certify every point with interval arithmetic (``CriticalSystem.certify``: a box with exactly
    one regular critical point, real or not, pure or not, distinct functions); the counts then gain
    ``certified_*`` entries.  Without it only the global minimum's point is certified (its status is
    ``certified`` only when its point is).

    Cost guard: the Bezout number of the critical-point system bounds the isolated critical points (and is the
    number of paths of the total-degree homotopy); ``on_estimate(dict)`` receives it before solving, and beyond
    ``invariants.cost.COST_CAP`` an InputError refuses unless ``force``."""
    from ..invariants.dimension import dimension_data

    ctx = as_context(spec, seed=seed, progress=progress)
    arch = ctx.arch
    cmap = coefficient_map(arch)
    data = loss_data(arch, cmap, X, Y)
    d = dimension_data(ctx)
    if not d.certified:
        raise InputError(f"{arch.spec()}: critical points need a certified dimension; only {d.lower} <= dim M <= {d.upper}")
    cs = critical_system(arch, cmap, data.Q, d.lower, ctx.rng("critical-slice-data"))
    ev: dict[str, Any] = {"slice": cs.slice_info, "equation_degrees": cs.system.degrees.tolist(),
                          "bezout_number": cs.system.bezout_number, "samples": data.n_samples,
                          "coefficients": cmap.dimension, "dim_M": d.lower}
    est = critical_cost_estimate(cs, total_degree_limit=total_degree_limit)
    if on_estimate is not None:
        on_estimate(est)
    from ..invariants.cost import COST_CAP

    if not force and est["bound"] > COST_CAP:
        raise InputError(
            f"{arch.spec()}: critical points may number up to {float(est['bound']):.2e} ({est['formula']}) > the cap "
            f"{COST_CAP:.0e}; pass --force (force=True) to solve unbounded"
        )
    rng = ctx.rng("critical-points")
    if cs.system.bezout_number <= total_degree_limit:
        crit = solve_critical(cs, data.p, seed=int(rng.integers(2**31)), progress=bool(ctx.progress))
        ev["method"] = (
            "total-degree homotopy on grad L = J_c^T (Q c - p) = 0 (every isolated solution), then monodromy "
            "around the data point from the pure critical points (finds pure points whose paths were lost; "
            "trace test on the pure points)"
        )
        ev["solve"] = crit.evidence()
        complete = crit.solve.n_failed == 0
        Z = crit.z
        n_components = int(len(crit.singular_z))
        singular_losses = data.loss(cs.c.evaluate(crit.singular_z)) if n_components else np.zeros(0)
        more, trace_ok, ev_mono = _complete_pure(ctx, cs, data.p.astype(complex), Z[crit.full_rank], rng)
        ev.update(ev_mono)
        Z = np.concatenate([Z, more]) if len(more) else Z
    else:
        Z, ev_ed = _ed_points_moved(ctx, cs, data, rng)
        ev.update(ev_ed)
        # paths of the parameter homotopy can jump onto each other: complete by monodromy at the data
        more, trace_ok, ev_mono = _complete_pure(ctx, cs, data.p.astype(complex), Z, rng)
        ev["completion"] = ev_mono
        Z = np.concatenate([Z, more]) if len(more) else Z
        complete = False
        n_components = 0
        singular_losses = np.zeros(0)
    # one scale-free rule for every point (``critical_system.classify_points``), as in the discriminant maps: pure =
    # J_c of full rank and c(z) != 0; the zero function and rank-deficient points are spurious; a point too
    # close to call keeps the solve from being complete
    types = cs.classify(Z)
    gap, full = types.gap, types.smooth | types.undecided
    ev["point_types"] = types.evidence()
    if types.undecided.any():
        complete = False
        ev["undecided_points"] = (f"{int(types.undecided.sum())} critical points too close to the singular locus to "
                                  "call pure or spurious (counted as pure); the solve is not shown complete")
    ev["pure_points_trace_test_passed"] = bool(trace_ok)
    return _assemble(arch, cmap, cs, data, Z, full, gap, complete, trace_ok, n_components, singular_losses, ev,
                     certify)


def critical_cost_estimate(cs: CriticalSystem, *, total_degree_limit: int = TOTAL_DEGREE_LIMIT) -> dict[str, Any]:
    """An upper bound on the isolated critical points (and the work) of ``critical_points``: the Bezout number
    of the critical-point system (the paths of its total-degree homotopy; with more than ``total_degree_limit``
    the pure ones are gathered by monodromy instead, at most that many)."""
    b = int(cs.system.bezout_number)
    method = (f"total-degree homotopy, {b} paths" if b <= total_degree_limit
              else "monodromy (Bezout number above the total-degree limit)")
    return {"bound": b, "formula": f"Bezout number prod deg = {' * '.join(str(int(d)) for d in cs.system.degrees)}"
            if len(cs.system.degrees) <= 8 else "Bezout number prod deg of the critical-point system",
            "method": method, "equations": int(len(cs.system.degrees))}


def _complete_pure(ctx: Any, cs: CriticalSystem, p: np.ndarray, pure: np.ndarray, rng: np.random.Generator):
    """Pure critical points at the data p missed by the total-degree solve (monodromy from the found ones)."""
    from ..homotopy.solutions import deduplicate

    if len(pure) == 0:
        return np.zeros((0, cs.k), dtype=complex), False, {"monodromy": "no pure critical point to start from"}
    res, _ = critical_monodromy(cs, p, pure, rng, progress=ctx.progress, accept_undecided=True)
    sols = res.solutions
    imgs_old = cs.c.evaluate(pure)
    imgs_new = cs.c.evaluate(sols) if len(sols) else np.zeros((0, imgs_old.shape[1]), dtype=complex)
    both = np.concatenate([imgs_old, imgs_new])
    lab = deduplicate(both, tol=IMAGE_TOL, return_labels=True)
    known = set(lab[: len(pure)].tolist())
    new = [i for i in range(len(sols)) if lab[len(pure) + i] not in known and lab[len(pure) + i] >= 0]
    ev = {"monodromy": res.evidence(), "pure_points_added_by_monodromy": len(new)}
    return sols[new], res.trace_test_passed, ev


def _ed_points_moved(ctx: Any, cs: CriticalSystem, data: LossData, rng: np.random.Generator):
    """ED points at generic data by monodromy (trace-tested), moved to the data by parameter homotopies."""
    k = cs.k
    z0 = (rng.standard_normal((1, k)) + 1j * rng.standard_normal((1, k))) / np.sqrt(2)
    z0, p0 = cs.start_pairs(z0, rng)
    res, _ = critical_monodromy(cs, p0[0], z0, rng, progress=ctx.progress)
    base = BaseSolutions(p0[0], res.solutions, len(res.solutions), {})
    from ..runtime.progress import Progress

    with Progress("parameter homotopy to the data", enabled=bool(ctx.progress)) as job:
        job.update(paths=f"tracking {len(res.solutions)} paths")
        Z, ok, stats = move_solutions(cs, base, data.p[None, :], rng)
    ev = {
        "method": "ED points at a generic data point by monodromy (trace test), moved to the data by a "
        "parameter homotopy; critical points of the parametrization (spurious) are not searched",
        "monodromy_at_generic_data": res.evidence(),
        "parameter_homotopy": stats,
    }
    return Z[ok], ev


def _assemble(arch, cmap, cs, data, Z, full, gap, complete, trace_ok, n_components, singular_losses, ev,
              certify=False):
    D = cmap.dimension
    images = cs.c.evaluate(Z) if len(Z) else np.zeros((0, D), dtype=complex)
    labels, n_pure_functions, n_spurious_functions = group_by_function(images, full)
    losses = data.loss(images) if len(Z) else np.zeros(0, dtype=complex)
    seconds_slice = second_derivatives(cs.c)
    seconds_full = second_derivatives(cmap.polynomials)
    cert = cs.certify(Z, data.p, labels) if certify and len(Z) else None
    if cert is not None:
        ev["certification"] = cert.evidence()
    points: list[CriticalPoint] = []
    for i, z in enumerate(Z):
        theta = cs.theta(z[None, :])[0]
        real = bool(np.all(np.abs(z.imag) <= REAL_TOL * (1 + np.abs(z.real))))
        if cert is not None and cert.real[i] is not None and bool(cert.real[i]) != real:
            # the interval certificate is a proof; the tolerance test is not
            ev.setdefault("reality_corrected_by_certificate", []).append(i)
            real = bool(cert.real[i])
        q = CriticalPoint(theta, images[i], int(labels[i]), "pure" if full[i] else "spurious", real,
                          complex(losses[i]), float(gap[i]))
        if real:
            zr, th = z.real[None, :].astype(complex), theta.real[None, :].astype(complex)
            Hs = hessians(cs.c, seconds_slice, zr, data.Q, data.p).real
            Hf = hessians(cmap.polynomials, seconds_full, th, data.Q, data.p).real
            q.slice_hessian_eigenvalues = np.linalg.eigvalsh(Hs[0])
            q.hessian_eigenvalues = np.linalg.eigvalsh(Hf[0])
            if full[i]:
                q.tangent_hessian_eigenvalues = tangent_hessian_eigenvalues(cs, Hs, zr)[0]
                q.type = classify(q.tangent_hessian_eigenvalues)
            else:
                q.type = classify(q.slice_hessian_eigenvalues)
            q.loss = complex(q.loss.real)
        if cert is not None:
            q.certified, q.certified_real = bool(cert.certified[i]), cert.real[i]
            q.certified_pure = bool(cert.smooth[i])
        points.append(q)
    real = [q for q in points if q.real]
    counts = {
        "complex": len(points),
        "complex_pure": sum(q.kind == "pure" for q in points),
        "complex_spurious": sum(q.kind == "spurious" for q in points),
        "functions_pure": n_pure_functions,
        "functions_spurious": n_spurious_functions,
        "real": len(real),
        "real_pure": sum(q.kind == "pure" for q in real),
        "real_spurious": sum(q.kind == "spurious" for q in real),
        "positive_dimensional_components": n_components,
    }
    for t in ("local minimum", "strict saddle", "local maximum"):
        counts[f"real_{t.replace(' ', '_')}"] = sum(q.type == t for q in real)
    counts["real_degenerate"] = sum(q.type is not None and q.type.startswith("non-strict") for q in real)
    if cert is not None:
        counts["certified"] = int(cert.certified.sum())
        counts["certified_real"] = sum(q.certified_real is True for q in points)
        counts["certified_non_real"] = sum(q.certified_real is False for q in points)
        counts["certified_pure"] = int(cert.smooth.sum())
        counts["certified_real_pure"] = sum(q.certified_real is True and bool(q.certified_pure) for q in points)
        counts["certified_functions_pure"] = cert.certified_functions(cert.smooth)
    complete = complete and bool(trace_ok)
    status = "numerical" if complete else "lower_bound"
    ev["counts_meaning"] = (
        "complex/real: isolated critical points of L on the parameter slice (symmetric copies of one parameter "
        "point count once per slice point); functions_pure: distinct critical points of L on the smooth locus "
        "of M (the ED count for this metric and data); spurious: critical points of the parametrization"
    )
    gmin = None
    if real:
        best = min(real, key=lambda q: q.loss.real)
        comp_vals = [v for v in singular_losses if abs(v.imag) <= REAL_TOL * (1 + abs(v))]
        below = [float(v.real) for v in comp_vals if v.real < best.loss.real - 1e-9 * (1 + abs(best.loss.real))]
        if complete and not below:
            gstatus = "certified"
            why = ("smallest loss among all real critical points; the solve was complete (total-degree homotopy "
                   "without failed paths, pure critical points confirmed by trace tests), so if the loss attains "
                   "its infimum over real parameters, it attains it here")
            if n_components:
                why += f" (the {n_components} positive-dimensional critical components have no smaller real critical value)"
        else:
            gstatus = "upper_bound"
            why = ("smallest loss among the real critical points found; the solve was not shown complete (failed "
                   "paths, no total-degree solve, or a failed trace test on the pure critical points)"
                   if not complete else "a positive-dimensional critical component has a smaller critical value")
        gstatus, why, point_cert = _certify_minimum(cs, data, Z, points, best, gstatus, why)
        gmin = {"loss": float(best.loss.real), "status": gstatus, "why": why, "kind": best.kind,
                "theta": best.theta.real.tolist(), "type": best.type, "point_certificate": point_cert}
    return CriticalPointsResult(arch, points, counts, complete, status, gmin, ev)


def _certify_minimum(cs, data, Z, points, best, gstatus, why):
    """The global minimum is ``certified`` only when its point is: a box around it holds exactly one regular
    critical point, proven real (``CriticalSystem.certify``; reused when every point was certified)."""
    i = next(j for j, q in enumerate(points) if q is best)
    if best.certified is None:
        c = cs.certify(Z[i : i + 1], data.p)
        ok, real = bool(c.certified[0]), c.real[0]
        failure = c.certification.reason[0]
        radius = float(c.certification.radii[0])
    else:
        ok, real, failure, radius = best.certified, best.certified_real, "", float("nan")
    point_cert = {"root": ok, "real": real}
    if ok and real is True:
        if np.isfinite(radius):
            point_cert["box_radius"] = radius
        return gstatus, why + "; its point is certified (a box holding exactly one regular critical point, proven real)", point_cert
    point_cert["failure"] = failure or ("not proven real" if ok else "not certified")
    if gstatus == "certified":
        gstatus = "numerical"
        why += ("; but its point could not be certified by interval arithmetic (" + point_cert["failure"] + "), so "
                "the value is numerical")
    return gstatus, why, point_cert


@dataclass
class BaseSolutions:
    """Every isolated critical point at a generic complex data parameter p* (the start of parameter
    homotopies to many data sets)."""

    pstar: np.ndarray
    z: np.ndarray  # (n, k)
    n_pure: int
    evidence: dict[str, Any]


def base_solutions(ctx: Any, cs: CriticalSystem, pstar: np.ndarray, rng: np.random.Generator) -> BaseSolutions:
    """Total-degree solve at p*, pure critical points completed by monodromy (trace-tested)."""
    crit = solve_critical(cs, pstar, seed=int(rng.integers(2**31)), progress=bool(getattr(ctx, "progress", False)))
    pure = crit.z[crit.full_rank]
    more, trace_ok, ev_mono = _complete_pure(ctx, cs, pstar, pure, rng)
    S = np.concatenate([crit.z, more]) if len(more) else crit.z
    if len(S) == 0:
        raise InputError(f"{ctx.arch.spec()}: no isolated critical point at a generic data set")
    ev = {"base_solve": crit.evidence(), "base_pure_completion": ev_mono, "base_pure_trace_test_passed": bool(trace_ok)}
    return BaseSolutions(pstar, S, int(crit.full_rank.sum()) + len(more), ev)


JUMP_RETRIES = 3


def move_solutions(cs: CriticalSystem, base: BaseSolutions, P: np.ndarray, rng: np.random.Generator):
    """Track the base solutions from p* to every row of P (G, D): endpoints (G * n, k), converged mask,
    statistics.  One gamma per target (along one arc the n paths end at n distinct points, a bijection;
    paths of one target on different arcs could meet); targets where two paths met are re-tracked with a
    new gamma and a finer step control."""
    from ..homotopy import ParameterHomotopyBatch, TrackerOptions, solve

    fine = TrackerOptions(predictor_tol=1e-5, max_first_update=1e-3, max_step=0.05)
    n = len(base.z)
    G = P.shape[0]
    Pt = np.repeat(np.asarray(P, dtype=complex), n, axis=0)
    Z0 = np.tile(base.z, (G, 1))
    gam = np.repeat(np.exp(2j * np.pi * rng.random(G)), n)
    hom = ParameterHomotopyBatch(cs.system, np.broadcast_to(base.pstar, Pt.shape).copy(), Pt, gam)
    tr = solve(hom, Z0, rng=rng)
    tracked, retracked = tr.n_paths, 0
    ok = tr.converged()
    Z = tr.endpoints.copy()
    for _ in range(JUMP_RETRIES):
        cells = np.unique(_shared_endpoints(Z, ok, n) // n)
        if cells.size == 0:
            break
        again = (cells[:, None] * n + np.arange(n)[None, :]).reshape(-1)
        retracked += int(again.size)
        sub_hom = ParameterHomotopyBatch(cs.system, hom.p_start[again], hom.p_target[again],
                                         np.repeat(np.exp(2j * np.pi * rng.random(len(cells))), n))
        sub = solve(sub_hom, Z0[again], rng=rng, options=fine)
        tracked += sub.n_paths
        Z[again], ok[again] = sub.endpoints, sub.converged()
    return Z, ok, {"paths_tracked": tracked, "paths_retracked_after_jumps": retracked}


def _shared_endpoints(Z: np.ndarray, ok: np.ndarray, n: int) -> np.ndarray:
    """Indices of converged paths whose endpoint another path of the same target (blocks of n) reached."""
    from ..homotopy.solutions import deduplicate

    bad = []
    for b in range(len(Z) // n):
        sl = slice(b * n, (b + 1) * n)
        lab = deduplicate(np.where(ok[sl, None], Z[sl], np.nan), tol=IMAGE_TOL, return_labels=True)
        cnt = np.bincount(lab[lab >= 0], minlength=1)
        bad.append(b * n + np.flatnonzero(ok[sl] & (lab >= 0) & (cnt[np.maximum(lab, 0)] > 1)))
    return np.concatenate(bad) if bad else np.zeros(0, dtype=int)


__all__ = ["critical_points", "critical_cost_estimate", "base_solutions", "move_solutions", "BaseSolutions", "CriticalPointsResult", "CriticalPoint", "LossData", "loss_data", "classify"]
