"""A wall-clock budget for a whole analysis: past the deadline, running computations are stopped
(``BudgetExceeded``, a KeyboardInterrupt, so partial results are kept as labelled bounds) and the
remaining invariants are reported ``not_computed``.

Cuts: a computation that keeps a partial result when stopped (monodromy) swallows the
KeyboardInterrupt; so that its callers still know, every cut is recorded (``record_cut``) and
``cuts_since(mark)`` tells whether one happened during a call.  ``Budget.enforced`` also records
Ctrl-C (SIGINT) itself, so that a swallowed Ctrl-C is never mistaken for a finished computation."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from ..errors import BudgetExceeded, InputError


_cuts: list[str] = []  # "interrupted" (Ctrl-C) or "budget", in order


def record_cut(kind: str) -> None:
    """Note that a computation was cut short: ``kind`` "interrupted" (Ctrl-C) or "budget"."""
    _cuts.append(kind)


def cut_mark() -> int:
    """A mark for ``cuts_since``."""
    return len(_cuts)


def cuts_since(mark: int) -> list[str]:
    """The cuts recorded since ``mark`` (empty: nothing was cut)."""
    return list(_cuts[mark:])


def cut_kind(exc: BaseException) -> str:
    """ "budget" for BudgetExceeded, "interrupted" for any other KeyboardInterrupt."""
    return "budget" if isinstance(exc, BudgetExceeded) else "interrupted"


class Budget:
    """Seconds allowed from construction; ``None`` means unlimited."""

    def __init__(self, seconds: float | None):
        if seconds is not None and (not isinstance(seconds, (int, float)) or not seconds > 0):
            raise InputError(f"budget must be a positive number of seconds, got {seconds!r}")
        self.seconds = None if seconds is None else float(seconds)
        self.start = time.monotonic()

    @property
    def remaining(self) -> float:
        return float("inf") if self.seconds is None else self.seconds - (time.monotonic() - self.start)

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0

    @contextmanager
    def enforced(self) -> Iterator[None]:
        """Raise BudgetExceeded in this (main) thread when the budget runs out (SIGALRM; elsewhere the
        budget is only checked between invariants); in the main thread, also record every Ctrl-C
        (``record_cut``) before it raises KeyboardInterrupt."""
        main = threading.current_thread() is threading.main_thread()
        usable = self.seconds is not None and hasattr(signal, "setitimer") and main
        previous_int = None
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:

            def on_int(signum: int, frame: object) -> None:
                record_cut("interrupted")
                raise KeyboardInterrupt()

            previous_int = signal.signal(signal.SIGINT, on_int)
        try:
            if not usable:
                yield
                return
            if self.exhausted:
                record_cut("budget")
                raise BudgetExceeded()

            def on_alarm(signum: int, frame: object) -> None:
                record_cut("budget")
                raise BudgetExceeded()

            previous = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, max(self.remaining, 1e-3))
            try:
                yield
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        finally:
            if previous_int is not None:
                signal.signal(signal.SIGINT, previous_int)
