"""Human-readable text of what ``neuromanifold analyze``, ``contains`` and ``architectures`` compute: the table
of a Report (each invariant with value, status and the key evidence), of a torch module's ModuleReport, the
membership verdict and the list of architecture families."""

from __future__ import annotations

from typing import Any

from ..result import plain_value


def plural(n: Any, word: str, many: str | None = None) -> str:
    """'1 generator', '2 generators' (``many``: an irregular plural)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


fmt_value = plain_value  # a value for humans (yes/no, '-', 'k: v, ...'); one definition, in result.py


# what the value of an invariant counts, where the bare number does not say it
VALUE_LABELS = {"singularities": "subnetwork strata with singular image"}


def _conservation_line(ev: dict[str, Any]) -> str:
    lie = ev.get("lie_algebra", {})
    gap = lie.get("gap")
    gap_s = "inf" if gap in (float("inf"), "inf", None) else f"{float(gap):.1e}"
    parts = [f"{plural(ev['n_params'], 'param')} - Lie algebra rank {lie.get('rank')} (gap {gap_s})"]
    pl = ev.get("polynomial_laws")
    if isinstance(pl, dict) and "count" in pl:
        parts.append(f"{plural(pl['count'], 'polynomial law')} of degree <= {pl['degree']} ({pl['independent']} independent, "
                     f"{pl['status']}; {'agree' if pl['agrees_with_lie_count'] else 'do not agree'} with the Lie count)")
    elif isinstance(pl, dict) and pl.get("skipped"):
        parts.append(f"polynomial search skipped: {pl['skipped']}")
    cert = ev.get("certificate")
    if isinstance(cert, dict) and "lower" in cert:
        parts.append(f"exact bounds [{cert['lower']}, {cert['upper']}] mod p={cert.get('prime')}"
                     + (" (certified)" if cert.get("status") == "certified" else ""))
    elif isinstance(cert, dict) and cert.get("skipped"):
        parts.append(f"certificate skipped: {cert['skipped']}")
    dr = ev.get("drift")
    if isinstance(dr, dict) and dr.get("max_law_drift") is not None:
        parts.append(f"max drift {dr['max_law_drift']:.1e} (|theta|^2: {dr['control']['drift']:.1e})")
    if ev.get("note"):
        parts.append(str(ev["note"]))
    return "; ".join(parts)


def _evidence_line(name: str, ev: dict[str, Any]) -> str:
    if name == "conservation_laws" and "lie_algebra" in ev:
        return _conservation_line(ev)
    parts = []
    if "lower_bound" in ev and isinstance(ev["lower_bound"], dict) and "upper_bound" in ev:
        lb, ub = ev["lower_bound"], ev["upper_bound"]
        extra = f" mod p={lb['prime']}" if "prime" in lb else ""
        parts.append(f"bounds [{lb['value']}, {ub['value']}]{extra}")
    num = ev.get("numerical")
    if isinstance(num, dict) and "rank" in num:
        gap = num["gap"]
        gap_s = "inf" if gap in (float("inf"), "inf") else f"{float(gap):.1e}"
        parts.append(f"numerical rank {num['rank']} (gap {gap_s})")
    elif num is not None and not isinstance(num, dict):
        parts.append(f"numerical {num}")
    if "defect" in ev:
        parts.append(f"defect {ev['defect']}")
    if ev.get("filling") is not None:
        parts.append("filling" if ev["filling"] else "not filling")
    if "bounds" in ev:
        parts.append(f"bounds {fmt_value(ev['bounds'])}")
    if name == "identifiability" and ev.get("count") is not None:
        grp = ev.get("group_on_slice") or {}
        parts.append(f"{ev['count']} points on the gauge slice, explained by a group of order {ev.get('explained')}"
                     f" ({str(grp.get('description', '')).split(',')[0]}); beyond the known symmetries: "
                     f"{ev.get('beyond_symmetries')}" + ("; Kruskal criterion" if ev.get("certificate") else ""))
    cert = ev.get("certification")
    if isinstance(cert, dict) and "certified" in cert and cert.get("points") is not None:
        parts.append(f"interval-certified points {cert['certified']} of {cert['points']}")
    if "metric" in ev:
        parts.append(f"metric {ev['metric']}")
    tds = ev.get("total_degree_solve")
    if isinstance(tds, dict):
        td = tds["total_degree"]
        parts.append(f"total degree: {plural(td['paths_tracked'], 'path')}, {td['failed']} failed")
    mono = ev.get("monodromy")
    if isinstance(mono, dict):
        parts.append(
            f"monodromy: {plural(mono['loops'], 'loop')}, {plural(mono['paths_tracked'], 'path')}, "
            f"{mono['path_failures']} failed, stopped: {str(mono['stopping_rule']).replace('_', ' ')}"
        )
        traces = ev.get("trace_tests") or []
        if traces:
            t = traces[-1]
            parts.append(f"trace residual {t['residual']:.1e} ({plural(t['repeats'], 'direction')}, {'pass' if t['passed'] else 'fail'})")
    if "points_per_image_point" in ev:
        parts.append(f"points per image point {fmt_value(ev['points_per_image_point'])}")
    if ev.get("stopping_rule"):
        parts.append(ev["stopping_rule"])
    if ev.get("why_lower_bound"):
        parts.append(ev["why_lower_bound"])
    if ev.get("reason") and "monodromy" not in ev:
        parts.append(str(ev["reason"]))
    if name == "subnetwork_conjecture" and "critical_points" in ev:
        n_dp = len(ev.get("double_points") or [])
        parts.append(f"{len(ev['critical_points'])} real critical points and {n_dp} double points of mu sampled "
                     f"({ev['search']['starts']} starts each): {ev['singular_images']} singular images, "
                     f"{ev['counterexamples']} of those in no subnetwork family, {ev['undecided']} undecided; tables below")
    if "families" in ev and "dim_M" in ev:
        parts.append(f"{plural(len(ev['families']), 'subnetwork family', 'subnetwork families')}, table below")
    if "generator_rank" in ev:
        parts.append(f"{plural(ev['known_generators'], 'known generator')}")
    if name == "log_covering_number" and "degree_upper_bound" in ev:
        parts.append(f"log N_eps(M cap B_R), eps={ev['eps']:g}, R={ev['radius']:g}; dim <= {ev['dimension_upper_bound']}, "
                     f"deg <= {ev['degree_upper_bound']:g} ({ev['degree']['used']})")
    if name == "epsilon_net" and "samples" in ev:
        parts.append(f"greedy eps-separated points of M cap B_R, eps={ev['eps']:g}, R={ev['radius']:g}, "
                     f"{ev['samples']} samples")
    return "; ".join(parts)


def render_text(report: Any) -> str:
    arch = report.architecture
    lines = [
        f"{arch.spec()}",
        f"  {arch.n_params} parameters: "
        + ", ".join(f"{k}{tuple(v)}" for k, v in arch.param_shapes().items()),
        f"  seed {report.seed}, prime {report.prime}, {report.seconds:.2f} s",
    ]
    summ = arch.symmetry_summary()
    if summ["continuous"]:
        lines.append("  known symmetries: " + "; ".join(f"{g['group']} ({plural(g['generators'], 'generator')})" for g in summ["continuous"]))
    for d in summ["discrete"]:
        lines.append(f"  discrete: {d['name']} (order {d['order']})")
    lines.append("")
    rows = [("invariant", "value", "status", "evidence")]
    for name, r in report.invariants.items():
        ev_line = _evidence_line(name, r.evidence)
        if name in VALUE_LABELS and r.value is not None:
            ev_line = f"value = {VALUE_LABELS[name]}" + (f"; {ev_line}" if ev_line else "")
        rows.append((name, fmt_value(r.value), r.status, ev_line))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for i, row in enumerate(rows):
        lines.append("  " + "  ".join(row[j].ljust(widths[j]) for j in range(3)) + "  " + row[3])
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths) + "  " + "-" * 8)
    hs = report.invariants.get("hidden_symmetries")
    if hs is not None and isinstance(hs.evidence.get("basis"), dict):
        lines.append("")
        lines.append("  unexplained fiber directions (numerical basis at a generic point):")
        for s in hs.evidence["basis"]["summary"]:
            lines.append(f"    {s}")
    pf = hs.evidence.get("polynomial_fields") if hs is not None else None
    if isinstance(pf, dict) and pf.get("fields"):
        lines.append("")
        lines.append("  hidden symmetries as polynomial vector fields (verified identically):")
        for i, comps in enumerate(pf["fields"], 1):
            lines.append(f"    v{i}: " + "; ".join(comps))
        if pf.get("fields_omitted"):
            lines.append(f"    (+{pf['fields_omitted']} more)")
    cl = report.invariants.get("conservation_laws")
    pl = cl.evidence.get("polynomial_laws") if cl is not None else None
    if isinstance(pl, dict) and pl.get("formulas"):
        drifts = cl.evidence.get("drift", {}).get("laws") or [None] * len(pl["formulas"])
        lines.append("")
        lines.append(f"  conservation laws of degree <= {pl['degree']} ({pl['status']}; drift along a gradient flow):")
        shown = 40
        for i, (f, d) in enumerate(zip(pl["formulas"][:shown], drifts), 1):
            lines.append(f"    h{i} = {f}" + (f"    [drift {d:.1e}]" if isinstance(d, (int, float)) else ""))
        if len(pl["formulas"]) > shown:
            lines.append(f"    (+{len(pl['formulas']) - shown} more in the JSON report)")
    sg = report.invariants.get("singularities")
    if sg is not None and sg.evidence.get("families"):
        lines.append("")
        lines.append(f"  subnetwork strata (dim M = {sg.evidence['dim_M']}):")
        table = [("family", "dim", "critical point of mu", "image singular in M", "excess (t=1e-3, 1e-4)",
                  "multiplicity")]
        for f in sg.evidence["families"]:
            tt = f.get("tangent_cone_test", {}).get("excess_singular_value")
            exc = ", ".join(f"{v:.1e}" for v in tt.values()) if tt else "-"
            crit = f"{'yes' if f['critical'] else 'no'} ({f['critical_status']})"
            sing = {True: "yes", False: "no", None: "?"}[f["singular"]]
            mu = f.get("multiplicity")
            mult = "-" if mu is None else (str(mu["multiplicity"]) if mu["multiplicity"] is not None else "?")
            table.append((f["family"], str(f["dimension"]), crit, sing, exc, mult))
        w = [max(len(r[i]) for r in table) for i in range(6)]
        for i, r in enumerate(table):
            lines.append("    " + "  ".join(r[j].ljust(w[j]) for j in range(6)))
            if i == 0:
                lines.append("    " + "  ".join("-" * x for x in w))
    sc = report.invariants.get("subnetwork_conjecture")
    if sc is not None and "critical_points" in sc.evidence:
        lines += _conjecture_block(sc.evidence)
    return "\n".join(lines)


def _conjecture_block(ev: dict[str, Any], shown: int = 30) -> list[str]:
    """The sampled critical points of mu: zero layers, rank of d mu, |f|, singular in M, families."""
    lines = ["", f"  real critical points of mu (dim M = {ev['dim_M']}; is the image singular, in which subnetwork family):"]
    modes = ev["search"].get("by_mode", {})
    what = {"layers": "every layer on its unit sphere", "sphere": "the layers jointly on the unit sphere",
            "free": "no normalisation"}
    lines.append("    starts: " + "; ".join(f"{m['starts']} with {what.get(k, k)} -> {m['accepted']} critical"
                                          for k, m in modes.items()))
    table = [("#", "zero layers", "rank d mu", "|f|_inf", "singular in M", "families")]
    for i, r in enumerate(ev["critical_points"][:shown], 1):
        table.append((str(i), ", ".join(r["zero_layers"]) or "-", str(r["rank_of_d_mu"]), f"{_sup(r):.2g}",
                      _singular_cell(r), _families_cell(r)))
    lines += _table(table)
    if len(ev["critical_points"]) > shown:
        lines.append(f"    (+{len(ev['critical_points']) - shown} more in the JSON report)")
    for key in ("note", "caveat"):
        if ev.get(key):
            lines.append(f"    {key}: {ev[key]}")
    ds = ev.get("double_point_search") or {}
    if ds.get("skipped"):
        lines += ["", f"  double points of mu: not sampled ({ds['skipped']})"]
    elif "double_points" in ev:
        lines += ["", f"  double points of mu (one function from two parameter points no rescaling of layers relates; "
                      f"{ds.get('accepted', 0)} from {ds.get('starts', 0)} starts):"]
        table = [("#", "separation", "|f|_inf", "singular in M", "families")]
        for i, r in enumerate(ev["double_points"][:shown], 1):
            table.append((str(i), f"{r['separation']:.2f}", f"{_sup(r):.2g}", _singular_cell(r), _families_cell(r)))
        if len(table) > 1:
            lines += _table(table)
        if len(ev["double_points"]) > shown:
            lines.append(f"    (+{len(ev['double_points']) - shown} more in the JSON report)")
    return lines


def _sup(row: dict[str, Any]) -> float:
    return max((abs(v) for v in row["function"]), default=0.0)


def _singular_cell(row: dict[str, Any]) -> str:
    return f"{ {True: 'yes', False: 'no', None: '?'}[row['singular']]} ({row['singular_status']}: {row['singular_reason']})"


def _families_cell(row: dict[str, Any]) -> str:
    fams = row["families"]
    if fams is None:
        return "- (smooth point: not tested)"
    if not fams:
        return "none"
    return ", ".join(fams[:2]) + (f" (+{len(fams) - 2})" if len(fams) > 2 else "")


def _table(table: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns, the last one unpadded, a rule under the header."""
    n = len(table[0]) - 1
    w = [max(len(row[j]) for row in table) for j in range(n)]
    out = []
    for i, row in enumerate(table):
        out.append("    " + "  ".join(row[j].ljust(w[j]) for j in range(n)) + "  " + row[n])
        if i == 0:
            out.append("    " + "  ".join("-" * x for x in w) + "  " + "-" * 8)
    return out


