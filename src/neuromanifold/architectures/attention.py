"""Lightning self-attention (``attention``): each layer X -> V X X^T K^T Q X on t tokens.

Layer i has Q_i, K_i in R^{a_i x d_{i-1}} and V_i in R^{d_i x d_{i-1}}; inputs X in R^{d_0 x t}.
The network function is a homogeneous polynomial map of degree 3^l in the entries of X.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any, ClassVar

from ..errors import SpecError
import numpy as np

from .base import AffineField, Architecture, FieldBuilder, Param
from .monomials import MONOMIAL_LIMIT
from .params import check_keys, fmt_tuple, int_tuple, positive_int


@dataclass(frozen=True, repr=False)
class Attention(Architecture):
    """Deep lightning self-attention with widths (d_0, ..., d_l), key dims (a_1, ..., a_l), t tokens."""

    widths: tuple[int, ...]
    a: tuple[int, ...]
    t: int

    family: ClassVar[str] = "attention"
    summary: ClassVar[str] = "lightning self-attention X -> V X X^T K^T Q X (single layer or deep), t tokens"
    form: ClassVar[str] = (
        "attention(d=D, dout=D, a=D, t=2) for one layer, or attention(widths=(d0,...,dl), a=(a1,...,al), t=2) "
        "with len(a) == len(widths) - 1; all entries >= 1"
    )
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("d", None, "input dimension of a single layer (X in R^{d x t})"),
        Param("dout", None, "output dimension of a single layer; default d"),
        Param("a", None, "key/query dimension (single layer) or a tuple (a1,...,al) (deep); default d"),
        Param("t", 2, "number of tokens"),
        Param("widths", None, "deep form: (d0,...,dl), input first (instead of d, dout)"),
    )

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "Attention":
        fam, form = cls.family, cls.form
        check_keys(cls, kw, {"d", "dout", "a", "t", "widths"})
        t = positive_int(cls, "t", kw.get("t", 2))
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
            return cls(widths, a, t)
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
        return cls((d, dout), (a,), t)

    def spec(self) -> str:
        if len(self.a) == 1:
            return f"attention(d={self.widths[0]}, dout={self.widths[1]}, a={self.a[0]}, t={self.t})"
        return f"attention(widths={fmt_tuple(self.widths)}, a={fmt_tuple(self.a)}, t={self.t})"

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
        return shapes

    def input_shape(self, n_samples: int) -> tuple[int, ...]:
        return (n_samples, self.widths[0], self.t)

    def forward(self, params: dict[str, Any], X: Any) -> Any:
        H = X
        for i in range(self.depth):
            Q, K, V = params[f"Q{i + 1}"], params[f"K{i + 1}"], params[f"V{i + 1}"]
            # parameters get a sample axis so that batches of parameter points broadcast
            A = (K.mT @ Q)[..., None, :, :]  # d x d, parameters only
            H = V[..., None, :, :] @ ((H @ H.mT) @ (A @ H))
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
        return 3**self.depth

    def flat_inputs(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        return X.reshape(X.shape[0], -1)  # variable a * t + k is X[a, k]

    def containing_monomials(self) -> list[np.ndarray] | None:
        """One layer: output (i, j) is a combination of X[a,k] X[b,k] X[c,j] (all a, b, c, k)."""
        if self.depth != 1:
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
        return [per_token[j] for _ in range(self.widths[1]) for j in range(t)]

    def ambient_upper_bound(self) -> tuple[int, str]:
        d, t = self.widths[0], self.t
        if self.depth == 1:
            dout = self.widths[1]
            # f(X)_{:,j} = sum_k G(x_k, x_j), G(x, y) = V x x^T A y: linear in a tensor of
            # R^{dout} (x) Sym^2(R^d) (x) R^d; for t = 1 only its symmetrisation Sym^3 is seen.
            if t == 1:
                return dout * comb(d + 2, 3), f"dout * dim Sym^3(R^{d}): maps x -> (cubic forms)^{dout}"
            return dout * comb(d + 1, 2) * d, f"R^{dout} (x) Sym^2(R^{d}) (x) R^{d}: maps X -> V' (X X^T) A' X, linear in V' (x) A'"
        D = self.degree_in_inputs
        out = self.output_size()
        return out * comb(d * t + D - 1, D), f"{out}-tuples of forms of degree {D} in {d * t} variables"

    def symmetries(self) -> list[AffineField]:
        gens: list[AffineField] = []
        for i in range(self.depth):
            Q, K, V = f"Q{i + 1}", f"K{i + 1}", f"V{i + 1}"
            a, d_in = self.a[i], self.widths[i]
            # GL(a_i): Q -> g Q, K -> g^{-T} K; generator E_{kl}: dQ = E Q, dK = -E^T K
            for k in range(a):
                for l in range(a):
                    fb = FieldBuilder(self, f"GL({a}) on (Q{i + 1}, K{i + 1}): E[{k},{l}]")
                    for c in range(d_in):
                        fb.add((Q, (k, c)), (Q, (l, c)), 1)
                        fb.add((K, (l, c)), (K, (k, c)), -1)
                    gens.append(fb.field)
            # rescaling between V_i and K_i^T Q_i
            fb = FieldBuilder(self, f"layer rescalings (V_i * t, Q_i / t): layer {i + 1}")
            fb.scale(V, 1)
            fb.scale(Q, -1)
            gens.append(fb.field)
        for i in range(1, self.depth):
            # GL(d_i) between layer i and i+1: V_i -> g V_i; V_{i+1}, K_{i+1}, Q_{i+1} -> (.) g^{-1}
            d = self.widths[i]
            Vp, Vn, Kn, Qn = f"V{i}", f"V{i + 1}", f"K{i + 1}", f"Q{i + 1}"
            for k in range(d):
                for l in range(d):
                    fb = FieldBuilder(self, f"GL({d}) between layers {i} and {i + 1}: E[{k},{l}]")
                    for c in range(self.widths[i - 1]):
                        fb.add((Vp, (k, c)), (Vp, (l, c)), 1)
                    for name, rows in ((Vn, self.widths[i + 1]), (Kn, self.a[i]), (Qn, self.a[i])):
                        for m in range(rows):
                            fb.add((name, (m, l)), (name, (m, k)), -1)
                    gens.append(fb.field)
        return gens
