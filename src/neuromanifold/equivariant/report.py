"""The report of the equivariance experiment: markdown tables (mean ± sample std over seeds), the JSON
results and the figure, written into one directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..report import plots
from ..report.markdown import markdown_table, report_dir
from .experiment import ExperimentResult, _mean_std


def _fmt(xs: list[float], pct: bool = True, digits: int = 1) -> str:
    m, s = _mean_std(xs)
    k = 100.0 if pct else 1.0
    return f"{k * m:.{digits}f} ± {k * s:.{digits}f}"


def to_markdown(res: ExperimentResult) -> str:
    """Markdown tables (mean ± sample std over seeds, in percent)."""
    cfg = res.config
    lines = [f"# Equivariance versus augmentation: {res.setting}", "",
             f"Status: {res.status}. {cfg['seeds']} seeds, {res.seconds:.0f} s.", ""]
    if res.setting == "planar":
        lines += [f"Digits (scikit-learn, 8x8 padded to 12x12), {cfg['n_train']} train / {cfg['n_test']} test per seed. "
                  f"Budget: {cfg['epochs']} epochs over each model's training set, the augmented set counting its 4 "
                  f"poses (batch {cfg['batch']}, Adam, lr {cfg['lr']:g} with cosine decay). Train: accuracy (%) on the "
                  "model's own training data after training (all 4 poses for the augmented CNN) and the mean "
                  "training loss of the last epoch. Test accuracy (%) on digits rotated by each angle (multiples of "
                  "90 degrees exact, others bilinear).", ""]
        show = [a for a in ("0", "90", "180", "270") if a in next(iter(res.models.values()))["accuracy"]]
        rows = []
        for name, rec in res.models.items():
            allacc = np.mean([v for v in rec["accuracy"].values()], axis=0).tolist()
            rows.append([name, rec["parameters"], rec["gradient_steps"], _fmt(rec["train_accuracy"]),
                         _fmt(rec["final_train_loss"], pct=False, digits=3), *(_fmt(rec["accuracy"][a]) for a in show),
                         _fmt(allacc)])
        lines += markdown_table(rows, ["model", "parameters", "gradient steps", "train acc", "last-epoch loss",
                                       *(f"{a}°" for a in show), "mean over all angles"])
        errs = res.checks.get("invariance_error_90", [])
        if errs:
            lines += ["", f"Invariance check: {res.checks['invariance_error_90_note']}: max {max(errs):.1e}."]
    else:
        lines += [f"Digits on the Driscoll-Healy grid (b = {cfg['b']}, {2 * cfg['b']}x{2 * cfg['b']}), "
                  f"{cfg['n_train']} train / {cfg['n_test']} test per seed. Budget: {cfg['gradient_steps_per_model']} "
                  f"gradient steps per model ({cfg['epochs']} epochs of the un-augmented set, batch {cfg['batch']}, "
                  f"Adam, lr {cfg['lr']:g} with cosine decay; loss = cross-entropy of the class + pixel-mean "
                  "cross-entropy of the segmentation). Augmentation a: a Haar-random rotations per training digit "
                  "(a = 0: canonical pose only). Train: accuracy / mIoU (%) on the model's own training pool after "
                  "training. Tested at Haar-random rotations (and in the canonical pose). mIoU: 11 classes "
                  "(background + 10 digits), pixels weighted by area.", ""]
        lines += markdown_table(
            [[name, rec["parameters"], a, _fmt(lev["train_accuracy"]), _fmt(lev["train_miou"]),
              _fmt(lev["accuracy_rotated"]), _fmt(lev["miou_rotated"]), _fmt(lev["accuracy_canonical"]),
              _fmt(lev["miou_canonical"])] for name, rec in res.models.items() for a, lev in rec["levels"].items()],
            ["model", "parameters", "a", "train acc", "train mIoU", "accuracy rotated (%)", "mIoU rotated (%)",
             "accuracy canonical (%)", "mIoU canonical (%)"])
        errs = res.checks.get("grid_rotation_equivariance_error", [])
        if errs:
            lines += ["", f"Equivariance check: {res.checks['grid_rotation_equivariance_error_note']}: max {max(errs):.1e}."]
    return "\n".join(lines) + "\n"


def write_report(res: ExperimentResult, out: str | Path) -> dict[str, Path]:
    """Write report.md, results.json and the figures to the directory ``out``; return their paths."""
    out = report_dir(out)
    paths = {"json": out / f"{res.setting}_results.json", "markdown": out / f"{res.setting}_report.md"}
    paths["json"].write_text(json.dumps(res.to_dict(), indent=2))
    if res.setting == "planar":
        paths["figure"] = Path(plots.plot_rotation_accuracy(res, out / "planar_accuracy_vs_angle.png"))
    else:
        paths["figure"] = Path(plots.plot_augmentation_curves(res, out / "sphere_accuracy_miou_vs_augmentation.png"))
    md = to_markdown(res) + "\n" + "".join(f"![{k}]({p.name})\n" for k, p in paths.items() if k == "figure")
    paths["markdown"].write_text(md)
    return paths
