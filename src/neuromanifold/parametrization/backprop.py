"""The Jacobian of mu_S for dense layers by backpropagation, exact in every number system.

For f = W_h s(... s(W_1 X + b_1) ...) + b_h with Z_i = W_i A_{i-1} + b_i, A_i = s(Z_i), A_0 = X and Y = Z_h,
the derivative of the outputs of sample s with respect to the pre-activations of layer i is

    G_h[s] = I,    G_i[s] = G_{i+1}[s] W_{i+1} diag(s'(Z_i[:, s])),

and the Jacobian entries are dY[o, s] / dW_i[a, b] = G_i[s, o, a] A_{i-1}[b, s], dY[o, s] / db_i[a] = G_i[s, o, a].
One backward pass serves every output and sample, so the Jacobian costs S d_h N products (writing its entries)
instead of N forward-mode passes over S samples (S N^2).  The entries are the same polynomials in (theta, X) as
forward mode's, evaluated in the same number system (over Z/p: the same residues), row s * d_h + o, columns in
``Architecture.unflatten``'s order.
"""

from __future__ import annotations

from math import prod
from typing import Any

import numpy as np

from ..architectures.base import Architecture
from ..arithmetic import Dual, NumberSystem

_BLOCK_ENTRIES = 2**24  # entries of the largest temporary block of the Jacobian written at once


def supports_backprop(arch: Architecture) -> bool:
    """Is ``arch`` a plain dense network (DenseLayers' forward pass and parameters W_i, b_i, unflattened in order)
    with an entrywise polynomial activation?  Families that share or constrain weights are not."""
    from ..architectures.dense import MLP, DenseLayers

    if not isinstance(arch, MLP):
        return False
    cls = type(arch)
    if cls.forward is not DenseLayers.forward or cls.unflatten is not Architecture.unflatten:
        return False
    expected: list[tuple[str, tuple[int, ...]]] = []
    for i in range(arch.depth):
        expected.append((f"W{i + 1}", (arch.widths[i + 1], arch.widths[i])))
        if arch.bias:
            expected.append((f"b{i + 1}", (arch.widths[i + 1], 1)))
    return list(arch.param_shapes().items()) == expected


def dense_jacobian(arch: Any, field: NumberSystem, theta: Any, X: Any) -> np.ndarray:
    """d mu_S(theta) for a dense network (``supports_backprop``) at inputs X (d_0, S), as a numpy array
    (S * d_h) x N in ``field``'s representation (int64 residues over Z/p, float or complex otherwise)."""
    params = arch.unflatten(theta)
    depth, widths = arch.depth, arch.widths
    S, d_out = X.shape[-1], widths[-1]
    # forward pass, keeping the layer inputs A_{i-1} and s'(Z_i)
    inputs: list[Any] = []
    slopes: list[Any] = []
    A = X
    for i in range(depth):
        inputs.append(A)
        Z = params[f"W{i + 1}"] @ A
        if arch.bias:
            Z = Z + params[f"b{i + 1}"]
        if i < depth - 1:
            ones = field.asarray(np.ones((1,) + tuple(Z.shape), dtype=np.int64))
            out = arch.activation(Dual(Z, ones))
            slopes.append(_tangent(out, Z.shape))
            A = out.v
    # backward pass: G (S, d_h, d_i), starting from the identity at the output layer
    G = field.asarray(np.broadcast_to(np.eye(d_out, dtype=np.int64), (S, d_out, d_out)).copy())
    blocks: list[tuple[str, Any]] = []
    for i in reversed(range(depth)):
        blocks.append((f"W{i + 1}", G))
        if i > 0:
            G = (G @ params[f"W{i + 1}"]) * slopes[i - 1].mT[:, None, :]
    grads = dict(blocks)
    sample = field.to_numpy(G)  # dtype of the field's arrays
    J = np.empty((S * d_out, arch.n_params), dtype=sample.dtype)
    off = 0
    for name, shape in arch.param_shapes().items():
        size = prod(shape)
        i = int(name[1:]) - 1
        Gi = grads[f"W{i + 1}"]
        if name.startswith("b"):
            J[:, off : off + size] = field.to_numpy(Gi).reshape(S * d_out, size)
        else:
            AT = inputs[i].mT  # (S, d_{i-1})
            step = max(1, _BLOCK_ENTRIES // max(d_out * size, 1))
            for s0 in range(0, S, step):
                s1 = min(S, s0 + step)
                block = Gi[s0:s1][:, :, :, None] * AT[s0:s1][:, None, None, :]
                J[s0 * d_out : s1 * d_out, off : off + size] = field.to_numpy(block).reshape((s1 - s0) * d_out, size)
        off += size
    return J


def _tangent(out: Any, shape: tuple[int, ...]) -> Any:
    """The one tangent of a Dual as an array of the value's shape (broadcast tangents expanded)."""
    dv = out.dv
    if isinstance(dv, np.ndarray):
        return np.broadcast_to(out.expanded_dv()[0], shape)
    return dv[0]
