"""Dense networks: linear (``linear``) and polynomial activations (``mlp``).

mu(W_1, b_1, ..., W_h, b_h) = W_h s(... s(W_1 x + b_1) ...) + b_h with s(z) = z^r (``r=``) or any polynomial
of degree r (``act=``, ``activation.Activation``) entrywise between layers.  With x^r and no biases the function
is a d_h-tuple of forms of degree r^(h-1) in d_0 variables; otherwise of polynomials of degree <= r^(h-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb, factorial, prod
from typing import Any, ClassVar

import numpy as np

from ..errors import SpecError
from .activation import (Activation, act_spec, activation_keywords, apply, composed_degrees, shifted_reason,
                         shifted_rescaling)
from .base import AffineField, Architecture, DiscreteSymmetry, FieldBuilder, Param
from .monomials import MONOMIAL_LIMIT
from .params import boolean, check_keys, fmt_tuple, int_tuple, positive_int


class DenseLayers:
    """The layout shared by the dense families (``mlp``, ``relu``): fields ``widths`` and ``bias``,
    layers W_i (d_i x d_{i-1}) and b_i (d_i x 1), inputs (d_0, S), outputs (d_h, S), and the forward
    pass W_h s(... s(W_1 X + b_1) ...) + b_h with the family's ``activation`` s between layers."""

    widths: tuple[int, ...]
    bias: bool

    def activation(self, H: Any) -> Any:  # pragma: no cover - every family defines it
        raise NotImplementedError

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for i in range(self.depth):
            shapes[f"W{i + 1}"] = (self.widths[i + 1], self.widths[i])
            if self.bias:
                shapes[f"b{i + 1}"] = (self.widths[i + 1], 1)
        return shapes

    def input_shape(self, n_samples: int) -> tuple[int, ...]:
        return (self.widths[0], n_samples)

    def forward(self, params: dict[str, Any], X: Any) -> Any:
        """W_h s(... s(W_1 X + b_1) ...) + b_h on a batch X of shape (d_0, S)."""
        H = X
        for i in range(self.depth):
            H = params[f"W{i + 1}"] @ H
            if self.bias:
                H = H + params[f"b{i + 1}"]
            if i < self.depth - 1:
                H = self.activation(H)
        return H

    def output_size(self) -> int:
        return self.widths[-1]

    def output_to_matrix(self, Y: Any, n_samples: int) -> Any:
        return Y.mT

    @property
    def n_inputs(self) -> int:
        return self.widths[0]


