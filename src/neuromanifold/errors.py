"""Errors raised for bad input: one line naming the problem and the valid form."""

from __future__ import annotations

import math
import sys
from dataclasses import fields
from typing import Any, Callable


class NeuromanifoldError(Exception):
    """Base class of every error the toolkit raises on purpose (never a bug)."""


class SpecError(NeuromanifoldError, ValueError):
    """A malformed or inconsistent architecture spec (message names the valid form)."""


class InputError(NeuromanifoldError, ValueError):
    """Bad arguments to an invariant or a command (message says what to change)."""


class BudgetExceeded(KeyboardInterrupt):
    """The time budget (``--budget``) ran out.  A KeyboardInterrupt, so every computation that keeps a
    usable partial result on Ctrl-C (monodromy, sweeps) keeps it on a budget stop too."""


Rule = tuple[str, Callable[[Any], bool]]  # (what to write, test)


def within(low: float, high: float = math.inf, *, open_low: bool = False, integer: bool = False,
           none: bool = False) -> Callable[[Any], bool]:
    """The test low <= x <= high (low < x when ``open_low``; x a whole number when ``integer``; None
    passes when ``none``); NaN, booleans and non-numbers fail it."""

    def test(x: Any) -> bool:
        if x is None:
            return none
        np = sys.modules.get("numpy")  # a numpy scalar exists only once numpy is imported: never import it here
        numbers = (int, float) if np is None else (int, float, np.integer, np.floating)
        if isinstance(x, bool) or not isinstance(x, numbers) or math.isnan(x):
            return False
        return (x > low if open_low else x >= low) and x <= high and (not integer or float(x).is_integer())

    return test


POSITIVE: Rule = ("a number > 0", within(0, open_low=True))
NON_NEGATIVE: Rule = ("a number >= 0", within(0))
COUNT: Rule = ("an integer >= 1", within(1, integer=True))
FLAG: Rule = ("True or False", lambda x: isinstance(x, bool))


def check_fields(obj: Any, rules: dict[str, Rule], prefix: str | None = None) -> None:
    """Check every dataclass field of ``obj`` that has a rule; the first bad one raises InputError
    naming the field, the valid form and the value given (after ``prefix``, default the class name)."""
    head = f"{type(obj).__name__}: " if prefix is None else prefix
    for f in fields(obj):
        rule = rules.get(f.name)
        value = getattr(obj, f.name)
        if rule is not None and not rule[1](value):
            raise InputError(f"{head}{f.name} must be {rule[0]}; got {value!r}")
