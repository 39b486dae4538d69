"""Shared state of one analysis: the architecture, the seed, the prime and a cache, so that
invariants that rest on the same Jacobians compute them once."""

from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np

from .architectures import Architecture, parse_spec
from .arithmetic import DEFAULT_PRIME


class Context:
    """One analysis of one architecture with one seed (every generic point derives from it)."""

    def __init__(self, spec: str | Architecture, seed: int = 0, prime: int = DEFAULT_PRIME, progress: bool = False):
        self.arch = parse_spec(spec)
        self.seed = int(seed)
        self.prime = int(prime)
        self.progress = progress
        self._cache: dict[str, Any] = {}

    def rng(self, purpose: str) -> np.random.Generator:
        """An independent generator for one purpose, determined by (seed, purpose)."""
        return np.random.default_rng([self.seed, zlib.crc32(purpose.encode())])

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]
