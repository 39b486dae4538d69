"""Shared state of one analysis: the architecture, the seed, the prime and a cache, so that
invariants that rest on the same Jacobians compute them once."""

from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np

from .architectures import Architecture, parse_spec
from .arithmetic import DEFAULT_PRIME
from .arithmetic.modular import is_prime
from .errors import InputError


class Context:
    """One analysis of one architecture with one seed (every generic point derives from it)."""

    def __init__(
        self,
        spec: str | Architecture,
        seed: int = 0,
        prime: int = DEFAULT_PRIME,
        progress: bool = False,
        options: dict[str, Any] | None = None,
    ):
        self.arch = parse_spec(spec)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {seed!r}")
        if not isinstance(prime, (int, np.integer)) or not is_prime(int(prime)) or not 2 < prime < (1 << 31):
            raise InputError(f"prime must be an odd prime below 2^31, got {prime!r} (default {DEFAULT_PRIME})")
        self.seed = int(seed)
        self.prime = int(prime)
        self.progress = progress
        # knobs of long computations: checkpoint_dir, max_degree, loops_without_new
        self.options: dict[str, Any] = dict(options or {})
        self._cache: dict[str, Any] = {}
        self.containment_depth = 0  # > 0 when analysing an architecture containing another one

    def rng(self, purpose: str) -> np.random.Generator:
        """An independent generator for one purpose, determined by (seed, purpose)."""
        return np.random.default_rng([self.seed, zlib.crc32(purpose.encode())])

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]
