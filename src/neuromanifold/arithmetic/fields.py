"""Number systems a forward pass runs in: float64, complex128, Z/p, sympy (and torch).

Each ``NumberSystem`` makes arrays of its kind (``asarray``, ``zeros``, ``eye``), draws generic
points (``random``) and converts back to numpy (``to_numpy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .modular import DEFAULT_PRIME, ModArray, is_prime


class NumberSystem:
    name: str = "abstract"
    exact: bool = False

    def asarray(self, data: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.asarray(np.zeros(shape, dtype=np.int64))

    def eye(self, n: int) -> Any:
        return self.asarray(np.eye(n, dtype=np.int64))

    def random(self, shape: tuple[int, ...], rng: np.random.Generator) -> Any:  # pragma: no cover
        raise NotImplementedError

    def to_numpy(self, x: Any) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class Float64(NumberSystem):
    """Real floating point (numpy float64); generic points are standard Gaussian."""

    name: str = "float64"

    def asarray(self, data: Any) -> np.ndarray:
        return np.asarray(data, dtype=np.float64)

    def random(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal(shape)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)


@dataclass
class Complex128(NumberSystem):
    """Complex floating point; generic points are standard complex Gaussian (or on the unit torus)."""

    name: str = "complex128"
    unit_modulus: bool = False  # draw generic points on the torus |z| = 1 (no growth of powers)

    def asarray(self, data: Any) -> np.ndarray:
        return np.asarray(data, dtype=np.complex128)

    def random(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        if self.unit_modulus:
            return np.exp(2j * np.pi * rng.random(shape))
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.complex128)


@dataclass
class ModP(NumberSystem):
    """The prime field Z/p (p < 2^31) as ``ModArray``; generic points are uniform residues."""

    p: int = DEFAULT_PRIME
    name: str = "modp"
    exact: bool = True

    def __post_init__(self) -> None:
        if not is_prime(self.p) or self.p >= (1 << 31):
            raise ValueError(f"p={self.p} must be a prime below 2^31")

    def asarray(self, data: Any) -> ModArray:
        return ModArray(np.asarray(data, dtype=np.int64), self.p)

    def random(self, shape: tuple[int, ...], rng: np.random.Generator) -> ModArray:
        return ModArray(rng.integers(0, self.p, size=shape, dtype=np.int64), self.p, reduced=True)

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.a


@dataclass
class Symbolic(NumberSystem):
    """Sympy expressions in numpy object arrays (tiny cases only)."""

    name: str = "sympy"
    exact: bool = True

    def asarray(self, data: Any) -> np.ndarray:
        import sympy

        arr = np.asarray(data, dtype=object)
        as_sympy = lambda v: sympy.sympify(v, strict=True)  # noqa: E731  numbers and sympy objects only, never text
        return np.vectorize(as_sympy, otypes=[object])(arr) if arr.size else arr

    def symbols(self, prefix: str, shape: tuple[int, ...]) -> np.ndarray:
        import sympy

        n = int(np.prod(shape)) if shape else 1
        syms = sympy.symbols(f"{prefix}0:{n}") if n > 1 else (sympy.Symbol(f"{prefix}0"),)
        return np.array(list(syms), dtype=object).reshape(shape)

    def random(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return self.asarray(rng.integers(-9, 10, size=shape))

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=object)


@dataclass
class Torch(NumberSystem):
    """torch tensors (float64 on CPU), for autograd and batched training."""

    name: str = "torch"

    def asarray(self, data: Any) -> Any:
        import torch

        return torch.as_tensor(np.asarray(data, dtype=np.float64))

    def random(self, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
        return self.asarray(rng.standard_normal(shape))

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()
