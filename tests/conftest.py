import signal
import sys
from pathlib import Path

import pytest

# shared test modules (truth tables, Macaulay2 oracles, test systems): tests/helpers
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))

import neuromanifold as nm

# A job started in the background of a non-interactive shell (``cmd &`` in a script, as CI wrappers do) inherits
# SIGINT *ignored*, and an ignored signal stays ignored across exec: the CLI processes the interrupt tests start
# would then never see their Ctrl-C (and run to the end).  A caught signal is reset to the default at exec, so
# catching it here gives every child process the ordinary KeyboardInterrupt.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def analyze_cached():
    """analyze() with a per-session cache (the same spec/seed is computed once)."""
    cache = {}

    def run(spec, seed=0, only=None):
        key = (spec, seed, only)
        if key not in cache:
            cache[key] = nm.analyze(spec, seed=seed, only=only)
        return cache[key]

    return run
