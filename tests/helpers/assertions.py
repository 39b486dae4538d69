"""Shared assertions on Results: on failure they print the name, value, status and evidence, so a red
test says what the computation rested on (not just ``assert 'numerical' == 'certified'``)."""

from __future__ import annotations

import json
from typing import Any

_MISSING = object()


def _show(result: Any) -> str:
    d = result.to_dict() if hasattr(result, "to_dict") else vars(result)
    try:
        return json.dumps(d, indent=1, default=str)[:4000]
    except (TypeError, ValueError):
        return repr(d)[:4000]


def assert_status(result: Any, status: str, value: Any = _MISSING) -> None:
    """``result.status == status`` (and ``result.value == value`` when given), else fail with the evidence."""
    ok = result.status == status and (value is _MISSING or result.value == value)
    want = status if value is _MISSING else f"{value!r} ({status})"
    assert ok, f"{getattr(result, 'name', 'result')}: expected {want}, got {result.value!r} ({result.status})\n" \
               + _show(result)


def assert_certified(result: Any, value: Any = _MISSING) -> None:
    """The result is ``certified`` (at ``value`` when given)."""
    assert_status(result, "certified", value)


def assert_honest(result: Any, truth: Any, where: str = "") -> None:
    """The status is consistent with the truth: a ``certified`` value equals it, a ``lower_bound`` is <= it,
    an ``upper_bound`` >= it (a ``numerical`` or ``failed`` result claims nothing checkable here)."""
    s, v = result.status, result.value
    ok = {"certified": lambda: v == truth, "lower_bound": lambda: v is not None and v <= truth,
          "upper_bound": lambda: v is not None and v >= truth}.get(s, lambda: s in ("numerical", "failed"))()
    assert ok, f"{where + ': ' if where else ''}{getattr(result, 'name', 'result')}: {v!r} ({s}) is not honest for the truth {truth!r}\n" \
               + _show(result)


__all__ = ["assert_status", "assert_certified", "assert_honest"]
