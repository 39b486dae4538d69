"""Shared test systems (imported by several test modules)."""

import numpy as np

from neuromanifold.homotopy import katsura, with_constant_parameters


def katsura_family(n: int, seed: int):
    """katsura-n with moving constants, F(z) - c, and one solution z0 at c0 = F(z0)."""
    F = with_constant_parameters(katsura(n))
    rng = np.random.default_rng(seed)
    z0 = rng.standard_normal(n + 1) + 1j * rng.standard_normal(n + 1)
    c0 = F.evaluate(z0[None, :], np.zeros((1, n + 1)))[0]
    return F, c0, z0
