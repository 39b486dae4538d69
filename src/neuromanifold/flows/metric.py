"""The metric a flow induces on data space, and its split into tangent and normal parts on a helix.

For a flow g: Z -> X the Euclidean metric of Z pushes forward to gamma on X with inverse
gamma^{-1}(x) = J J^T, J = dg/dz at z = g^{-1}(x) (Jacobian by torch.func.jacrev, float64 when the
flow is).  Gradient ascent in Z moves x by lambda gamma^{-1} grad_x f + O(lambda^2) (Dombrowski,
Gerken, Mueller, Kessel, TPAMI 2024), so the counterfactual stays on the data manifold when the
normal eigenvalues of gamma^{-1} are small; their theorem: gamma_perp^{-1} -> 0 as the thickness delta
of the data's support goes to 0, for flows within KL divergence epsilon of the data.

On the helix the tangent t (unit) and the normal plane N (orthonormal 3 x 2) of the nearest point are
known exactly, so we report t^T gamma^{-1} t, the eigenvalues of N^T gamma^{-1} N and their ratio.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..result import Result, jsonable
from .data import Helix
from .models import Flow, check_invertible


def decoder_jacobian(flow: Flow, z: Tensor) -> Tensor:
    """J_i = dg/dz at each row z_i: shape (n, D, D), by reverse mode (torch.func.jacrev) on the
    batch sum, valid because g acts row by row."""
    from torch.func import jacrev

    n, d = z.shape
    J = jacrev(lambda Z: flow.to_data(Z).sum(0))(z)  # (D_out, n, D_in)
    return J.permute(1, 0, 2).reshape(n, d, d)


def inverse_metric(flow: Flow, x: Tensor, *, check: bool = True) -> Tensor:
    """gamma^{-1}(x) = (dg/dz)(dg/dz)^T at z = g^{-1}(x), shape (n, D, D) (symmetric, positive definite)."""
    if check:
        check_invertible(flow, x)
    with torch.no_grad():
        z, _ = flow.to_base(x)
    J = decoder_jacobian(flow, z.detach()).detach()
    return J @ J.transpose(1, 2)


@dataclass
class HelixMetric:
    """Tangent/normal split of gamma^{-1} at points near the helix (per point, float64 arrays)."""

    tangent: np.ndarray  # t^T gamma^{-1} t
    normal: np.ndarray  # (n, 2) eigenvalues of N^T gamma^{-1} N, descending
    eigenvalues: np.ndarray  # (n, 3) eigenvalues of gamma^{-1}, descending
    alignment: np.ndarray  # |<v_1, t>| for the top eigenvector v_1
    ratio: np.ndarray  # tangent / largest normal eigenvalue

    def summary(self) -> dict[str, float]:
        med = lambda a: float(np.median(a))  # noqa: E731
        return {
            "tangent_median": med(self.tangent),
            "normal_max_median": med(self.normal[:, 0]),
            "normal_min_median": med(self.normal[:, 1]),
            "ratio_median": med(self.ratio),
            "ratio_q10": float(np.quantile(self.ratio, 0.1)),
            "alignment_median": med(self.alignment),
            "eigenvalues_median": np.median(self.eigenvalues, 0).tolist(),
        }


def helix_metric(flow: Flow, helix: Helix, x: np.ndarray | Tensor) -> HelixMetric:
    """gamma^{-1} at the points x (n, 3) near the helix, split along the exact tangent and normal plane
    of each point's nearest helix point."""
    xt = torch.as_tensor(np.asarray(x), dtype=next(flow.parameters()).dtype)
    G = inverse_metric(flow, xt).double().numpy()
    t_star, _ = helix.project(np.asarray(xt.double()))
    tan = helix.tangent(t_star)  # (n, 3)
    N = helix.normal_frame(t_star)  # (n, 3, 2)
    g_tt = np.einsum("ni,nij,nj->n", tan, G, tan)
    B = np.einsum("nia,nij,njb->nab", N, G, N)
    normal = np.linalg.eigvalsh(B)[:, ::-1]
    lam, vec = np.linalg.eigh(G)
    lam, v1 = lam[:, ::-1], vec[:, :, -1]
    align = np.abs(np.einsum("ni,ni->n", v1, tan))
    return HelixMetric(g_tt, normal, lam, align, g_tt / np.maximum(normal[:, 0], 1e-300))


@dataclass
class MetricCheckpoint:
    epoch: int
    nll: float  # held-out mean negative log-likelihood (nats)
    summary: dict[str, float]


def normal_collapse(checkpoints: list[MetricCheckpoint], *, noise_sweep: list[dict[str, Any]] | None = None,
                    min_ratio: float = 10.0) -> Result:
    """The theorem checked numerically: as the flow fits (training checkpoints) the normal eigenvalues
    of gamma^{-1} shrink and the tangent/normal ratio grows past ``min_ratio``; across noise levels delta
    the normal eigenvalues scale like delta^p (least-squares slope p of log lambda_perp vs log delta,
    p > 0 means lambda_perp -> 0 as delta -> 0).  Status ``numerical``: finite training, finite samples."""
    first, last = checkpoints[0], checkpoints[-1]
    trained = [c for c in checkpoints if c.epoch > 0] or checkpoints
    best_nll = min(c.nll for c in trained)
    evidence: dict[str, Any] = {
        "checkpoints": [jsonable(asdict(c)) for c in checkpoints],
        "normal_max_first": first.summary["normal_max_median"],
        "normal_max_last": last.summary["normal_max_median"],
        "ratio_last": last.summary["ratio_median"],
        "min_ratio": min_ratio,
        "nll_last": last.nll,
        "nll_best": best_nll,
    }
    holds = bool(last.summary["ratio_median"] > min_ratio
                 and last.summary["normal_max_median"] < first.summary["normal_max_median"])
    if noise_sweep:
        d = np.log([s["noise"] for s in noise_sweep])
        lp = np.log([s["normal_max_median"] for s in noise_sweep])
        slope = float(np.polyfit(d, lp, 1)[0]) if len(noise_sweep) > 1 else float("nan")
        lmin = np.log([s["normal_min_median"] for s in noise_sweep])
        evidence["noise_sweep"] = jsonable(noise_sweep)
        evidence["normal_vs_noise_loglog_slope"] = slope
        evidence["normal_min_vs_noise_loglog_slope"] = float(np.polyfit(d, lmin, 1)[0]) if len(noise_sweep) > 1 else None
        evidence["normal_min_over_noise_squared"] = [s["normal_min_median"] / s["noise"] ** 2 for s in noise_sweep]
        holds = holds and slope > 0
    evidence["criterion"] = (f"median tangent/normal ratio > {min_ratio:g} after training, median normal eigenvalue "
                             "below its value before training" + (", positive log-log slope of the normal eigenvalue "
                                                                  "against the noise level" if noise_sweep else ""))
    return Result("normal_eigenvalues_vanish", holds, "numerical", evidence)
