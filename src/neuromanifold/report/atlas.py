"""Text and HTML of the atlas (stored rows, sweep summaries, the defect tables) and of the equivariant-vs-dense
comparison."""

from __future__ import annotations

import html
import json
from typing import Any

from ..atlas.store import NOT_FINAL, pivot


def format_value(value: Any, status: str) -> str:
    """'12 (certified)' -- every printed number with its status."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, separators=(",", ":"))
        text = text if len(text) <= 40 else text[:37] + "..."
    else:
        text = str(value)
    return f"{text} ({status})"


def atlas_text(rows: list[Any]) -> str:
    """Stored rows (``atlas.Row``) as a text table: one row per spec, one column per invariant."""
    if not rows:
        return "(no results)"
    invariants, table = pivot(rows)
    header = ["spec"] + invariants
    body = [[spec] + [format_value(cells[i].value, cells[i].status) if i in cells else "-" for i in invariants]
            for spec, cells in table]
    widths = [max(len(x[j]) for x in [header] + body) for j in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)


STATUS_COLOURS = {"certified": "#d8f0d8", "numerical": "#fff3c4", "lower_bound": "#e3ecfa",
                  "upper_bound": "#e3ecfa", "failed": "#f6d3d3", NOT_FINAL: "#eeeeee"}


def atlas_html(rows: list[Any], *, title: str = "neuromanifold atlas") -> str:
    """A standalone HTML table (one row per spec, one column per invariant, cells coloured by status)."""
    n_specs, table_html = atlas_table_html(rows)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif}}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 6px;font-size:13px}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{n_specs} architectures; hover a cell for its evidence.</p>"
        f"{table_html}"
        "</body></html>\n"
    )


def atlas_table_html(rows: list[Any]) -> tuple[int, str]:
    """(number of specs, the ``<table>`` of ``atlas_html``): one row per spec, one column per invariant."""
    invariants, table = pivot(rows)
    head = "".join(f"<th>{html.escape(i)}</th>" for i in invariants)
    body = []
    for spec, cells in table:
        tds = []
        for i in invariants:
            r = cells.get(i)
            if r is None:
                tds.append("<td>-</td>")
                continue
            tip = html.escape(json.dumps(r.evidence)[:2000], quote=True)
            tds.append(
                f'<td style="background:{STATUS_COLOURS.get(r.status, "#fff")}" title="{tip}">'
                f"{html.escape(format_value(r.value, r.status))}</td>"
            )
        body.append(f"<tr><td><code>{html.escape(spec)}</code></td>{''.join(tds)}</tr>")
    return len(table), f"<table><thead><tr><th>spec</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def query_text(rows: list[Any]) -> str:
    """Stored rows one per line (spec, invariant = value (status), seed), then their number."""
    lines = [f"{r.spec}  {r.invariant} = {format_value(r.value, r.status)}  seed {r.seed}" for r in rows]
    return "\n".join(lines + [f"{len(rows)} rows"])


def sweep_text(summary: Any, where: Any) -> str:
    """An ``atlas.SweepSummary``: counts, then one line per failed result and per invalid expansion."""
    lines = [f"{summary.specs} specs: {summary.computed} results computed, {summary.skipped} already in "
             f"{where}, {summary.elsewhere} computed by concurrent sweeps, {len(summary.failed)} failed, "
             f"{len(summary.invalid)} invalid expansions "
             f"({summary.workers} worker{'s' if summary.workers != 1 else ''})"]
    lines += [f"  failed: {spec} {inv}: {msg}" for spec, inv, msg in summary.failed]
    lines += [f"  invalid: {text}: {msg}" for text, msg in summary.invalid]
    return "\n".join(lines)


def sweep_interrupted_text(summary: Any) -> str:
    """The one line (for stderr) after Ctrl-C ended a sweep: what was kept and how to resume."""
    cut = "; ".join(f"{inv} of {spec}" for spec, inv in summary.interrupted)
    return (f"neuromanifold: interrupted: {summary.computed} results computed and stored"
            + (f"; stored as interrupted (not final, recomputed next time): {cut}" if cut else "")
            + "; run the same command again to resume")


def defects_text(rows: list[Any], title: str) -> str:
    """``atlas.tables.DefectRow`` rows as a text table; defective rows marked with '*' and the defect."""
    def fmt(r: Any) -> str:
        return "-" if r is None else f"{r.value} ({r.status})"

    header = ["", "spec", "params", "dim", "expected", "ambient", "defect"]
    body = []
    for r in rows:
        d = r.defect
        mark = "*" if d else (" " if d == 0 else "?")
        body.append([mark, r.spec, str(r.n_params), fmt(r.dimension), fmt(r.expected), fmt(r.ambient),
                     "-" if d is None else str(d) + (" (filling)" if r.filling else "")])
    widths = [max(len(x[j]) for x in [header] + body) for j in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
    n_def = sum(1 for r in rows if r.defect)
    lines.append(f"* = defective (certified dim < certified expected dim): {n_def} of {len(rows)}; "
                 "? = a number is not certified")
    return "\n".join(lines)


def thresholds_text(rows: list[Any], title: str) -> str:
    """``atlas.tables.ThresholdRow`` rows as a text table: the threshold with its status, the certified range,
    the proven bound used and the defective exponents (r* = defective numerically only)."""
    header = ["widths", "threshold", "certified range", "bound", "defective r"]
    body = []
    for r in rows:
        if r.result is None:
            body.append([r.spec, "-", "-", "-", "-"])
            continue
        widths = "(" + ", ".join(map(str, r.widths)) + ")" if r.widths else r.spec
        lo, up = r.lower, r.upper
        rng = "-" if lo is None else (f"[{lo}, {up}]" if up is not None else f">= {lo}")
        d = r.defective
        bad = ", ".join([str(x) for x in d.get("certified", [])] + [f"{x}*" for x in d.get("numerical", [])]) or "none"
        body.append([widths, f"{r.value} ({r.status})", rng, "-" if r.bound is None else str(r.bound), bad])
    widths_ = [max(len(x[j]) for x in [header] + body) for j in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths_)), "  ".join("-" * w for w in widths_)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths_)) for row in body]
    lines.append("threshold: smallest r >= 2 with dim = edim for every r' >= r; bound: proven B (every r >= B "
                 "non-defective); r* = defective numerically only (no certified upper bound on its dimension)")
    return "\n".join(lines)


def comparison_text(cmp: Any) -> str:
    """An ``atlas.comparison.EquivariantComparison``: the two families side by side, value (status) per
    invariant, and why M_G lies in M."""
    def cell(v: Any, status: str) -> str:
        return f"{v} ({status})" if v is not None else f"- ({status})"

    ea, ua = cmp.equivariant.architecture, cmp.unconstrained.architecture
    rows = [("", "equivariant", "unconstrained"), ("family", ea.spec(), ua.spec()),
            ("n_params", str(ea.n_params), str(ua.n_params))]
    for r in cmp.rows():
        rows.append((r["invariant"], cell(r["equivariant"]["value"], r["equivariant"]["status"]),
                     cell(r["unconstrained"]["value"], r["unconstrained"]["status"])))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    lines.append(f"M_G lies in M: {cmp.reason}")
    return "\n".join(lines)
