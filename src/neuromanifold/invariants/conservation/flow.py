"""The drift of a function along a gradient flow: the numerical check that a law is conserved.

theta' = -grad L(theta) for a square loss L of the model's values on random data, integrated with scipy's
DOP853 (rtol 1e-10); drift = |h(theta_T) - h(theta_0)| / (|grad h(theta_0)| |theta_T - theta_0|), ~1 for
a generic function (e.g. |theta|^2), ~integration error for a conservation law.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...runtime.torch import torch_module

FLOW_RTOL, FLOW_ATOL = 1e-10, 1e-12


def gradient_flow(loss: Callable[[Any], Any], theta0: np.ndarray, *, horizon: float | None = None,
                  max_evaluations: int = 6000) -> dict[str, Any]:
    """theta' = -grad L(theta) from theta0, DOP853 (rtol 1e-10, atol 1e-12) up to ``horizon`` (default:
    0.5 |theta0| / |grad L(theta0)|, so that theta moves by about half its norm) or until
    ``max_evaluations`` gradient evaluations (piecewise-linear models force small steps at every kink)."""
    from scipy.integrate import DOP853

    torch = torch_module()

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        th = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(loss(th), th)
        return -g.numpy()

    g0 = np.linalg.norm(rhs(0.0, theta0))
    T = float(horizon) if horizon is not None else 0.5 * np.linalg.norm(theta0) / max(g0, 1e-300)
    solver = DOP853(rhs, 0.0, np.array(theta0, dtype=np.float64), T, rtol=FLOW_RTOL, atol=FLOW_ATOL)
    while solver.status == "running" and solver.nfev < max_evaluations:
        solver.step()
    thT = np.array(solver.y)
    with torch.no_grad():
        l0, lT = float(loss(torch.as_tensor(theta0))), float(loss(torch.as_tensor(thT)))
    return {
        "theta_T": thT,
        "T": float(solver.t),
        "T_target": T,
        "reached": solver.status == "finished",
        "success": solver.status != "failed",
        "nfev": int(solver.nfev),
        "loss_0": l0,
        "loss_T": lT,
        "displacement": float(np.linalg.norm(thT - theta0) / max(np.linalg.norm(theta0), 1e-300)),
    }


def drift(h: Callable[[np.ndarray], float], grad_h: Callable[[np.ndarray], np.ndarray], theta0: np.ndarray,
          thetaT: np.ndarray) -> float:
    """|h(theta_T) - h(theta_0)| / (|grad h(theta_0)| |theta_T - theta_0|): ~1 for a generic function."""
    scale = np.linalg.norm(grad_h(theta0)) * np.linalg.norm(thetaT - theta0)
    return float(abs(h(thetaT) - h(theta0)) / max(scale, 1e-300))


def _square_loss(values: Callable[[Any], Any], theta0: np.ndarray, rng: np.random.Generator) -> Callable[[Any], Any]:
    torch = torch_module()
    y0 = values(torch.as_tensor(theta0)).detach()
    scale = float(y0.abs().mean()) or 1.0
    target = torch.as_tensor(rng.standard_normal(tuple(y0.shape))) * scale

    def loss(theta: Any) -> Any:
        return 0.5 * ((values(theta) - target) ** 2).mean()

    return loss


__all__ = ["drift", "gradient_flow"]
