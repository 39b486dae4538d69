"""Progress of long computations on stderr, on a terminal or not.

On a TTY a ``tqdm`` bar (``total=None`` when the total is unknown: counts and rates, no
percentage).  Elsewhere (a pipe, a log file, a batch job) plain one-line updates: a background
printer writes the state of the innermost running job every ``INTERVAL`` seconds, from the moment
it has run ``DELAY`` seconds (short jobs print nothing), and one last line when a job that ran that
long ends.  Nested jobs print as one line, outermost first:
``neuromanifold: analyze cnn(...) [degree 2/3] > monodromy: 312 solutions, 5 loops, 2104 paths (410/s), 5.1 s``.
A total is shown only when it is known (never a cap); no ETA is ever shown against an unknown total.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

DELAY = 2.0  # seconds a job runs before its first line
INTERVAL = float(os.environ.get("NEUROMANIFOLD_PROGRESS_INTERVAL", "3"))  # seconds between plain lines

_lock = threading.RLock()
_stack: list["Progress"] = []
_last_print = 0.0
_printer: threading.Thread | None = None


def _fmt_seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{int(s // 60)} min {int(s % 60):02d} s"


def _emit(line: str) -> None:
    global _last_print
    try:
        print(f"neuromanifold: {line}", file=sys.stderr, flush=True)
    except (ValueError, OSError):  # stderr closed
        pass
    _last_print = time.monotonic()


def _printer_loop() -> None:
    while True:
        time.sleep(0.25)
        with _lock:
            if not _stack:
                continue
            now = time.monotonic()
            if now - _stack[0].start < DELAY or now - _last_print < INTERVAL:
                continue
            line = " > ".join(p.describe() for p in _stack)
            for p in _stack:
                p.printed = True
            _emit(line)


def _ensure_printer() -> None:
    global _printer
    if _printer is None or not _printer.is_alive():
        _printer = threading.Thread(target=_printer_loop, name="neuromanifold-progress", daemon=True)
        _printer.start()


class Progress:
    """One long job: ``update(count=..., **fields)`` as it goes, ``close()`` (or ``with``) at the end.

    desc: what runs; total: the honest number of steps when known (None: unknown, counts and rates
    only); unit: what ``count`` counts; rate_of: name of a field (or "count") whose rate per
    second is shown; enabled: False makes every call a no-op."""

    def __init__(self, desc: str, *, total: int | None = None, unit: str = "", rate_of: str | None = None,
                 enabled: bool = True, initial: int = 0) -> None:
        self.desc, self.total, self.unit, self.rate_of = desc, total, unit, rate_of
        self.enabled = bool(enabled)
        self.count = int(initial)
        self.fields: dict[str, Any] = {}
        self.start = time.monotonic()
        self.printed = False
        self._bar = None
        self._closed = False
        if not self.enabled:
            return
        stream = sys.stderr
        if getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit or "it", initial=self.count, leave=False,
                             file=stream, dynamic_ncols=True)
        else:
            with _lock:
                _stack.append(self)
            _ensure_printer()

    def update(self, count: int | None = None, advance: int = 0, **fields: Any) -> None:
        """Set the count (or advance it) and the shown fields."""
        if not self.enabled:
            return
        if count is not None:
            self.count = int(count)
        self.count += int(advance)
        self.fields.update(fields)
        if self._bar is not None:
            self._bar.n = self.count
            if self.fields:
                self._bar.set_postfix({k: v for k, v in self.fields.items()}, refresh=False)
            self._bar.refresh()

    def describe(self) -> str:
        """One line: desc, count (/total when known), fields, rate, elapsed."""
        elapsed = time.monotonic() - self.start
        parts = []
        if self.total is not None:
            parts.append(f"{self.count}/{self.total}" + (f" {self.unit}" if self.unit else ""))
        elif self.unit:
            parts.append(f"{self.count} {self.unit}")
        parts += [f"{v} {k}" if isinstance(v, (int, float)) else str(v) for k, v in self.fields.items()]
        if self.rate_of and elapsed > 0:
            val = self.count if self.rate_of == "count" else self.fields.get(self.rate_of)
            if isinstance(val, (int, float)):
                rate, label = val / elapsed, (self.unit or "steps") if self.rate_of == "count" else self.rate_of
                parts.append(f"{rate:.0f} {label}/s" if rate >= 10 or rate == 0 else f"{rate:.2g} {label}/s")
        parts.append(_fmt_seconds(elapsed))
        return f"{self.desc}: " + ", ".join(parts)

    def close(self, final: str | None = None) -> None:
        """End the job; a job that printed lines prints a last one (``final`` appended)."""
        if not self.enabled or self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
            return
        with _lock:
            if self in _stack:
                _stack.remove(self)
            if self.printed or time.monotonic() - self.start >= DELAY:
                _emit(self.describe() + (f" ({final})" if final else " (done)"))

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close("interrupted" if exc[0] is not None and issubclass(exc[0], KeyboardInterrupt) else None)


class Bar:
    """A ``tqdm``-like face of Progress for loops written against tqdm: ``update(n)`` advances by n,
    iterating counts the items, ``set_postfix(**fields)``, ``close()`` or ``with``.  The total is
    taken from ``len(iterable)`` when not given (None when it has no length: counts and rates only)."""

    def __init__(self, iterable: Any = None, *, total: int | None = None, desc: str = "", unit: str = "",
                 enabled: bool = True) -> None:
        if total is None and iterable is not None:
            try:
                total = len(iterable)
            except TypeError:
                total = None
        self.iterable = iterable
        self.progress = Progress(desc, total=total, unit=unit, rate_of="count", enabled=enabled)

    def update(self, n: int = 1) -> None:
        self.progress.update(advance=n)

    def set_postfix(self, **fields: Any) -> None:
        self.progress.update(**fields)

    def close(self, final: str | None = None) -> None:
        self.progress.close(final)

    def __iter__(self) -> Any:
        try:
            for item in self.iterable:
                yield item
                self.progress.update(advance=1)
        finally:
            self.close()

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)


def note(line: str, enabled: bool = True) -> None:
    """Print one plain progress line now (e.g. a phase of a multi-part command starts)."""
    if enabled:
        with _lock:
            _emit(line)


__all__ = ["Progress", "Bar", "note", "DELAY", "INTERVAL"]
