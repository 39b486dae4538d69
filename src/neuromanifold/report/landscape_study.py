"""The report of the regularization study (``landscape.study``, ``neuromanifold experiment landscape``):
report.md (tables and one paragraph per question of the seed talk, every statement computed from the
numbers), results.json and two figures, written into one directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..result import jsonable
from .markdown import markdown_table, report_dir
from .plots import _pyplot, _save

TYPES = ("local minimum", "strict saddle", "local maximum", "degenerate")


def _f(x: Any, spec: str = ".2f") -> str:
    return "–" if x is None else format(x, spec)


def _ci(p: dict[str, Any]) -> str:
    """k/n = estimate [lo, hi] (95% Wilson)."""
    if not p["n"]:
        return "– (n = 0)"
    lo, hi = p["wilson95"]
    return f"{p['k']}/{p['n']} = {p['estimate']:.2f} [{lo:.2f}, {hi:.2f}]"


def _inv(a: dict[str, Any], name: str) -> str:
    r = a["invariants"].get(name, {})
    return "–" if r.get("value") is None else f"{r['value']} ({r['status']})"


def _strata(a: dict[str, Any]) -> str:
    s = a["invariants"].get("singularities", {})
    if s.get("value") is None:
        return "–"
    fams = s.get("singular_families", [])
    return f"{s['value']}" + (f": {'; '.join(fams)}" if fams else "") + f" ({s['status']})"


def invariants_table(d: dict[str, Any]) -> list[str]:
    rows = [[a["spec"], f"{a['group']} / {a['variant']}", a["n_params"], a["coefficients"], _inv(a, "dimension"),
             _inv(a, "fiber_dimension"), _strata(a), _inv(a, "ed_degree")] for a in d["architectures"]]
    return markdown_table(rows, ["architecture", "group / variant", "params", "coefficients D", "dim M",
                                 "fiber dim", "singular subnetwork strata", "ED degree"])


def critical_table(d: dict[str, Any]) -> list[str]:
    rows = []
    for a in d["architectures"]:
        g = a["aggregate"]
        rows.append([
            a["spec"], f"{g['complete']}/{g['data_sets']}" + (f" ({g['errors']} err.)" if g["errors"] else ""),
            _f(g["mean_real_pure"]), _f(g["mean_real_spurious"]),
            _f(g["mean_real_by_type"]["local minimum"]), _f(g["mean_by_type"]["spurious"]["local minimum"]),
            _f(g["mean_real_by_type"]["strict saddle"]), _f(g["mean_real_by_type"]["degenerate"]),
            _ci(g["data_sets_with_spurious_local_minimum"]), _ci(g["spurious_is_local_minimum_pooled"]),
            _f(g["spurious_is_local_minimum_per_data_set"]["mean"])])
    return markdown_table(rows, [
        "architecture", "complete solves", "real pure", "real spurious", "local minima", "spurious local minima",
        "strict saddles", "degenerate", "P(data set has a spurious local min.)",
        "P(local min. | spurious), pooled points", "same, mean per data set"])


# --- the paragraphs --------------------------------------------------------------------------------------
def _disjoint(p: dict[str, Any], q: dict[str, Any]) -> bool:
    return bool(p["n"] and q["n"] and (p["wilson95"][0] > q["wilson95"][1] or q["wilson95"][0] > p["wilson95"][1]))


def _cmp(x: float | None, y: float | None, less: str = "fewer", more: str = "more") -> str:
    if x is None or y is None:
        return "not comparable (no complete solve)"
    if abs(x - y) < 1e-12:
        return "as many"
    return less if x < y else more


def _pooled(archs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    from ..landscape.voronoi import wilson_interval

    k = sum(a["aggregate"][key]["k"] for a in archs)
    n = sum(a["aggregate"][key]["n"] for a in archs)
    lo, hi = wilson_interval(k, n)
    return {"k": k, "n": n, "estimate": k / n if n else None, "wilson95": [lo, hi]}


def paragraph_a(d: dict[str, Any]) -> str:
    out = ["**(a) How do skip connections and inhomogeneous activations regularize mu (fewer spurious critical "
           "points) and smoothen out singularities?** "]
    found = False
    verdicts: list[str] = []
    for group in dict.fromkeys(a["group"] for a in d["architectures"]):
        archs = [a for a in d["architectures"] if a["group"] == group]
        base = next((a for a in archs if a["variant"] == "base"), None)
        if base is None:
            continue
        for v in archs:
            if v is base:
                continue
            found = True
            gb, gv = base["aggregate"], v["aggregate"]
            sb = base["invariants"]["singularities"].get("value")
            sv = v["invariants"]["singularities"].get("value")
            spur = _cmp(gv["mean_real_spurious"], gb["mean_real_spurious"])
            csp = _cmp(gv["mean_complex"], gb["mean_complex"])
            strata = _cmp(sv, sb) if sv is not None and sb is not None else "not comparable"
            sig = (" (the fractions of data sets with a real spurious critical point, "
                   f"{_ci(gv['data_sets_with_real_spurious'])} vs {_ci(gb['data_sets_with_real_spurious'])}, have "
                   + ("disjoint" if _disjoint(gv["data_sets_with_real_spurious"], gb["data_sets_with_real_spurious"])
                      else "overlapping") + " 95% intervals)")
            out.append(
                f"{group}, {v['variant']} ({v['spec']}) against the base ({base['spec']}): "
                f"{_f(gv['mean_real_spurious'])} vs {_f(gb['mean_real_spurious'])} real spurious critical points per "
                f"data set ({spur}){sig}; {_f(gv['mean_complex'])} vs {_f(gb['mean_complex'])} complex critical points "
                f"in all ({csp}); {sv} vs {sb} singular subnetwork strata ({strata}). ")
            spur_word = {"fewer": "fewer real spurious points", "more": "more real spurious points",
                         "as many": "as many real spurious points"}.get(spur, "spurious points not compared")
            sing_word = {"fewer": "fewer singular strata", "more": "more singular strata",
                         "as many": "as many singular strata"}.get(strata, "singular strata not compared")
            verdicts.append(f"{group} {v['variant']}: {spur_word}, {sing_word}")
    if not found:
        return out[0] + "No base architecture with a variant in this run: nothing to compare."
    reg = [x for x in verdicts if "fewer real spurious" in x or "fewer singular" in x]
    out.append("Summary: " + "; ".join(verdicts) + ". " + (
        f"Regularization (fewer spurious points or singular strata than the base) is seen for {len(reg)} of "
        f"{len(verdicts)} variants. " if reg else
        f"None of the {len(verdicts)} variants has fewer real spurious critical points or fewer singular strata than "
        "its base in these data: the regularization effect is not seen at these sizes. ") + "Caveats: the variants have other parameter counts, "
               "dimensions and coefficient spaces than their base, so raw counts compare landscapes of different "
               "size; spurious points are counted on the coordinate slice the solver uses (one parameter per "
               "symmetry orbit direction frozen); singular strata are those among the subnetwork families tested.")
    return "".join(out)


def _type_shares(archs: list[dict[str, Any]]) -> dict[str, float | None]:
    tot = {t: 0.0 for t in TYPES}
    for a in archs:
        g = a["aggregate"]
        if g["complete"]:
            for t in TYPES:
                tot[t] += g["mean_real_by_type"][t] * g["complete"]
    s = sum(tot.values())
    return {t: (tot[t] / s if s else None) for t in TYPES}


def paragraph_b(d: dict[str, Any]) -> str:
    out = ["**(b) Types of critical points and the loss landscape of attention, polynomial convolutional and "
           "polynomial dense networks.** "]
    stats = []
    for group in dict.fromkeys(a["group"] for a in d["architectures"]):
        archs = [a for a in d["architectures"] if a["group"] == group]
        sh = _type_shares(archs)
        n = sum(a["aggregate"]["complete"] for a in archs)
        mean_lm = sum((a["aggregate"]["mean_real_by_type"]["local minimum"] or 0) * a["aggregate"]["complete"]
                      for a in archs) / n if n else None
        gm = _pooled(archs, "global_minimum_spurious")
        stats.append((group, sh, mean_lm, n))
        out.append(
            f"{group} ({len(archs)} architectures, {n} complete solves): of the real critical points "
            + ", ".join(f"{_f(sh[t])} {t}" + ("" if t != "degenerate" else " (semidefinite Hessian)") for t in TYPES)
            + f"; {_f(mean_lm)} real local minima per data set; the best real critical point is spurious in "
            f"{_ci(gm)} data sets. ")
    valid = [s for s in stats if s[2] is not None]
    if len(valid) >= 2:
        most = max(valid, key=lambda s: s[2])
        fewest = min(valid, key=lambda s: s[2])
        sad = [s for s in valid if s[1]["strict saddle"] is not None]
        out.append(f"Most local minima per data set: {most[0]} ({_f(most[2])}); fewest: {fewest[0]} ({_f(fewest[2])}). ")
        if sad:
            hs = max(sad, key=lambda s: s[1]["strict saddle"])
            out.append(f"Largest share of strict saddles: {hs[0]} ({_f(hs[1]['strict saddle'])}). ")
    out.append("Per architecture see the table above; the groups pool architectures of different sizes.")
    return "".join(out)


def paragraph_c(d: dict[str, Any]) -> str:
    head = ("**(c) \"Spurious critical points appear as local minima in polynomial MLPs with positive probability "
            "but not in polynomial CNNs.\"** ")
    mlps = [a for a in d["architectures"] if a["spec"].startswith("mlp")]
    cnns = [a for a in d["architectures"] if a["spec"].startswith("cnn")]
    if not mlps or not cnns:
        return head + "This run has no " + ("MLP" if not mlps else "CNN") + ": the claim is not tested."
    key = "data_sets_with_spurious_local_minimum"
    pm, pc = _pooled(mlps, key), _pooled(cnns, key)
    qm, qc = _pooled(mlps, "spurious_is_local_minimum_pooled"), _pooled(cnns, "spurious_is_local_minimum_pooled")
    detail = "; ".join(f"{a['spec']}: {_ci(a['aggregate'][key])}" for a in mlps + cnns)
    txt = [head, f"Fraction of (complete) data sets with a real spurious local minimum, 95% Wilson intervals: MLPs "
           f"{_ci(pm)}, CNNs {_ci(pc)} ({detail}). P(local minimum | real spurious critical point), pooled over "
           f"points: MLPs {_ci(qm)}, CNNs {_ci(qc)}. "]
    mlp_pos = pm["n"] > 0 and pm["k"] > 0
    cnn_zero = pc["n"] > 0 and pc["k"] == 0
    if mlp_pos and cnn_zero:
        txt.append("The data agree with the claim: spurious local minima occur for the MLPs (the interval excludes 0) "
                   f"and never for the CNNs (upper bound {pc['wilson95'][1]:.2f} at 95%).")
    elif not mlp_pos and cnn_zero:
        txt.append("The data do not confirm the first half of the claim: no MLP data set has a spurious local minimum "
                   f"(P <= {pm['wilson95'][1]:.2f} at 95% for these sizes), and the CNNs have none either; with these "
                   "small architectures and slices the difference between MLPs and CNNs is not seen.")
    elif pc["k"] > 0:
        txt.append(f"The data disagree with the claim: {pc['k']} CNN data sets have a spurious real local minimum "
                   f"(P >= {pc['wilson95'][0]:.2f} at 95%)"
                   + (f", while the MLPs have {pm['k']}" if pm["n"] else "") + ".")
    else:
        txt.append("No complete solve: the claim is not tested.")
    others = [a for a in d["architectures"] if a not in mlps + cnns and a["aggregate"][key]["k"] > 0]
    if others:
        txt.append(" Spurious local minima do occur elsewhere: " + "; ".join(
            f"{a['spec']}: {_ci(a['aggregate'][key])} of the data sets" for a in others) + ".")
    txt.append(" Spurious points are counted on the solver's coordinate slice, and a semidefinite Hessian is reported "
               "as degenerate, not as a local minimum.")
    return "".join(txt)


def paragraph_d(d: dict[str, Any]) -> str:
    out = ["**(d) Shahverdi-Marchetti-Kohn 2025: with a generic activation MLP fibers become finite, CNN "
           "parametrizations are generically injective, singularities come from sparse subnetworks.** "]
    gen = [a for a in d["architectures"] if a["variant"] == "generic activation"]
    for a in gen:
        fd = a["invariants"]["fiber_dimension"].get("value")
        claim = ("finite fibers (fiber dimension 0): agrees" if fd == 0 else
                 f"fiber dimension {fd}: disagrees" if fd is not None else "fiber dimension not computed")
        out.append(f"{a['spec']}: {claim}. ")
    mono = [a for a in d["architectures"] if a["variant"] != "generic activation"
            and a["invariants"]["fiber_dimension"].get("value") is not None]
    if mono:
        out.append("For comparison, the other architectures have fiber dimension "
                   + ", ".join(f"{a['invariants']['fiber_dimension']['value']} ({a['spec']})" for a in mono) + ". ")
    cnn_gen = [a for a in gen if a["group"] == "cnn"]
    if cnn_gen:
        out.append("Injectivity of the CNN parametrization is stronger than finite fibers (one point per fiber); the "
                   "fiber dimension measured here only tests finiteness. ")
    sing = [(a["spec"], a["invariants"]["singularities"]) for a in d["architectures"]]
    with_s = [(s, r) for s, r in sing if r.get("value")]
    if with_s:
        out.append("Singular strata found, all of them images of subnetwork families (parameters set to zero or "
                   "layers collapsed): " + "; ".join(f"{s}: {', '.join(r.get('singular_families', []))}"
                                                      for s, r in with_s) + ". ")
    none = [s for s, r in sing if r.get("value") == 0]
    if none:
        out.append("No singular stratum among the subnetwork families: " + ", ".join(none) + ". ")
    out.append("This agrees with the subnetwork picture insofar as every singular point found lies on a sparse "
               "subnetwork; the test only examines subnetwork families, so it cannot exclude other singularities.")
    return "".join(out)


def study_markdown(d: dict[str, Any]) -> str:
    cfg = d["config"]
    lines = [
        "# Regularization study: loss landscapes of small polynomial networks (issue 19)",
        "",
        f"{len(d['architectures'])} architectures, {cfg['data_sets']} data sets each (inputs and targets i.i.d. "
        f"N(0, 1), seed {cfg['seed']}, {'n_samples ' + str(cfg['n_samples']) if cfg['n_samples'] else 'samples: max(10, 2 ceil(D / outputs))'}); "
        f"{d['seconds']:.0f} s" + (f" ({d['reused_data_sets']} data sets reused from the cache)" if d["reused_data_sets"] else "")
        + f", {sum(r['seconds'] for a in d['architectures'] for r in a['data_sets']):.0f} s in the critical-point solves"
        + ". Critical points of L(theta) = (1/n) sum |f_theta(x_i) - y_i|^2 on the solver's coordinate slice "
        "(total-degree homotopy + monodromy); pure: rank d mu = dim M, spurious: a critical point of mu. Types from "
        "the Hessian (of L on M for pure points, on the slice for spurious ones); degenerate: semidefinite with zero "
        "eigenvalues. Means and probabilities use the complete solves only; intervals are 95% Wilson intervals "
        "(pooled points within one data set are not independent: read that interval as indicative). A \"generic "
        "activation\" is a non-monomial polynomial with every coefficient nonzero (default x**2 + x + 1: the draw of "
        "act=\"generic\", 8*x**2 - 7*x - 5, loses about 90 of the 625 total-degree paths of the dense network, so "
        "its solves are never complete; without biases M depends on s only up to s(z) -> a s(lambda z)).",
        "",
        "## Critical points",
        "",
    ]
    lines += critical_table(d)
    lines += ["", "## Invariants", ""]
    lines += invariants_table(d)
    lines += ["", "## The questions", "", paragraph_a(d), "", paragraph_b(d), "", paragraph_c(d), "", paragraph_d(d), ""]
    inc = [(a["spec"], a["aggregate"]) for a in d["architectures"] if a["aggregate"]["complete"] < a["aggregate"]["data_sets"]]
    if inc:
        lines += ["Incomplete solves (failed paths, a failed trace test or points too close to call), left out of the "
                  "means and probabilities: " + "; ".join(f"{s}: {g['incomplete']} incomplete"
                                                           + (f", {g['errors']} errors" if g["errors"] else "")
                                                           for s, g in inc) + "."]
        many = [(s, g) for s, g in inc if g["data_sets"] and g["complete"] < 0.75 * g["data_sets"]]
        if many:
            lines[-1] += (" More than a quarter of the solves are incomplete for " + ", ".join(
                f"{s} ({g['data_sets'] - g['complete']}/{g['data_sets']})" for s, g in many) + ": its estimates "
                "rest on the data sets that solved cleanly and may be biased toward them.")
        lines.append("")
    return "\n".join(lines)


# --- figures ---------------------------------------------------------------------------------------------
def _short(spec: str) -> str:
    return spec.replace("widths=", "").replace(", r=2", "").replace('act="generic"', "generic").replace(" ", "")


def plot_study_counts(d: dict[str, Any], path: str | Path) -> str:
    """Stacked bars: mean real critical points by type, pure and spurious side by side, per architecture."""
    import numpy as np

    plt = _pyplot()
    archs = d["architectures"]
    x = np.arange(len(archs))
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(archs)), 4.5))
    colors = {"local minimum": "tab:green", "strict saddle": "tab:orange", "local maximum": "tab:red",
              "degenerate": "tab:gray"}
    for off, kind, hatch in ((-0.2, "pure", None), (0.2, "spurious", "//")):
        bottom = np.zeros(len(archs))
        for t in TYPES:
            h = np.array([a["aggregate"]["mean_by_type"][kind][t] or 0.0 for a in archs])
            ax.bar(x + off, h, 0.38, bottom=bottom, color=colors[t], hatch=hatch, edgecolor="k", linewidth=0.4,
                   label=f"{kind}: {t}")
            bottom += h
    ax.set_xticks(x, [_short(a["spec"]) for a in archs], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("mean real critical points per data set")
    ax.set_title("real critical points by type (left bar pure, right bar spurious, hatched)")
    ax.legend(fontsize=6, ncol=2)
    return _save(fig, path)


def plot_study_probabilities(d: dict[str, Any], path: str | Path) -> str:
    """P(data set has a spurious local minimum) and P(local minimum | spurious), 95% Wilson intervals."""
    import numpy as np

    plt = _pyplot()
    archs = d["architectures"]
    x = np.arange(len(archs))
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(archs)), 4))
    for off, key, label, m in ((-0.12, "data_sets_with_spurious_local_minimum", "P(data set has a spurious local min.)", "o"),
                               (0.12, "spurious_is_local_minimum_pooled", "P(local min. | spurious), pooled", "s")):
        est, lo, hi = [], [], []
        for a in archs:
            p = a["aggregate"][key]
            e = p["estimate"] if p["estimate"] is not None else np.nan
            est.append(e)
            lo.append(e - p["wilson95"][0] if p["n"] else 0)
            hi.append(p["wilson95"][1] - e if p["n"] else 0)
        ax.errorbar(x + off, est, yerr=[lo, hi], fmt=m, capsize=3, label=label)
    ax.set_xticks(x, [_short(a["spec"]) for a in archs], rotation=30, ha="right", fontsize=7)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("probability (95% Wilson interval)")
    ax.legend(fontsize=7)
    return _save(fig, path)


def write_study_report(result: Any, out: str | Path) -> dict[str, Path]:
    """Write report.md, results.json, counts.png and spurious_minima.png into directory ``out``."""
    out = report_dir(out)
    d = jsonable(result.to_dict() if hasattr(result, "to_dict") else result)
    paths = {"markdown": out / "report.md", "json": out / "results.json", "counts": out / "counts.png",
             "probabilities": out / "spurious_minima.png"}
    paths["json"].write_text(json.dumps(d, indent=2))
    plot_study_counts(d, paths["counts"])
    plot_study_probabilities(d, paths["probabilities"])
    paths["markdown"].write_text(study_markdown(d) + "\n![critical points by type](counts.png)\n\n"
                                 "![spurious local minima](spurious_minima.png)\n")
    return paths


__all__ = ["write_study_report", "study_markdown", "critical_table", "invariants_table", "plot_study_counts",
           "plot_study_probabilities"]
