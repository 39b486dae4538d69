"""Parse spec strings such as ``mlp(widths=(2,3,1), r=2)`` into Architecture objects.

Grammar: ``family(key=value, ...)`` with Python literals as values (ints, bools, tuples of
ints, None, quoted text: ``act="x**2 + x"`` is read later by the activation's whitelist parser).  Every problem raises ``SpecError`` with one line naming it and the valid form.  The
families are looked up in ``registry``, which also picks the class that builds the spec; the values
are checked by the family (``params``).
"""

from __future__ import annotations

import ast
from typing import Any

from ..errors import SpecError
from .base import Architecture
from .registry import build, families, usage


def _literal(node: ast.AST, family: str, key: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        raise SpecError(
            f"{family}: the value of {key!r} must be a literal (integer, tuple of integers, True/False, None, or quoted "
            f"text such as act=\"x**2 + x\"); "
            f"valid form: {usage(family)}"
        ) from None


def parse_spec(spec: str | Architecture) -> Architecture:
    """Spec string -> Architecture (an Architecture is returned unchanged)."""
    if isinstance(spec, Architecture):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError("empty spec; write e.g. 'mlp(widths=(2,3,1), r=2)' (see `neuromanifold architectures`)")
    text = spec.strip()
    fams = families()
    known = ", ".join(sorted(fams))
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):  # deep nesting: RecursionError / MemoryError
        raise SpecError(
            f"malformed spec {text!r}: expected family(key=value, ...), e.g. 'mlp(widths=(2,3,1), r=2)'; "
            f"families: {known}"
        ) from None
    node = tree.body
    if isinstance(node, ast.Name):
        node = ast.Call(func=node, args=[], keywords=[])
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise SpecError(
            f"malformed spec {text!r}: expected family(key=value, ...), e.g. 'mlp(widths=(2,3,1), r=2)'; "
            f"families: {known}"
        )
    family = node.func.id
    if family not in fams:
        raise SpecError(f"unknown architecture {family!r}; known families: {known} (see `neuromanifold architectures`)")
    if node.args:
        raise SpecError(f"{family}: write arguments as key=value; valid form: {usage(family)}")
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise SpecError(f"{family}: '**' is not allowed; valid form: {usage(family)}")
        if kw.arg in kwargs:
            raise SpecError(f"{family}: {kw.arg!r} given twice; valid form: {usage(family)}")
        kwargs[kw.arg] = _literal(kw.value, family, kw.arg)
    return build(family, kwargs)
