"""The report of the counterfactuals experiment: markdown tables, the JSON results and the figures,
written into one directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..report import plots
from ..report.markdown import markdown_table
from .experiment import CounterfactualReport


def _res_row(name: str, r: dict[str, Any]) -> list[str]:
    v = r["value"]
    if isinstance(v, bool) or v is None:
        val = {True: "yes", False: "no", None: "-"}[v]
    else:
        val = f"{v:.3g}" if isinstance(v, float) else (str(v) if not isinstance(v, list) else f"[{v[0]:.3g} ... {v[-1]:.3g}]")
    return [f"`{name}`", val, r["status"]]


def to_markdown(rep: CounterfactualReport) -> str:
    c, t = rep.config, rep.tables
    lines = [f"# Diffeomorphic counterfactuals: {rep.data}", "",
             f"flow `{c['flow']}`, {c['epochs']} epochs, seed {c['seed']}, step length {c['lr']} (normalised gradient "
             f"steps), stop at target probability {c['threshold']} or {c['max_steps']} steps; {rep.seconds:.0f} s.",
             "All numbers are estimates from finite training and samples (status `numerical`).", ""]
    lines += markdown_table([_res_row(k, r) for k, r in rep.results.items()], ["result", "value", "status"])
    a = t["ascent"]
    lines += [""] + markdown_table(
        [[name, f"{a[space]['reached']}/{a[space]['n']}", f"{a[space]['steps_median']:g}",
          f"{a[space]['prob_median']:.4f}", f"{a[space]['l2_difference_median']:.3f}"]
         for space, name in (("base", "base space (counterfactual)"), ("data", "data space (adversarial)"))],
        ["ascent", "reached 0.99", "median steps", "median final p", "median L2 change"])
    if rep.data == "helix":
        ev = rep.results["base_closer_fraction"]["evidence"]
        lines += ["", f"Classifier accuracy (held out): {t['classifier_accuracy_heldout']:.3f}. Starts on the helix; "
                  f"targets: {c['targets']}. Median exact distance to the helix at the end: base "
                  f"{ev['median_distance_base']:.4f}, data {ev['median_distance_data']:.4f}.", "",
                  "Induced metric during training (medians over held-out points):", ""]
        lines += markdown_table(
            [[cp["epoch"], f"{cp['nll']:.3f}", f"{cp['summary']['tangent_median']:.3g}",
              f"{cp['summary']['normal_max_median']:.3g}", f"{cp['summary']['normal_min_median']:.3g}",
              f"{cp['summary']['ratio_median']:.3g}", f"{cp['summary']['alignment_median']:.3f}"]
             for cp in t["checkpoints"]],
            ["epoch", "held-out NLL", "t^T g^-1 t", "normal max", "normal min", "ratio", "top-eigvec alignment"])
        lines += ["", "Normal eigenvalues against the noise level (trained flows):", ""]
        lines += markdown_table(
            [[f"{s['noise']:g}", f"{s['normal_max_median']:.3g}", f"{s['normal_min_median']:.3g}",
              f"{s['tangent_median']:.3g}", f"{s['ratio_median']:.3g}"] for s in t["noise_sweep"]],
            ["noise", "normal max", "normal min", "tangent", "ratio"])
        slope = rep.results["normal_eigenvalues_vanish"]["evidence"].get("normal_vs_noise_loglog_slope")
        if slope is not None:
            ev = rep.results["normal_eigenvalues_vanish"]["evidence"]
            lines.append(f"\nlog-log slopes against the noise: largest normal eigenvalue {slope:.2f}, smallest "
                         f"{ev['normal_min_vs_noise_loglog_slope']:.2f} (2: lambda_perp proportional to noise^2; smallest "
                         "normal eigenvalue / noise^2 = " + ", ".join(f"{r:.2f}" for r in ev["normal_min_over_noise_squared"])
                         + ").")
    else:
        ev = rep.results["base_knn_closer_fraction"]["evidence"]
        lines += ["", f"Classifier test accuracy: {t['classifier_accuracy_test']:.3f}. Targets: each start's runner-up "
                  f"class. Reference medians over the test set: {c['knn']}-NN distance {ev['knn_test_median']:.3f}, "
                  f"{t['reference']['bpd_test_median']:.3f} bits/dim.", ""]
        rows = []
        for r in t["per_start"]:
            b, d, s = r["base"], r["data"], r["start"]
            rows.append([f"{r['label']} -> {r['target']}", f"{b['steps']}, {b['prob']:.3f}, {b['knn']:.3f}, {b['bpd']:.2f}",
                         f"{d['steps']}, {d['prob']:.3f}, {d['knn']:.3f}, {d['bpd']:.2f}", f"{s['knn']:.3f}, {s['bpd']:.2f}"])
        lines += markdown_table(rows, ["label -> target", "base: steps, p, kNN, bits/dim",
                                       "data: steps, p, kNN, bits/dim", "start: kNN, bits/dim"])
        lines += ["", "Flow test bits/dim at checkpoints: " + ", ".join(
            f"epoch {x['epoch']}: {x['test_bits_per_dim']:.3f}" for x in t["flow_checkpoints"])]
    return "\n".join(lines) + "\n"


def write_report(rep: CounterfactualReport, out: str | Path) -> dict[str, Path]:
    """Write ``counterfactuals_<data>.md``, ``.json`` and the figures into the directory ``out``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a directory")
    out.mkdir(parents=True, exist_ok=True)
    stem = f"counterfactuals_{rep.data}"
    paths = {"json": out / f"{stem}.json", "markdown": out / f"{stem}.md"}
    paths["json"].write_text(json.dumps(rep.to_dict(), indent=2))
    figs: dict[str, Path] = {}
    if rep.data == "helix":
        figs["trajectories"] = Path(plots.plot_helix_trajectories(rep.arrays, out / f"{stem}_trajectories.png"))
        figs["metric"] = Path(plots.plot_induced_metric_training(rep.arrays, out / f"{stem}_metric.png"))
    else:
        figs["grid"] = Path(plots.plot_counterfactual_digits(rep.arrays, out / f"{stem}_grid.png"))
        figs["spectrum"] = Path(plots.plot_metric_spectrum(rep.arrays["spectra"], out / f"{stem}_spectrum.png"))
    paths.update(figs)
    md = to_markdown(rep) + "\n" + "".join(f"![{k}]({p.name})\n" for k, p in figs.items())
    paths["markdown"].write_text(md)
    return paths
