"""Show a docstring (or a CLI help string) verbatim when it is not valid reStructuredText.

The package's docstrings are plain text in a light reST dialect (``code``, bullet lists); a few use
characters that reST reads as markup (``|x|_`` is a substitution reference, ``*`` an emphasis start).
The site is built with warnings as errors, so each docstring is first parsed on its own with docutils
(quietly); one that gives any warning is shown as a literal block, exactly as written, instead of
failing the build or rendering wrongly.  The count of docstrings shown verbatim is logged.
"""

from __future__ import annotations

import io
from typing import Any

from docutils import nodes
from docutils.core import publish_doctree
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

_SETTINGS = {
    "report_level": 2,  # every warning goes to the (captured) stream: some, such as undefined
    "halt_level": 5,  # substitutions, never reach the doctree; never raise
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "input_encoding": "unicode",
}


def is_clean_rst(text: str) -> bool:
    """True when docutils parses ``text`` without a message of level WARNING or above."""
    if not text.strip():
        return True
    stream = io.StringIO()
    settings = dict(_SETTINGS, warning_stream=stream)
    try:
        doctree = publish_doctree(text, settings_overrides=settings)
    except Exception:  # noqa: BLE001 - anything docutils refuses is shown verbatim
        return False
    if stream.getvalue().strip():
        return False
    if any(msg["level"] >= 2 for msg in doctree.findall(nodes.system_message)):
        return False
    # a section title inside a docstring is an error once nested in a page
    return not any(True for _ in doctree.findall(nodes.section)) and not any(
        True for _ in doctree.findall(nodes.title)
    )


def verbatim(lines: list[str]) -> list[str]:
    """``lines`` as one literal block (class ``nm-verbatim``: long lines wrap, see ``_static/nm.css``)."""
    return [".. code-block:: none", "   :class: nm-verbatim", ""] + [("   " + line) if line.strip() else "" for line in lines] + [""]


def process_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    if lines and not is_clean_rst("\n".join(lines)):
        lines[:] = verbatim(list(lines))
        app.env.nm_verbatim_docstrings = getattr(app.env, "nm_verbatim_docstrings", 0) + 1  # type: ignore[attr-defined]


def patch_argparse_help() -> None:
    """sphinx-argparse parses every help string of the CLI as reST in a document of its own, whose warnings
    bypass Sphinx's logging (so ``-W`` misses them) and whose markup garbles text such as ``'(x0-2*x1)**3'``.
    Help strings that are not clean reST are rendered as plain text instead."""
    try:
        import sphinxarg.ext as argext
    except ImportError:  # pragma: no cover - the CLI page needs sphinx-argparse anyway
        return
    original = argext.render_list
    if getattr(original, "nm_patched", False):
        return

    def render_list(items: list[Any], markdown_help: bool, settings: Any = None) -> list[nodes.Node]:
        if markdown_help:
            return original(items, markdown_help, settings)
        out: list[nodes.Node] = []
        for element in items:
            if isinstance(element, str) and not is_clean_rst(element):
                out.append(nodes.paragraph(element, element))
            else:
                out.extend(original([element], markdown_help, settings))
        return out

    render_list.nm_patched = True  # type: ignore[attr-defined]
    argext.render_list = render_list


def report(app: Sphinx, exc: Exception | None) -> None:
    count = getattr(app.env, "nm_verbatim_docstrings", 0) if app.env else 0
    if count and exc is None:
        logger.info("nm_docstrings: %d docstrings shown verbatim (not valid reStructuredText)", count)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", process_docstring, priority=900)
    patch_argparse_help()
    app.connect("build-finished", report)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
