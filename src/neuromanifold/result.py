"""Results of invariants: a value with its status and the evidence it rests on."""

from __future__ import annotations

import html as _html
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

STATUSES = ("certified", "numerical", "lower_bound", "upper_bound", "failed", "not_computed")


def jsonable(x: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats to plain JSON values."""
    import numpy as np

    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return jsonable(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, complex):
        return [x.real, x.imag]
    return x


@dataclass
class Result:
    """One invariant: ``value`` with ``status`` in STATUSES and ``evidence`` (how it was obtained)."""

    name: str
    value: Any
    status: str
    evidence: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "value": self.value,
                "status": self.status,
                "evidence": self.evidence,
                "seconds": round(self.seconds, 4),
                "seed": self.seed,
            }
        )

    def _repr_html_(self) -> str:
        """Jupyter: the value with its status and the evidence (see ``html_card``; with IPython running,
        ``import neuromanifold`` registers the fuller rendering of ``report.notebook``, with figures)."""
        reason = (self.evidence or {}).get("reason")
        body = [f"<p>value: <span class='nm-value'>{html_value(self.value)}</span> {html_badge(self.status)}"
                f" <span class='nm-note'>({self.seconds:.2f} s, seed {html_text(self.seed)})</span></p>"]
        if reason:
            body.append(f"<p class='nm-note'>{html_text(reason)}</p>")
        body.append(html_evidence(self.evidence))
        return html_card(f"{html_text(self.name)}", body, kind="result")


# -- HTML for notebooks (the ``_repr_html_`` of the result types; stdlib only) ---------------------------------
# Every result type of the toolkit has a small, self-contained ``_repr_html_`` built from these helpers: the
# value, its status and the evidence, every piece of text escaped.  The richer page (figures, the dictionary's
# sections) lives in ``report.notebook``; ``import neuromanifold`` registers it with IPython when IPython runs.

HTML_STATUS_COLOURS = {"certified": "#1b7f3b", "numerical": "#a06a00", "lower_bound": "#2a5db0",
                       "upper_bound": "#2a5db0", "failed": "#b02a2a", "not_computed": "#666666"}


class HTML(str):
    """Text that is already HTML (built by these helpers from escaped pieces): ``html_table`` keeps it as is."""


def html_text(x: Any, limit: int = 400) -> str:
    """``x`` as escaped text, cut to ``limit`` characters."""
    text = "-" if x is None else str(x)
    return _html.escape(text if len(text) <= limit else text[: limit - 3] + "...")


def plain_value(v: Any) -> str:
    """A value for humans: yes/no for booleans, '-' for None, dicts as 'k: v, ...', lists comma-separated,
    floats to 6 significant digits (the text report's ``fmt_value`` and the notebook cards)."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {plain_value(x)}" for k, x in v.items()) or "-"
    if isinstance(v, (list, tuple)):
        return ", ".join(plain_value(x) for x in v) or "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def html_value(v: Any, limit: int = 200) -> str:
    """A value for humans (yes/no, '-' for None, 'k: v' for dicts, floats to 6 digits), escaped."""
    if hasattr(v, "item") and getattr(v, "shape", None) == ():  # a numpy scalar
        v = v.item()
    return html_text(plain_value(v), limit)


def html_badge(status: Any) -> HTML:
    """The status as a coloured label (class ``nm-status``, attribute ``data-status``)."""
    s = html_text(status)
    colour = HTML_STATUS_COLOURS.get(str(status), "#444444")
    return HTML(f'<span class="nm-status" data-status="{s}" style="background:{colour};color:#fff;'
                f'border-radius:3px;padding:1px 6px;font-size:.85em">{s}</span>')


def html_evidence(evidence: Any, summary: str = "evidence") -> HTML:
    """The evidence as indented JSON in a collapsed ``<details>`` (escaped)."""
    try:
        text = json.dumps(jsonable(evidence), indent=2, default=str)
    except (TypeError, ValueError):
        text = repr(evidence)
    return HTML(f"<details class='nm-evidence'><summary>{html_text(summary)}</summary>"
                f"<pre style='max-height:24em;overflow:auto;font-size:12px'>{_html.escape(text)}</pre></details>")


def html_table(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> HTML:
    """A table; cells are escaped unless they are ``HTML``."""
    def cell(x: Any, tag: str) -> str:
        return f"<{tag} style='border:1px solid #ccc;padding:2px 6px;text-align:left'>" + (
            x if isinstance(x, HTML) else html_text(x)) + f"</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(x, "td") for x in r) + "</tr>" for r in rows)
    return HTML(f"<table class='nm-table' style='border-collapse:collapse;margin:.4em 0;font-size:13px'>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def html_card(title: str, body: Iterable[str], *, kind: str) -> str:
    """One result: an escaped ``title`` (already HTML) over the ``body`` pieces, in a
    ``<div class="neuromanifold" data-kind=kind>``."""
    return (f"<div class='neuromanifold' data-kind='{html_text(kind)}' style='margin:.3em 0'>"
            f"<div style='font-weight:600;margin-bottom:.2em'>{title}</div>" + "\n".join(body) + "</div>")
