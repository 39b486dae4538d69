"""A wall-clock budget for a whole analysis: past the deadline, running computations are stopped
(``BudgetExceeded``, a KeyboardInterrupt, so partial results are kept as labelled bounds) and the
remaining invariants are reported ``not_computed``."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from .errors import BudgetExceeded, InputError


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
        budget is only checked between invariants)."""
        usable = (self.seconds is not None and hasattr(signal, "setitimer")
                  and threading.current_thread() is threading.main_thread())
        if not usable:
            yield
            return
        if self.exhausted:
            raise BudgetExceeded()

        def on_alarm(signum: int, frame: object) -> None:
            raise BudgetExceeded()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(self.remaining, 1e-3))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
