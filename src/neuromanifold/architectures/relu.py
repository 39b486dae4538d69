"""Dense ReLU networks (``relu``): x -> W_h s(... s(W_1 x + b_1) ...) + b_h with s(z) = max(0, z).

The parametrization is piecewise polynomial (multilinear in the weights on each activation region),
not polynomial: there is no variety, degree or ED degree, and no exact arithmetic over Z/p.  The
forward pass runs on float64 numpy arrays and torch tensors only; invariants are numerical
(``invariants.functional``: functional dimension, Grigsby-Lindsey-Rolnick) or refused.

Known symmetries: positive rescaling of each hidden neuron (incoming weights and bias times t > 0,
outgoing weights times 1/t; s(t z) = t s(z)), one generator per hidden neuron, and permutations of
the neurons of each hidden layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial, prod
from typing import Any, ClassVar

import numpy as np

from .base import AffineField, Architecture, DiscreteSymmetry, FieldBuilder, Param
from .dense import DenseLayers
from .params import boolean, check_keys, fmt_tuple, int_tuple


def relu(H: Any, spec: str = "relu") -> Any:
    """max(0, H) entrywise for torch tensors and real float numpy arrays; other number systems refused."""
    if type(H).__module__.startswith("torch"):
        import torch

        return torch.relu(H)
    if isinstance(H, np.ndarray) and H.dtype.kind == "f":
        return np.maximum(H, 0.0)
    from ..errors import InputError

    kind = type(H).__name__ if not isinstance(H, np.ndarray) else f"{H.dtype} array"
    raise InputError(
        f"{spec}: max(0, z) is not a polynomial, so this computation (which evaluates the network on {kind}: "
        f"exact, modular, complex or symbolic values) is not defined for ReLU networks; use the numerical "
        f"invariants of `analyze` (dimension, conservation_laws, ...)"
    )


@dataclass(frozen=True, repr=False)
class ReLU(DenseLayers, Architecture):
    """Dense ReLU network with widths (d_0, ..., d_h)."""

    widths: tuple[int, ...]
    bias: bool = False

    family: ClassVar[str] = "relu"
    summary: ClassVar[str] = "dense ReLU network, max(0, z) between layers (bias=True: affine layers); not polynomial"
    form: ClassVar[str] = "relu(widths=(d0,...,dh), bias=False) with h >= 1 and every d_i >= 1"
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("widths", None, "layer widths (d0,...,dh), input first; at least two entries", required=True),
        Param("bias", False, "affine layers W x + b instead of linear ones"),
    )
    polynomial: ClassVar[bool] = False

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "ReLU":
        from ..errors import SpecError

        check_keys(cls, kw, {"widths", "bias"})
        if "widths" not in kw:
            raise SpecError(f"{cls.family}: widths is required; valid form: {cls.form}")
        widths = int_tuple(cls, "widths", kw["widths"], min_len=2)
        return cls(widths, boolean(cls, "bias", kw.get("bias", False)))

    def spec(self) -> str:
        return f"relu(widths={fmt_tuple(self.widths)}, bias={self.bias})"

    def activation(self, H: Any) -> Any:
        return relu(H, self.spec())

    @property
    def hidden_neurons(self) -> int:
        return sum(self.widths[1:-1])

    def pre_activations(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Pre-activations W_i h_{i-1} (+ b_i) of every hidden neuron on the inputs X (d_0 x N): a
        (hidden neurons) x N array, hidden layers in order."""
        p = self.unflatten(np.asarray(theta, dtype=np.float64))
        H, out = np.asarray(X, dtype=np.float64), []
        for i in range(self.depth - 1):
            Z = p[f"W{i + 1}"] @ H + (p[f"b{i + 1}"] if self.bias else 0.0)
            out.append(Z)
            H = np.maximum(Z, 0.0)
        return np.concatenate(out) if out else np.zeros((0, H.shape[1]))

    def switching(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Per hidden neuron: is it active (pre-activation > 0) on some inputs of X and inactive (< 0) on
        others?  True certifies it for the network on R^{d_0}; False may miss a rare region."""
        Z = self.pre_activations(theta, X)
        return (Z > 0).any(axis=1) & (Z < 0).any(axis=1)

    @property
    def degree_in_inputs(self) -> int:
        """1: the network is piecewise linear (affine with biases) in its inputs."""
        return 1

    @property
    def homogeneous(self) -> bool:
        """Without biases the network is positively homogeneous of degree 1 in its inputs."""
        return not self.bias

    def ambient_upper_bound(self) -> tuple[int, str]:
        from ..errors import InputError

        raise InputError(
            f"{self.spec()}: a ReLU network is not polynomial, so its functions lie in no explicit finite-dimensional "
            f"space of polynomials; use the numerical invariants of `analyze`"
        )

    def ambient_span(self) -> tuple[float, str]:
        """Dimension of the linear span of M (exact, by a short argument), and why.

        M contains v * s(w . x + b) (bias) or v * s(w . x) (no bias) for all v, w, b: route one
        first-layer neuron through positive weights (s is the identity on z >= 0).  For d_0 >= 2,
        or with biases, these ridge functions for distinct (w, b) are linearly independent, so the
        span is infinite-dimensional.  For d_0 = 1 without biases every f in M is positively
        homogeneous, f(x) = a max(x, 0) + c min(x, 0) with a, c in R^{d_h}, and M contains both kinds:
        the span has dimension 2 d_h.
        """
        dh = self.widths[-1]
        if self.widths[0] == 1 and not self.bias:
            return float(2 * dh), (
                f"f(x) = a max(x,0) + c min(x,0) with a, c in R^{dh} (positively homogeneous in one variable); "
                f"M contains v max(x,0) and v min(x,0)"
            )
        what = "ridge functions v max(0, w.x + b)" if self.bias else "ridge functions v max(0, w.x), d0 >= 2"
        return float("inf"), f"M contains the {what}, infinitely many linearly independent ones"

    def symmetries(self) -> list[AffineField]:
        """Positive rescaling of neuron j of hidden layer i: incoming weights (and bias) * t, outgoing / t."""
        gens: list[AffineField] = []
        for i in range(1, self.depth):
            d_in, d, d_out = self.widths[i - 1], self.widths[i], self.widths[i + 1]
            for j in range(d):
                fb = FieldBuilder(self, f"positive neuron rescalings in hidden layer {i}: neuron {j}")
                for c in range(d_in):
                    fb.add((f"W{i}", (j, c)), (f"W{i}", (j, c)), 1)
                if self.bias:
                    fb.add((f"b{i}", (j, 0)), (f"b{i}", (j, 0)), 1)
                for m in range(d_out):
                    fb.add((f"W{i + 1}", (m, j)), (f"W{i + 1}", (m, j)), -1)
                gens.append(fb.field)
        return gens

    def discrete_symmetries(self) -> list[DiscreteSymmetry]:
        hidden = self.widths[1:-1]
        if not hidden:
            return []
        return [
            DiscreteSymmetry(
                "neuron permutations",
                prod(factorial(d) for d in hidden),
                "permute the neurons of each hidden layer (rows of W_i, b_i and columns of W_{i+1})",
            )
        ]
