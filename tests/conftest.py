import sys
from pathlib import Path

import pytest

# shared test modules (truth tables, Macaulay2 oracles, test systems): tests/helpers
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))

import neuromanifold as nm


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
