"""Empirical neural tangent kernel of any torch model (torch.func), and its equivariance error.

For f_theta : R^{...} -> R^k the empirical NTK is the (k x k)-matrix-valued kernel

    Theta(x, x') = J(x) J(x')^T,   J(x) = d f_theta(x) / d theta   (all parameters, flattened),

computed exactly (floating point) in one of two ways (torch.func, parameters via ``functional_call``):
``"jacobian"``: per-sample Jacobians with vmap(jacrev), then one contraction per parameter tensor;
``"vjp"``: NTK-vector products, Theta(x, x') e_l = J(x) (J(x')^T e_l) with vjp then jvp, vmapped over l.

For a group acting on inputs by g . x and on outputs by rho(g), a kernel is equivariant when
Theta(g x, g x') = rho(g) Theta(x, x') rho(g)^T (Gerken & Kessel 2024: the NTK of a network whose
initialisation distribution is invariant, in expectation over the initialisation); an invariant model
f(g x) = f(x) has J(g x) = J(x), hence Theta(g x, x') = Theta(x, x') exactly.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch.func import functional_call, jacrev, jvp, vjp, vmap

from ..errors import InputError

Act = Callable[[torch.Tensor, int], torch.Tensor]


def _split(model: torch.nn.Module, params: Mapping[str, torch.Tensor] | None):
    p = dict(model.named_parameters()) if params is None else dict(params)
    p = {k: v.detach() for k, v in p.items()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    return p, buffers


def empirical_ntk(model: torch.nn.Module, x1: torch.Tensor, x2: torch.Tensor | None = None, *,
                  params: Mapping[str, torch.Tensor] | None = None, method: str = "jacobian",
                  chunk_size: int | None = None) -> torch.Tensor:
    """Theta(x1[a], x2[b]) as a tensor (n1, n2, k, k); ``x2`` defaults to ``x1``.  The model maps a batch
    (n, ...) to (n, k) (or (n,), read as k = 1).  ``params`` overrides the model's parameters (a dict of
    tensors, e.g. one member of a stacked ensemble)."""
    if method not in ("jacobian", "vjp"):
        raise InputError(f"unknown NTK method {method!r}; use 'jacobian' or 'vjp'")
    if not isinstance(x1, torch.Tensor) or x1.ndim < 1 or (x2 is not None and x2.shape[1:] != x1.shape[1:]):
        raise InputError("x1 and x2 must be tensors of samples (n, ...) with the same sample shape")
    x2 = x1 if x2 is None else x2
    p, buffers = _split(model, params)

    def f(pp: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, (pp, buffers), (x.unsqueeze(0),))
        return out.reshape(-1)  # (k,)

    if method == "jacobian":
        jac = vmap(jacrev(f), (None, 0), chunk_size=chunk_size)
        j1 = jac(p, x1)
        j2 = j1 if x2 is x1 else jac(p, x2)
        a = torch.cat([j1[k].flatten(2) for k in p], dim=2)  # (n1, k, P): one GEMM for all parameters
        b = a if x2 is x1 else torch.cat([j2[k].flatten(2) for k in p], dim=2)
        n1, k_out, n_p = a.shape
        K = a.reshape(n1 * k_out, n_p) @ b.reshape(-1, n_p).T
        return K.reshape(n1, k_out, b.shape[0], k_out).permute(0, 2, 1, 3)

    # NTK-vector products: for each x1[a], x2[b] and output unit l: J(x1) J(x2)^T e_l
    def single(xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        def fa(pp: dict[str, torch.Tensor]) -> torch.Tensor:
            return f(pp, xa)

        def fb(pp: dict[str, torch.Tensor]) -> torch.Tensor:
            return f(pp, xb)

        out_b, vjp_fn = vjp(fb, p)
        k = out_b.shape[0]

        def col(e: torch.Tensor) -> torch.Tensor:
            (v,) = vjp_fn(e)
            return jvp(fa, (p,), (v,))[1]

        eye = torch.eye(k, dtype=out_b.dtype, device=out_b.device)
        return vmap(col)(eye).T  # (k, k): [i, l] = (J_a J_b^T)_{il}

    return vmap(vmap(single, (None, 0), chunk_size=chunk_size), (0, None))(x1, x2)


def ntk_equivariance_error(model: torch.nn.Module, x1: torch.Tensor, x2: torch.Tensor | None = None, *,
                           act: Act, group_order: int, rho_out: Callable[[int], torch.Tensor] | None = None,
                           kind: str = "joint", params: Mapping[str, torch.Tensor] | None = None,
                           ntk: Callable[..., torch.Tensor] | None = None) -> float:
    """max over g of |Theta(g x1, g x2) - rho(g) Theta(x1, x2) rho(g)^T| / |Theta(x1, x2)| (``kind='joint'``,
    rho = 1 when ``rho_out`` is None), or max_g |Theta(g x1, x2) - Theta(x1, x2)| / |Theta| (``kind='first'``,
    the invariance of an invariant model in one argument).  Frobenius norms over all pairs."""
    if kind not in ("joint", "first"):
        raise InputError(f"kind must be 'joint' or 'first', got {kind!r}")
    x2 = x1 if x2 is None else x2
    K = ntk or (lambda a, b: empirical_ntk(model, a, b, params=params))
    base = K(x1, x2)
    err = 0.0
    for g in range(1, group_order):
        Kg = K(act(x1, g), act(x2, g) if kind == "joint" else x2)
        ref = base
        if rho_out is not None and kind == "joint":
            R = rho_out(g).to(base.dtype)
            ref = R @ base @ R.T
        err = max(err, float(torch.linalg.vector_norm(Kg - ref) / torch.linalg.vector_norm(base)))
    return err


def ntk_loop(model: torch.nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """Reference: per-sample, per-output torch.autograd.grad, then dot products (n1, n2, k, k)."""
    params = [p for p in model.parameters() if p.requires_grad]

    def jac(x: torch.Tensor) -> torch.Tensor:
        rows = []
        for i in range(x.shape[0]):
            out = model(x[i:i + 1]).reshape(-1)
            grads = []
            for l in range(out.shape[0]):
                g = torch.autograd.grad(out[l], params, retain_graph=l + 1 < out.shape[0], allow_unused=True)
                grads.append(torch.cat([(gg if gg is not None else torch.zeros_like(p)).reshape(-1)
                                        for gg, p in zip(g, params)]))
            rows.append(torch.stack(grads))
        return torch.stack(rows)  # (n, k, P)

    j1 = jac(x1)
    j2 = j1 if x2 is x1 else jac(x2)
    return torch.einsum("akp,blp->abkl", j1, j2)
