"""Jupyter: the full HTML of the toolkit's result types, with figures embedded as PNG.

Every result type has its own small ``_repr_html_`` (value, status, evidence; stdlib only, in the layer that
defines it).  The richer rendering lives here, where the report code is: a ``Report`` as the dictionary's sections
with the figures of the one-page report (``report.html``), a ``Result`` as its block of that page, critical points
with their critical values in the complex plane, Voronoi masses as a bar chart, the Voronoi cells of a plane
curve drawn, atlas rows as the atlas table.  ``import neuromanifold`` registers these with IPython's HTML
formatter when IPython is running (``register``: ``for_type_by_name``, so nothing is imported before an object
is shown); a rendering that fails falls back to the object's own ``_repr_html_`` with a note.

No scripts, no external resources: the HTML is safe to share and renders offline.
"""

from __future__ import annotations

import html
import json
from typing import Any, Callable

from .html import SECTIONS, STATUS_COLOURS, _badge, _img, _invariant_block, report_header

# scoped to the output cell (a notebook's page must keep its own styles)
CSS = """
.nm-full{font-family:system-ui,sans-serif;color:#222;max-width:980px}
.nm-full h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.15em;margin:1em 0 .4em}
.nm-full h3{font-size:1.05em;margin:.6em 0 .3em}
.nm-full .status{color:#fff;border-radius:3px;padding:1px 6px;font-size:.8em;vertical-align:middle}
.nm-full .note{color:#555;font-style:italic}
.nm-full pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px;max-height:24em}
.nm-full table{border-collapse:collapse;margin:.5em 0}
.nm-full td,.nm-full th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}
.nm-full figure{margin:.6em 0} .nm-full img{max-width:100%} .nm-full .value{font-family:monospace}
"""


def _wrap(kind: str, body: str) -> str:
    return f"<div class='nm-full neuromanifold' data-kind='{html.escape(kind, quote=True)}'><style>{CSS}</style>{body}</div>"


def _figure(make: Callable[[], Any], caption: str) -> str:
    """A figure as an embedded PNG; a figure that cannot be drawn becomes a note (it must never hide the numbers)."""
    from . import plots

    try:
        return _img(plots.figure_png(make()), caption)
    except Exception as exc:  # noqa: BLE001
        return f"<p class='note'>figure unavailable: {html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"


def report_html(report: Any) -> str:
    """A ``Report``: header, the sections of the dictionary it covers (value, status, evidence, figures), the
    parts not computed named, the JSON."""
    body = report_header(report, "h2")
    if getattr(report, "interrupted", False):
        body.append("<p class='note'>Interrupted: the cut invariant is partial, later ones not_computed.</p>")
    done: set[str] = set()
    missing = []
    for anchor, title, names in SECTIONS:
        present = [n for n in names if n in report.invariants]
        if not present:
            missing.append(title)
            continue
        body.append(f"<section data-section='{anchor}'><h3>{html.escape(title)}</h3>")
        body += [_invariant_block(n, report.invariants[n]) for n in present]
        body.append("</section>")
        done |= set(present)
    others = [n for n in report.invariants if n not in done]
    if others:
        body.append("<section data-section='other'><h3>Other invariants</h3>")
        body += [_invariant_block(n, report.invariants[n]) for n in others]
        body.append("</section>")
    if missing:
        body.append("<p class='note'>Not computed here (ask with <code>only=</code>): "
                    + html.escape("; ".join(missing)) + ".</p>")
    body.append("<p>Statuses: " + " ".join(_badge(s) for s in STATUS_COLOURS) + "</p>")
    body.append("<details><summary>JSON</summary><pre>" + html.escape(json.dumps(report.to_dict(), indent=2))
                + "</pre></details>")
    return _wrap("report", "\n".join(body))


def result_html(res: Any) -> str:
    """A ``Result``: its block of the one-page report (value, status, reason, figures, evidence)."""
    return _wrap("result", _invariant_block(res.name, res))


def critical_points_html(res: Any) -> str:
    """A ``CriticalPointsResult``: its tables, then the critical values in the complex plane."""
    from .plots import fig_critical_losses

    n_real = len(res.real_points)
    fig = _figure(lambda: fig_critical_losses(res.points, f"{res.architecture.spec()}: critical values"),
                  f"the loss at the {len(res.points)} complex critical points; {n_real} real (on the real axis)")
    return _wrap("critical_points", res._repr_html_() + fig)


