"""Restricted versus augmented training near equivariant stationary points (Nordenfors, Ohlsson, Flinth,
"Optimization dynamics of equivariant and augmented neural networks", 2023).

Network (float64, smooth): x in R^{1x8x8} -> tanh(conv_3x3) -> tanh(conv_3x3) -> mean over each of the 4
square rings of the plane (rotation-closed; and over orientations, regular channels) -> affine head -> logits; loss = cross-entropy + (wd/2)|A|^2.
C4 acts on the layers as in ``projection``; E = equivariant layers, L = kernels supported on a 3x3
support S (``cross``: closed under rot90, compatible; ``skew``: not closed, incompatible).

1. Restricted: minimise R over E cap L (gradient Pi_{E cap L} grad R, L-BFGS) to a stationary point A*.
2. Augmented: from A*, gradient descent on R_aug(A) = mean_g R(A; g x) over the full C4 orbit of every
   sample, with gradient Pi_L grad R_aug, tracking ||A_t - Pi_E A_t||_F.
3. Stability: the Hessian of R_aug at A* commutes with the C4 action, so on L (compatible case) it is
   block-diagonal on E cap L and E^perp cap L; the smallest eigenvalue on E^perp cap L (Lanczos on
   Hessian-vector products) decides whether A* is linearly stable for augmented gradient descent
   (per-step growth factor |1 - eta lambda_min|), while restricted training sees only the E block.

Theory (compatible supports): grad R_aug(A*) lies in E, Pi_L preserves E, so A* is stationary for augmented
training and E is invariant under it (distance stays at round-off); perturbations off E grow iff
lambda_min(E^perp cap L) < 0.  Incompatible: Pi_L grad R_aug(A*) has a component off E, and augmented
training leaves E at once.  All numbers are ``numerical`` (float64 training), the commutator ``certified``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError
from ..result import jsonable
from .data import digits_split, orbit
from .projection import BiasAction, ConvAction, InvariantAction, LayerSpace, is_rotation_closed, support_mask

Params = dict[str, torch.Tensor]


@dataclass
class DynamicsConfig:
    supports: tuple[str, ...] = ("cross", "skew")
    seeds: int = 1
    fields: int = 2  # hidden fields (regular: 4 channels each)
    reps: str = "regular"
    n_train: int = 80
    weight_decay: float = 1e-3
    restricted_iters: int = 500
    grad_tol: float = 1e-10
    aug_steps: int = 500
    perturbation: float = 1e-6
    stationary_tol: float = 1e-8  # |Pi grad R(A*)| below which A* counts as stationary
    record_every: int = 10


@dataclass
class DynamicsRun:
    support: str
    seed: int
    compatible: bool
    commutator: dict[str, Any]
    dim_L: int
    dim_EL: int
    restricted_loss: float
    restricted_grad_norm: float  # ||Pi_{E cap L} grad R(A*)||
    aug_grad_norm: float  # ||Pi_L grad R_aug(A*)||
    aug_grad_off_E: float  # ||(1 - Pi_E) Pi_L grad R_aug(A*)||
    eta: float
    lambda_max_L: float
    lambda_min_EL: float | None
    lambda_min_perp: float | None
    hessian_offdiag: float | None  # |block of H between E cap L and E^perp cap L| (0 in theory, compatible case)
    predicted_factor: float | None  # per-step growth of perturbations off E, |1 - eta lambda_min_perp|
    measured_factor: float | None
    steps: list[int] = field(default_factory=list)
    distance: list[float] = field(default_factory=list)  # unperturbed augmented run
    distance_perturbed: list[float] = field(default_factory=list)
    aug_loss: list[float] = field(default_factory=list)
    verdict: str = ""


@dataclass
class DynamicsResult:
    config: DynamicsConfig
    runs: list[DynamicsRun]
    seconds: float = 0.0
    status: str = "numerical"

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"experiment": "dynamics", "status": self.status, "seconds": round(self.seconds, 2),
                         "config": asdict(self.config), "runs": [asdict(r) for r in self.runs]})


def init_params(fields: int, reps: str, seed: int, *, n_classes: int = 10) -> Params:
    """Gaussian He-type initialisation (float64)."""
    g = torch.Generator().manual_seed(seed)
    c = 4 * fields if reps == "regular" else fields
    feat = fields * 4  # 4 rings of the 8 x 8 plane per field

    def rnd(*shape: int, fan_in: int) -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=torch.float64) / math.sqrt(fan_in)

    return {"w1": rnd(c, 1, 3, 3, fan_in=9), "b1": torch.zeros(c, dtype=torch.float64),
            "w2": rnd(c, c, 3, 3, fan_in=9 * c), "b2": torch.zeros(c, dtype=torch.float64),
            "w3": rnd(n_classes, feat, fan_in=feat), "b3": torch.zeros(n_classes, dtype=torch.float64)}


def layer_space(reps: str, support: str | np.ndarray) -> LayerSpace:
    if reps not in ("regular", "trivial"):
        raise InputError(f"reps must be 'regular' or 'trivial', got {reps!r}")
    mask = support_mask(support)
    return LayerSpace(
        {"w1": ConvAction("trivial", reps), "b1": BiasAction(reps), "w2": ConvAction(reps, reps),
         "b2": BiasAction(reps), "w3": InvariantAction(), "b3": InvariantAction()},
        masks={"w1": mask, "w2": mask},
    )


def _conv_same(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """'same'-padded cross-correlation as im2col + one matrix product (fast in float64, unlike conv2d)."""
    n, c, hgt, wid = x.shape
    k = w.shape[-1]
    cols = F.unfold(x, k, padding=k // 2)  # (n, c k k, h w)
    out = torch.matmul(w.reshape(w.shape[0], -1), cols) + b[:, None]
    return out.reshape(n, w.shape[0], hgt, wid)


def forward(params: Params, x: torch.Tensor, reps: str) -> torch.Tensor:
    """Logits of the two-layer C4 CNN; C4-invariant whenever the layers lie in E."""
    h = torch.tanh(_conv_same(x, params["w1"], params["b1"]))
    h = torch.tanh(_conv_same(h, params["w2"], params["b2"]))
    rings = _rings(h.shape[-1], h.dtype)  # (n_rings, H W): rotation-closed square rings, averaged
    h = h.flatten(-2) @ rings.T  # (n, c, n_rings)
    if reps == "regular":
        h = h.reshape(h.shape[0], -1, 4, h.shape[-1]).mean(2)
    return h.flatten(1) @ params["w3"].T + params["b3"]


def _rings(size: int, dtype: torch.dtype) -> torch.Tensor:
    """Averaging weights over the square rings max(|i - c|, |j - c|) = const (each closed under rot90)."""
    c = (size - 1) / 2
    i = torch.arange(size, dtype=dtype)
    r = torch.maximum((i[:, None] - c).abs(), (i[None, :] - c).abs()).flatten()
    levels = torch.unique(r)
    R = (r[None, :] == levels[:, None]).to(dtype)
    return R / R.sum(1, keepdim=True)


def _loss_fn(x: torch.Tensor, y: torch.Tensor, reps: str, wd: float) -> Callable[[Params], torch.Tensor]:
    def loss(p: Params) -> torch.Tensor:
        reg = sum((v ** 2).sum() for v in p.values())
        return F.cross_entropy(forward(p, x, reps), y) + 0.5 * wd * reg

    return loss


def _norm(p: Params) -> float:
    return float(torch.sqrt(sum((v ** 2).sum() for v in p.values())))


def _sub(a: Params, b: Params) -> Params:
    return {k: a[k] - b[k] for k in a}


class _Flat:
    """Flattening of a parameter dict in a fixed order."""

    def __init__(self, like: Params):
        self.names = list(like)
        self.shapes = [like[k].shape for k in self.names]
        self.offs = np.cumsum([0] + [like[k].numel() for k in self.names])
        self.n = int(self.offs[-1])

    def unflat(self, v: torch.Tensor) -> Params:
        return {k: v[self.offs[j]:self.offs[j + 1]].reshape(s) for j, (k, s) in enumerate(zip(self.names, self.shapes))}

    def flat(self, p: Params) -> torch.Tensor:
        return torch.cat([p[k].reshape(-1) for k in self.names])

    def range_basis(self, proj: Callable[[Params], Params]) -> torch.Tensor:
        """Orthonormal basis (n, m) of the range of an orthogonal projection given coordinate-free."""
        P = torch.func.vmap(lambda v: self.flat(proj(self.unflat(v))))(torch.eye(self.n, dtype=torch.float64))
        P = (P + P.T) / 2
        w, V = torch.linalg.eigh(P)
        return V[:, w > 0.5]


def hessian_on(loss: Callable[[Params], torch.Tensor], A: Params, Q: torch.Tensor) -> torch.Tensor:
    """Q^T H Q for the Hessian H of ``loss`` at A and an orthonormal basis Q (one Hessian-vector product,
    forward-over-reverse, per column); symmetrised."""
    fl = _Flat(A)
    g = torch.func.grad(loss)
    cols = [fl.flat(torch.func.jvp(g, (A,), (fl.unflat(Q[:, i]),))[1]) for i in range(Q.shape[1])]
    H = Q.T @ torch.stack(cols, 1)
    return (H + H.T) / 2


def train_restricted(loss: Callable[[Params], torch.Tensor], space: LayerSpace, p0: Params, iters: int,
                     tol: float, *, newton_steps: int = 25) -> tuple[Params, float]:
    """Minimise loss over E cap L: L-BFGS on B with A = Pi_{E cap L}(B) (its gradient is Pi grad R), then Newton
    (Levenberg-Marquardt) steps in an orthonormal basis of E cap L to polish the stationary point.  Returns A* and
    ||Pi_{E cap L} grad R(A*)||."""
    B = {k: v.clone().requires_grad_(True) for k, v in space.project_EL(p0).items()}
    opt = torch.optim.LBFGS(list(B.values()), lr=1.0, max_iter=iters, tolerance_grad=tol, tolerance_change=1e-15,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        val = loss(space.project_EL(B))
        val.backward()
        return val

    opt.step(closure)
    A = {k: v.detach() for k, v in space.project_EL(B).items()}
    fl = _Flat(A)
    Q = fl.range_basis(space.project_EL)
    gnorm = _norm(space.project_EL(torch.func.grad(loss)(A)))
    value = float(loss(A))
    mu = 0.0
    for _ in range(newton_steps):  # Levenberg-Marquardt: (H + mu) step = -grad, mu >= 0 keeping the model convex
        if gnorm <= tol:
            break
        gr = Q.T @ fl.flat(torch.func.grad(loss)(A))
        w, V = torch.linalg.eigh(hessian_on(loss, A, Q))
        mu = max(mu / 4, float(-w[0]) * 1.5 if w[0] <= 0 else 0.0)
        for _ in range(30):
            step = Q @ (V @ ((V.T @ gr) / (w + mu)))
            cand = {k: A[k] - dd for k, dd in fl.unflat(step).items()}
            cval = float(loss(cand))
            if cval <= value:
                break
            mu = max(2 * mu, 1e-8 * float(w.abs().max()))
        else:
            break
        A, value = cand, cval
        gnorm = _norm(space.project_EL(torch.func.grad(loss)(A)))
    return A, gnorm


def run_support(cfg: DynamicsConfig, support: str, seed: int, *, bar: Any = None) -> DynamicsRun:
    data = digits_split(cfg.n_train, 1, seed)
    x, y = data.x_train, data.y_train
    xa, ya = orbit(x), y.repeat(4)
    space = layer_space(cfg.reps, support)
    mask = support_mask(support)
    compatible = is_rotation_closed(mask)
    p0 = init_params(cfg.fields, cfg.reps, seed)
    comm = space.commutator({k: tuple(v.shape) for k, v in p0.items()})
    loss = _loss_fn(x, y, cfg.reps, cfg.weight_decay)
    loss_aug = _loss_fn(xa, ya, cfg.reps, cfg.weight_decay)

    A, rgrad = train_restricted(loss, space, p0, cfg.restricted_iters, cfg.grad_tol)
    if bar is not None:
        bar.update(1)
    gaug = space.project_L(torch.func.grad(loss_aug)(A))
    g_off = _sub(gaug, space.project_E(gaug))

    # Hessian of the augmented risk on L, and its blocks on E cap L and E^perp cap L (coordinates in L)
    fl = _Flat(A)
    Q_L = fl.range_basis(space.project_L)
    Q_EL = fl.range_basis(space.project_EL)
    H = hessian_on(loss_aug, A, Q_L)
    lam_max = float(torch.linalg.eigvalsh(H)[-1])
    eta = 1.0 / lam_max if lam_max > 0 else 0.1
    C_EL = Q_L.T @ Q_EL  # E cap L inside L
    lam_EL = float(torch.linalg.eigvalsh(C_EL.T @ H @ C_EL)[0]) if C_EL.shape[1] else None
    lam_perp = offdiag = None
    if compatible:  # E^perp cap L: orthogonal complement of E cap L inside L
        U, S, _ = torch.linalg.svd(C_EL, full_matrices=True)
        C_perp = U[:, C_EL.shape[1]:]
        lam_perp = float(torch.linalg.eigvalsh(C_perp.T @ H @ C_perp)[0]) if C_perp.shape[1] else None
        offdiag = float(torch.linalg.matrix_norm(C_EL.T @ H @ C_perp))
    if bar is not None:
        bar.update(1)

    # augmented gradient descent from A* (and from A* + delta v, v a random unit vector in E^perp cap L)
    gen = torch.Generator().manual_seed(seed + 7)
    xi = {k: torch.randn(v.shape, generator=gen, dtype=torch.float64) for k, v in A.items()}
    v = _sub(space.project_L(xi), space.project_E(space.project_L(xi)))
    v = {k: t * (cfg.perturbation * _norm(A) / _norm(v)) for k, t in v.items()}
    grad_aug = torch.func.grad(loss_aug)
    runs = {"plain": dict(A)}
    if compatible:
        runs["perturbed"] = {k: A[k] + v[k] for k in A}
    rec: dict[str, list[float]] = {k: [] for k in runs}
    steps, aug_loss = [], []
    for t in range(cfg.aug_steps + 1):
        if t % cfg.record_every == 0 or t == cfg.aug_steps:
            steps.append(t)
            for name, p in runs.items():
                rec[name].append(space.distance_E(p))
            aug_loss.append(float(loss_aug(runs["plain"])))
        if t == cfg.aug_steps:
            break
        for name, p in runs.items():
            g = space.project_L(grad_aug(p))
            runs[name] = {k: p[k] - eta * g[k] for k in p}
        if bar is not None:
            bar.update(1)

    measured = _growth_factor(steps, rec["perturbed"]) if compatible else None
    predicted = abs(1 - eta * lam_perp) if lam_perp is not None else None
    stationary = rgrad <= cfg.stationary_tol and lam_EL is not None and lam_EL > 0
    if not compatible:
        verdict = "incompatible: leaves E at once (A* is not stationary for augmented training)"
    elif not stationary:
        verdict = (f"compatible, E invariant; restricted training did not reach a strict local minimum "
                   f"(|grad| {rgrad:.1e}, lambda_min(E cap L) {lam_EL:.1e}): stability not assessed")
    elif lam_perp is not None and lam_perp < 0:
        verdict = "compatible: E invariant, but A* unstable for augmented training (perturbations off E grow)"
    else:
        verdict = "compatible: E invariant and A* stable for augmented training (perturbations off E decay)"
    return DynamicsRun(
        support=support, seed=seed, compatible=compatible, commutator=comm.to_dict(), dim_L=Q_L.shape[1],
        dim_EL=Q_EL.shape[1], restricted_loss=float(loss(A)), restricted_grad_norm=rgrad, aug_grad_norm=_norm(gaug),
        aug_grad_off_E=_norm(g_off), eta=eta, lambda_max_L=lam_max, lambda_min_EL=lam_EL,
        lambda_min_perp=lam_perp, hessian_offdiag=offdiag, predicted_factor=predicted, measured_factor=measured, steps=steps,
        distance=rec["plain"], distance_perturbed=rec.get("perturbed", []), aug_loss=aug_loss, verdict=verdict,
    )


def _growth_factor(steps: list[int], dist: list[float]) -> float | None:
    """Per-step factor of exp-linear growth/decay: least squares of log distance on the second half."""
    if len(dist) < 4 or min(dist) <= 0:
        return None
    s = np.asarray(steps[len(steps) // 2:], dtype=float)
    d = np.log(np.asarray(dist[len(dist) // 2:]))
    slope = np.polyfit(s, d, 1)[0]
    return float(np.exp(slope))


def run_dynamics(config: DynamicsConfig | None = None, *, seed: int = 0, progress: bool = False) -> DynamicsResult:
    """Restricted-then-augmented training for each support and seed (seeds seed, seed+1, ...)."""
    import time

    from ..runtime.progress import Bar

    cfg = config or DynamicsConfig()
    for s in cfg.supports:
        support_mask(s)
    if cfg.seeds < 1 or cfg.aug_steps < 1 or cfg.fields < 1 or cfg.record_every < 1:
        raise InputError("seeds, aug_steps, fields and record_every must be >= 1")
    t0 = time.time()
    total = len(cfg.supports) * cfg.seeds * (cfg.aug_steps + 2)
    runs = []
    with Bar(total=total, desc="dynamics", unit="steps", enabled=progress) as bar:
        for k in range(cfg.seeds):
            for s in cfg.supports:
                runs.append(run_support(cfg, s, seed + k, bar=bar))
    return DynamicsResult(cfg, runs, time.time() - t0)
