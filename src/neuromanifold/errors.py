"""Errors raised for bad input: one line naming the problem and the valid form."""

from __future__ import annotations


class NeuromanifoldError(Exception):
    """Base class of every error the toolkit raises on purpose (never a bug)."""


class SpecError(NeuromanifoldError, ValueError):
    """A malformed or inconsistent architecture spec (message names the valid form)."""


class InputError(NeuromanifoldError, ValueError):
    """Bad arguments to an invariant or a command (message says what to change)."""


class BudgetExceeded(KeyboardInterrupt):
    """The time budget (``--budget``) ran out.  A KeyboardInterrupt, so every computation that keeps a
    usable partial result on Ctrl-C (monodromy, sweeps) keeps it on a budget stop too."""
