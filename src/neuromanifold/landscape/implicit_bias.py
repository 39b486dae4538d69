"""Implicit bias: where does gradient descent end, compared with the Voronoi prediction?

For targets u drawn as in ``voronoi`` (standard Gaussian coefficient vectors) we train many networks
at once: theta -> 1/2 |c(theta) - u|_Q^2, c the exact coefficient map written in torch, one gradient
per (target, initialisation) pair with ``torch.func.vmap(torch.func.grad(...))``, plain gradient
descent from Gaussian initialisations of scale ``init_scale``.  The stratum a run ends on is read
off the trend of the singular values sigma_1 >= ... >= sigma_k (k = dim M) of the Jacobian of c between
the middle and the end of the run (``classify_endpoints``): descent onto a regular point of mu
converges exponentially, so sigma_i / sigma_1 stop moving (``smooth`` when all are stable and
sigma_k / sigma_1 >= 1e-3); descent onto a critical point of mu converges only asymptotically and the
vanishing ones keep shrinking while the loss has stalled at its limit (``critical of mu (rank r)``, r the
stable ones); ``zero function`` when
c vanishes; runs fitting neither pattern are ``unclassified`` and counted as such, with the reason.  The Voronoi masses of the same strata (exact nearest points) are the prediction of
the "singularities attract in proportion to their Voronoi cells" picture.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..architectures import Architecture
from ..context import Context, as_context
from ..errors import InputError
from ..result import jsonable
from .voronoi import VoronoiResult, voronoi_masses, wilson_interval


@dataclass
class ImplicitBiasResult:
    architecture: Architecture
    gd: dict[str, dict[str, Any]]  # stratum -> count, fraction, ci95
    voronoi: VoronoiResult
    runs: int
    evidence: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)  # the stratum of every run
    targets: np.ndarray | None = None  # (runs, D): the target of every run

    def table(self) -> list[tuple[str, float, list[float], float, list[float]]]:
        names = sorted(set(self.gd) | set(self.voronoi.strata))
        rows = []
        for n in names:
            g = self.gd.get(n, {"fraction": 0.0, "ci95": [0.0, 0.0]})
            v = self.voronoi.strata.get(n, {"mass": 0.0, "ci95": [0.0, 0.0]})
            rows.append((n, g["fraction"], g["ci95"], v["mass"], v["ci95"]))
        return rows

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"architecture": self.architecture.spec(),
                         "status": "numerical (fractions of runs / Monte Carlo masses, Wilson 95% intervals)",
                         "gradient_descent": self.gd,
                         "voronoi": self.voronoi.to_dict(), "runs": self.runs, "evidence": self.evidence})


def implicit_bias(
    spec: str | Architecture | Context,
    *,
    n_targets: int = 100,
    n_inits: int = 20,
    steps: int = 3000,
    lr: float = 0.02,
    init_scale: float = 0.5,
    metric: str = "euclidean",
    voronoi_samples: int = 1000,
    seed: int | None = None,
    progress: bool = False,
) -> ImplicitBiasResult:
    """Batched gradient descent (vmap) on many targets and initialisations; strata reached vs Voronoi masses."""
    import torch
    from torch.func import grad, vmap

    from ..parametrization.coefficients import coefficient_map, metric_matrix
    from ..invariants.dimension import dimension_data

    t0 = time.perf_counter()
    if min(n_targets, n_inits, steps) < 1 or lr <= 0:
        raise InputError("n_targets, n_inits and steps must be positive and lr > 0")
    ctx = as_context(spec, seed=seed, options={"metric": metric})
    arch = ctx.arch
    cmap = ctx.cached("coefficient_map", lambda: coefficient_map(arch))
    k = dimension_data(ctx).lower
    D, N = cmap.dimension, arch.n_params
    Q = metric_matrix(cmap, metric, ctx.rng(f"metric-{metric}"))  # the same Q as ed_degree / voronoi
    rng = ctx.rng("implicit-bias")
    E = torch.as_tensor(cmap.polynomials.exponents, dtype=torch.float64)  # (T, N)
    C = torch.as_tensor(cmap.polynomials.coefficients.real, dtype=torch.float64)  # (D, T)
    Qt = torch.as_tensor(Q, dtype=torch.float64)

    def coeffs(theta: torch.Tensor) -> torch.Tensor:
        mon = torch.prod(theta[None, :] ** E, dim=1)  # (T,)
        return C @ mon

    def loss(theta: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        r = coeffs(theta) - u
        return 0.5 * r @ Qt @ r

    step = vmap(grad(loss))
    U = torch.as_tensor(np.repeat(rng.standard_normal((n_targets, D)), n_inits, axis=0))
    theta = torch.as_tensor(init_scale * rng.standard_normal((n_targets * n_inits, N)))
    it = range(steps)
    if progress:
        from ..runtime.progress import Bar

        it = Bar(it, desc="gradient descent", unit="steps")
    half = None
    with torch.no_grad():
        for i in it:
            if i == steps - steps // 2:
                half = theta.clone()
            g = step(theta, U)
            g = torch.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0)
            theta = theta - lr * torch.clamp(g, -1e3, 1e3)
    Un = U.numpy()
    labels, reasons = classify_endpoints(cmap.polynomials, Q, half.numpy(), theta.numpy(), Un, k)
    runs = len(labels)
    gd = {}
    for name in sorted(set(labels)):
        cnt = labels.count(name)
        gd[name] = {"count": cnt, "fraction": cnt / runs, "ci95": list(wilson_interval(cnt, runs))}
    vor = voronoi_masses(arch, metric=metric, n_samples=voronoi_samples, seed=ctx.seed)
    final = np.array([float(loss(theta[b], U[b])) for b in range(runs)])
    ev = {
        "gradient_descent": {"steps": steps, "lr": lr, "init_scale": init_scale, "targets": n_targets,
                             "initialisations_per_target": n_inits,
                             "median_final_loss": float(np.median(final)),
                             "implementation": "torch.func.vmap(torch.func.grad(loss)) over all runs"},
        "classification": {
            "rule": "singular values sigma_1 >= ... >= sigma_k of the Jacobian of c (k = dim M) at the last step "
            "and half-way: a ratio sigma_i / sigma_1 that shrank by more than 10% over the second half is "
            "converging to 0 (a critical point of mu is approached, only asymptotically); one within 5% is "
            "stable.  smooth: all stable and sigma_k / sigma_1 >= 1e-3; critical of mu (rank r): r stable, the others "
            "shrinking or below 1e-6, and the loss stalled (it fell by at most its final value over the second "
            "half); anything else unclassified",
            "unclassified": {r: reasons.count(r) for r in sorted(set(reasons)) if r},
        },
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return ImplicitBiasResult(arch, gd, vor, runs, ev, labels, Un)


STABLE, SHRINKING = 0.05, 0.10  # relative change of sigma_i / sigma_1 over the second half of the run
SMOOTH_FLOOR, ZERO_FLOOR = 1e-3, 1e-6
LOSS_STALLED = 1.0  # a run on a critical point of mu: the loss fell by at most this * its final value in the second half


def classify_endpoints(P: Any, Q: np.ndarray, half: np.ndarray, final: np.ndarray, U: np.ndarray, k: int
                       ) -> tuple[list[str], list[str]]:
    """Stratum of each gradient-descent endpoint from the trend of the singular values of J_c.

    Descent onto a regular point of mu converges exponentially (the normalised singular values stop
    moving); onto a critical point of mu it converges only asymptotically, and the singular values
    that vanish there keep shrinking.  Returns labels and, for ``unclassified`` runs, the reason."""
    labels, reasons = [], []
    c = P.evaluate(final.astype(complex)).real
    ch = P.evaluate(half.astype(complex)).real
    L1 = 0.5 * np.einsum("bi,ij,bj->b", c - U, Q, c - U)
    L0 = 0.5 * np.einsum("bi,ij,bj->b", ch - U, Q, ch - U)
    s1 = np.linalg.svd(P.jacobian(final.astype(complex)).real, compute_uv=False)[:, :k]
    s0 = np.linalg.svd(P.jacobian(half.astype(complex)).real, compute_uv=False)[:, :k]
    for b in range(len(final)):
        if not (np.all(np.isfinite(s1[b])) and np.all(np.isfinite(c[b]))):
            labels.append("diverged")
            reasons.append("")
            continue
        if np.max(np.abs(c[b])) <= 1e-3 * (1 + np.max(np.abs(U[b]))):
            labels.append("zero function")
            reasons.append("")
            continue
        r1, r0 = s1[b] / max(s1[b, 0], 1e-300), s0[b] / max(s0[b, 0], 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(r0 > 0, r1 / r0, 1.0)
        zero = r1 < ZERO_FLOOR
        stable = (np.abs(change - 1) <= STABLE) & ~zero
        shrinking = (change <= 1 - SHRINKING) | zero
        if not np.all(stable | shrinking):
            labels.append("unclassified")
            reasons.append("a singular value neither stable nor shrinking")
        elif stable.all():
            if r1[-1] >= SMOOTH_FLOOR:
                labels.append("smooth")
                reasons.append("")
            else:
                labels.append("unclassified")
                reasons.append("stable, but sigma_k / sigma_1 between the floors 1e-6 and 1e-3")
        elif L0[b] - L1[b] > LOSS_STALLED * L1[b]:
            # still falling fast: descent towards a point of M it has not reached (not a limit on a stratum)
            labels.append("unclassified")
            reasons.append("singular values shrinking while the loss still falls (not converged)")
        else:
            labels.append(f"critical of mu (rank {int(stable.sum())})")
            reasons.append("")
    return labels, reasons


__all__ = ["implicit_bias", "ImplicitBiasResult"]
