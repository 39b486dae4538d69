"""Parse spec strings such as ``mlp(widths=(2,3,1), r=2)`` into Architecture objects.

Grammar: ``family(key=value, ...)`` with Python literals as values (ints, bools, tuples of
ints, None).  Every problem raises ``SpecError`` with one line naming it and the valid form.
"""

from __future__ import annotations

import ast
from typing import Any

from ..errors import SpecError
from .base import Architecture

MAX_SIZE = 10_000  # every integer of a spec (widths, kernel sizes, strides, exponents): larger is beyond any
# exact computation here (the dimension alone needs a Jacobian of n_params x ~dim M entries)


def _families() -> dict[str, type[Architecture]]:
    from .attention import Attention
    from .conv import CNN
    from .dense import MLP, Linear
    from .equivariant import GCNN
    from .relu import ReLU

    return {cls.family: cls for cls in (Linear, MLP, CNN, Attention, GCNN, ReLU)}


def families() -> dict[str, type[Architecture]]:
    """The registered architecture families, by spec name."""
    return _families()


def usage(family: str) -> str:
    cls = _families()[family]
    return cls.usage()


def _literal(node: ast.AST, family: str, key: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        raise SpecError(
            f"{family}: the value of {key!r} must be a literal (integer, tuple of integers, True/False, None); "
            f"valid form: {usage(family)}"
        ) from None


def parse_spec(spec: str | Architecture) -> Architecture:
    """Spec string -> Architecture (an Architecture is returned unchanged)."""
    if isinstance(spec, Architecture):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError("empty spec; write e.g. 'mlp(widths=(2,3,1), r=2)' (see `neuromanifold architectures`)")
    text = spec.strip()
    fams = _families()
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
    return fams[family].from_kwargs(**kwargs)


# -- validation helpers shared by the families ----------------------------------------------


def check_keys(family: str, kwargs: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(kwargs) - allowed)
    if extra:
        raise SpecError(f"{family}: unknown parameter {extra[0]!r}; valid form: {usage(family)}")


def int_tuple(family: str, key: str, value: Any, *, min_len: int = 1, minimum: int = 1) -> tuple[int, ...]:
    if isinstance(value, bool) or not isinstance(value, (tuple, list)):
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value,)
        else:
            raise SpecError(f"{family}: {key} must be a tuple of integers; valid form: {usage(family)}")
    if len(value) < min_len:
        raise SpecError(f"{family}: {key} needs at least {min_len} entries; valid form: {usage(family)}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise SpecError(f"{family}: {key} must be a tuple of integers, got {value!r}; valid form: {usage(family)}")
        if v < minimum:
            raise SpecError(
                f"{family}: every entry of {key} must be >= {minimum}, got {tuple(value)!r}; valid form: {usage(family)}"
            )
        if v > MAX_SIZE:
            raise SpecError(f"{family}: every entry of {key} must be <= {MAX_SIZE}, got {v}; valid form: {usage(family)}")
        out.append(int(v))
    return tuple(out)


def positive_int(family: str, key: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{family}: {key} must be an integer >= {minimum}, got {value!r}; valid form: {usage(family)}")
    if value < minimum:
        raise SpecError(f"{family}: {key} must be >= {minimum}, got {value}; valid form: {usage(family)}")
    if value > MAX_SIZE:
        raise SpecError(f"{family}: {key} must be <= {MAX_SIZE}, got {value}; valid form: {usage(family)}")
    return int(value)


def boolean(family: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{family}: {key} must be True or False, got {value!r}; valid form: {usage(family)}")
    return value


def fmt_tuple(t: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, t)) + ("," if len(t) == 1 else "") + ")"
