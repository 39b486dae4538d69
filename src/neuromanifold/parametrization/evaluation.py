"""The parametrization mu as an evaluation map.

mu_S(theta) = (f_theta(x_1), ..., f_theta(x_S)) for S fixed generic inputs x_s.  Because
mu_S = eval_S o mu, rank d mu_S <= rank d mu everywhere, with equality at generic inputs once
S * (outputs per sample) is at least the dimension of the tangent space; so Jacobian ranks of
mu_S bound dim M from below in every number system, and certify it when they meet an upper
bound.  Jacobians are exact forward-mode derivatives (``Dual``) in the chosen number system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..architectures.base import Architecture
from ..arithmetic import Dual, NumberSystem

_CHUNK_BUDGET = 4e7  # entries of the largest tangent array per Jacobian chunk
_BATCH_BUDGET = 2**15  # entries of the largest forward-mode array per chunk of a batch (cache-sized)


@dataclass
class Parametrization:
    """mu_S for an architecture, a number system and S sample inputs (drawn from ``rng``)."""

    arch: Architecture
    field: NumberSystem
    n_samples: int
    rng: np.random.Generator
    inputs: Any = field(default=None)

    def __post_init__(self) -> None:
        if self.inputs is None:
            self.inputs = self.field.random(self.arch.input_shape(self.n_samples), self.rng)

    @property
    def n_outputs(self) -> int:
        return self.n_samples * self.arch.output_size()

    def random_point(self) -> Any:
        """A generic parameter vector in this number system."""
        return self.field.random((self.arch.n_params,), self.rng)

    def __call__(self, theta: Any) -> Any:
        """mu_S(theta) as an array of shape (S, outputs per sample), same number system."""
        params = self.arch.unflatten(theta)
        Y = self.arch.forward(params, self.inputs)
        return self.arch.output_to_matrix(Y, self.n_samples)

    def _chunk(self) -> int:
        per_direction = self.n_samples * max(
            self.arch.output_size(), self.arch.n_inputs, self._widest_activation()
        )
        return int(max(8, min(self.arch.n_params, _CHUNK_BUDGET // max(per_direction, 1))))

    def points_per_chunk(self, n_directions: int, *, budget: int = _BATCH_BUDGET) -> int:
        """How many parameter points to push through one forward pass with ``n_directions``
        tangents so that the largest intermediate array stays cache-sized (``budget`` entries)."""
        widths = getattr(self.arch, "widths", None)
        widest = max(self.arch.output_size(), self.arch.n_inputs)
        if widths is not None:
            t = getattr(self.arch, "t", None)
            # dense layers: activations (width, S); attention also forms X X^T (d x d per sample)
            widest = max(widest, max(widths) * (t or 1), max(widths) ** 2 if t is not None else 0)
        per_point = (n_directions + 1) * self.n_samples * widest
        return int(max(1, budget // max(per_point, 1)))

    def values_batch(self, theta: np.ndarray) -> np.ndarray:
        """mu_S at a batch theta (B, N): (B, S * outputs)."""
        return np.asarray(self(theta)).reshape(theta.shape[0], -1)

    def _widest_activation(self) -> int:
        widths = getattr(self.arch, "widths", None)
        if widths is None:
            return self.arch.n_inputs
        t = getattr(self.arch, "t", 1)
        return max(max(widths) * t, max(widths) ** 2)

    def jacobian(self, theta: Any, *, columns: slice | None = None, progress: bool = False) -> np.ndarray:
        """d mu_S(theta) as a numpy array (S * outputs) x N, exact in exact number systems: by backpropagation for
        plain dense networks (``backprop``), else by forward mode in chunks of directions."""
        N = self.arch.n_params
        from .backprop import dense_jacobian, supports_backprop

        if supports_backprop(self.arch):
            J = dense_jacobian(self.arch, self.field, theta, self.inputs)
            return J if columns is None else np.ascontiguousarray(J[:, columns])
        cols = range(N)[columns] if columns is not None else range(N)
        chunk = self._chunk()
        blocks = []
        idx = list(cols)
        starts: Any = range(0, len(idx), chunk)
        if progress and len(starts) > 1:
            from ..runtime.progress import Bar

            starts = Bar(starts, desc=f"Jacobian ({self.field.name})", unit="chunks")
        for start in starts:
            sel = idx[start : start + chunk]
            seed = np.zeros((len(sel), N), dtype=np.int64)
            seed[np.arange(len(sel)), sel] = 1
            dual = Dual(theta, self.field.asarray(seed))
            out = self(dual)
            dv = self.field.to_numpy(out.dv).reshape(len(sel), -1)
            blocks.append(dv.T)
        return np.concatenate(blocks, axis=1) if blocks else np.zeros((self.n_outputs, 0))


def jacobian_batch(
    par: "Parametrization",
    theta: np.ndarray,
    *,
    columns: np.ndarray | None = None,
    directions: np.ndarray | None = None,
    transposed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(mu_S, derivatives) at a batch theta (B, N) of float/complex points, by forward mode.

    Derivatives along ``directions`` (N x k matrix; default the coordinate axes ``columns``,
    default all): values (B, S*outputs), Jacobians (B, S*outputs, k), or (k, B, S*outputs) with
    ``transposed`` (the layout forward mode produces, without a copy).  The seed tangents do not
    depend on the point, so they enter the forward pass broadcast over the batch.
    """
    B, N = theta.shape
    if directions is None:
        cols = np.arange(N) if columns is None else np.asarray(columns)
        seed = np.zeros((len(cols), 1, N), dtype=theta.dtype)
        seed[np.arange(len(cols)), 0, cols] = 1
    else:
        seed = np.ascontiguousarray(directions.T[:, None, :], dtype=np.result_type(theta.dtype, directions.dtype))
    k = seed.shape[0]
    if k == 0:
        values = np.asarray(par(theta)).reshape(B, -1)
        empty = np.zeros((0, B, values.shape[1]) if transposed else values.shape + (0,), dtype=values.dtype)
        return values, empty
    out = par(Dual(theta, seed))
    values = np.asarray(out.v).reshape(B, -1)
    dv = np.asarray(out.expanded_dv()).reshape(k, B, -1)
    if transposed:
        return values, dv
    return values, np.moveaxis(dv, 0, -1)


def symbolic_function(arch: Architecture) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(theta symbols, input symbols, outputs) of the network as sympy expressions (tiny cases)."""
    from ..arithmetic import Symbolic

    sym = Symbolic()
    theta = sym.symbols("th", (arch.n_params,))
    X = sym.symbols("x", arch.input_shape(1))
    Y = arch.output_to_matrix(arch.forward(arch.unflatten(theta), X), 1)
    return theta, X, np.asarray(Y).reshape(-1)
