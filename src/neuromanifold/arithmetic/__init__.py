"""Number systems for forward passes: float64, complex128, Z/p (exact), sympy, torch."""

from .dual import Dual
from .fields import Complex128, Float64, ModP, NumberSystem, Symbolic, Torch
from .modular import DEFAULT_PRIME, SECOND_PRIME, ModArray, nullspace_mod_p, rank_mod_p

__all__ = [
    "Dual",
    "Complex128",
    "Float64",
    "ModP",
    "NumberSystem",
    "Symbolic",
    "Torch",
    "DEFAULT_PRIME",
    "SECOND_PRIME",
    "ModArray",
    "nullspace_mod_p",
    "rank_mod_p",
]
