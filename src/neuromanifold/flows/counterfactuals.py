"""Counterfactuals and adversarial examples by gradient ascent on a classifier's target log-probability.

space='base' (diffeomorphic counterfactual): z_0 = g^{-1}(x_0), z <- z + lr * u(d/dz log p_k(g(z))), x = g(z).
space='data' (adversarial example):            x <- x + lr * u(d/dx log p_k(x))   (optionally clipped to a box).
u(v) = v / |v| (``normalize=True``, the default: every step has length lr in the variable that is
optimised, so step counts measure path length and an over-confident classifier cannot make one
step jump across the data) or u(v) = v (plain gradient ascent).  To first order in lr the base-space
step moves x along gamma^{-1} grad_x log p_k (up to the positive factor 1/|J^T grad_x log p_k|).
Each sample stops at the first iterate with p_k >= threshold (default 0.99) or at the step cap; the
result records per sample the steps, the final target probability, whether the threshold was reached,
the end point and the difference map x - x_0 (and, on request, the whole trajectory in data space).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import InputError
from .models import Classifier, Flow, check_invertible

SPACES = ("base", "data")


@dataclass
class AscentResult:
    space: str
    x0: np.ndarray  # (n, D) starting points
    x: np.ndarray  # (n, D) end points in data space
    target: np.ndarray  # (n,)
    steps: np.ndarray  # (n,) iterations taken (step cap where the threshold was not reached)
    prob: np.ndarray  # (n,) final target probability
    reached: np.ndarray  # (n,) bool: prob >= threshold
    threshold: float
    lr: float
    max_steps: int
    trajectory: list[np.ndarray] | None = None  # per sample (steps_i + 1, D), data space
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def difference(self) -> np.ndarray:
        """The difference map x - x_0."""
        return self.x - self.x0

    def summary(self) -> dict[str, Any]:
        return {
            "space": self.space,
            "n": int(len(self.x)),
            "reached": int(self.reached.sum()),
            "steps_median": float(np.median(self.steps)),
            "steps_max": int(self.steps.max()),
            "step_cap": int(self.max_steps),
            "prob_median": float(np.median(self.prob)),
            "prob_min": float(self.prob.min()),
            "threshold": self.threshold,
            "lr": self.lr,
            "normalized_steps": bool(self.meta.get("normalize", False)),
            "mean_abs_difference": float(np.abs(self.difference).mean()),
            "l2_difference_median": float(np.median(np.linalg.norm(self.difference, axis=1))),
        }


def _targets(target: Any, n: int, classes: int) -> Tensor:
    t = np.asarray(target)
    if t.ndim == 0:
        t = np.full(n, t)
    if t.shape != (n,):
        raise InputError(f"target must be one class or one class per start point ({n}), got shape {t.shape}")
    if not np.issubdtype(t.dtype, np.integer):
        if not np.all(np.isfinite(t.astype(float))) or not np.all(t == np.round(t)):
            raise InputError(f"target classes must be integers in 0..{classes - 1}")
        t = t.astype(np.int64)
    if t.min() < 0 or t.max() >= classes:
        bad = int(t[(t < 0) | (t >= classes)][0])
        raise InputError(f"target class {bad} is out of range: the classifier has classes 0..{classes - 1}")
    return torch.as_tensor(t, dtype=torch.long)


def gradient_ascent(classifier: Classifier, x0: np.ndarray | Tensor, target: Any, *, space: str = "base",
                    flow: Flow | None = None, lr: float = 0.05, max_steps: int = 1000, threshold: float = 0.99,
                    clip: tuple[float, float] | None = None, normalize: bool = True, record: bool = False,
                    tol: float = 1e-3,
                    progress: bool = False) -> AscentResult:
    """Gradient ascent on log p_target in base space (through the flow) or in data space; see module doc.
    Bad input (target out of range, wrong shapes, a flow not invertible on x0) raises InputError."""
    from ..runtime.progress import Bar

    if space not in SPACES:
        raise InputError(f"unknown space {space!r}; use 'base' (counterfactual) or 'data' (adversarial)")
    if not (0 < threshold < 1):
        raise InputError(f"threshold must be in (0, 1), got {threshold}")
    if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
        raise InputError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise InputError(f"lr must be a positive number, got {lr}")
    dtype = next(classifier.parameters()).dtype
    x0t = torch.as_tensor(np.asarray(x0), dtype=dtype)
    if x0t.ndim != 2 or x0t.shape[1] != classifier.dim:
        raise InputError(f"start points must have shape (n, {classifier.dim}), got {tuple(x0t.shape)}")
    if not torch.isfinite(x0t).all():
        raise InputError("start points contain NaN or inf")
    n = len(x0t)
    tgt = _targets(target, n, classifier.classes)
    if space == "base":
        if flow is None:
            raise InputError("space='base' needs a flow")
        if flow.dim != classifier.dim:
            raise InputError(f"flow dimension {flow.dim} does not match the classifier's input dimension {classifier.dim}")
        check_invertible(flow, x0t, tol=tol)
        with torch.no_grad():
            var = flow.to_base(x0t)[0].clone()
        decode = flow.to_data
    else:
        var = x0t.clone()
        decode = lambda v: v  # noqa: E731
    flags = [p.requires_grad for p in classifier.parameters()]
    for p in classifier.parameters():
        p.requires_grad_(False)
    active = torch.ones(n, dtype=torch.bool)
    steps = torch.full((n,), max_steps, dtype=torch.long)
    prob = torch.zeros(n, dtype=dtype)
    traj: list[list[np.ndarray]] | None = [[] for _ in range(n)] if record else None
    x_end = x0t.clone()
    try:
        # at most max_steps + 1 steps (it stops when every sample reached the threshold): the cap, not a total
        bar = Bar(iter(range(max_steps + 1)), desc=f"ascent ({space}, at most {max_steps + 1} steps)",
                  unit="steps", enabled=progress)
        for it in bar:
            idx = torch.nonzero(active).flatten()  # only the samples still climbing are evaluated
            v = var[idx].detach().requires_grad_(True)
            x = decode(v)
            logp = torch.log_softmax(classifier(x), -1)[torch.arange(len(idx)), tgt[idx]]
            grad, = torch.autograd.grad(logp.sum(), v)
            with torch.no_grad():
                p_now = logp.exp()
                finite = torch.isfinite(x).all(-1) & torch.isfinite(grad).all(-1)
                x_end[idx] = x.detach()
                prob[idx] = p_now.detach()
                if traj is not None:
                    for j, i in enumerate(idx.tolist()):
                        traj[i].append(x[j].detach().numpy().copy())
                done = (p_now >= threshold) | ~finite
                steps[idx[done]] = it
                active[idx[done]] = False
                if not active.any() or it == max_steps:
                    break
                keep = ~done
                g = grad[keep]
                if normalize:  # steps of length lr in the optimised variable (z or x)
                    g = g / g.norm(dim=-1, keepdim=True).clamp_min(1e-30)
                new = var[idx[keep]] + lr * g
                if clip is not None and space == "data":
                    new = new.clamp(*clip)
                var[idx[keep]] = new
    finally:
        for p, f in zip(classifier.parameters(), flags):
            p.requires_grad_(f)
    prob_np = prob.numpy().astype(np.float64)
    return AscentResult(
        space=space, x0=x0t.numpy().astype(np.float64), x=x_end.numpy().astype(np.float64),
        target=tgt.numpy(), steps=steps.numpy(), prob=prob_np, reached=prob_np >= threshold,
        threshold=float(threshold), lr=float(lr), max_steps=int(max_steps),
        trajectory=[np.array(t) for t in traj] if traj is not None else None,
        meta={"clip": clip, "normalize": bool(normalize)},
    )