@dataclass(frozen=True, repr=False)
class MLP(DenseLayers, Architecture):
    """Dense network with widths (d_0, ..., d_h) and activation x^r (r = 1: linear network), or the polynomial
    ``act`` of degree r (act None: x^r)."""

    widths: tuple[int, ...]
    r: int = 2
    bias: bool = False
    act: Activation | None = None

    family: ClassVar[str] = "mlp"
    summary: ClassVar[str] = ("dense network with activation x^r or a polynomial act between layers (bias=True: "
                              "affine layers)")
    form: ClassVar[str] = (
        "mlp(widths=(d0,...,dh), r=2 | act=\"x**2 + x\" | act=\"generic\" with r and act_seed=0, bias=False, "
        "equivariant=None, action=\"regular\") with h >= 1, every d_i >= 1, r >= 1; equivariant (x^r only): a group "
        "'C<n>', 'D<n>' or 'S<n>' whose action (regular or natural) the weights commute with, every d_i then a "
        "multiple of the number of points acted on"
    )
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("widths", None, "layer widths (d0,...,dh), input first; at least two entries", required=True),
        Param("r", 2, "exponent of the activation x^r (r=1: linear network); with act=\"generic\" its degree"),
        Param("act", None, "activation: a polynomial in x (e.g. \"x**2 + x\") or \"generic\" (random, degree r)"),
        Param("act_seed", None, "seed of the coefficients of act=\"generic\" (default 0)"),
        Param("bias", False, "affine layers W x + b instead of linear ones"),
        Param("equivariant", None, "group 'C<n>', 'D<n>' or 'S<n>': weights commute with its permutation action"),
        Param("action", "regular", "with equivariant: each layer is copies of the 'regular' or 'natural' G-set"),
    )

    @classmethod
    def checked_keywords(cls, kw: dict[str, Any]) -> tuple[tuple[int, ...], int, bool, Activation | None]:
        """widths, r, bias and act of an ``mlp`` spec, checked (also for ``equivariant=GROUP``, which
        ``registry.build`` hands to ``EquivariantMLP``)."""
        check_keys(cls, kw, {"widths", "r", "act", "act_seed", "bias", "equivariant", "action"})
        if "widths" not in kw:
            raise SpecError(f"{cls.family}: widths is required; valid form: {cls.form}")
        widths = int_tuple(cls, "widths", kw["widths"], min_len=2)
        r, act = activation_keywords(cls, kw)
        bias = boolean(cls, "bias", kw.get("bias", False))
        return widths, int(r), bias, act

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "MLP":
        widths, r, bias, act = cls.checked_keywords(kw)
        if kw.get("equivariant") is not None:
            raise SpecError(f"{cls.family}: equivariant= builds an EquivariantMLP (parse_spec picks it); "
                            f"valid form: {cls.form}")
        if "action" in kw:
            raise SpecError(f"{cls.family}: action= needs equivariant=GROUP; valid form: {cls.form}")
        return cls(widths, r, bias, act)

    def spec(self) -> str:
        return f"mlp(widths={fmt_tuple(self.widths)}, {act_spec(self.r, self.act)}, bias={self.bias})"

    def activation(self, H: Any) -> Any:
        return apply(H, self.r, self.act)

    @property
    def rescaling(self) -> tuple[int, int, int, int] | None:
        """How the neuron rescalings of x^r survive (``activation.shifted_rescaling``), None if they do not."""
        return shifted_rescaling(self.r, self.act, self.bias)

    @property
    def degree_in_inputs(self) -> int:
        return self.r ** (self.depth - 1)

    @property
    def homogeneous(self) -> bool:
        return not self.bias and self.act is None

    def degrees(self) -> list[int]:
        """The degrees in the inputs that can occur: {1}, then per hidden layer 0 added by a bias and the
        degrees of s of it (``activation.composed_degrees``), 0 added by the last bias.  x^r without biases:
        [r^(h-1)]."""
        S = {1}
        for _ in range(self.depth - 1):
            S = composed_degrees(S | ({0} if self.bias else set()), self.r, self.act)
        return sorted(S | ({0} if self.bias else set()))

    def containing_monomials(self) -> list[np.ndarray] | None:
        """All monomials of the degrees that can occur (``degrees``) in the n_inputs variables, every output
        (also for the weight-constrained ``GroupDense`` families: their maps are a subspace of this span,
        and injectivity on the span implies it on the subspace)."""
        from .monomials import monomials_of_degree

        n = self.n_inputs
        degrees = self.degrees()
        if sum(comb(n + e - 1, e) for e in degrees) > MONOMIAL_LIMIT:
            return None
        monos = np.concatenate([monomials_of_degree(n, e) for e in degrees])
        return [monos] * self.output_size()

    def ambient_upper_bound(self) -> tuple[int, str]:
        d0, dh, D = self.widths[0], self.widths[-1], self.degree_in_inputs
        degrees = self.degrees()
        if degrees == list(range(D + 1)):
            return dh * comb(d0 + D, D), f"{dh}-tuples of polynomials of degree <= {D} in {d0} variables"
        if degrees != [D]:
            return (dh * sum(comb(d0 + e - 1, e) for e in degrees),
                    f"{dh}-tuples of polynomials with terms of degrees {', '.join(map(str, degrees))} in {d0} variables")
        return dh * comb(d0 + D - 1, D), f"{dh}-tuples of forms of degree {D} in {d0} variables"

    def symmetries(self) -> list[AffineField]:
        gens: list[AffineField] = []
        for i in range(1, self.depth):  # hidden layer i: output of W_i, input of W_{i+1}
            d_in, d, d_out = self.widths[i - 1], self.widths[i], self.widths[i + 1]
            W, Wn, b = f"W{i}", f"W{i + 1}", f"b{i}"
            if self.r == 1:
                # GL(d_i): W_i -> g W_i, b_i -> g b_i, W_{i+1} -> W_{i+1} g^{-1}; generator E_{kl}
                for k in range(d):
                    for l in range(d):
                        fb = FieldBuilder(self, f"GL({d}) at hidden layer {i}: E[{k},{l}]")
                        for c in range(d_in):
                            fb.add((W, (k, c)), (W, (l, c)), 1)
                        if self.bias:
                            fb.add((b, (k, 0)), (b, (l, 0)), 1)
                        for m in range(d_out):
                            fb.add((Wn, (m, l)), (Wn, (m, k)), -1)
                        gens.append(fb.field)
                if self.bias:
                    # translations: b_i -> b_i + c, b_{i+1} -> b_{i+1} - W_{i+1} c
                    for k in range(d):
                        fb = FieldBuilder(self, f"translation at hidden layer {i}: e[{k}]")
                        fb.const((b, (k, 0)), 1)
                        for m in range(d_out):
                            fb.add((f"b{i + 1}", (m, 0)), (Wn, (m, k)), -1)
                        gens.append(fb.field)
            elif self.rescaling is not None:
                # rescaling of neuron j: incoming weights (and bias) * t, outgoing * t^(-r); for
                # s(z) = lead (z + c)^r + e with biases, z + c is rescaled and the next bias absorbs e
                # (generator times L, the common denominator of c and e)
                L, Lc, Le, r = self.rescaling
                shifted = "" if (Lc, Le) == (0, 0) else " (about the shift of the activation)"
                for j in range(d):
                    fb = FieldBuilder(self, f"neuron rescalings in hidden layer {i}: neuron {j}{shifted}")
                    for c in range(d_in):
                        fb.add((W, (j, c)), (W, (j, c)), L)
                    if self.bias:
                        fb.add((b, (j, 0)), (b, (j, 0)), L)
                        if Lc:
                            fb.const((b, (j, 0)), Lc)
                    for m in range(d_out):
                        fb.add((Wn, (m, j)), (Wn, (m, j)), -r * L)
                        if Le:
                            fb.add((f"b{i + 1}", (m, 0)), (Wn, (m, j)), r * Le)
                    gens.append(fb.field)
        return gens

    def _like(self, widths: tuple[int, ...], r: int | None = None) -> "MLP":
        """The same family with other widths (and exponent)."""
        if type(self) is Linear:
            return Linear(tuple(widths), 1, False)
        return MLP(tuple(widths), self.r if r is None else r, self.bias, self.act if r is None else None)

    def containing_architectures(self) -> list[tuple[Architecture, str]]:
        """Smaller dense architectures whose neuromanifold contains this one.

        * r = 1: x -> W_h ... W_1 x (+ b) has linear part of rank <= m = min hidden width, so it
          lies in the (affine) maps (d_0, m, d_h) when m < min(d_0, d_h).
        * r > 1, no biases, a hidden layer i of width 1 with scalar pre-activation s(x): every
          later layer acts on the scalar s^r, so f = c * s^(r^(h-i)) for a vector c in C^{d_h}.
          Hence M lies in the network with every later hidden width set to 1 (same depth: its
          output is W_h * (scalar) * s^(r^(h-i)), c arbitrary), and for i = 1 (s linear) in the
          shallow network (d_0, 1, d_h) with activation x^(r^(h-1)).
        * s = lead (x + c)^r + e with biases (every quadratic): the same neuromanifold as x^r with biases.
        """
        hidden = self.widths[1:-1]
        out: list[tuple[Architecture, str]] = []
        if not hidden:
            return out
        if self.act is not None and self.rescaling is not None:
            return [(MLP(self.widths, self.r, True), shifted_reason(self.act))]
        d0, dh, h = self.widths[0], self.widths[-1], self.depth
        if self.r == 1:
            m = min(hidden)
            if m < min(d0, dh) and self.widths != (d0, m, dh):
                out.append(
                    (
                        self._like((d0, m, dh)),
                        f"a composition of {'affine' if self.bias else 'linear'} maps through width {m} has linear "
                        f"part of rank <= {m}, so it factors through C^{m}",
                    )
                )
            return out
        if self.bias or self.act is not None:  # the width-1 arguments below use s = x^r
            return out
        ones = [i for i in range(1, h) if self.widths[i] == 1]
        if not ones:
            return out
        i = ones[0]
        if i == 1 and h > 2:
            R = self.r ** (h - 1)
            out.append(
                (
                    self._like((d0, 1, dh), r=R),
                    f"after the width-1 first hidden layer, s = W1 x, the network is c * s^{R} with c in C^{dh}",
                )
            )
        collapsed = self.widths[: i + 1] + (1,) * (h - 1 - i) + (dh,)
        if collapsed != self.widths:
            out.append(
                (
                    self._like(collapsed),
                    f"after the width-1 hidden layer {i} with scalar pre-activation s, the network is "
                    f"c * s^{self.r ** (h - i)} with c in C^{dh}; the widths-1 layers after it give every c",
                )
            )
        return out

    def equation_upper_bound(self) -> tuple[int, str] | None:
        """Shallow x^r networks with r = 2k even: each output f_i = sum_j V_ij (w_j . x)^r is a sum of m = d_1
        powers of linear forms, so its middle catalecticant Cat_k(f_i) = sum_j V_ij (w_j^k)(w_j^k)^T (symmetric, of
        size N = binom(d_0 + k - 1, k), w^k the vector of degree-k monomials at w) has rank <= m.  When m < N,
        det Cat_k(f_i) = 0 on M, and this equation is not zero on all forms of degree r: a sum of N powers of
        linear forms with independent vectors w_j^k (the Veronese vectors span) has Cat_k = W^T diag(v) W
        nonsingular.  So every output lies on a hypersurface and dim M <= ambient - d_h (Sylvester's catalecticant;
        the classical proof of the even Alexander-Hirschowitz exceptions).  For r = 2 (k = 1) the catalecticant is
        the quadric's symmetric matrix, and symmetric matrices of rank <= m = {W W^T : W in C^(d_0 x m)} have
        dimension <= m d_0 - m (m - 1) / 2 (the orthogonal group O(m) acts on W in each fiber)."""
        if (len(self.widths) != 3 or self.act is not None or self.bias or self.r % 2 or self.r < 2
                or type(self).__name__ != "MLP"):
            return None
        d0, m, dh = self.widths
        k = self.r // 2
        size = comb(d0 + k - 1, k)
        if d0 < 2 or m >= size:
            return None
        amb = dh * comb(d0 + self.r - 1, self.r)
        if k == 1:  # quadrics: Cat_1 is the symmetric matrix itself; rank <= m is a variety of known dimension
            sym = m * d0 - m * (m - 1) // 2
            return dh * sym, (
                f"each output is a sum of {m} squares (w_j . x)^2, a quadric whose symmetric {d0} x {d0} matrix has "
                f"rank <= {m}; over C such a matrix is W W^T with W of size {d0} x {m}, and W O gives the same one "
                f"for O in O({m}), so they form a variety of dimension <= {m} * {d0} - {m} ({m} - 1) / 2 = {sym}: "
                f"dim M <= {dh} * {sym}")
        return amb - dh, (
            f"each output is a sum of {m} powers (w_j . x)^{self.r}, so its middle catalecticant ({size} x {size}, "
            f"degree-{k} derivatives) has rank <= {m} < {size}: det Cat = 0 on M, a hypersurface in each output's "
            f"{amb // dh}-dimensional space of forms, so dim M <= {amb} - {dh}")

    def discrete_symmetries(self) -> list[DiscreteSymmetry]:
        hidden = self.widths[1:-1]
        if not hidden or self.r == 1:
            return []  # for r = 1 permutations lie in the continuous GL(d_i) symmetries
        out = [
            DiscreteSymmetry(
                "neuron permutations",
                prod(factorial(d) for d in hidden),
                "permute the neurons of each hidden layer (rows of W_i, b_i and columns of W_{i+1})",
            )
        ]
        parity = "even" if self.act is None and self.r % 2 == 0 else (self.act.parity if self.act else None)
        if parity == "even":
            out.append(
                DiscreteSymmetry(
                    "neuron sign flips",
                    2 ** sum(hidden),
                    f"negate a neuron's incoming weights{' and bias' if self.bias else ''} (the activation is even)"
                    + (": the real rescaling group has two components" if self.act is None else ""),
                )
            )
        elif parity == "odd" and self.act is not None:  # for odd x^r the sign flip is the rescaling t = -1
            out.append(
                DiscreteSymmetry(
                    "neuron sign flips",
                    2 ** sum(hidden),
                    f"negate a neuron's incoming weights{' and bias' if self.bias else ''} and its outgoing weights "
                    "(the activation is odd)",
                )
            )
        return out


@dataclass(frozen=True, repr=False)
class Linear(MLP):
    """Dense linear network x -> W_h ... W_1 x; its image is the matrices of rank <= min d_i."""

    family: ClassVar[str] = "linear"
    summary: ClassVar[str] = "dense linear network x -> W_h ... W_1 x (determinantal variety)"
    form: ClassVar[str] = "linear(widths=(d0,...,dh)) with h >= 1 and every d_i >= 1"
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("widths", None, "layer widths (d0,...,dh), input first; at least two entries", required=True),
    )

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "Linear":
        check_keys(cls, kw, {"widths"})
        if "widths" not in kw:
            raise SpecError(f"{cls.family}: widths is required; valid form: {cls.form}")
        return cls(int_tuple(cls, "widths", kw["widths"], min_len=2), 1, False)

    def spec(self) -> str:
        return f"linear(widths={fmt_tuple(self.widths)})"
