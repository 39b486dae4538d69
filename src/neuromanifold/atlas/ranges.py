"""Spec patterns with integer ranges, e.g. ``mlp(widths=(2..4, 1..5, 1), r=2..3)``.

Every ``a..b`` (inclusive, a <= b) is replaced by each integer of the range; a pattern stands for the
Cartesian product of its ranges.  Each expansion is parsed; expansions that are not valid specs are
returned separately with the parser's message (a sweep reports them and moves on).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from ..architectures import parse_spec
from ..errors import InputError, SpecError

RANGE = re.compile(r"(-?\d+)\s*\.\.\s*(-?\d+)")
MAX_SPECS = 10_000  # default cap on the specs of one sweep (``--max-specs`` raises it)
MAX_EXPANSIONS = MAX_SPECS  # the former name


@dataclass(frozen=True)
class Expansion:
    """The valid canonical specs of a pattern (in order, without repeats) and the invalid ones."""

    specs: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...]  # (expanded text, SpecError message)


def _ranges(pattern: str) -> list[range]:
    """The integer ranges of a pattern, in order (refusing an empty pattern or range)."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise InputError("empty sweep pattern; write e.g. 'mlp(widths=(2..4, 1..5, 1), r=2..3)'")
    ranges = []
    for m in RANGE.finditer(pattern):
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            raise InputError(f"empty range {m.group(0)!r} in {pattern!r}: write low..high with low <= high")
        ranges.append(range(lo, hi + 1))
    return ranges


def count(pattern: str) -> int:
    """How many expansions a pattern stands for (the product of its range lengths), without expanding it."""
    return math.prod(len(r) for r in _ranges(pattern))


def too_many(total: int, max_specs: int, what: str, plural: bool = False) -> InputError:
    """The refusal of a sweep larger than ``max_specs``."""
    return InputError(f"{what} {'stand' if plural else 'stands'} for {total} specs, more than the limit of {max_specs}; narrow the ranges, "
                      f"or allow it with --max-specs {total} (max_specs={total} in Python)")


def expand(pattern: str, *, max_specs: int = MAX_SPECS) -> Expansion:
    """All specs a pattern stands for, canonicalised by the parser (``arch.spec()``); refused (before
    expanding anything) when the pattern stands for more than ``max_specs``."""
    ranges = _ranges(pattern)
    total = math.prod(len(r) for r in ranges)
    if total > max_specs:
        raise too_many(total, max_specs, repr(pattern))
    pieces = RANGE.split(pattern)  # text, lo, hi, text, lo, hi, ..., text
    texts = pieces[0::3]
    specs: list[str] = []
    seen: set[str] = set()
    invalid: list[tuple[str, str]] = []
    for values in itertools.product(*ranges):
        text = texts[0] + "".join(f"{v}{t}" for v, t in zip(values, texts[1:]))
        try:
            canon = parse_spec(text).spec()
        except SpecError as exc:
            invalid.append((text, str(exc)))
            continue
        if canon not in seen:
            seen.add(canon)
            specs.append(canon)
    if not specs and not invalid:
        raise InputError(f"{pattern!r} expands to nothing")
    return Expansion(tuple(specs), tuple(invalid))
