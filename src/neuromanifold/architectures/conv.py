"""1-D single-channel convolutional networks without padding (``cnn``).

Layer i convolves with a filter w_i of size k_i and stride s_i:
(w * x)[j] = sum_m w[m] x[s j + m] (+ b_i with bias=True, one scalar per layer), output length
floor((n - k)/s) + 1, and x^r (or a polynomial ``act`` of degree r) acts between layers.  With the default
input length n the output is one polynomial of degree r^(L-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any, ClassVar

from ..errors import SpecError
import numpy as np

from .activation import Activation, act_spec, activation_keywords, apply, shifted_reason, shifted_rescaling
from .base import AffineField, Architecture, FieldBuilder, Param
from .monomials import MONOMIAL_LIMIT
from .params import boolean, check_keys, fmt_tuple, int_tuple, positive_int

_SUPPORT_LIMIT = 200_000


def _default_length(k: tuple[int, ...], s: tuple[int, ...]) -> int:
    n = 1
    for ki, si in zip(reversed(k), reversed(s)):
        n = si * (n - 1) + ki
    return n


@dataclass(frozen=True, repr=False)
class CNN(Architecture):
    """Convolutions with filter sizes k, strides s, activation x^r (or ``act`` of degree r), input length n,
    and with ``bias`` one scalar bias per layer."""

    k: tuple[int, ...]
    s: tuple[int, ...]
    r: int
    n: int
    bias: bool = False
    act: Activation | None = None

    family: ClassVar[str] = "cnn"
    summary: ClassVar[str] = ("1-D single-channel convolutions, no padding, activation x^r or a polynomial act "
                              "between layers")
    form: ClassVar[str] = (
        "cnn(k=(k1,...,kL), s=(s1,...,sL), r=2 | act=\"x**2 + x\" | act=\"generic\" with r and act_seed=0, "
        "n=None, bias=False) with every k_i, s_i >= 1, len(s) == len(k), r >= 1, n >= the receptive field "
        "(default: the smallest n giving one output)"
    )
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("k", None, "filter sizes (k1,...,kL), first layer first", required=True),
        Param("s", None, "strides (s1,...,sL); default all 1"),
        Param("r", 2, "exponent of the activation x^r (r=1: linear CNN); with act=\"generic\" its degree"),
        Param("act", None, "activation: a polynomial in x (e.g. \"x**2 + x\") or \"generic\" (random, degree r)"),
        Param("act_seed", None, "seed of the coefficients of act=\"generic\" (default 0)"),
        Param("n", None, "input length; default the smallest length with a single output"),
        Param("bias", False, "a scalar bias after each convolution"),
    )

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "CNN":
        check_keys(cls, kw, {"k", "s", "r", "act", "act_seed", "n", "bias"})
        if "k" not in kw:
            raise SpecError(f"{cls.family}: k is required; valid form: {cls.form}")
        k = int_tuple(cls, "k", kw["k"])
        s_val = kw.get("s")
        s = (1,) * len(k) if s_val is None else int_tuple(cls, "s", s_val)
        if len(s) != len(k):
            raise SpecError(
                f"{cls.family}: k has {len(k)} filters but s has {len(s)} strides; valid form: {cls.form}"
            )
        r, act = activation_keywords(cls, kw)
        bias = boolean(cls, "bias", kw.get("bias", False))
        n_min = _default_length(k, s)
        n_val = kw.get("n")
        if n_val is None:
            n = n_min
        else:
            n = positive_int(cls, "n", n_val)
            length = n
            for i, (ki, si) in enumerate(zip(k, s)):
                if ki > length:
                    raise SpecError(
                        f"{cls.family}: filter {i + 1} has size {ki} but its input has length {length} "
                        f"(n={n}); use n >= {n_min}; valid form: {cls.form}"
                    )
                length = (length - ki) // si + 1
        return cls(k, s, int(r), n, bias, act)

    def spec(self) -> str:
        tail = ", bias=True" if self.bias else ""
        return f"cnn(k={fmt_tuple(self.k)}, s={fmt_tuple(self.s)}, {act_spec(self.r, self.act)}, n={self.n}{tail})"

    @property
    def rescaling(self) -> tuple[int, int, int, int] | None:
        """How the filter rescalings of x^r survive (``activation.shifted_rescaling``), None if they do not."""
        return shifted_rescaling(self.r, self.act, self.bias)

    def activation(self, H: Any) -> Any:
        return apply(H, self.r, self.act)

    @property
    def homogeneous(self) -> bool:
        return not self.bias and self.act is None

    @property
    def depth(self) -> int:
        return len(self.k)

    def lengths(self) -> list[int]:
        """Signal lengths n_0 = n, n_1, ..., n_L."""
        out = [self.n]
        for ki, si in zip(self.k, self.s):
            out.append((out[-1] - ki) // si + 1)
        return out

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for i, ki in enumerate(self.k):
            shapes[f"w{i + 1}"] = (ki,)
            if self.bias:
                shapes[f"b{i + 1}"] = (1,)
        return shapes

    def input_shape(self, n_samples: int) -> tuple[int, ...]:
        return (self.n, n_samples)

    def forward(self, params: dict[str, Any], X: Any) -> Any:
        H = X
        lengths = self.lengths()
        for i, (ki, si) in enumerate(zip(self.k, self.s)):
            w = params[f"w{i + 1}"]
            out_len = lengths[i + 1]
            stop = si * (out_len - 1) + 1
            acc = None
            for m in range(ki):
                term = w[..., m, None, None] * H[..., m : m + stop : si, :]
                acc = term if acc is None else acc + term
            if self.bias:
                acc = acc + params[f"b{i + 1}"][..., 0, None, None]
            H = acc
            if i < self.depth - 1:
                H = self.activation(H)
        return H

    def output_size(self) -> int:
        return self.lengths()[-1]

    def output_to_matrix(self, Y: Any, n_samples: int) -> Any:
        return Y.mT

    @property
    def n_inputs(self) -> int:
        return self.n

    @property
    def degree_in_inputs(self) -> int:
        return self.r ** (self.depth - 1)

    def monomial_support(self) -> list[set[tuple[int, ...]]] | None:
        """Exponent vectors that can occur in each output coordinate (None if too many): a convolution takes
        unions (and the constant with a bias), s(z) = sum c_e z^e the union of the e-fold sumsets, e with
        c_e != 0."""
        n = self.n
        zero = tuple([0] * n)
        powers = [e for e, c in enumerate(self.act.coefficients) if c] if self.act is not None else [self.r]
        supp: list[set[tuple[int, ...]]] = [{tuple(int(j == i) for j in range(n))} for i in range(n)]
        for li, (ki, si) in enumerate(zip(self.k, self.s)):
            out_len = (len(supp) - ki) // si + 1
            new = []
            for j in range(out_len):
                u: set[tuple[int, ...]] = set()
                for m in range(ki):
                    u |= supp[si * j + m]
                if self.bias:
                    u.add(zero)
                new.append(u)
            supp = new
            if li < self.depth - 1 and powers != [1]:
                powered = []
                for u in supp:
                    acc, union = {zero}, {zero} if 0 in powers else set()
                    for e in range(1, max(powers) + 1):
                        acc = {tuple(a + b for a, b in zip(x, y)) for x in acc for y in u}
                        if e in powers:
                            union |= acc
                        if len(acc) + len(union) > _SUPPORT_LIMIT:
                            return None
                    powered.append(union)
                supp = powered
        return supp

    def _all_monomials(self) -> int:
        """Number of monomials of degree D (of degree <= D when not homogeneous) in the n inputs."""
        D = self.degree_in_inputs
        return comb(self.n + D - 1, D) if self.homogeneous else comb(self.n + D, D)

    def containing_monomials(self) -> list[np.ndarray] | None:
        supp = self.monomial_support() if self._all_monomials() <= _SUPPORT_LIMIT else None
        if supp is None or sum(len(u) for u in supp) > MONOMIAL_LIMIT:
            return None
        return [np.array(sorted(u), dtype=np.int64) for u in supp]

    def ambient_upper_bound(self) -> tuple[int, str]:
        D = self.degree_in_inputs
        supp = self.monomial_support() if self._all_monomials() <= _SUPPORT_LIMIT else None
        if supp is None:
            out, kind = self.output_size(), "forms of degree" if self.homogeneous else "polynomials of degree <="
            return out * self._all_monomials(), f"{out}-tuples of {kind} {D} in {self.n} variables"
        total = sum(len(u) for u in supp)
        return total, f"span of the {total} monomials that can occur (support of the convolutions, degree {D})"

    def containing_architectures(self) -> list[tuple[Architecture, str]]:
        """s = lead (x + c)^r + e with biases: the same neuromanifold as x^r with biases (a filter w after s sees
        lead (z + c)^r and the constant e * sum(w), absorbed by its bias)."""
        if self.act is not None and self.rescaling is not None:
            return [(CNN(self.k, self.s, self.r, self.n, True), shifted_reason(self.act))]
        return []

    def symmetries(self) -> list[AffineField]:
        """Filter rescalings w_i * t, w_{i+1} * t^-r (b_i * t too); for s(z) = lead (z + c)^r + e with biases
        z + c is rescaled and b_{i+1} absorbs e * sum(w_{i+1}) (``activation.shifted_rescaling``).  None for
        other activations."""
        if self.rescaling is None:
            return []
        L, Lc, Le, r = self.rescaling
        gens = []
        for i in range(self.depth - 1):
            fb = FieldBuilder(self, f"filter rescalings: w{i + 1} * t, w{i + 2} * t^-{r}"
                              + ("" if (Lc, Le) == (0, 0) else " (about the shift of the activation)"))
            fb.scale(f"w{i + 1}", L)
            if self.bias:
                fb.scale(f"b{i + 1}", L)
                if Lc:
                    fb.const((f"b{i + 1}", (0,)), Lc)
            fb.scale(f"w{i + 2}", -r * L)
            if Le:
                for m in range(self.k[i + 1]):
                    fb.add((f"b{i + 2}", (0,)), (f"w{i + 2}", (m,)), r * Le)
            gens.append(fb.field)
        return gens
