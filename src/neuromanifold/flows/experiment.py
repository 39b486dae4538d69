"""Diffeomorphic counterfactuals versus adversarial examples (Dombrowski, Gerken, Mueller, Kessel, TPAMI 2024).

helix: a neural spline flow (zuko) fitted to points near a helix in R^3, a classifier of the helix
    segment; from points on the helix, gradient ascent toward the adjacent segment's class in base
    space (counterfactual) and in data space (adversarial); exact distances to the helix; the induced
    inverse metric gamma^{-1} split along the exact tangent and normal plane at training checkpoints
    and across noise levels (the theorem: normal eigenvalues -> 0).
digits: Glow (normflows) on scikit-learn's bundled 8x8 digits (dequantised, logit preprocessing), an
    MLP classifier; counterfactuals in base space vs adversarial examples in pixel space (clipped to
    [0, 1]); distance to the data by the k-nearest-neighbour distance to the training set and by the
    flow's log-likelihood; the spectrum of gamma^{-1} at test digits.

Every number is an estimate from finite training and finite samples: status ``numerical``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from ..result import Result, jsonable
from ..runtime.torch import one_thread
from .counterfactuals import gradient_ascent
from .data import DIGIT_LEVELS, Helix, dequantize, helix_dataset, load_digits_split
from .metric import MetricCheckpoint, helix_metric, inverse_metric, normal_collapse
from .models import Classifier, GlowFlow, ZukoFlow, accuracy, train_classifier, train_flow

DATASETS = ("helix", "digits")


@dataclass
class CounterfactualConfig:
    data: str = "helix"
    seed: int = 0
    epochs: int | None = None  # helix 100, digits 40
    flow: str | None = None  # helix: nsf | realnvp; digits: glow
    noise: float = 0.05  # helix
    turns: float = 1.0  # helix
    classes: int = 4  # helix segments
    n_train: int = 2000  # helix
    starts: int | None = None  # helix 100, digits 10
    targets: str = "adjacent"  # helix: adjacent (nearest other segment along the curve) | random
    lr: float | None = None  # step length (normalised steps): helix 0.05, digits 0.1
    max_steps: int = 1000
    threshold: float = 0.99
    noise_sweep: tuple[float, ...] = (4.0, 2.0)  # helix: extra flows at noise * these factors
    knn: int = 5  # digits

    def resolved(self) -> "CounterfactualConfig":
        if self.data not in DATASETS:
            raise InputError(f"unknown data set {self.data!r}; use one of {', '.join(DATASETS)}")
        helix = self.data == "helix"
        c = CounterfactualConfig(**asdict(self))
        c.epochs = self.epochs if self.epochs is not None else (100 if helix else 40)
        c.flow = self.flow or ("nsf" if helix else "glow")
        c.starts = self.starts if self.starts is not None else (100 if helix else 10)
        c.lr = self.lr if self.lr is not None else (0.05 if helix else 0.1)
        if helix and c.flow not in ("nsf", "realnvp"):
            raise InputError(f"--flow {c.flow!r}: the helix uses 'nsf' or 'realnvp'")
        if not helix and c.flow != "glow":
            raise InputError(f"--flow {c.flow!r}: the digits use 'glow'")
        if c.epochs < 1 or c.starts < 1 or c.max_steps < 1:
            raise InputError("epochs, starts and max_steps must be >= 1")
        if c.targets not in ("adjacent", "random"):
            raise InputError(f"targets {c.targets!r}: use 'adjacent' or 'random'")
        if not (0 < c.threshold < 1):
            raise InputError(f"threshold must be in (0, 1), got {c.threshold}")
        return c


@dataclass
class CounterfactualReport:
    data: str
    config: dict[str, Any]
    results: dict[str, Any]  # name -> Result.to_dict()
    tables: dict[str, Any]
    seconds: float = 0.0
    arrays: dict[str, Any] = field(default_factory=dict, repr=False)  # for the figures, not serialised

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"data": self.data, "config": self.config, "results": self.results, "tables": self.tables,
                         "seconds": round(self.seconds, 2)})


def _checkpoints(epochs: int, k: int = 5) -> list[int]:
    return sorted({0, *[max(1, round(epochs * f)) for f in np.geomspace(1 / 2 ** (k - 2), 1, k - 1)]})


# ----------------------------------------------------------------------------------------------- helix
def _helix_flow(cfg: CounterfactualConfig, noise: float, seed: int, holdout: np.ndarray, helix: Helix,
                progress: bool, log: list[MetricCheckpoint] | None) -> ZukoFlow:
    data = helix_dataset(n=cfg.n_train, noise=noise, classes=cfg.classes, seed=seed, helix=helix)
    X = torch.tensor(data.x, dtype=torch.float32)
    H = torch.tensor(holdout, dtype=torch.float32)
    torch.manual_seed(seed)
    flow = ZukoFlow(3, cfg.flow, transforms=4, hidden=(64, 64))

    def on_checkpoint(epoch: int, fl: ZukoFlow) -> None:
        with torch.no_grad():
            nll = float(-fl.log_prob(H).mean())
        log.append(MetricCheckpoint(epoch, nll, helix_metric(fl, helix, holdout).summary()))

    train_flow(flow, lambda rng: X, cfg.epochs, lr=3e-3, batch=256, seed=seed,
               checkpoints=_checkpoints(cfg.epochs) if log is not None else (),
               on_checkpoint=on_checkpoint if log is not None else None, progress=progress)
    return flow


def helix_targets(helix: Helix, classes: int, t: np.ndarray, labels: np.ndarray, rule: str,
                  rng: np.random.Generator) -> np.ndarray:
    """adjacent: the class across the nearest interior segment boundary along the curve; random: any other class."""
    if rule == "random":
        return (labels + rng.integers(1, classes, len(labels))) % classes
    pos = t / (helix.length / classes) - labels  # position inside the own segment, in [0, 1]
    down = ((pos < 0.5) & (labels > 0)) | (labels == classes - 1)
    return np.where(down, labels - 1, labels + 1)


def run_helix(cfg: CounterfactualConfig, *, progress: bool = False) -> CounterfactualReport:
    with one_thread():  # batches of a few hundred 3-vectors: one thread is fastest
        return _run_helix(cfg, progress)


def _run_helix(cfg: CounterfactualConfig, progress: bool) -> CounterfactualReport:
    t0 = time.time()
    helix = Helix(turns=cfg.turns)
    train = helix_dataset(n=cfg.n_train, noise=cfg.noise, classes=cfg.classes, seed=cfg.seed, helix=helix)
    hold = helix_dataset(n=max(400, cfg.starts), noise=cfg.noise, classes=cfg.classes, seed=cfg.seed + 1, helix=helix)
    log: list[MetricCheckpoint] = []
    flow = _helix_flow(cfg, cfg.noise, cfg.seed, hold.x[:300], helix, progress, log)
    torch.manual_seed(cfg.seed)
    clf = Classifier(3, cfg.classes)
    X, Y = torch.tensor(train.x, dtype=torch.float32), torch.tensor(train.labels)
    train_classifier(clf, lambda rng: (X, Y), 60, seed=cfg.seed, progress=progress)
    acc = accuracy(clf, torch.tensor(hold.x, dtype=torch.float32), torch.tensor(hold.labels))

    # start on the helix: the nearest helix points of held-out samples (distance 0 before the ascent)
    t_star, _ = helix.project(hold.x[: cfg.starts])
    x0 = helix.point(t_star)
    lab0 = hold.segment(t_star)
    targets = helix_targets(helix, cfg.classes, t_star, lab0, cfg.targets, np.random.default_rng(cfg.seed))
    kw = dict(lr=cfg.lr, max_steps=cfg.max_steps, threshold=cfg.threshold, record=True, progress=progress)
    base = gradient_ascent(clf, x0, targets, space="base", flow=flow, **kw)
    adv = gradient_ascent(clf, x0, targets, space="data", **kw)
    d_base, d_adv = helix.distance(base.x), helix.distance(adv.x)
    closer = d_base < d_adv
    results: dict[str, Result] = {}
    results["base_closer_fraction"] = Result(
        "base_closer_fraction", float(closer.mean()), "numerical",
        {"what": "fraction of starts where the base-space end point is nearer the helix than the data-space one",
         "n_starts": int(len(closer)), "distance": "exact (every critical point of |x - h(t)|^2 bracketed and bisected)",
         "median_distance_base": float(np.median(d_base)), "median_distance_data": float(np.median(d_adv)),
         "max_distance_base": float(d_base.max()), "max_distance_data": float(d_adv.max()),
         "reached_base": int(base.reached.sum()), "reached_data": int(adv.reached.sum())}, seed=cfg.seed)

    # the theorem: normal eigenvalues vanish as the flow fits / as the noise (support thickness) shrinks
    sweep = [{"noise": cfg.noise, **log[-1].summary}]
    for k, factor in enumerate(cfg.noise_sweep):
        nz = cfg.noise * factor
        hold_k = helix_dataset(n=300, noise=nz, classes=cfg.classes, seed=cfg.seed + 101 + k, helix=helix)
        fl = _helix_flow(cfg, nz, cfg.seed + 11 + k, hold_k.x, helix, progress, None)
        sweep.append({"noise": nz, **helix_metric(fl, helix, hold_k.x).summary()})
    sweep.sort(key=lambda s: s["noise"])
    results["normal_eigenvalues_vanish"] = normal_collapse(log, noise_sweep=sweep)
    last = log[-1].summary
    results["tangent_normal_ratio"] = Result(
        "tangent_normal_ratio", last["ratio_median"], "numerical",
        {"what": "median over 300 held-out points of t^T gamma^{-1} t / lambda_max(N^T gamma^{-1} N), exact unit "
                 "tangent t and normal frame N at the nearest helix point; gamma^{-1} = J J^T by torch.func.jacrev",
         **last}, seed=cfg.seed)
    tables = {
        "classifier_accuracy_heldout": acc,
        "ascent": {"base": base.summary(), "data": adv.summary()},
        "per_start": [{"label": int(lab0[i]), "target": int(targets[i]),
                       "base": {"steps": int(base.steps[i]), "prob": float(base.prob[i]), "distance": float(d_base[i])},
                       "data": {"steps": int(adv.steps[i]), "prob": float(adv.prob[i]), "distance": float(d_adv[i])}}
                      for i in range(len(x0))],
        "checkpoints": [jsonable(asdict(c)) for c in log],
        "noise_sweep": sweep,
    }
    arrays = {"helix": helix, "train_x": train.x, "base": base, "data": adv, "d_base": d_base, "d_data": d_adv,
              "checkpoints": log, "noise_sweep": sweep}
    return CounterfactualReport("helix", jsonable(asdict(cfg)), {k: r.to_dict() for k, r in results.items()},
                                tables, time.time() - t0, arrays)


# ---------------------------------------------------------------------------------------------- digits
def bits_per_dim(log_q_u: np.ndarray, *, dim: int = 64) -> np.ndarray:
    """Bits per pixel of the discrete digits implied by the density on u = (v + e)/17: -(log q - D log 17)/(D ln 2)."""
    return -(np.asarray(log_q_u) - dim * math.log(DIGIT_LEVELS)) / (dim * math.log(2))


def run_digits(cfg: CounterfactualConfig, *, progress: bool = False) -> CounterfactualReport:
    from sklearn.neighbors import NearestNeighbors

    t0 = time.time()
    train, test = load_digits_split(seed=cfg.seed)
    u_train = torch.tensor(dequantize(train.pixels, None), dtype=torch.float32)
    u_test = torch.tensor(dequantize(test.pixels, None), dtype=torch.float32)
    torch.manual_seed(cfg.seed)
    flow = GlowFlow(8, blocks=4, hidden=64)
    log: list[dict[str, float]] = []

    def on_checkpoint(epoch: int, fl: GlowFlow) -> None:
        with torch.no_grad():
            log.append({"epoch": epoch, "test_bits_per_dim": float(bits_per_dim(fl.log_prob(u_test).numpy()).mean())})

    sample = lambda rng: torch.tensor(dequantize(train.pixels, rng), dtype=torch.float32)  # noqa: E731
    train_flow(flow, sample, cfg.epochs, lr=1e-3, batch=128, seed=cfg.seed, checkpoints=_checkpoints(cfg.epochs, 4),
               on_checkpoint=on_checkpoint, progress=progress)
    torch.manual_seed(cfg.seed)
    clf = Classifier(64, 10, hidden=(128, 128))
    yt = torch.tensor(train.labels)
    train_classifier(clf, lambda rng: (sample(rng), yt), 60, seed=cfg.seed, progress=progress)
    acc = accuracy(clf, u_test, torch.tensor(test.labels))

    # starts: the first correctly classified test digit of each class (cycling through the classes)
    with torch.no_grad():
        logits = clf(u_test)
    pred = logits.argmax(-1).numpy()
    idx: list[int] = []
    for rep in range(cfg.starts):
        cls = rep % 10
        cand = [i for i in np.nonzero((test.labels == cls) & (pred == cls))[0] if i not in idx]
        if cand:
            idx.append(int(cand[0]))
    idx_a = np.array(idx[: cfg.starts])
    x0 = u_test[idx_a].numpy().astype(np.float64)
    lab = test.labels[idx_a]
    lg = logits[idx_a].clone()
    lg[torch.arange(len(idx_a)), torch.as_tensor(lab)] = -float("inf")
    targets = lg.argmax(-1).numpy()  # the runner-up class: the nearest decision
    kw = dict(lr=cfg.lr, max_steps=cfg.max_steps, threshold=cfg.threshold, progress=progress)
    base = gradient_ascent(clf, x0, targets, space="base", flow=flow, **kw)
    adv = gradient_ascent(clf, x0, targets, space="data", clip=(0.0, 1.0), **kw)

    nn_index = NearestNeighbors(n_neighbors=cfg.knn).fit(u_train.numpy())

    def knn(x: np.ndarray) -> np.ndarray:
        return nn_index.kneighbors(x)[0].mean(1)

    def bpd(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return bits_per_dim(flow.log_prob(torch.tensor(x, dtype=torch.float32)).numpy())

    ref = {"knn_test_median": float(np.median(knn(u_test.numpy()))),
           "bpd_test_median": float(np.median(bpd(u_test.numpy())))}
    k0, kb, ka = knn(x0), knn(base.x), knn(adv.x)
    b0, bb, ba = bpd(x0), bpd(base.x), bpd(adv.x)
    # the induced metric at test digits: spectrum of gamma^{-1} (64 x 64)
    G = inverse_metric(flow.double(), u_test[:16].double()).numpy()
    flow.float()
    spectra = np.sort(np.linalg.eigvalsh(G), 1)[:, ::-1]
    results = {
        "base_knn_closer_fraction": Result(
            "base_knn_closer_fraction", float(np.mean(kb < ka)), "numerical",
            {"what": f"fraction of starts whose counterfactual has a smaller mean {cfg.knn}-NN distance to the training "
                     "set than the adversarial example", "n_starts": int(len(idx_a)),
             "knn_median_start": float(np.median(k0)), "knn_median_base": float(np.median(kb)),
             "knn_median_data": float(np.median(ka)), **ref}, seed=cfg.seed),
        "base_likelier_fraction": Result(
            "base_likelier_fraction", float(np.mean(bb < ba)), "numerical",
            {"what": "fraction of starts whose counterfactual has a higher flow likelihood (fewer bits/dim) than "
                     "the adversarial example", "bpd_median_start": float(np.median(b0)),
             "bpd_median_base": float(np.median(bb)), "bpd_median_data": float(np.median(ba)), **ref}, seed=cfg.seed),
        "induced_metric_spectrum": Result(
            "induced_metric_spectrum", np.median(spectra, 0).tolist(), "numerical",
            {"what": "median over 16 test digits of the eigenvalues of gamma^{-1} = J J^T (descending), J = dg/dz by "
                     "torch.func.jacrev in float64", "top_to_bottom_ratio_median": float(np.median(spectra[:, 0] / spectra[:, -1])),
             "eigenvalues_above_1pct_of_max_median": float(np.median((spectra > 0.01 * spectra[:, :1]).sum(1)))},
            seed=cfg.seed),
    }
    tables = {
        "classifier_accuracy_test": acc,
        "flow_checkpoints": log,
        "ascent": {"base": base.summary(), "data": adv.summary()},
        "per_start": [{"label": int(lab[i]), "target": int(targets[i]),
                       "start": {"knn": float(k0[i]), "bpd": float(b0[i])},
                       "base": {"steps": int(base.steps[i]), "prob": float(base.prob[i]), "knn": float(kb[i]),
                                "bpd": float(bb[i])},
                       "data": {"steps": int(adv.steps[i]), "prob": float(adv.prob[i]), "knn": float(ka[i]),
                                "bpd": float(ba[i])}} for i in range(len(idx_a))],
        "reference": ref,
    }
    arrays = {"base": base, "data": adv, "labels": lab, "spectra": spectra}
    return CounterfactualReport("digits", jsonable(asdict(cfg)), {k: r.to_dict() for k, r in results.items()},
                                tables, time.time() - t0, arrays)


def run_counterfactuals(config: CounterfactualConfig | None = None, *, progress: bool = False,
                        **options: Any) -> CounterfactualReport:
    """Run the helix or digits experiment (``options`` override fields of CounterfactualConfig)."""
    cfg = config or CounterfactualConfig()
    unknown = set(options) - set(asdict(cfg))
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(sorted(unknown))}")
    cfg = CounterfactualConfig(**{**asdict(cfg), **{k: v for k, v in options.items() if v is not None}}).resolved()
    return run_helix(cfg, progress=progress) if cfg.data == "helix" else run_digits(cfg, progress=progress)
