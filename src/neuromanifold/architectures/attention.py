"""Lightning self-attention (``attention``): each layer X -> V X X^T K^T Q X on t tokens.

Layer i has Q_i, K_i in R^{a_i x d_{i-1}} and V_i in R^{d_i x d_{i-1}}; inputs X in R^{d_0 x t}.
The network function is a homogeneous polynomial map of degree 3^l in the entries of X.

Options (issue 19): ``bias=True`` gives the projections biases, layer(X) = (V X + b_V 1^T)(K X + b_K 1^T)^T
(Q X + b_Q 1^T); ``skip=True`` makes each layer residual, H -> H + layer(H) (needs d_i = d_{i-1}); ``r=`` /
``act=`` puts an activation entrywise between layers (deep networks only), after the skip:
H_i = s(H_{i-1} + layer_i(H_{i-1})).  Then the degree is 3^l r^(l-1) and, unless none is set, M is not a cone
of forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any, ClassVar

from ..errors import SpecError
import numpy as np

from .activation import Activation, act_spec, apply, activation_keywords
from .base import AffineField, Architecture, FieldBuilder, Param
from .monomials import MONOMIAL_LIMIT
from .params import boolean, check_keys, fmt_tuple, int_tuple, positive_int


@dataclass(frozen=True, repr=False)
class Attention(Architecture):
    """Deep lightning self-attention with widths (d_0, ..., d_l), key dims (a_1, ..., a_l), t tokens."""

    widths: tuple[int, ...]
    a: tuple[int, ...]
    t: int
    bias: bool = False
    skip: bool = False
    r: int = 1
    act: Activation | None = None

    family: ClassVar[str] = "attention"
    summary: ClassVar[str] = "lightning self-attention X -> V X X^T K^T Q X (single layer or deep), t tokens"
    form: ClassVar[str] = (
        "attention(d=D, dout=D, a=D, t=2, bias=False, skip=False) for one layer, or attention(widths=(d0,...,dl), "
        "a=(a1,...,al), t=2, bias=False, skip=False, r=1 | act=\"x**2 + x\" | act=\"generic\" with r) with "
        "len(a) == len(widths) - 1; all entries >= 1; skip=True needs every d_i equal; r/act (between layers) "
        "needs at least two layers"
    )
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("d", None, "input dimension of a single layer (X in R^{d x t})"),
        Param("dout", None, "output dimension of a single layer; default d"),
        Param("a", None, "key/query dimension (single layer) or a tuple (a1,...,al) (deep); default d"),
        Param("t", 2, "number of tokens"),
        Param("widths", None, "deep form: (d0,...,dl), input first (instead of d, dout)"),
        Param("bias", False, "biases of the projections: (V X + b_V)(K X + b_K)^T (Q X + b_Q)"),
        Param("skip", False, "residual layers H -> H + layer(H) (needs dout = d)"),
        Param("r", 1, "deep form: activation x^r between layers (r=1: none); with act=\"generic\" its degree"),
        Param("act", None, "deep form: activation between layers, a polynomial in x or \"generic\""),
        Param("act_seed", None, "seed of the coefficients of act=\"generic\" (default 0)"),
    )

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "Attention":
        fam, form = cls.family, cls.form
        check_keys(cls, kw, {"d", "dout", "a", "t", "widths", "bias", "skip", "r", "act", "act_seed"})
        t = positive_int(cls, "t", kw.get("t", 2))
        options = (boolean(cls, "bias", kw.get("bias", False)), boolean(cls, "skip", kw.get("skip", False)),
                   *activation_keywords(cls, kw, default_r=1))
        return cls._checked(cls._shape(kw, t), options)

    @classmethod
    def _checked(cls, shape: tuple[tuple[int, ...], tuple[int, ...], int], options: tuple) -> "Attention":
        (widths, a, t), (bias, skip, r, act) = shape, options
        fam, form = cls.family, cls.form
        if skip and len(set(widths)) != 1:
            raise SpecError(f"{fam}: skip=True adds each layer's input to its output, so every width must be equal "
                            f"(dout = d); got widths {fmt_tuple(widths)}; valid form: {form}")
        if (r != 1 or act is not None) and len(a) < 2:
            raise SpecError(f"{fam}: r=/act= is the activation between layers; a single layer has none (use "
                            f"widths=(d0,d1,d2) for two layers); valid form: {form}")
        return cls(widths, a, t, bias, skip, int(r), act)

    @classmethod
    def _shape(cls, kw: dict[str, Any], t: int) -> tuple[tuple[int, ...], tuple[int, ...], int]:
        """(widths, a, t) of the single-layer or the deep form."""
        fam, form = cls.family, cls.form
        if "widths" in kw:
            if "d" in kw or "dout" in kw:
                raise SpecError(f"{fam}: give either widths=(...) or d=/dout=, not both; valid form: {form}")
            widths = int_tuple(cls, "widths", kw["widths"], min_len=2)
            n_layers = len(widths) - 1
            if "a" not in kw:
                a = tuple(widths[:-1])
            else:
                a_val = kw["a"]
                if isinstance(a_val, int) and not isinstance(a_val, bool):
                    if n_layers != 1:
                        raise SpecError(
                            f"{fam}: widths has {n_layers} layers, so a must be a tuple of {n_layers} integers; "
                            f"valid form: {form}"
                        )
                a = int_tuple(cls, "a", a_val)
            if len(a) != n_layers:
                raise SpecError(
                    f"{fam}: inconsistent deep spec: widths {fmt_tuple(widths)} has {n_layers} layers but a has "
                    f"{len(a)} entries; valid form: {form}"
                )
            return widths, a, t
        if "d" not in kw:
            raise SpecError(f"{fam}: give d= (single layer) or widths= (deep); valid form: {form}")
        d = positive_int(cls, "d", kw["d"])
        dout = positive_int(cls, "dout", kw["dout"]) if kw.get("dout") is not None else d
        a_val = kw.get("a")
        if a_val is None:
            a = d
        elif isinstance(a_val, (tuple, list)):
            (a,) = int_tuple(cls, "a", a_val) if len(a_val) == 1 else (None,)
            if a is None:
                raise SpecError(f"{fam}: a single layer takes one integer a, got {a_val!r}; valid form: {form}")
        else:
            a = positive_int(cls, "a", a_val)
        return (d, dout), (a,), t

    def spec(self) -> str:
        tail = (", bias=True" if self.bias else "") + (", skip=True" if self.skip else "")
        if self.r != 1 or self.act is not None:
            tail += ", " + act_spec(self.r, self.act)
        if len(self.a) == 1:
            return f"attention(d={self.widths[0]}, dout={self.widths[1]}, a={self.a[0]}, t={self.t}{tail})"
        return f"attention(widths={fmt_tuple(self.widths)}, a={fmt_tuple(self.a)}, t={self.t}{tail})"

    def activation(self, H: Any) -> Any:
        return apply(H, self.r, self.act)

    @property
    def homogeneous(self) -> bool:
        return not (self.bias or self.skip or self.act is not None)

    @property
    def depth(self) -> int:
        return len(self.a)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for i in range(self.depth):
            d_in, d_out, a = self.widths[i], self.widths[i + 1], self.a[i]
            shapes[f"Q{i + 1}"] = (a, d_in)
            shapes[f"K{i + 1}"] = (a, d_in)
            shapes[f"V{i + 1}"] = (d_out, d_in)
            if self.bias:
                shapes[f"bQ{i + 1}"] = (a, 1)
                shapes[f"bK{i + 1}"] = (a, 1)
                shapes[f"bV{i + 1}"] = (d_out, 1)
        return shapes

    def input_shape(self, n_samples: int) -> tuple[int, ...]:
        return (n_samples, self.widths[0], self.t)

    def forward(self, params: dict[str, Any], X: Any) -> Any:
        H = X
        for i in range(self.depth):
            Q, K, V = params[f"Q{i + 1}"], params[f"K{i + 1}"], params[f"V{i + 1}"]
            # parameters get a sample axis so that batches of parameter points broadcast
            if self.bias:
                q = Q[..., None, :, :] @ H + params[f"bQ{i + 1}"][..., None, :, :]
                k = K[..., None, :, :] @ H + params[f"bK{i + 1}"][..., None, :, :]
                v = V[..., None, :, :] @ H + params[f"bV{i + 1}"][..., None, :, :]
                out = v @ (k.mT @ q)
            else:
                A = (K.mT @ Q)[..., None, :, :]  # d x d, parameters only
                out = V[..., None, :, :] @ ((H @ H.mT) @ (A @ H))
            H = H + out if self.skip else out
            if i < self.depth - 1:
                H = self.activation(H)
        return H

    def output_size(self) -> int:
        return self.widths[-1] * self.t

    def output_to_matrix(self, Y: Any, n_samples: int) -> Any:
        return Y.reshape(tuple(Y.shape[:-3]) + (n_samples, self.output_size()))

    @property
    def n_inputs(self) -> int:
        return self.widths[0] * self.t

    @property
    def degree_in_inputs(self) -> int:
        return 3**self.depth * self.r ** (self.depth - 1)

    def flat_inputs(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        return X.reshape(X.shape[0], -1)  # variable a * t + k is X[a, k]

    def containing_monomials(self) -> list[np.ndarray] | None:
        """One layer: output (i, j) is a combination of X[a,k] X[b,k] X[c,j] (all a, b, c, k), and with
        skip=True of X[i,j]."""
        if self.depth != 1 or self.bias:
            return None
        d, t = self.widths[0], self.t
        per_token = []
        for j in range(t):
            monos = set()
            for a in range(d):
                for b in range(d):
                    for c in range(d):
                        for k in range(t):
                            e = [0] * (d * t)
                            for var in (a * t + k, b * t + k, c * t + j):
                                e[var] += 1
                            monos.add(tuple(e))
            per_token.append(np.array(sorted(monos), dtype=np.int64))
        if sum(len(m) for m in per_token) * self.widths[1] > MONOMIAL_LIMIT:
            return None
        # outputs are ordered (i, j) row-major: output i, token j
        if not self.skip:
            return [per_token[j] for _ in range(self.widths[1]) for j in range(t)]
        out = []
        for i in range(self.widths[1]):
            for j in range(t):
                e = np.zeros((1, d * t), dtype=np.int64)
                e[0, i * t + j] = 1
                out.append(np.concatenate([e, per_token[j]]))
        return out

    def ambient_upper_bound(self) -> tuple[int, str]:
        d, t = self.widths[0], self.t
        if self.depth == 1 and not self.bias:
            dout = self.widths[1]
            if self.skip:  # X + (the one-layer function): inside the span plus the line of X -> X
                value, what = Attention((d, dout), self.a, t).ambient_upper_bound()
                return value + 1, f"{what}, plus the line of the identity X -> X (skip)"
            # f(X)_{:,j} = sum_k G(x_k, x_j), G(x, y) = V x x^T A y: linear in a tensor of
            # R^{dout} (x) Sym^2(R^d) (x) R^d; for t = 1 only its symmetrisation Sym^3 is seen.
            if t == 1:
                return dout * comb(d + 2, 3), f"dout * dim Sym^3(R^{d}): maps x -> (cubic forms)^{dout}"
            return dout * comb(d + 1, 2) * d, f"R^{dout} (x) Sym^2(R^{d}) (x) R^{d}: maps X -> V' (X X^T) A' X, linear in V' (x) A'"
        D = self.degree_in_inputs
        out = self.output_size()
        if not self.homogeneous:
            return out * comb(d * t + D, D), f"{out}-tuples of polynomials of degree <= {D} in {d * t} variables"
        return out * comb(d * t + D - 1, D), f"{out}-tuples of forms of degree {D} in {d * t} variables"

    def symmetries(self) -> list[AffineField]:
        """GL(a_i) on (Q_i, K_i) and the rescaling V_i * t, Q_i / t (with their biases) in every layer; between
        layers GL(d_i) (no activation, no skip) or the neuron rescalings of x^r (no skip): row j of V_i (and
        b_V) * t, column j of V_{i+1}, K_{i+1}, Q_{i+1} * t^-r.  A skip fixes the basis of H; a non-monomial
        activation has no rescalings."""
        gens: list[AffineField] = []
        for i in range(self.depth):
            Q, K, V = f"Q{i + 1}", f"K{i + 1}", f"V{i + 1}"
            a, d_in = self.a[i], self.widths[i]
            # GL(a_i): Q -> g Q, K -> g^{-T} K (and b_Q -> g b_Q, b_K -> g^{-T} b_K); generator E_{kl}
            for k in range(a):
                for l in range(a):
                    fb = FieldBuilder(self, f"GL({a}) on (Q{i + 1}, K{i + 1}): E[{k},{l}]")
                    for c in range(d_in):
                        fb.add((Q, (k, c)), (Q, (l, c)), 1)
                        fb.add((K, (l, c)), (K, (k, c)), -1)
                    if self.bias:
                        fb.add((f"bQ{i + 1}", (k, 0)), (f"bQ{i + 1}", (l, 0)), 1)
                        fb.add((f"bK{i + 1}", (l, 0)), (f"bK{i + 1}", (k, 0)), -1)
                    gens.append(fb.field)
            # rescaling between V_i and K_i^T Q_i
            fb = FieldBuilder(self, f"layer rescalings (V_i * t, Q_i / t): layer {i + 1}")
            fb.scale(V, 1)
            fb.scale(Q, -1)
            if self.bias:
                fb.scale(f"bV{i + 1}", 1)
                fb.scale(f"bQ{i + 1}", -1)
            gens.append(fb.field)
        if self.skip or self.act is not None:
            return gens
        if self.r != 1:
            for i in range(1, self.depth):
                Vp = f"V{i}"
                for j in range(self.widths[i]):
                    fb = FieldBuilder(self, f"neuron rescalings between layers {i} and {i + 1}: neuron {j}")
                    for c in range(self.widths[i - 1]):
                        fb.add((Vp, (j, c)), (Vp, (j, c)), 1)
                    if self.bias:
                        fb.add((f"bV{i}", (j, 0)), (f"bV{i}", (j, 0)), 1)
                    for name, rows in ((f"V{i + 1}", self.widths[i + 1]), (f"K{i + 1}", self.a[i]),
                                       (f"Q{i + 1}", self.a[i])):
                        for m in range(rows):
                            fb.add((name, (m, j)), (name, (m, j)), -self.r)
                    gens.append(fb.field)
            return gens
        for i in range(1, self.depth):
            # GL(d_i) between layer i and i+1: V_i -> g V_i; V_{i+1}, K_{i+1}, Q_{i+1} -> (.) g^{-1}
            d = self.widths[i]
            Vp, Vn, Kn, Qn = f"V{i}", f"V{i + 1}", f"K{i + 1}", f"Q{i + 1}"
            for k in range(d):
                for l in range(d):
                    fb = FieldBuilder(self, f"GL({d}) between layers {i} and {i + 1}: E[{k},{l}]")
                    for c in range(self.widths[i - 1]):
                        fb.add((Vp, (k, c)), (Vp, (l, c)), 1)
                    if self.bias:
                        fb.add((f"bV{i}", (k, 0)), (f"bV{i}", (l, 0)), 1)
                    for name, rows in ((Vn, self.widths[i + 1]), (Kn, self.a[i]), (Qn, self.a[i])):
                        for m in range(rows):
                            fb.add((name, (m, l)), (name, (m, k)), -1)
                    gens.append(fb.field)
        return gens
