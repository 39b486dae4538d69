"""The reports of the training-dynamics experiments: markdown tables, the JSON results and one figure per
experiment, written into one directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from ..report import plots
from ..report.markdown import markdown_table, report_dir


def _fmt(x: Any, spec: str = ".3g") -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return format(x, spec)
    return str(x)


def _pm(mean: float, std: float | None) -> str:
    return f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"


def dynamics_markdown(d: dict[str, Any]) -> str:
    cfg = d["config"]
    lines = [
        "# Restricted vs augmented training (C4 on 8x8 digits)",
        "",
        f"Status: **{d['status']}** (float64 training; the compatibility commutator is certified in integer "
        f"arithmetic). {cfg['n_train']} digits, {cfg['fields']} hidden {cfg['reps']} fields, weight decay "
        f"{cfg['weight_decay']}, augmented gradient descent with step eta = 1/lambda_max(H|L) for {cfg['aug_steps']} "
        f"steps, perturbation {cfg['perturbation']:g} x |A*| along a random direction of E^perp cap L. "
        f"{d['seconds']:.0f} s.",
        "",
    ]
    header = ["support", "seed", "[Pi_E, Pi_L]", "dim L", "dim E∩L", "‖Pi_{E∩L} ∇R(A*)‖", "‖Pi_L ∇R_aug(A*)‖",
              "off E", "λmin(H|E∩L)", "λmin(H|E⊥∩L)", "‖H_{E,E⊥}‖", "growth/step pred.", "measured", "dist(A_T, E)",
              "verdict"]
    rows = []
    for r in d["runs"]:
        comm = r["commutator"]
        rows.append([
            r["support"], r["seed"], f"{comm['value']:.3g} ({comm['status']})", r["dim_L"], r["dim_EL"],
            f"{r['restricted_grad_norm']:.1e}", f"{r['aug_grad_norm']:.1e}", f"{r['aug_grad_off_E']:.1e}",
            _fmt(r["lambda_min_EL"], ".2e"), _fmt(r["lambda_min_perp"], ".2e"), _fmt(r["hessian_offdiag"], ".1e"),
            _fmt(r["predicted_factor"], ".6f"), _fmt(r["measured_factor"], ".6f"), f"{r['distance'][-1]:.2e}",
            r["verdict"]])
    lines += markdown_table(rows, header)
    lines += [
        "",
        "Reading: for the rotation-closed (compatible) support the augmented gradient at the restricted stationary "
        "point A* is as small as the restricted one and has no component off E, the Hessian of the augmented risk "
        "is block-diagonal on E∩L ⊕ E⊥∩L, and augmented training stays in E to round-off; a perturbation off E "
        "grows or decays according to the sign of λmin(H|E⊥∩L) (the asymptotic predicted per-step factor is "
        "|1 - eta λmin|; the measured factor is fitted on the second half of the run). For the skewed "
        "(incompatible) support Pi_L does not preserve E: A* is not stationary for augmented training, which "
        "leaves E at once. λmin(H|E∩L) > 0 certifies numerically that A* is a local minimum of restricted training.",
    ]
    return "\n".join(lines) + "\n"


def ensemble_markdown(d: dict[str, Any]) -> str:
    cfg = d["config"]
    sizes, cps = d["sizes"], d["checkpoints"]
    lines = [
        "# Emergent invariance of deep ensembles (C4 on 8x8 digits)",
        "",
        f"Status: **{d['status']}**. {cfg['members']} MLP members (width {cfg['width']}, depth {cfg['depth']}) "
        f"trained at once (vmap), SGD lr {cfg['lr']}, {cfg['steps']} steps of {cfg['batch']} digits "
        f"{'(x4: full C4 orbit)'}, {cfg['n_train']} training digits; deviation = "
        "sqrt(mean_x mean_g |f_m(gx) - orbit mean|^2) of the m-member mean logits (mean ± std over disjoint groups); "
        f"agreement = fraction of inputs with the same predicted class on the whole orbit (for the m-member mean; at initialisation the mean logits are nearly 0 and their argmax is noise). No ± for m = M (a single group). Seed {d['seed']}, "
        f"{d['seconds']:.0f} s.",
        "",
    ]
    for c in d["curves"]:
        kind = "augmented" if c["augmented"] else "control (no augmentation)"
        lines += [f"## {kind}, {c['data']} inputs", ""]
        lines += markdown_table(
            [[t, *(_pm(c["deviation"][i][j], c["deviation_std"][i][j]) for j in range(len(sizes))),
              f"{c['agreement'][i][0]:.2f}", f"{c['agreement'][i][-1]:.2f}"] for i, t in enumerate(cps)],
            ["step", *(f"m={m}" for m in sizes), "agreement m=1", f"agreement m={sizes[-1]}"])
        lines.append("")
    lines += ["## accuracy on the rotated test digits (ensemble mean / average member)", ""]
    lines += markdown_table(
        [[t, *(f"{d['accuracy'][k][i]:.3f} / {d['member_accuracy'][k][i]:.3f}" for k in d["accuracy"])]
         for i, t in enumerate(cps)], ["step", *d["accuracy"]])
    lines += ["", "## NTK equivariance error of the m-member mean NTK (augmented ensemble)", "",
              "max_g |Theta_m(gx, gx') - Theta_m(x, x')| / |Theta_m(x, x')| on "
              f"{cfg['ntk_points']} test digits (mean ± std over groups).", ""]
    lines += markdown_table(
        [[k, *(_pm(e, s) for e, s in zip(d["ntk_error"][k], d["ntk_error_std"][k]))] for k in d["ntk_error"]],
        ["", *(f"m={m}" for m in sizes)])
    lines += ["", "Reading: single members are far from invariant; with augmentation the deviation of the ensemble "
              "mean falls like 1/sqrt(m) at every training time, on test digits and on noise images off the data "
              "manifold, while the unaugmented control does not become invariant. The mean empirical NTK "
              "approaches an invariant kernel at the same rate (Gerken & Kessel 2024)."]
    return "\n".join(lines) + "\n"


def harmonics_markdown(d: dict[str, Any]) -> str:
    cfg = d["config"]
    lines = [
        "# Harmonics of learning: power-spectral networks learn the Fourier transform",
        "",
        f"Status: **{d['status']}**. Loss: {cfg['loss']} invariance loss + {cfg['reg']} x unitarity defect, Adam lr "
        f"{cfg['lr']}, {cfg['steps']} steps. Table accuracy: fraction of the |G|^2 entries of the Cayley table read "
        "off the weights that are right (as labelled; and up to relabelling, best bijection, |G| <= 8). "
        "Irrep residual: max over blocks of the relative distance of the block's coefficient functions from the "
        f"span of the best-matching irrep's matrix coefficients. {d['seconds']:.0f} s.",
        "",
    ]
    header = ["group", "|G|", "irrep dims", "seed", "table acc. at init", "table acc.", "up to relabelling", "margin",
              "max irrep residual", "blocks ↔ irreps bijective", "homomorphism residual", "invariance loss",
              "unitarity defect"]
    lines += markdown_table([[
        r["group"], r["order"], ", ".join(map(str, r["irrep_dims"])) if isinstance(r["irrep_dims"], (list, tuple))
        else r["irrep_dims"], r["seed"], f"{r['init_accuracy']:.3f}", f"{r['accuracy']:.3f}",
        _fmt(r["accuracy_relabelled"], ".3f"), f"{r['margin']:.2f}", f"{max(r['irrep_residual']):.1e}",
        "yes" if r["fourier_bijective"] else "no", f"{r['homomorphism_residual']:.1e}", f"{r['invariance_loss']:.1e}",
        f"{r['unitarity_defect']:.1e}"] for r in d["runs"]], header)
    lines += ["", "Reading: after training each block's weights, as functions on G, lie in the span of the matrix "
              "coefficients of one irrep (residual ~ 0), the blocks use every irrep once (the weights are a Fourier "
              "transform up to unitary change of basis), and the Cayley table recovered by nearest-product matching "
              "(margin: smallest relative gap between best and second-best candidate) is the group's. Runs that "
              "stall at a spurious critical point show up as residual ~ 1 and a wrong table."]
    return "\n".join(lines) + "\n"


# experiment name -> its markdown and its figure (``report.plots``)
MARKDOWN: dict[str, Callable[[dict[str, Any]], str]] = {
    "dynamics": dynamics_markdown, "ensemble": ensemble_markdown, "harmonics": harmonics_markdown}
FIGURES: dict[str, Callable[[dict[str, Any], Any], str]] = {
    "dynamics": plots.plot_dynamics_distance, "ensemble": plots.plot_ensemble_invariance,
    "harmonics": plots.plot_harmonics}


def write_report(name: str, result: Any, out: str | Path) -> dict[str, Path]:
    """Write ``{name}_report.md``, ``{name}_results.json`` and the figure into directory ``out``."""
    markdown, figure = MARKDOWN[name], FIGURES[name]
    out = report_dir(out)
    d = result.to_dict()
    paths = {"json": out / f"{name}_results.json", "markdown": out / f"{name}_report.md",
             "figure": out / f"{name}.png"}
    paths["json"].write_text(json.dumps(d, indent=2))
    figure(d, paths["figure"])
    paths["markdown"].write_text(markdown(d) + f"\n![{name}]({paths['figure'].name})\n")
    return paths
