"""Implicit bias: where does gradient descent end, compared with the Voronoi prediction?

For targets u drawn as in ``voronoi`` (standard Gaussian coefficient vectors) we train many networks
at once: theta -> 1/2 |c(theta) - u|_Q^2, c the exact coefficient map written in torch, one gradient
per (target, initialisation) pair with ``torch.func.vmap(torch.func.grad(...))``, plain gradient
descent from Gaussian initialisations of scale ``init_scale``.  The stratum a run ends on is read
off the final parameter point: ``smooth`` when the Jacobian of c has full rank dim M there
(sigma_min / sigma_max above ``rank_tol``: gradient descent approaches singular strata only
asymptotically, so the tolerance is loose), else ``critical of mu (rank r)``, and ``zero function``
when c vanishes.  The Voronoi masses of the same strata (exact nearest points) are the prediction of
the "singularities attract in proportion to their Voronoi cells" picture.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .architectures import Architecture
from .errors import InputError
from .result import jsonable
from .voronoi import VoronoiResult, voronoi_masses, wilson_interval


@dataclass
class ImplicitBiasResult:
    architecture: Architecture
    gd: dict[str, dict[str, Any]]  # stratum -> count, fraction, ci95
    voronoi: VoronoiResult
    runs: int
    evidence: dict[str, Any] = field(default_factory=dict)

    def table(self) -> list[tuple[str, float, list[float], float, list[float]]]:
        names = sorted(set(self.gd) | set(self.voronoi.strata))
        rows = []
        for n in names:
            g = self.gd.get(n, {"fraction": 0.0, "ci95": [0.0, 0.0]})
            v = self.voronoi.strata.get(n, {"mass": 0.0, "ci95": [0.0, 0.0]})
            rows.append((n, g["fraction"], g["ci95"], v["mass"], v["ci95"]))
        return rows

    def to_text(self) -> str:
        lines = [f"{self.architecture.spec()}: where {self.runs} gradient-descent runs end vs Voronoi masses",
                 "  status: numerical (fractions of runs / Monte Carlo masses, Wilson 95% intervals)",
                 f"  {'stratum':<26}{'GD fraction':>12}  {'95% interval':<17}{'Voronoi mass':>13}  95% interval"]
        for n, gf, gci, vm, vci in self.table():
            lines.append(f"  {n:<26}{gf:>12.4f}  [{gci[0]:.3f}, {gci[1]:.3f}]  {vm:>12.4f}  [{vci[0]:.3f}, {vci[1]:.3f}]")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"architecture": self.architecture.spec(),
                         "status": "numerical (fractions of runs / Monte Carlo masses, Wilson 95% intervals)",
                         "gradient_descent": self.gd,
                         "voronoi": self.voronoi.to_dict(), "runs": self.runs, "evidence": self.evidence})


def implicit_bias(
    spec: str | Architecture,
    *,
    n_targets: int = 100,
    n_inits: int = 20,
    steps: int = 3000,
    lr: float = 0.02,
    init_scale: float = 0.5,
    metric: str = "euclidean",
    rank_tol: float = 1e-3,
    voronoi_samples: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> ImplicitBiasResult:
    """Batched gradient descent (vmap) on many targets and initialisations; strata reached vs Voronoi masses."""
    import torch
    from torch.func import grad, vmap

    from .coefficients import coefficient_map, metric_matrix
    from .context import Context
    from .invariants.dimension import dimension_data

    t0 = time.perf_counter()
    if min(n_targets, n_inits, steps) < 1 or lr <= 0:
        raise InputError("n_targets, n_inits and steps must be positive and lr > 0")
    ctx = Context(spec, seed=seed, options={"metric": metric})
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
        from tqdm.auto import tqdm

        it = tqdm(it, desc="gradient descent", unit="step")
    with torch.no_grad():
        for _ in it:
            g = step(theta, U)
            g = torch.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0)
            theta = theta - lr * torch.clamp(g, -1e3, 1e3)
    th = theta.numpy().astype(complex)
    c = cmap.polynomials.evaluate(th).real
    J = cmap.polynomials.jacobian(th).real  # (B, D, N)
    s = np.linalg.svd(J, compute_uv=False)
    labels = []
    for b in range(len(th)):
        if not np.all(np.isfinite(s[b])):
            labels.append("diverged")
        elif np.max(np.abs(c[b])) <= 1e-3 * (1 + np.max(np.abs(U[b].numpy()))):
            labels.append("zero function")
        elif s[b, k - 1] > rank_tol * s[b, 0]:
            labels.append("smooth")
        else:
            labels.append(f"critical of mu (rank {int(np.sum(s[b] > rank_tol * s[b, 0]))})")
    runs = len(labels)
    gd = {}
    for name in sorted(set(labels)):
        cnt = labels.count(name)
        gd[name] = {"count": cnt, "fraction": cnt / runs, "ci95": list(wilson_interval(cnt, runs))}
    vor = voronoi_masses(arch, metric=metric, n_samples=voronoi_samples, seed=seed)
    final = np.array([float(loss(theta[b], U[b])) for b in range(runs)])
    ev = {
        "gradient_descent": {"steps": steps, "lr": lr, "init_scale": init_scale, "targets": n_targets,
                             "initialisations_per_target": n_inits, "rank_tol": rank_tol,
                             "median_final_loss": float(np.median(final)),
                             "implementation": "torch.func.vmap(torch.func.grad(loss)) over all runs"},
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return ImplicitBiasResult(arch, gd, vor, runs, ev)


__all__ = ["implicit_bias", "ImplicitBiasResult"]
