"""1-D single-channel convolutional networks without padding (``cnn``).

Layer i convolves with a filter w_i of size k_i and stride s_i:
(w * x)[j] = sum_m w[m] x[s j + m], output length floor((n - k)/s) + 1, and x^r acts between
layers.  With the default input length n the output is one polynomial of degree r^(L-1).
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

_SUPPORT_LIMIT = 200_000


def _default_length(k: tuple[int, ...], s: tuple[int, ...]) -> int:
    n = 1
    for ki, si in zip(reversed(k), reversed(s)):
        n = si * (n - 1) + ki
    return n


@dataclass(frozen=True, repr=False)
class CNN(Architecture):
    """Convolutions with filter sizes k, strides s, activation x^r, input length n."""

    k: tuple[int, ...]
    s: tuple[int, ...]
    r: int
    n: int

    family: ClassVar[str] = "cnn"
    summary: ClassVar[str] = "1-D single-channel convolutions, no padding, activation x^r between layers"
    form: ClassVar[str] = (
        "cnn(k=(k1,...,kL), s=(s1,...,sL), r=2, n=None) with every k_i, s_i >= 1, len(s) == len(k), r >= 1, "
        "n >= the receptive field (default: the smallest n giving one output)"
    )
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("k", None, "filter sizes (k1,...,kL), first layer first", required=True),
        Param("s", None, "strides (s1,...,sL); default all 1"),
        Param("r", 2, "exponent of the activation x^r (r=1: linear CNN)"),
        Param("n", None, "input length; default the smallest length with a single output"),
    )

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "CNN":
        check_keys(cls, kw, {"k", "s", "r", "n"})
        if "k" not in kw:
            raise SpecError(f"{cls.family}: k is required; valid form: {cls.form}")
        k = int_tuple(cls, "k", kw["k"])
        s_val = kw.get("s")
        s = (1,) * len(k) if s_val is None else int_tuple(cls, "s", s_val)
        if len(s) != len(k):
            raise SpecError(
                f"{cls.family}: k has {len(k)} filters but s has {len(s)} strides; valid form: {cls.form}"
            )
        r = positive_int(cls, "r", kw.get("r", 2))
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
        return cls(k, s, r, n)

    def spec(self) -> str:
        return f"cnn(k={fmt_tuple(self.k)}, s={fmt_tuple(self.s)}, r={self.r}, n={self.n})"

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
        return {f"w{i + 1}": (ki,) for i, ki in enumerate(self.k)}

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
            H = acc
            if i < self.depth - 1 and self.r != 1:
                H = H**self.r
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
        """Exponent vectors that can occur in each output coordinate (None if too many)."""
        n = self.n
        supp: list[set[tuple[int, ...]]] = [{tuple(int(j == i) for j in range(n))} for i in range(n)]
        for li, (ki, si) in enumerate(zip(self.k, self.s)):
            out_len = (len(supp) - ki) // si + 1
            new = []
            for j in range(out_len):
                u: set[tuple[int, ...]] = set()
                for m in range(ki):
                    u |= supp[si * j + m]
                new.append(u)
            supp = new
            if li < self.depth - 1 and self.r != 1:
                powered = []
                for u in supp:
                    acc = {tuple([0] * n)}
                    for _ in range(self.r):
                        acc = {tuple(a + b for a, b in zip(x, y)) for x in acc for y in u}
                        if len(acc) > _SUPPORT_LIMIT:
                            return None
                    powered.append(acc)
                supp = powered
        return supp

    def containing_monomials(self) -> list[np.ndarray] | None:
        D = self.degree_in_inputs
        supp = self.monomial_support() if comb(self.n + D - 1, D) <= _SUPPORT_LIMIT else None
        if supp is None or sum(len(u) for u in supp) > MONOMIAL_LIMIT:
            return None
        return [np.array(sorted(u), dtype=np.int64) for u in supp]

    def ambient_upper_bound(self) -> tuple[int, str]:
        D = self.degree_in_inputs
        supp = self.monomial_support() if comb(self.n + D - 1, D) <= _SUPPORT_LIMIT else None
        if supp is None:
            out = self.output_size()
            return out * comb(self.n + D - 1, D), f"{out}-tuples of forms of degree {D} in {self.n} variables"
        total = sum(len(u) for u in supp)
        return total, f"span of the {total} monomials that can occur (support of the convolutions, degree {D})"

    def symmetries(self) -> list[AffineField]:
        gens = []
        for i in range(self.depth - 1):
            fb = FieldBuilder(self, f"filter rescalings: w{i + 1} * t, w{i + 2} * t^-{self.r}")
            fb.scale(f"w{i + 1}", 1)
            fb.scale(f"w{i + 2}", -self.r)
            gens.append(fb.field)
        return gens
