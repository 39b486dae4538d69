"""Equivariance versus augmentation on scikit-learn's bundled digits (issue 8, part 3).

planar: a C4- (or D4-) invariant group CNN trained on upright digits against an ordinary CNN of
    (nearly) equal parameter count trained with random 90-degree rotations (and one without
    augmentation); test accuracy on digits rotated by 0, 90, 180, 270 degrees (exact) and by other
    angles (bilinear).  Budget: ``epochs`` epochs over each model's training distribution, the
    augmented one counting its 4 poses (the augmented CNN takes 4x the gradient steps, i.e. ``epochs``
    epochs per pose).
sphere: digits projected onto S^2 at Haar-random rotations; a spherical CNN trained on digits in the
    canonical pose only against planar CNNs on the grid image with 1x, 5x, 25x its parameter count,
    trained with a pool of ``a`` random rotations per digit (a = 0: canonical pose only), every model
    with the same number of gradient steps (``epochs`` epochs over the un-augmented training set: a
    fixed compute budget, so a pool of a > 1 rotations is seen epochs / a times); classification
    accuracy and area-weighted mIoU of the per-pixel labels on rotated test digits.

Training is recorded: the mean training loss and batch accuracy per epoch (``history``) and, after
training, the accuracy on the model's own training data (eval mode; for the sphere on up to 1000
examples of its training pool), so that under-training shows in the report.

Every number is an empirical estimate (status ``numerical``): mean and sample standard deviation
over seeds, each seed drawing its own split, rotations and initialisation.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError
from ..result import jsonable
from . import digits as dg
from .models import GroupCNN, SphericalCNN, n_parameters, planar_cnn_matching, sphere_grid_cnn_matching

STATUS = "numerical (test-set estimates: mean +- sample std over seeds)"


@dataclass
class PlanarConfig:
    seeds: int = 3
    epochs: int = 40
    n_train: int = 1000
    n_test: int = 500
    group: str = "C4"
    widths: tuple[int, int, int] = (6, 8, 12)
    angles: tuple[float, ...] = tuple(range(0, 360, 15))
    batch: int = 64
    lr: float = 1e-2


@dataclass
class SphereConfig:
    seeds: int = 3
    epochs: int = 20
    n_train: int = 500
    n_test: int = 300
    b: int = 12
    aug_levels: tuple[int, ...] = (0, 1, 8)
    sizes: tuple[int, ...] = (1, 5, 25)
    channels: tuple[int, int, int] = (6, 8, 12)
    lmax: tuple[int, int] = (6, 4)
    extent: float = 1.2
    batch: int = 32
    lr: float = 1e-2


@dataclass
class ExperimentResult:
    setting: str
    config: dict[str, Any]
    models: dict[str, dict[str, Any]]
    checks: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    status: str = STATUS

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def _mean_std(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def _train(model: torch.nn.Module, n_steps: int, batch_fn: Callable[[torch.Generator], tuple], loss_fn: Callable,
           lr: float, gen: torch.Generator, tick: Callable[[], None], steps_per_epoch: int) -> dict[str, list[float]]:
    """Adam with cosine decay for n_steps; ``loss_fn(model, *batch) -> (loss, n_correct, n)``.  Returns the
    mean training loss and batch accuracy of each epoch of ``steps_per_epoch`` steps (last one possibly partial)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(n_steps, 1))
    model.train()
    hist: dict[str, list[float]] = {"loss": [], "accuracy": []}
    tot = [0.0, 0, 0, 0]  # loss sum, correct, seen, steps
    for step in range(n_steps):
        loss, correct, n = loss_fn(model, *batch_fn(gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tot[0] += loss.item()
        tot[1] += int(correct)
        tot[2] += int(n)
        tot[3] += 1
        if (step + 1) % steps_per_epoch == 0 or step + 1 == n_steps:
            hist["loss"].append(tot[0] / tot[3])
            hist["accuracy"].append(tot[1] / tot[2])
            tot = [0.0, 0, 0, 0]
        tick()
    model.eval()
    return hist


def _record_training(rec: dict[str, Any], hist: dict[str, list[float]], train_acc: float) -> None:
    rec.setdefault("train_accuracy", []).append(train_acc)
    rec.setdefault("final_train_loss", []).append(hist["loss"][-1])
    rec.setdefault("history", []).append(hist)


def _progress(total: int, progress: bool, desc: str):
    from ..runtime.progress import Bar

    # on stderr: a bar on a terminal, else a plain line every few seconds (total: mini-batch steps of all runs)
    return Bar(total=total, desc=desc, unit="steps", enabled=progress)


# ----------------------------------------------------------------------------------------- planar


def run_planar(config: PlanarConfig | None = None, *, progress: bool = False) -> ExperimentResult:
    """Group CNN (upright training) vs CNN with 90-degree augmentation vs plain CNN: accuracy against rotation angle."""
    cfg = config or PlanarConfig()
    if cfg.seeds < 1 or cfg.epochs < 1:
        raise InputError(f"seeds and epochs must be >= 1, got seeds={cfg.seeds}, epochs={cfg.epochs}")
    t0 = time.perf_counter()
    data = dg.load_digits_data()
    n_gparams = n_parameters(GroupCNN(cfg.group, cfg.widths))
    names = {f"{cfg.group}-CNN, upright": "group", "CNN + 90-degree augmentation": "aug", "CNN, upright": "plain"}
    models: dict[str, dict[str, Any]] = {n: {"accuracy": {str(a): [] for a in cfg.angles}} for n in names}
    per_epoch = math.ceil(cfg.n_train / cfg.batch)
    poses = {"group": 1, "aug": 4, "plain": 1}  # size of each model's training set in units of n_train
    for name, kind in names.items():
        models[name]["gradient_steps"] = cfg.epochs * poses[kind] * per_epoch
    checks: dict[str, Any] = {"invariance_error_90": []}
    bar = _progress(cfg.seeds * sum(cfg.epochs * poses[k] * per_epoch for k in names.values()), progress, "planar")
    for seed in range(cfg.seeds):
        train, test = dg.split(data, cfg.n_train, cfg.n_test, seed)
        Xtr = torch.tensor(dg.pad(train.images)[:, None], dtype=torch.float32)
        ytr = torch.tensor(train.labels)
        Xte = {a: torch.tensor(dg.rotate_planar(dg.pad(test.images), a)[:, None], dtype=torch.float32) for a in cfg.angles}
        yte = torch.tensor(test.labels)
        for j, (name, kind) in enumerate(names.items()):
            torch.manual_seed(1000 * seed + j)
            model = GroupCNN(cfg.group, cfg.widths) if kind == "group" else planar_cnn_matching(n_gparams)
            models[name]["parameters"] = n_parameters(model)

            def batch_fn(gen: torch.Generator, kind: str = kind) -> tuple:
                idx = torch.randint(0, len(ytr), (cfg.batch,), generator=gen)
                x = Xtr[idx]
                if kind == "aug":
                    k = torch.randint(0, 4, (len(idx),), generator=gen)
                    x = torch.stack([torch.rot90(xi, int(ki), dims=(-2, -1)) for xi, ki in zip(x, k)])
                return x, ytr[idx]

            def loss_fn(m: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple:
                out = m(x)
                return F.cross_entropy(out, y), (out.argmax(1) == y).sum().item(), len(y)

            gen = torch.Generator().manual_seed(seed)
            hist = _train(model, cfg.epochs * poses[kind] * per_epoch, batch_fn, loss_fn, cfg.lr, gen,
                          lambda: bar.update(1), per_epoch)
            with torch.no_grad():  # accuracy on the model's own training data (all 4 poses for the augmented CNN)
                ks = range(4) if kind == "aug" else (0,)
                tr_acc = float(np.mean([(model(torch.rot90(Xtr, k, dims=(-2, -1))).argmax(1) == ytr).float().mean().item()
                                        for k in ks]))
            _record_training(models[name], hist, tr_acc)
            with torch.no_grad():
                for a in cfg.angles:
                    acc = (model(Xte[a]).argmax(1) == yte).float().mean().item()
                    models[name]["accuracy"][str(a)].append(acc)
                if kind == "group":
                    x0 = torch.tensor(dg.pad(test.images)[:, None], dtype=torch.float32)
                    ref = model(x0)
                    err = max((model(torch.rot90(x0, k, dims=(-2, -1))) - ref).abs().max().item() for k in (1, 2, 3))
                    checks["invariance_error_90"].append(err / max(ref.abs().max().item(), 1e-30))
    bar.close()
    checks["invariance_error_90_note"] = ("max |logits(rot90^k x) - logits(x)| / max |logits| of the trained group CNN "
                                          "on the test digits, float32 (exact invariance up to rounding)")
    return ExperimentResult("planar", jsonable(asdict(cfg)), models, checks, time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------- sphere


def area_weighted_miou(pred: np.ndarray, true: np.ndarray, weights: np.ndarray, n_classes: int) -> float:
    """mean over classes with non-empty union of sum_w[pred=c and true=c] / sum_w[pred=c or true=c]."""
    w = np.broadcast_to(weights, pred.shape)
    ious = []
    for c in range(n_classes):
        p, t = pred == c, true == c
        union = (w * (p | t)).sum()
        if union > 0:
            ious.append((w * (p & t)).sum() / union)
    return float(np.mean(ious))


def run_sphere(config: SphereConfig | None = None, *, progress: bool = False) -> ExperimentResult:
    """Spherical CNN (canonical pose only) vs planar CNNs of 1x/5x/25x its size with rotation augmentation."""
    from .grids import S2Grid

    cfg = config or SphereConfig()
    if cfg.seeds < 1 or cfg.epochs < 1:
        raise InputError(f"seeds and epochs must be >= 1, got seeds={cfg.seeds}, epochs={cfg.epochs}")
    if any(a < 0 for a in cfg.aug_levels) or any(s < 1 for s in cfg.sizes):
        raise InputError("augmentation levels must be >= 0 and size multiples >= 1")
    t0 = time.perf_counter()
    data = dg.load_digits_data()
    grid = S2Grid(cfg.b, 0, dtype=torch.float64)
    xyz = grid.xyz.numpy()
    area = grid.weights.numpy().reshape(grid.shape)
    n_sph = n_parameters(SphericalCNN(cfg.b, cfg.channels, cfg.lmax))
    runs: list[tuple[str, int | None, int]] = [("spherical CNN", None, 0)]
    runs += [(f"planar CNN {s}x", s, a) for s in cfg.sizes for a in cfg.aug_levels]
    models: dict[str, dict[str, Any]] = {}
    per_epoch = math.ceil(cfg.n_train / cfg.batch)
    steps = cfg.epochs * per_epoch
    checks: dict[str, Any] = {"grid_rotation_equivariance_error": []}
    bar = _progress(cfg.seeds * len(runs) * steps, progress, "sphere")
    for seed in range(cfg.seeds):
        rng = np.random.default_rng(seed)
        train, test = dg.split(data, cfg.n_train, cfg.n_test, seed)
        test_rot = dg.random_rotations(cfg.n_test, rng)
        te_vals = dg.project_to_sphere(test.images, test_rot, xyz, extent=cfg.extent)
        te_can = dg.project_to_sphere(test.images, np.broadcast_to(np.eye(3), (cfg.n_test, 3, 3)), xyz,
                                      extent=cfg.extent)
        tests = {"rotated": (te_vals, dg.segmentation_labels(te_vals, test.labels)),
                 "canonical": (te_can, dg.segmentation_labels(te_can, test.labels))}
        pools: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        for a in sorted(set(cfg.aug_levels) | {0}):
            reps = max(a, 1)
            imgs = np.repeat(train.images, reps, axis=0)
            labs = np.repeat(train.labels, reps)
            rots = np.broadcast_to(np.eye(3), (len(imgs), 3, 3)) if a == 0 else dg.random_rotations(len(imgs), rng)
            vals = dg.project_to_sphere(imgs, rots, xyz, extent=cfg.extent)
            pools[a] = (torch.tensor(vals[:, None], dtype=torch.float32), torch.tensor(labs),
                        torch.tensor(dg.segmentation_labels(vals, labs)))
        for name, size, a in runs:
            torch.manual_seed(1000 * seed + 7 * (size or 0) + a)
            model = SphericalCNN(cfg.b, cfg.channels, cfg.lmax) if size is None else sphere_grid_cnn_matching(size * n_sph)
            rec = models.setdefault(name, {"parameters": n_parameters(model), "size_multiple": size, "levels": {}})
            lev = rec["levels"].setdefault(str(a), {f"{m}_{t}": [] for m in ("accuracy", "miou") for t in tests})
            X, y, seg = pools[a]

            def batch_fn(gen: torch.Generator, X: torch.Tensor = X, y: torch.Tensor = y, seg: torch.Tensor = seg) -> tuple:
                idx = torch.randint(0, len(y), (cfg.batch,), generator=gen)
                return X[idx], y[idx], seg[idx]

            def loss_fn(m: torch.nn.Module, x: torch.Tensor, yy: torch.Tensor, ss: torch.Tensor) -> tuple:
                logits, seg_logits = m(x)
                loss = F.cross_entropy(logits, yy) + F.cross_entropy(seg_logits, ss)
                return loss, (logits.argmax(1) == yy).sum().item(), len(yy)

            hist = _train(model, steps, batch_fn, loss_fn, cfg.lr, torch.Generator().manual_seed(seed),
                          lambda: bar.update(1), per_epoch)
            with torch.no_grad():  # accuracy and mIoU on (up to 1000 examples of) the model's own training pool
                sub = torch.arange(len(y))[:: max(1, math.ceil(len(y) / 1000))]
                lo, sl = zip(*(model(X[sub[i:i + 100]]) for i in range(0, len(sub), 100)))
                tr_acc = (torch.cat(lo).argmax(1) == y[sub]).float().mean().item()
                tr_miou = area_weighted_miou(torch.cat(sl).argmax(1).numpy(), seg[sub].numpy(), area, 11)
            _record_training(lev, hist, tr_acc)
            lev.setdefault("train_miou", []).append(tr_miou)
            with torch.no_grad():
                for t, (vals, seglab) in tests.items():
                    logits, seg_logits = [], []
                    for i in range(0, len(vals), 100):
                        lo, sl = model(torch.tensor(vals[i:i + 100, None], dtype=torch.float32))
                        logits.append(lo)
                        seg_logits.append(sl.argmax(1))
                    pred = torch.cat(logits).argmax(1).numpy()
                    lev[f"accuracy_{t}"].append(float((pred == test.labels).mean()))
                    lev[f"miou_{t}"].append(area_weighted_miou(torch.cat(seg_logits).numpy(), seglab, area, 11))
                if size is None:  # half turn about the pole: alpha -> alpha + pi permutes every grid used
                    x = torch.tensor(te_vals[:50, None], dtype=torch.float32)
                    lo, sl = model(x)
                    lo2, sl2 = model(torch.roll(x, cfg.b, dims=-1))
                    err = max((lo2 - lo).abs().max().item() / lo.abs().max().item(),
                              (sl2 - torch.roll(sl, cfg.b, dims=-1)).abs().max().item() / sl.abs().max().item())
                    checks["grid_rotation_equivariance_error"].append(err)
    bar.close()
    checks["grid_rotation_equivariance_error_note"] = (
        "relative max error of the trained spherical CNN (float32) under the half turn about the pole, which "
        "permutes the points of every Driscoll-Healy and SOFT grid of the network: logits invariant, segmentation "
        "rolled by half a turn in alpha")
    cfgd = jsonable(asdict(cfg))
    cfgd["gradient_steps_per_model"] = steps
    return ExperimentResult("sphere", cfgd, models, checks, time.perf_counter() - t0)


def run(setting: str, *, progress: bool = False, **options: Any) -> ExperimentResult:
    """Run the planar or the sphere experiment; options override the config fields (None: default)."""
    configs = {"planar": PlanarConfig, "sphere": SphereConfig}
    if setting not in configs:
        raise InputError(f"unknown setting {setting!r}: use planar or sphere")
    cls = configs[setting]
    known = set(cls.__dataclass_fields__)
    bad = [k for k, v in options.items() if v is not None and k not in known]
    if bad:
        raise InputError(f"options {', '.join(bad)} do not apply to the {setting} setting (valid: {', '.join(sorted(known))})")
    cfg = cls(**{k: v for k, v in options.items() if v is not None})
    return (run_planar if setting == "planar" else run_sphere)(cfg, progress=progress)