def critical_system_html(res: Any) -> str:
    """``invariants.critical_system.CriticalPoints`` (no figure: the counts are the content)."""
    return _wrap("critical_system", res._repr_html_())


def voronoi_html(res: Any) -> str:
    """A ``VoronoiResult``: its table, then the masses with their intervals as bars."""
    from .plots import fig_voronoi_masses

    fig = _figure(lambda: fig_voronoi_masses(res.strata, f"{res.architecture.spec()}: Voronoi masses"),
                  f"Voronoi masses of the strata ({res.n_samples} targets, Wilson 95% intervals)")
    return _wrap("voronoi", res._repr_html_() + fig)


def voronoi_cell_html(res: Any) -> str:
    return _wrap("voronoi_cell", res._repr_html_())


def curve_voronoi_html(cv: Any) -> str:
    """A ``CurveVoronoi``: its table, then the curve with the Voronoi cells of its singular points shaded
    (``plots.plot_curve_voronoi``)."""
    import tempfile
    from pathlib import Path

    from .plots import plot_curve_voronoi

    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "curve.png"
            plot_curve_voronoi(cv, path)
            fig = _img(path.read_bytes(), f"{cv.equation} = 0 and the Voronoi cells of its singular points (shaded)")
    except Exception as exc:  # noqa: BLE001
        fig = f"<p class='note'>figure unavailable: {html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"
    return _wrap("curve_voronoi", cv._repr_html_() + fig)


def rows_html(rows: Any) -> str:
    """Atlas rows (``Atlas.rows``): the atlas table (one row per spec, cells coloured by status), then every
    row with its evidence."""
    from .atlas import atlas_table_html

    if not rows:
        return _wrap("atlas_rows", "<p>(no results)</p>")
    n, table = atlas_table_html(list(rows))
    return _wrap("atlas_rows", f"<p>{n} architectures; hover a cell for its evidence.</p>" + table + rows._repr_html_())


def row_html(row: Any) -> str:
    return _wrap("atlas_row", row._repr_html_())


# (module, class name) -> renderer; ``neuromanifold.NOTEBOOK_TYPES`` lists the same classes
RENDERERS: dict[tuple[str, str], Callable[[Any], str]] = {
    ("neuromanifold.analysis", "Report"): report_html,
    ("neuromanifold.result", "Result"): result_html,
    ("neuromanifold.landscape.critical_points", "CriticalPointsResult"): critical_points_html,
    ("neuromanifold.invariants.critical_system", "CriticalPoints"): critical_system_html,
    ("neuromanifold.landscape.voronoi", "VoronoiResult"): voronoi_html,
    ("neuromanifold.landscape.voronoi", "VoronoiCell"): voronoi_cell_html,
    ("neuromanifold.landscape.plane_curves", "CurveVoronoi"): curve_voronoi_html,
    ("neuromanifold.atlas.store", "Rows"): rows_html,
    ("neuromanifold.atlas.store", "Row"): row_html,
}


def to_html(obj: Any) -> str | None:
    """The full HTML of ``obj`` (a type of RENDERERS, or a subclass); its own ``_repr_html_`` when rendering
    fails, with the error noted; None for other objects."""
    renderer = next((fn for (mod, name), fn in RENDERERS.items()
                     if any(c.__module__ == mod and c.__name__ == name for c in type(obj).__mro__)), None)
    if renderer is None:
        own = getattr(obj, "_repr_html_", None)
        return own() if callable(own) else None
    try:
        return renderer(obj)
    except Exception as exc:  # noqa: BLE001 -- a notebook cell must still show the numbers
        note = (f"<p class='note'>full rendering failed ({html.escape(type(exc).__name__)}: "
                f"{html.escape(str(exc))}); the summary:</p>")
        return note + obj._repr_html_()


def register(ip: Any = None) -> bool:
    """Register ``to_html`` for every type of RENDERERS with IPython's HTML formatter (``ip``, default the
    running shell).  False when no IPython shell runs."""
    if ip is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ip = get_ipython()
        if ip is None:
            return False
    formatter = ip.display_formatter.formatters["text/html"]
    for mod, name in RENDERERS:
        formatter.for_type_by_name(mod, name, to_html)
    return True


__all__ = ["RENDERERS", "register", "to_html", "report_html", "result_html", "critical_points_html", "voronoi_html",
           "curve_voronoi_html", "rows_html"]
