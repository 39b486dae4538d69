"""Gauges: parameter coordinates to freeze so that each orbit of the known continuous
symmetries meets the slice {theta_I = c_I} in exactly one point (generically).

For a frozen slice of a generic point, the remaining fiber of mu is finite exactly when the
known symmetries explain the whole fiber; its points are then the discrete symmetries
(neuron permutations, ...) and any genuinely different parameters with the same function.

* dense, r >= 2: neuron j of hidden layer i is rescaled by t_ij on its incoming row and by
  t_ij^(-r) on its outgoing column; freezing W_i[j, 0] fixes t_ij layer by layer.  With an activation
  without rescalings (``act=`` not of the form lead (x + c)^r + e, or shifted without biases) nothing is
  frozen: [] (a frozen coordinate would cut the fiber, not pick a point of an orbit).
* dense, r = 1 (linear/affine): GL(d_i) at hidden layer i acts by W_i -> g_i W_i g_{i-1}^(-1);
  freezing the d_i x d_i block W_i[:, :d_i] (needs d_i <= d_{i-1}) fixes g_i; with biases the
  translations are fixed by freezing b_i.
* cnn: filter i is rescaled by t_i t_{i-1}^(-r); freezing w_i[0] (i < L) fixes t_i (nothing when the
  activation has no rescalings).
* attention: per layer Q_i -> g_a Q_i g^(-1) / s_i, K_i -> g_a^(-T) K_i g^(-1),
  V_i -> s_i g_i V_i g^(-1) (g = g_{i-1}); freezing the a x a block Q_i[:, :a] (needs
  a <= d_{i-1}), K_i[0, 0] and, below the last layer, the d_i x d_i block V_i[:, :d_i]
  (needs d_i <= d_{i-1}) fixes g_a, s_i and g_i (with biases the same: they move with Q, K, V).  With
  x^r between layers V_i[j, 0] fixes the neuron rescalings instead of g_i; with a skip or a non-monomial
  activation nothing between layers is frozen (no such symmetry).
Returns None when no such gauge is known (then callers slice with random linear spaces).
"""

from __future__ import annotations

from .attention import Attention
from .base import Architecture
from .conv import CNN
from .dense import MLP


def gauge_indices(arch: Architecture) -> list[int] | None:
    """Flat parameter indices to freeze, or None if the family has no gauge for these sizes."""
    from .equivariant import GroupDense

    from .residual import ResMLP

    if isinstance(arch, ResMLP):
        return arch.gauge()
    if isinstance(arch, GroupDense):  # equivariant families: per-copy rescalings / End_G units (their docstring)
        return arch.gauge()
    idx: list[int] = []
    if isinstance(arch, MLP):
        w = arch.widths
        for i in range(1, arch.depth):
            if arch.r >= 2:
                if arch.rescaling is None:  # no rescaling symmetries (non-monomial activation): nothing to fix
                    return []
                idx += [arch.index(f"W{i}", (j, 0)) for j in range(w[i])]
            else:
                if w[i] > w[i - 1]:
                    return None
                idx += [arch.index(f"W{i}", (j, c)) for j in range(w[i]) for c in range(w[i])]
                if arch.bias:
                    idx += [arch.index(f"b{i}", (j, 0)) for j in range(w[i])]
        return sorted(idx)
    if isinstance(arch, CNN):
        if arch.rescaling is None:
            return []
        return sorted(arch.index(f"w{i + 1}", (0,)) for i in range(arch.depth - 1))
    if isinstance(arch, Attention):
        for i in range(arch.depth):
            a, d_in = arch.a[i], arch.widths[i]
            if a > d_in:
                return None
            idx += [arch.index(f"Q{i + 1}", (j, c)) for j in range(a) for c in range(a)]
            idx.append(arch.index(f"K{i + 1}", (0, 0)))
            if i == arch.depth - 1 or arch.skip or arch.act is not None:
                continue  # between layers: no GL(d_i) and no rescalings with a skip or a non-monomial act
            if arch.r != 1:  # neuron rescalings of x^r between layers: freeze V_i[j, 0]
                idx += [arch.index(f"V{i + 1}", (j, 0)) for j in range(arch.widths[i + 1])]
            else:
                d = arch.widths[i + 1]
                if d > d_in:
                    return None
                idx += [arch.index(f"V{i + 1}", (j, c)) for j in range(d) for c in range(d)]
        return sorted(idx)
    return None
