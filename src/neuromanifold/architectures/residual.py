"""Residual dense networks (``resmlp``): x -> x + B_i s(A_i x) per block, then an optional read-out C.

Block i has A_i (hidden_i x d) and B_i (d x hidden_i); s is x^r (``r=``) or a polynomial ``act`` of degree
r >= 2 entrywise; with ``dout`` a linear read-out C (dout x d) follows the last block.  The network function
is a polynomial map of degree r^blocks in the d inputs, with the linear term x (times C): never a form, so M
is not a cone (without C it is not even through 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb, factorial, prod
from typing import Any, ClassVar

import numpy as np

from ..errors import SpecError
from .activation import Activation, act_spec, activation_keywords, apply, composed_degrees
from .base import AffineField, Architecture, DiscreteSymmetry, FieldBuilder, Param
from .dense import MLP, DenseLayers
from .monomials import MONOMIAL_LIMIT
from .params import check_keys, fmt_tuple, int_tuple, positive_int


@dataclass(frozen=True, repr=False)
class ResMLP(Architecture):
    """x -> C (... (x + B_1 s(A_1 x)) ... + B_l s(A_l .)) with widths d, hidden (h_1, ..., h_l), read-out C."""

    d: int
    hidden: tuple[int, ...]
    r: int = 2
    act: Activation | None = None
    dout: int | None = None

    family: ClassVar[str] = "resmlp"
    summary: ClassVar[str] = "residual dense network x -> x + B_i s(A_i x) per block, optional read-out C"
    form: ClassVar[str] = (
        "resmlp(d=D, hidden=H or (h1,...,hl), blocks=1, r=2 | act=\"x**2 + x\" | act=\"generic\" with r and "
        "act_seed=0, dout=None) with every entry >= 1, r >= 2, hidden a tuple of `blocks` widths or one width for "
        "every block; dout: a linear read-out C (dout x d) after the last block"
    )
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("d", None, "input (and residual stream) dimension", required=True),
        Param("hidden", None, "width of each block's hidden layer: one integer or a tuple (h1,...,hl)", required=True),
        Param("blocks", 1, "number of residual blocks (with an integer hidden)"),
        Param("r", 2, "exponent of the activation x^r (r >= 2); with act=\"generic\" its degree"),
        Param("act", None, "activation: a polynomial in x (e.g. \"x**2 + x\") or \"generic\" (random, degree r)"),
        Param("act_seed", None, "seed of the coefficients of act=\"generic\" (default 0)"),
        Param("dout", None, "output dimension of a linear read-out C after the blocks; default none (output x)"),
    )

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "ResMLP":
        fam, form = cls.family, cls.form
        check_keys(cls, kw, {"d", "hidden", "blocks", "r", "act", "act_seed", "dout"})
        for key in ("d", "hidden"):
            if key not in kw:
                raise SpecError(f"{fam}: {key} is required; valid form: {form}")
        d = positive_int(cls, "d", kw["d"])
        h_val = kw["hidden"]
        if isinstance(h_val, (tuple, list)):
            hidden = int_tuple(cls, "hidden", h_val)
            if "blocks" in kw and positive_int(cls, "blocks", kw["blocks"]) != len(hidden):
                raise SpecError(f"{fam}: hidden has {len(hidden)} widths but blocks={kw['blocks']}; valid form: {form}")
        else:
            hidden = (positive_int(cls, "hidden", h_val),) * positive_int(cls, "blocks", kw.get("blocks", 1))
        r, act = activation_keywords(cls, kw, allow_linear=False)
        dout = None if kw.get("dout") is None else positive_int(cls, "dout", kw["dout"])
        return cls(d, hidden, int(r), act, dout)

    def spec(self) -> str:
        h = self.hidden
        hidden = f"hidden={h[0]}, blocks={len(h)}" if len(set(h)) == 1 else f"hidden={fmt_tuple(h)}"
        tail = "" if self.dout is None else f", dout={self.dout}"
        return f"resmlp(d={self.d}, {hidden}, {act_spec(self.r, self.act)}{tail})"

    @property
    def blocks(self) -> int:
        return len(self.hidden)

    def activation(self, H: Any) -> Any:
        return apply(H, self.r, self.act)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for i, h in enumerate(self.hidden):
            shapes[f"A{i + 1}"] = (h, self.d)
            shapes[f"B{i + 1}"] = (self.d, h)
        if self.dout is not None:
            shapes["C"] = (self.dout, self.d)
        return shapes

    def input_shape(self, n_samples: int) -> tuple[int, ...]:
        return (self.d, n_samples)

    def forward(self, params: dict[str, Any], X: Any) -> Any:
        """C (H_l) with H_0 = X and H_i = H_{i-1} + B_i s(A_i H_{i-1}) on a batch X of shape (d, S)."""
        H = X
        for i in range(self.blocks):
            H = H + params[f"B{i + 1}"] @ self.activation(params[f"A{i + 1}"] @ H)
        return params["C"] @ H if self.dout is not None else H

    def output_size(self) -> int:
        return self.d if self.dout is None else self.dout

    output_to_matrix = DenseLayers.output_to_matrix  # outputs x samples, as the dense block networks

    @property
    def n_inputs(self) -> int:
        return self.d

    @property
    def degree_in_inputs(self) -> int:
        return self.r**self.blocks

    @property
    def homogeneous(self) -> bool:
        return False

    def _degrees(self) -> list[int]:
        """Degrees in the inputs that can occur: {1}, then per block S | (degrees of s of S)."""
        S = {1}
        for _ in self.hidden:
            S |= composed_degrees(S, self.r, self.act)
        return sorted(S)

    def containing_monomials(self) -> list[np.ndarray] | None:
        from .monomials import monomials_of_degree

        n = self.d
        if sum(comb(n + e - 1, e) for e in self._degrees()) > MONOMIAL_LIMIT:
            return None
        monos = np.concatenate([monomials_of_degree(n, e) for e in self._degrees()])
        return [monos] * self.output_size()

    def ambient_upper_bound(self) -> tuple[int, str]:
        degs = self._degrees()
        count = sum(comb(self.d + e - 1, e) for e in degs)
        return (self.output_size() * count,
                f"{self.output_size()}-tuples of polynomials with terms of degrees {', '.join(map(str, degs))} "
                f"in {self.d} variables")

    def symmetries(self) -> list[AffineField]:
        """Neuron rescalings of x^r inside each block: row j of A_i * t, column j of B_i * t^-r (the skip and C
        fix the basis of the residual stream, and without biases a shifted activation cannot be re-centred)."""
        if self.act is not None:
            return []
        gens = []
        for i, h in enumerate(self.hidden):
            A, B = f"A{i + 1}", f"B{i + 1}"
            for j in range(h):
                fb = FieldBuilder(self, f"neuron rescalings in block {i + 1}: neuron {j}")
                for c in range(self.d):
                    fb.add((A, (j, c)), (A, (j, c)), 1)
                    fb.add((B, (c, j)), (B, (c, j)), -self.r)
                gens.append(fb.field)
        return gens

    def discrete_symmetries(self) -> list[DiscreteSymmetry]:
        out = [DiscreteSymmetry("neuron permutations", prod(factorial(h) for h in self.hidden),
                                "permute the hidden neurons of each block (rows of A_i and columns of B_i)")]
        parity = ("even" if self.r % 2 == 0 else None) if self.act is None else self.act.parity
        if parity == "even":
            out.append(DiscreteSymmetry("neuron sign flips", 2 ** sum(self.hidden),
                                        "negate a neuron's row of A_i (the activation is even)"))
        elif parity == "odd" and self.act is not None:
            out.append(DiscreteSymmetry("neuron sign flips", 2 ** sum(self.hidden),
                                        "negate a neuron's row of A_i and column of B_i (the activation is odd)"))
        return out

    def gauge(self) -> list[int]:
        """A_i[j, 0] for every hidden neuron (fixes the rescalings of x^r); [] for a non-monomial act."""
        if self.act is not None:
            return []
        return sorted(self.index(f"A{i + 1}", (j, 0)) for i, h in enumerate(self.hidden) for j in range(h))

    def subnetworks(self) -> list[tuple[str, str, list[int], None]]:
        """(name, description, zeroed coordinates, None): m hidden neurons of a block removed (rows of A_i and
        columns of B_i zero, 1 <= m < h_i), a whole block removed (B_i = 0: the block is the identity), and with
        a read-out the zero function (C = 0, the vertex of the cone M)."""
        out: list[tuple[str, str, list[int], None]] = []
        d = self.d
        for i, h in enumerate(self.hidden):
            A, B = f"A{i + 1}", f"B{i + 1}"
            for m in range(1, h):
                zero = []
                for j in range(h - m, h):
                    zero += [self.index(A, (j, c)) for c in range(d)] + [self.index(B, (c, j)) for c in range(d)]
                out.append((f"block {i + 1}: {h - m} of {h} neurons", f"{m} hidden neuron(s) of block {i + 1} removed",
                            sorted(zero), None))
            out.append((f"block {i + 1} removed", f"B{i + 1} zero: block {i + 1} is the identity (the skip alone)",
                        [self.index(B, (c, j)) for c in range(d) for j in range(h)], None))
        if self.dout is not None:
            out.append(("zero function", "read-out C zero (the vertex of M)",
                        [self.index("C", (o, c)) for o in range(self.dout) for c in range(d)], None))
        return out

    def containing_architectures(self) -> list[tuple[Architecture, str]]:
        """One block without read-out: M = x + M' with M' the dense network x -> B s(A x) (``block_network``),
        a translate of M' by the fixed function x, so dim M = dim M'."""
        if self.blocks != 1 or self.dout is not None:
            return []
        return [(self.block_network(0), "x -> x + B s(A x) is the fixed function x plus x -> B s(A x): M is the "
                 "translate x + M' of the block's neuromanifold M', of the same dimension")]

    def block_network(self, i: int) -> Architecture:
        """Block i without its skip: the dense network x -> B_i s(A_i x), widths (d, h_i, d)."""
        return MLP((self.d, self.hidden[i], self.d), self.r, False, self.act)