def module_report_text(report: Any) -> str:
    """An ``invariants.torch_module.ModuleReport``: the module and its inputs, one line per invariant."""
    i = report.info
    lines = [f"{report.module}: {i['n_params']} parameters, {i['n_inputs']} inputs of shape "
             f"{tuple(i['input_shape'])} ({i['input_source']}), {i['outputs_per_input']} outputs each"]
    for name, r in report.invariants.items():
        ev = r.evidence
        if name == "functional_dimension":
            extra = f"gap {ev.get('gap', float('nan')):.1e}, clear: {ev.get('clear_gap')}"
        elif name == "dimension_distribution":
            extra = f"{ev['draws']} draws ({ev['init']}), clear gaps: {ev['clear_gaps']}"
        elif name == "conservation_laws" and r.value is not None:
            pl = ev.get("polynomial_laws") or {}
            extra = (f"Lie-algebra rank {ev.get('lie_algebra', {}).get('rank')}; "
                     f"{pl.get('count', 0)} polynomial laws of degree <= {pl.get('degree', '?')}")
            if ev.get("count_distribution"):
                dist = ", ".join(f"{k}: {v}" for k, v in ev["count_distribution"].items())
                extra += f"; at {ev['count_draws']} other draws {dist} (activation regions)"
            if (ev.get("region") or {}).get("in_region") is False:
                extra += (f"; at these parameters only {ev['region']['switching_units']} of "
                          f"{ev['region']['units']} ReLU units switch on the inputs (dead/always-active units add laws)")
        else:
            extra = ev.get("reason") or ev.get("meaning", "")
        value = r.value if not isinstance(r.value, dict) else ", ".join(f"{k}: {v}" for k, v in r.value.items())
        lines.append(f"  {name:<24} {str(value):<14} {r.status:<12} {extra}")
    return "\n".join(lines)


def membership_text(res: Any) -> str:
    """The Result of ``invariants.membership.contains``: the verdict, its status and the nearest witness."""
    verdict = {True: "in the closure of M", False: "not in the closure of M", None: "inconclusive"}[res.value]
    dist = res.evidence.get("nearest_relative_distance")
    return f"{verdict} ({res.status}; nearest witness image at relative distance {dist:.1e})"


def architectures_text(families: list[dict[str, Any]]) -> str:
    """The architecture families (dicts of family, summary, form, parameters), each followed by a blank line."""
    lines = []
    for fam in families:
        lines.append(f"{fam['family']}: {fam['summary']}")
        lines.append(f"  form: {fam['form']}")
        for p in fam["parameters"]:
            default = "required" if p["required"] else f"default {p['default']!r}"
            lines.append(f"    {p['name']:<11} {default:<21} {p['doc']}")
        lines.append("")
    return "\n".join(lines)
