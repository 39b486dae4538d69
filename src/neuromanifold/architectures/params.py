"""Validators for the keyword values of a spec string, shared by the architecture families.

Each takes the family class (its ``family`` name and ``usage()`` form go into the message) and
raises ``SpecError`` with one line naming the problem and the valid form.  Every integer of a spec
is at most ``MAX_SIZE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import SpecError

if TYPE_CHECKING:
    from .base import Architecture

MAX_SIZE = 10_000  # every integer of a spec (widths, kernel sizes, strides, exponents): larger is beyond any
# exact computation here (the dimension alone needs a Jacobian of n_params x ~dim M entries)


def check_keys(cls: type[Architecture], kwargs: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(kwargs) - allowed)
    if extra:
        raise SpecError(f"{cls.family}: unknown parameter {extra[0]!r}; valid form: {cls.usage()}")


def int_tuple(cls: type[Architecture], key: str, value: Any, *, min_len: int = 1, minimum: int = 1) -> tuple[int, ...]:
    family = cls.family
    if isinstance(value, bool) or not isinstance(value, (tuple, list)):
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value,)
        else:
            raise SpecError(f"{family}: {key} must be a tuple of integers; valid form: {cls.usage()}")
    if len(value) < min_len:
        raise SpecError(f"{family}: {key} needs at least {min_len} entries; valid form: {cls.usage()}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise SpecError(f"{family}: {key} must be a tuple of integers, got {value!r}; valid form: {cls.usage()}")
        if v < minimum:
            raise SpecError(
                f"{family}: every entry of {key} must be >= {minimum}, got {tuple(value)!r}; valid form: {cls.usage()}"
            )
        if v > MAX_SIZE:
            raise SpecError(f"{family}: every entry of {key} must be <= {MAX_SIZE}, got {v}; valid form: {cls.usage()}")
        out.append(int(v))
    return tuple(out)


def positive_int(cls: type[Architecture], key: str, value: Any, *, minimum: int = 1) -> int:
    family = cls.family
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{family}: {key} must be an integer >= {minimum}, got {value!r}; valid form: {cls.usage()}")
    if value < minimum:
        raise SpecError(f"{family}: {key} must be >= {minimum}, got {value}; valid form: {cls.usage()}")
    if value > MAX_SIZE:
        raise SpecError(f"{family}: {key} must be <= {MAX_SIZE}, got {value}; valid form: {cls.usage()}")
    return int(value)


def boolean(cls: type[Architecture], key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{cls.family}: {key} must be True or False, got {value!r}; valid form: {cls.usage()}")
    return value


def fmt_tuple(t: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, t)) + ("," if len(t) == 1 else "") + ")"
