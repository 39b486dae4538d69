"""Emergent equivariance in deep ensembles (Gerken & Kessel, ICML 2024), on the bundled 8x8 digits with C4.

M members (plain MLPs 64 -> w -> w -> 10, ReLU, PyTorch's default i.i.d. uniform initialisation, which is
invariant under any permutation of the input pixels and hence under C4) are trained at once with
``torch.func.stack_module_state`` + ``vmap``, by SGD with full C4 augmentation (every minibatch holds the
whole orbit of each of its digits), the same minibatch sequence for every member; a control ensemble is
trained without augmentation.  At checkpoints we measure, for ensembles of m = 1, 2, 4, ..., M members
(disjoint groups, mean and sample standard deviation over groups):

* invariance deviation of the ensemble-mean logits f_m:  sqrt(mean_x mean_g |f_m(g x) - mean_h f_m(h x)|^2)
  (logit units), on test digits and on off-manifold uniform-noise images;
* orbit agreement: fraction of inputs whose predicted class is the same for all four rotations;
* at initialisation and at the end, the NTK equivariance error of the ensemble-averaged empirical NTK,
  |Theta_m(g x, g x') - Theta_m(x, x')| / |Theta_m(x, x')| (max over g), which is what the theory makes
  invariant in expectation over the initialisation.

The NTK argument: with full augmentation and an invariant initialisation distribution, the mean over
initialisations of the trained network is exactly C4-invariant at all training times (infinite width);
a finite ensemble deviates by Monte-Carlo error O(1/sqrt(m)).  Everything here is ``numerical``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch.func import functional_call, grad, stack_module_state, vmap

from ..errors import InputError
from ..result import jsonable
from .data import digits_split, noise_images, orbit, rotate
from .ntk import empirical_ntk


class MLP(torch.nn.Module):
    """Plain MLP on flattened images (no built-in symmetry)."""

    def __init__(self, d_in: int = 64, width: int = 64, depth: int = 2, d_out: int = 10):
        super().__init__()
        dims = [d_in] + [width] * depth
        self.hidden = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = torch.nn.Linear(dims[-1], d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer in self.hidden:
            h = torch.relu(layer(h))
        return self.out(h)


@dataclass
class EnsembleConfig:
    members: int = 32
    width: int = 64
    depth: int = 2
    n_train: int = 500
    n_test: int = 200
    n_noise: int = 200
    steps: int = 1000
    batch: int = 32
    lr: float = 0.05
    checkpoints: tuple[int, ...] = (0, 10, 30, 100, 300, 1000)
    ntk_points: int = 6
    control: bool = True


@dataclass
class EnsembleCurve:
    """Deviation[c][s] (mean over groups) and its std at checkpoint c and ensemble size sizes[s]."""

    augmented: bool
    data: str  # "test" or "noise"
    deviation: list[list[float]] = field(default_factory=list)
    deviation_std: list[list[float | None]] = field(default_factory=list)  # None: a single group
    agreement: list[list[float]] = field(default_factory=list)


@dataclass
class EnsembleResult:
    config: EnsembleConfig
    sizes: list[int]
    checkpoints: list[int]
    curves: list[EnsembleCurve]
    accuracy: dict[str, list[float]]  # ensemble-mean test accuracy (rotated test digits) per checkpoint
    member_accuracy: dict[str, list[float]]
    ntk_error: dict[str, list[float]]  # "init"/"final" (augmented): error of the m-member mean NTK per size
    ntk_error_std: dict[str, list[float]]
    seed: int
    seconds: float = 0.0
    status: str = "numerical"

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"experiment": "ensemble", "status": self.status, "seconds": round(self.seconds, 2),
                         "seed": self.seed, "config": asdict(self.config), "sizes": self.sizes,
                         "checkpoints": self.checkpoints, "curves": [asdict(c) for c in self.curves],
                         "accuracy": self.accuracy, "member_accuracy": self.member_accuracy,
                         "ntk_error": self.ntk_error, "ntk_error_std": self.ntk_error_std})


def ensemble_sizes(members: int) -> list[int]:
    sizes, m = [], 1
    while m <= members:
        sizes.append(m)
        m *= 2
    return sizes


def invariance_deviation(logits: torch.Tensor) -> torch.Tensor:
    """logits (4, n, k) on the C4 orbit (block j = inputs rotated by j quarter turns) ->
    sqrt(mean_x mean_g |f(g x) - orbit mean|^2)."""
    dev = logits - logits.mean(0, keepdim=True)
    return dev.pow(2).sum(-1).mean().sqrt()


def orbit_agreement(logits: torch.Tensor) -> torch.Tensor:
    pred = logits.argmax(-1)  # (4, n)
    return (pred == pred[:1]).all(0).double().mean()


def _group_stats(member_logits: torch.Tensor, sizes: list[int]) -> tuple[list[float], list[float | None], list[float]]:
    """member_logits (M, 4, n, k): per size m, mean/std over the M // m disjoint groups of the deviation of the
    group-mean logits, and the mean orbit agreement."""
    M = member_logits.shape[0]
    dev, sd, agr = [], [], []
    for m in sizes:
        groups = member_logits[: (M // m) * m].reshape(M // m, m, *member_logits.shape[1:]).mean(1)
        d = torch.stack([invariance_deviation(g) for g in groups])
        a = torch.stack([orbit_agreement(g) for g in groups])
        dev.append(float(d.mean()))
        sd.append(float(d.std()) if len(d) > 1 else None)  # one group: no spread to report
        agr.append(float(a.mean()))
    return dev, sd, agr


def _ntk_errors(base: torch.nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor,
                sizes: list[int]) -> tuple[list[float], list[float | None]]:
    """Per ensemble size: error of the group-mean empirical NTK, max over g of |Theta(g x, g x') - Theta(x, x')| /
    |Theta(x, x')| (mean and std over disjoint groups)."""
    M = next(iter(params.values())).shape[0]
    xs = torch.cat([rotate(x, j) for j in range(4)])  # (4 p, ...)
    p = x.shape[0]
    Ks = []
    for i in range(M):
        member = {k: v[i] for k, v in params.items()}
        Ks.append(empirical_ntk(base, xs, params=member))  # (4p, 4p, k, k)
    Ks = torch.stack(Ks)
    errs, sds = [], []
    for m in sizes:
        groups = Ks[: (M // m) * m].reshape(M // m, m, *Ks.shape[1:]).mean(1)
        e = []
        for K in groups:
            ref = K[:p, :p]
            worst = max(float(torch.linalg.vector_norm(K[j * p:(j + 1) * p, j * p:(j + 1) * p] - ref)
                              / torch.linalg.vector_norm(ref)) for j in range(1, 4))
            e.append(worst)
        errs.append(float(np.mean(e)))
        sds.append(float(np.std(e, ddof=1)) if len(e) > 1 else None)
    return errs, sds


def run_ensemble(config: EnsembleConfig | None = None, *, seed: int = 0, progress: bool = False) -> EnsembleResult:
    """Train augmented (and control) ensembles with vmap and measure emergent invariance (see module doc)."""
    from ..runtime.progress import Bar

    cfg = config or EnsembleConfig()
    if cfg.members < 1 or cfg.width < 1 or cfg.depth < 1 or cfg.steps < 0 or cfg.batch < 1 or cfg.ntk_points < 1:
        raise InputError("members, width, depth, batch, ntk_points must be >= 1 and steps >= 0")
    checkpoints = sorted({c for c in cfg.checkpoints if 0 <= c <= cfg.steps} | {0, cfg.steps})
    t0 = time.time()
    data = digits_split(cfg.n_train, cfg.n_test, seed, dtype=torch.float32)
    noise = noise_images(cfg.n_noise, seed + 1, data.x_test)
    test_orbit = torch.stack([rotate(data.x_test, j) for j in range(4)])  # (4, n, 1, 8, 8)
    noise_orbit = torch.stack([rotate(noise, j) for j in range(4)])
    sizes = ensemble_sizes(cfg.members)

    torch.manual_seed(seed)
    models = [MLP(64, cfg.width, cfg.depth, 10) for _ in range(cfg.members)]
    base = copy.deepcopy(models[0]).to("meta")
    init_params, _ = stack_module_state(models)
    init_params = {k: v.detach() for k, v in init_params.items()}

    def f(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(base, (p,), (x,))

    def loss(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(f(p, x), y)

    vgrad = vmap(grad(loss), (0, None, None))
    vf = vmap(f, (0, None))
    variants = [True, False] if cfg.control else [True]
    curves = {(a, d): EnsembleCurve(a, d) for a in variants for d in ("test", "noise")}
    acc: dict[str, list[float]] = {("augmented" if a else "control"): [] for a in variants}
    macc: dict[str, list[float]] = {("augmented" if a else "control"): [] for a in variants}
    ntk_err: dict[str, list[float]] = {}
    ntk_sd: dict[str, list[float]] = {}
    ntk_x = data.x_test[: cfg.ntk_points].double()

    def evaluate(params: dict[str, torch.Tensor], augmented: bool) -> None:
        with torch.no_grad():
            for name, orb in (("test", test_orbit), ("noise", noise_orbit)):
                n = orb.shape[1]
                logits = vf(params, orb.reshape(4 * n, *orb.shape[2:])).reshape(cfg.members, 4, n, -1)
                dev, sd, agr = _group_stats(logits, sizes)
                c = curves[(augmented, name)]
                c.deviation.append(dev)
                c.deviation_std.append(sd)
                c.agreement.append(agr)
                if name == "test":
                    y = data.y_test.repeat(4)
                    flat = logits.reshape(cfg.members, 4 * n, -1)
                    key = "augmented" if augmented else "control"
                    acc[key].append(float((flat.mean(0).argmax(-1) == y).double().mean()))
                    macc[key].append(float((flat.argmax(-1) == y).double().mean()))

    gen = torch.Generator().manual_seed(seed + 2)
    order = [torch.randint(0, cfg.n_train, (cfg.batch,), generator=gen) for _ in range(cfg.steps)]
    with Bar(total=len(variants) * cfg.steps, desc="ensemble", unit="steps", enabled=progress) as bar:
        for augmented in variants:
            params = {k: v.clone() for k, v in init_params.items()}
            if augmented:
                e, s = _ntk_errors(base, {k: v.double() for k, v in params.items()}, ntk_x, sizes)
                ntk_err["init"], ntk_sd["init"] = e, s
            for t in range(cfg.steps + 1):
                if t in checkpoints:
                    evaluate(params, augmented)
                if t == cfg.steps:
                    break
                idx = order[t]
                x, y = data.x_train[idx], data.y_train[idx]
                if augmented:
                    x, y = orbit(x), y.repeat(4)
                g = vgrad(params, x, y)
                params = {k: params[k] - cfg.lr * g[k] for k in params}
                bar.update(1)
            if augmented:
                e, s = _ntk_errors(base, {k: v.double() for k, v in params.items()}, ntk_x, sizes)
                ntk_err["final"], ntk_sd["final"] = e, s
    return EnsembleResult(cfg, sizes, checkpoints, list(curves.values()), acc, macc, ntk_err, ntk_sd, seed,
                          time.time() - t0)
