"""Markdown (GitHub/CommonMark pipe) tables for the experiment reports, with cells escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import InputError


def report_dir(out: str | Path) -> Path:
    """The output directory of an experiment report, created if missing (InputError naming it if it cannot be)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory {out}: {exc.strerror}") from None
    return out


def md_cell(x: Any) -> str:
    """One cell: '-' for None, '|' escaped (it would split the cell), newlines folded to spaces."""
    text = "-" if x is None else str(x)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Iterable[Sequence[Any]], header: Sequence[Any]) -> list[str]:
    """Lines of a pipe table: ``header``, a rule, one line per row; every row must have len(header) cells."""
    n = len(header)
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * n]
    for row in rows:
        row = list(row)
        if len(row) != n:
            raise ValueError(f"markdown table row with {len(row)} cells under a header of {n}: {row!r}")
        lines.append("| " + " | ".join(md_cell(c) for c in row) + " |")
    return lines
