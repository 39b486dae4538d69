"""One self-contained HTML page for a Report: the whole dictionary, each invariant with its status and
evidence, figures where looking beats reading (embedded PNG), and the report's JSON embedded.

No scripts, no external resources: the page renders offline and is safe to share.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

# The dictionary of the seed talk: machine-learning question -> invariants answering it.
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("dimension", "Expressivity: dimension", ("dimension", "expected_dimension", "ambient_dimension")),
    ("fibers", "Identifiability: fibers and hidden symmetries", ("fiber_dimension", "hidden_symmetries", "fiber_points",
                                                                  "identifiability")),
    ("degree", "Curvature: degree", ("degree",)),
    ("ed-degree", "Optimization: ED degree", ("ed_degree",)),
    ("singularities", "Subnetworks: singularities", ("singularities", "subnetwork_conjecture")),
    ("conservation-laws", "Training dynamics: conservation laws", ("conservation_laws",)),
    ("covering", "Sample complexity: covering numbers", ("log_covering_number", "epsilon_net")),
)

STATUS_COLOURS = {"certified": "#1b7f3b", "numerical": "#a06a00", "lower_bound": "#2a5db0",
                  "upper_bound": "#2a5db0", "failed": "#b02a2a", "not_computed": "#666666"}


def dictionary_invariants(registered: list[str]) -> list[str]:
    """Every registered invariant that belongs to a section of the dictionary, in section order."""
    out = [n for _, _, names in SECTIONS for n in names if n in registered]
    return out


def _badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#444")
    return f'<span class="status" style="background:{colour}">{html.escape(status)}</span>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def _value(v: Any) -> str:
    """A value for humans (yes/no, '-' for None, 'k: v' for dicts; see report.text.fmt_value), escaped."""
    from .text import fmt_value

    text = fmt_value(v)
    return html.escape(text if len(text) < 200 else text[:197] + "...")


def _figures(name: str, res: Any) -> list[str]:
    """Figures for one invariant from its evidence (none when the evidence lacks the data)."""
    from . import plots

    ev = res.evidence or {}
    out: list[str] = []
    try:
        if name == "dimension" and isinstance(ev.get("numerical"), dict) and ev["numerical"].get("spectrum"):
            num = ev["numerical"]
            out.append(_img(plots.figure_png(plots.fig_singular_values(num["spectrum"], int(num["rank"]))),
                            f"singular values of d mu at a generic point: numerical rank {num['rank']}, "
                            f"gap {num.get('gap', float('nan')):.3g}"))
        mono = ev.get("monodromy") if isinstance(ev.get("monodromy"), dict) else None
        if mono and mono.get("growth") and len(mono["growth"]) > 1:
            out.append(_img(plots.figure_png(plots.fig_monodromy_growth(mono["growth"], f"{name}: monodromy")),
                            f"{name}: solutions found against pushes through monodromy loops (stopped: "
                            f"{str(mono.get('stopping_rule')).replace('_', ' ')})"))
        if name == "epsilon_net" and ev.get("by_eps"):
            out.append(_img(plots.figure_png(plots.fig_covering(res)),
                            "log size of a greedy eps-net of sampled points of M in the ball (numerical) beside the "
                            "upper bound from dimension and degree"))
        if name == "singularities" and ev.get("families"):
            out.append(_img(plots.figure_png(plots.fig_strata(ev["families"], int(ev.get("dim_M", 0)))),
                            "subnetwork strata: dimension and singularity of their images"))
    except Exception as exc:  # a figure must never hide the numbers
        out.append(f"<p class='note'>figure unavailable: {html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>")
    return out


def _strata_table(ev: dict[str, Any]) -> str:
    from .text import fmt_value

    rows = []
    for f in ev.get("families", []):
        rows.append(
            "<tr>" + "".join(
                f"<td>{html.escape(fmt_value(x))}</td>" for x in (
                    f.get("family"), f.get("dimension"), f"{fmt_value(f.get('critical'))} ({f.get('critical_status')})",
                    f"{'?' if f.get('singular') is None else fmt_value(f.get('singular'))} ({f.get('singular_status')})",
                )
            ) + "</tr>"
        )
    if not rows:
        return ""
    return ("<table><thead><tr><th>subnetwork family</th><th>dim</th><th>critical point of mu</th>"
            "<th>image singular in M</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _invariant_block(name: str, res: Any) -> str:
    ev_json = html.escape(json.dumps(res.to_dict().get("evidence", {}), indent=2))
    parts = [
        f'<div class="invariant" id="inv-{html.escape(name)}">',
        f"<h3>{html.escape(name)}: <span class='value'>{_value(res.value)}</span> {_badge(res.status)}</h3>",
    ]
    from .text import VALUE_LABELS

    if name in VALUE_LABELS and res.value is not None:
        parts.append(f"<p class='value-label'>value: number of {html.escape(VALUE_LABELS[name])}</p>")
    reason = (res.evidence or {}).get("reason")
    if reason:
        parts.append(f"<p class='note'>{html.escape(str(reason))}</p>")
    if name == "singularities":
        parts.append(_strata_table(res.evidence or {}))
    parts += _figures(name, res)
    parts.append(f"<details><summary>evidence</summary><pre>{ev_json}</pre></details></div>")
    return "\n".join(parts)


CSS = """
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
.status{color:#fff;border-radius:3px;padding:1px 6px;font-size:.8em;vertical-align:middle}
.note{color:#555;font-style:italic} pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}
figure{margin:.6em 0} img{max-width:100%} .value{font-family:monospace}
"""


def report_header(report: Any, heading: str = "h1") -> list[str]:
    """The head of a report's HTML: the architecture (escaped), its parameters, seed, prime, time, and the time
    budget when one was set (the page and the notebook share it)."""
    arch = report.architecture
    body = [
        f"<{heading}>Neuromanifold of <code>{html.escape(arch.spec())}</code></{heading}>",
        f"<p>{arch.n_params} parameters ("
        + html.escape(", ".join(f"{k}{tuple(v)}" for k, v in arch.param_shapes().items()))
        + f"); seed {report.seed}, prime {report.prime}; computed in {report.seconds:.2f} s.</p>",
    ]
    if getattr(report, "budget", None):
        b = report.budget
        body.append(f"<p class='note'>Time budget {float(b['seconds']):g} s"
                    + (" — exhausted: results cut short are labelled (lower bounds, not_computed)."
                       if b.get("exhausted") else " — not exhausted.") + "</p>")
    return body


def render_html(report: Any) -> str:
    """The report as one standalone HTML page (sections of the dictionary; JSON embedded)."""
    d = report.to_dict()
    arch = report.architecture
    done: set[str] = set()
    body = report_header(report, "h1")
    body.append("<p>Statuses: " + " ".join(_badge(s) for s in STATUS_COLOURS)
                + " — certified = exact or verified (the evidence says how); numerical = with the numerical "
                "evidence shown; bounds are one-sided.</p>")
    nav = []
    for anchor, title, names in SECTIONS:
        nav.append(f'<a href="#{anchor}">{html.escape(title)}</a>')
        body.append(f'<section id="{anchor}"><h2>{html.escape(title)}</h2>')
        present = [n for n in names if n in report.invariants]
        if not present:
            body.append(f"<p class='note'>not computed in this report (ask with --only {names[0]}).</p>")
        for n in present:
            body.append(_invariant_block(n, report.invariants[n]))
            done.add(n)
        body.append("</section>")
    others = [n for n in report.invariants if n not in done]
    if others:
        nav.append('<a href="#other">Other invariants</a>')
        body.append('<section id="other"><h2>Other invariants</h2>')
        body += [_invariant_block(n, report.invariants[n]) for n in others]
        body.append("</section>")
    nav.append('<a href="#json">JSON</a>')
    raw = json.dumps(d, indent=2)
    body.append('<section id="json"><h2>JSON</h2><p>The same report as <code>neuromanifold analyze --json</code>; '
                "also embedded in this page as <code>script#report-json</code>.</p>"
                f"<details><summary>show</summary><pre>{html.escape(raw)}</pre></details></section>")
    embedded = raw.replace("</", "<\\/")
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>neuromanifold: {html.escape(arch.spec())}</title><style>{CSS}</style></head><body>"
        f"<nav>{' · '.join(nav)}</nav>" + "\n".join(body)
        + f'<script type="application/json" id="report-json">{embedded}</script>'
        "</body></html>\n"
    )
