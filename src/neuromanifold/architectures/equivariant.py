"""Equivariant polynomial networks: group convolutions (``gcnn``) and dense networks whose weights
commute with a permutation action (``mlp(..., equivariant="C3")``).

Every layer space is V_i = R^{m_i} (x) R^X: m_i copies of one transitive G-set X (``groups``),
neuron a |X| + x being point x of copy a, g acting by g.(a, x) = (a, g.x).  A weight matrix
W_i in Hom_G(V_{i-1}, V_i) (W P_g = P_g W for every g) is

    W_i[a |X| + o, b |X| + x] = w_i[a, b, O(o, x)],      w_i in C^{m_i x m_{i-1} x K},

O(o, x) the G-orbit of the pair (o, x) on X x X (the orbital basis of the commutant: K = number
of orbitals; for the regular action K = |G| and W_i is a G-circulant, a group convolution).  A
bias is G-invariant, constant on each copy: b_i[a |X| + x] = beta_i[a].  The network is
f = W_L s(... s(W_1 x + b_1) ...) + b_L with s(z) = z^r entrywise; s commutes with
permutations, so f(P_g x) = P_g f(x): the neuromanifold lies in the G-equivariant polynomial
maps, whose dimension is the number of G-orbits on (output, monomial) pairs (Burnside).

``gcnn`` writes the same layers as group convolutions y_c'(g) = sum_c sum_h w_c'c(h^-1 g) x_c(h)
on the regular representation (filter w_i[c', c, k] = w(k), k a group element) and may end by
summing over the group (``output="invariant"``): then only sum_k w_L[c', c, k] matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import factorial, prod
from typing import Any, ClassVar

import numpy as np

from ..errors import SpecError
from .base import AffineField, Architecture, DiscreteSymmetry, FieldBuilder, Param
from .dense import MLP
from .groups import (
    ACTIONS,
    cycle_lengths,
    equivariant_automorphisms,
    fixed_monomials,
    group,
    isotypic_components,
    orbitals,
    parse_group,
    structure_constants,
)
from .params import check_keys, fmt_tuple, int_tuple, positive_int


class GroupDense(Architecture):
    """Shared structure of the equivariant families (layer spaces m_i copies of a G-set X).

    Subclasses set ``group`` (canonical name), ``r``, ``bias``, ``copies`` (m_0, ..., m_L),
    ``action`` ('regular' | 'natural'), ``invariant_output`` and the weight name ``weight``."""

    group: str
    r: int
    bias: bool
    weight: ClassVar[str] = "W"

    # -- the G-sets ---------------------------------------------------------------------
    @property
    def copies(self) -> tuple[int, ...]:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def action(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def invariant_output(self) -> bool:
        return False

    @property
    def G(self) -> Any:
        return group(self.group)

    @property
    def perm(self) -> np.ndarray:
        """The action of G on X, shape (|G|, |X|)."""
        return self.G.action(self.action)

    @property
    def n_points(self) -> int:
        return int(self.perm.shape[1])

    def orbital_matrix(self) -> tuple[np.ndarray, int]:
        """(O, K): O[o, x] the index of the orbital of (o, x) in the weight tensors."""
        return orbitals(self.perm)

    @property
    def depth(self) -> int:
        return len(self.copies) - 1

    @property
    def widths(self) -> tuple[int, ...]:
        """Neuron widths m_i |X| (the last one m_L for an invariant output)."""
        w = [m * self.n_points for m in self.copies]
        if self.invariant_output:
            w[-1] = self.copies[-1]
        return tuple(w)

    # -- parameters ---------------------------------------------------------------------
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        _, K = self.orbital_matrix()
        shapes: dict[str, tuple[int, ...]] = {}
        for i in range(1, self.depth + 1):
            shapes[f"{self.weight}{i}"] = (self.copies[i], self.copies[i - 1], K)
            if self.bias:
                shapes[f"b{i}"] = (self.copies[i],)
        return shapes

    def weight_matrix(self, i: int, w: np.ndarray) -> np.ndarray:
        """The full d_i x d_{i-1} matrix of layer i from its coefficients (numpy, for tests)."""
        O, K = self.orbital_matrix()
        n = self.n_points
        m_out, m_in = self.copies[i], self.copies[i - 1]
        W = np.zeros((m_out * n, m_in * n), dtype=np.result_type(w))
        for a in range(m_out):
            for b in range(m_in):
                W[a * n : (a + 1) * n, b * n : (b + 1) * n] = np.asarray(w)[a, b][O]
        return W

    # -- functions ----------------------------------------------------------------------
    def input_shape(self, n_samples: int) -> tuple[int, ...]:
        return (self.copies[0] * self.n_points, n_samples)

    output_to_matrix = MLP.output_to_matrix  # outputs x samples -> samples x outputs

    def output_size(self) -> int:
        return self.widths[-1]

    @property
    def n_inputs(self) -> int:
        return self.copies[0] * self.n_points

    # as for the dense mlp: forms of degree r^(h-1) (<= with biases) in the inputs, in their monomials' span
    degree_in_inputs = MLP.degree_in_inputs
    act = None  # equivariant families take x^r only
    homogeneous = MLP.homogeneous
    degrees = MLP.degrees
    containing_monomials = MLP.containing_monomials

    def ambient_upper_bound(self) -> tuple[int, str]:
        """dim of the G-equivariant polynomial maps of degree D (<= D with biases): the number of
        G-orbits on pairs (output coordinate, monomial), by Burnside's lemma
        (1/|G|) sum_g #fixed outputs(g) * #fixed monomials(g), exact integer arithmetic."""
        P, D = self.perm, self.degree_in_inputs
        m0, mL = self.copies[0], self.copies[-1]
        total = 0
        for g in range(P.shape[0]):
            cycles = cycle_lengths(P[g]) * m0
            if self.bias:
                cycles = cycles + [1]  # homogenising variable: degree <= D in n = degree D in n + 1
            fix_out = mL if self.invariant_output else mL * int(np.sum(P[g] == np.arange(P.shape[1])))
            total += fix_out * fixed_monomials(cycles, D)
        count, rem = divmod(total, P.shape[0])
        if rem:
            raise AssertionError("Burnside count is not an integer")
        kind = "invariant" if self.invariant_output else "equivariant"
        forms = "polynomials of degree <= " if self.bias else "forms of degree "
        return count, (
            f"{self.group}-{kind} {self.output_size()}-tuples of {forms}{D} in {self.n_inputs} variables "
            "(G-orbits on output x monomial pairs, Burnside count)"
        )

    # -- symmetries ---------------------------------------------------------------------
    def _algebra(self) -> tuple[np.ndarray, np.ndarray]:
        """Structure constants c[k, l, m] of the orbital matrices and their row sums deg[k]."""
        O, K = self.orbital_matrix()
        deg = np.array([int(np.sum(O[0] == k)) for k in range(K)], dtype=np.int64)
        return structure_constants(O, K), deg

    def symmetries(self) -> list[AffineField]:
        """r >= 2: rescaling of each hidden copy (incoming coefficients * t, outgoing * t^-r): the
        G-invariant part of the neuron rescalings.  r = 1: the units of End_G(V_i) at every hidden
        layer (W_i -> E W_i, b_i -> E b_i, W_{i+1} -> W_{i+1} E^-1, E = E_ab (x) O_k) and, with
        biases, G-invariant translations.  Invariant output: shifts of the last filter that keep
        its sums over the group."""
        Wn, L, m = self.weight, self.depth, self.copies
        _, K = self.orbital_matrix()
        gens: list[AffineField] = []
        if self.r == 1:
            c, deg = self._algebra()
            nz = [(k, l, mm, int(c[k, l, mm])) for k in range(K) for l in range(K) for mm in range(K) if c[k, l, mm]]
        for i in range(1, L):
            W, Wnext, b = f"{Wn}{i}", f"{Wn}{i + 1}", f"b{i}"
            if self.r != 1:
                for a in range(m[i]):
                    fb = FieldBuilder(self, f"copy rescalings in hidden layer {i}: copy {a}")
                    for idx in np.ndindex(m[i - 1], K):
                        fb.add((W, (a, *idx)), (W, (a, *idx)), 1)
                    if self.bias:
                        fb.add((b, (a,)), (b, (a,)), 1)
                    for o, k in np.ndindex(m[i + 1], K):
                        fb.add((Wnext, (o, a, k)), (Wnext, (o, a, k)), -self.r)
                    gens.append(fb.field)
                continue
            for a2 in range(m[i]):
                for b2 in range(m[i]):
                    for k in range(K):
                        fb = FieldBuilder(self, f"End_G units at hidden layer {i}: E[{a2},{b2}] (x) O{k}")
                        for kk, l, mm, cc in nz:
                            if kk == k:  # d W_i[a2, b, mm] += c[k, l, mm] W_i[b2, b, l]
                                for bb in range(m[i - 1]):
                                    fb.add((W, (a2, bb, mm)), (W, (b2, bb, l)), cc)
                            if l == k:  # d W_{i+1}[o, b2, mm] -= c[kk, k, mm] W_{i+1}[o, a2, kk]
                                for o in range(m[i + 1]):
                                    fb.add((Wnext, (o, b2, mm)), (Wnext, (o, a2, kk)), -cc)
                        if self.bias:
                            fb.add((b, (a2,)), (b, (b2,)), int(deg[k]))
                        gens.append(fb.field)
            if self.bias:
                for a in range(m[i]):
                    fb = FieldBuilder(self, f"G-invariant translations at hidden layer {i}: copy {a}")
                    fb.const((b, (a,)), 1)
                    for o in range(m[i + 1]):
                        for l in range(K):
                            fb.add((f"b{i + 1}", (o,)), (Wnext, (o, a, l)), -int(deg[l]))
                    gens.append(fb.field)
        if self.invariant_output:
            for o, a in np.ndindex(m[L], m[L - 1]):
                for k in range(1, K):
                    fb = FieldBuilder(self, f"filter shifts of the summed output layer: {Wn}{L}[{o},{a}] e{k} - e0")
                    fb.const((f"{Wn}{L}", (o, a, k)), 1)
                    fb.const((f"{Wn}{L}", (o, a, 0)), -1)
                    gens.append(fb.field)
        return gens

    def discrete_symmetries(self) -> list[DiscreteSymmetry]:
        hidden = self.copies[1:-1]
        if not hidden or self.r == 1:
            return []
        aut = equivariant_automorphisms(self.perm)
        out = [
            DiscreteSymmetry(
                "equivariant neuron permutations",
                prod(aut**c * factorial(c) for c in hidden),
                f"permutations of each hidden layer commuting with {self.group}: permute its copies and apply one of "
                f"the {aut} {self.group}-equivariant permutations of X inside each copy",
            )
        ]
        if self.r % 2 == 0:
            out.append(
                DiscreteSymmetry(
                    "copy sign flips",
                    2 ** sum(hidden),
                    "negate the incoming coefficients of one hidden copy (x^r is even): the real rescaling group "
                    "has two components",
                )
            )
        return out

    # -- gauge and subnetworks (used by architectures.gauge and invariants.singularities) ------
    def gauge(self) -> list[int] | None:
        """Coordinates whose freezing meets each orbit of ``symmetries`` once (generically).

        r >= 2: W_i[a, 0, 0] fixes the rescaling of hidden copy a, layer by layer.  r = 1: the
        m_i x m_i block W_i[:, :m_i, :] (a generic unit of M_{m_i}(End_G(R^X))) fixes E (needs
        m_i <= m_{i-1}); b_i fixes the translations.  Invariant output: W_L[:, :, k >= 1]."""
        Wn, m = self.weight, self.copies
        _, K = self.orbital_matrix()
        idx: list[int] = []
        for i in range(1, self.depth):
            if self.r != 1:
                idx += [self.index(f"{Wn}{i}", (a, 0, 0)) for a in range(m[i])]
                continue
            if m[i] > m[i - 1]:
                return None
            idx += [self.index(f"{Wn}{i}", (a, b, k)) for a in range(m[i]) for b in range(m[i]) for k in range(K)]
            if self.bias:
                idx += [self.index(f"b{i}", (a,)) for a in range(m[i])]
        if self.invariant_output:
            L = self.depth
            idx += [self.index(f"{Wn}{L}", (o, a, k)) for o in range(m[L]) for a in range(m[L - 1]) for k in range(1, K)]
        return sorted(idx)

    def subnetworks(self) -> list[tuple[str, str, list[int], np.ndarray | None]]:
        """(name, description, zeroed coordinates, linear constraints or None): hidden copies removed (coordinate
        subspaces); the zero function; for each layer and each real irreducible of G occurring in R^X, the
        isotypic component of the layer's weights zero (``isotypic_constraints``, a linear subspace)."""
        Wn, m = self.weight, self.copies
        _, K = self.orbital_matrix()
        out: list[tuple[str, str, list[int], np.ndarray | None]] = []
        for i in range(1, self.depth):
            for r in range(1, m[i]):
                zero: list[int] = []
                for a in range(m[i] - r, m[i]):
                    zero += [self.index(f"{Wn}{i}", (a, b, k)) for b in range(m[i - 1]) for k in range(K)]
                    if self.bias:
                        zero.append(self.index(f"b{i}", (a,)))
                    zero += [self.index(f"{Wn}{i + 1}", (o, a, k)) for o in range(m[i + 1]) for k in range(K)]
                out.append((f"layer {i}: {m[i] - r} of {m[i]} copies", f"{r} hidden copies of X in layer {i} removed",
                            sorted(zero), None))
        L = self.depth
        zero = [self.index(f"{Wn}{L}", idx) for idx in np.ndindex(m[L], m[L - 1], K)]
        if self.bias:
            zero += [self.index(f"b{L}", (o,)) for o in range(m[L])]
        out.append(("zero function", f"output layer {Wn}{L} zero (the vertex of M)", sorted(zero), None))
        comps = self.isotypic_components()
        if len(comps) > 1:  # one component: it is the whole layer, the family "layer zero"
            noun = "filter" if self.weight == "w" else "weights"
            for i in range(1, L + 1):
                for j, comp in enumerate(comps):
                    label = "trivial" if comp.trivial else f"isotypic #{j}"
                    what = "the trivial isotypic component" if comp.trivial else f"isotypic component #{j}"
                    chars = ", ".join(f"{v:g}" for v in comp.character)
                    out.append((
                        f"layer {i}: {label} component of the {noun} zero",
                        f"{Wn}{i} kills {what} of R^X (dimension {comp.dimension}, character "
                        f"({chars}) over the group elements): W_{i} (I (x) P) = 0, P its projector; "
                        + ("the layer's output is orthogonal to the G-invariant vectors" if comp.trivial else
                           "a subnetwork in the Fourier (isotypic) basis of the group"),
                        [], self.isotypic_constraints(i, comp.projector)))
        return out

    def isotypic_components(self) -> list[Any]:
        """The real isotypic components of R^X (``groups.isotypic_components``), trivial first."""
        return isotypic_components(self.G, self.perm)

    def isotypic_constraints(self, i: int, projector: np.ndarray) -> np.ndarray:
        """Orthonormal rows C (over all parameters) with C theta = 0 iff every block W_i[a, b] of layer i
        satisfies W_i[a, b] P = 0 (P the projector of an isotypic component of R^X; W_i[a, b] = sum_k
        w_i[a, b, k] O_k commutes with P, so this is also P W_i[a, b] = 0)."""
        O, K = self.orbital_matrix()
        M = np.stack([((O == k).astype(float) @ projector).reshape(-1) for k in range(K)], axis=1)  # (n^2, K)
        _, s, Vt = np.linalg.svd(M, full_matrices=False)
        rank = int(np.sum(s > 1e-9 * s[0]))
        rows_k = Vt[:rank]
        rows_k[np.abs(rows_k) < 1e-14] = 0.0
        m_out, m_in = self.copies[i], self.copies[i - 1]
        C = np.zeros((m_out * m_in * rank, self.n_params))
        r = 0
        for a in range(m_out):
            for b in range(m_in):
                idx = [self.index(f"{self.weight}{i}", (a, b, k)) for k in range(K)]
                C[r:r + rank][:, idx] = rows_k
                r += rank
        return C

    # -- the unconstrained counterpart ------------------------------------------------------
    def unconstrained_counterpart(self) -> tuple[Architecture, str]:
        """The dense network of the same neuron widths with unconstrained weights (contains M)."""
        w = self.widths
        if self.invariant_output:
            reason = (
                f"summing the {self.group}-convolution output over the group is a linear map of the last hidden "
                f"layer, so the network is a dense mlp with widths {fmt_tuple(w)} and constrained weights"
            )
        else:
            reason = f"{self.group}-equivariant weights are special dense weights of the same widths"
        return MLP(w, self.r, self.bias), reason

    def containing_architectures(self) -> list[tuple[Architecture, str]]:
        return [self.unconstrained_counterpart()]


def _check_multiples(family: str, widths: tuple[int, ...], n: int, g: str, action: str, form: str) -> None:
    bad = [w for w in widths if w % n]
    if bad:
        raise SpecError(
            f"{family}: with equivariant={g!r} and action={action!r} a layer is a number of copies of a {n}-point "
            f"{g}-set, so every width must be a multiple of {n}; got widths={fmt_tuple(widths)}; valid form: {form}"
        )


@dataclass(frozen=True, repr=False)
class EquivariantMLP(GroupDense):
    """Dense network x -> W_L s(... s(W_1 x + b_1) ...) + b_L, every W_i commuting with G."""

    widths_: tuple[int, ...]
    r: int
    bias: bool
    group: str
    action_: str = "regular"

    family: ClassVar[str] = "mlp"
    summary: ClassVar[str] = MLP.summary
    form: ClassVar[str] = MLP.form
    spec_params: ClassVar[tuple[Param, ...]] = ()

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "EquivariantMLP":
        widths, r, bias, act = MLP.checked_keywords(kw)  # the mlp checks and messages, then the group's
        if act is not None:
            raise SpecError(f"mlp: equivariant networks take r= (activation x^r) only, not act=; valid form: {MLP.form}")
        return cls.build(widths, r, bias, kw.get("equivariant"), kw.get("action", "regular"))

    @classmethod
    def build(cls, widths: tuple[int, ...], r: int, bias: bool, equivariant: Any, action: Any) -> "EquivariantMLP":
        form = MLP.form
        g = parse_group("mlp", equivariant, form)
        if action not in ACTIONS:
            raise SpecError(f"mlp: action must be one of {', '.join(map(repr, ACTIONS))}, got {action!r}; valid form: {form}")
        n = group(g).action(action).shape[1]
        _check_multiples("mlp", widths, n, g, action, form)
        return cls(tuple(widths), r, bias, g, action)

    def spec(self) -> str:
        return (
            f"mlp(widths={fmt_tuple(self.widths_)}, r={self.r}, bias={self.bias}, equivariant=\"{self.group}\", "
            f"action=\"{self.action_}\")"
        )

    @property
    def action(self) -> str:
        return self.action_

    @property
    def copies(self) -> tuple[int, ...]:
        return tuple(w // self.n_points for w in self.widths_)

    @lru_cache(maxsize=None)  # noqa: B019 - frozen dataclass
    def _gather(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Flat index of every entry of W_i into its coefficients (m_i * m_{i-1} * K), and the
        copy of every neuron of layer i (for the bias)."""
        O, K = self.orbital_matrix()
        n = self.n_points
        rows, cols = np.arange(self.widths_[i]), np.arange(self.widths_[i - 1])
        a, o = rows // n, rows % n
        b, x = cols // n, cols % n
        flat = (a[:, None] * self.copies[i - 1] + b[None, :]) * K + O[o[:, None], x[None, :]]
        return flat, a[:, None]

    def forward(self, params: dict[str, Any], X: Any) -> Any:
        H = X
        for i in range(1, self.depth + 1):
            w = params[f"W{i}"]
            flat, copy = self._gather(i)
            W = w.reshape(tuple(w.shape[:-3]) + (-1,))[..., flat]  # W_i[a n + o, b n + x] = w[a, b, O(o, x)]
            H = W @ H
            if self.bias:
                H = H + params[f"b{i}"][..., copy]
            if i < self.depth and self.r != 1:
                H = H**self.r
        return H


@dataclass(frozen=True, repr=False)
class GCNN(GroupDense):
    """Group convolutions on the regular representation, channels (c_0, ..., c_L), x^r between
    layers; output the regular representation (equivariant) or its sum over G (invariant)."""

    group: str
    channels: tuple[int, ...]
    r: int = 2
    output: str = "equivariant"

    bias: ClassVar[bool] = False  # type: ignore[misc]
    weight: ClassVar[str] = "w"
    family: ClassVar[str] = "gcnn"
    summary: ClassVar[str] = (
        "group convolutions y(g) = sum_h w(h^-1 g) x(h) on the regular representation of C_n, D_n or S_n, x^r "
        "between layers; equivariant or group-summed (invariant) output"
    )
    form: ClassVar[str] = (
        'gcnn(group="C5", layers=2, r=2, channels=(1,...,1), output="equivariant") with group C<n>, D<n> or S<n>, '
        'layers >= 1, channels (c0,...,cL) of length layers + 1 (default all 1), r >= 1, '
        'output "equivariant" or "invariant"'
    )
    spec_params: ClassVar[tuple[Param, ...]] = (
        Param("group", None, "the group: 'C<n>' cyclic (order n), 'D<n>' dihedral (order 2n), 'S<n>' symmetric",
              required=True),
        Param("layers", 2, "number of group-convolution layers L"),
        Param("r", 2, "exponent of the activation x^r between layers (r=1: linear)"),
        Param("channels", None, "channels (c0,...,cL) per layer, input first; default all 1"),
        Param("output", "equivariant", "'equivariant' (the regular representation) or 'invariant' (summed over G)"),
    )

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "GCNN":
        fam, form = cls.family, cls.form
        check_keys(cls, kw, {"group", "layers", "r", "channels", "output"})
        if "group" not in kw:
            raise SpecError(f"{fam}: group is required; valid form: {form}")
        g = parse_group(fam, kw["group"], form)
        r = positive_int(cls, "r", kw.get("r", 2))
        ch_val = kw.get("channels")
        if ch_val is None:
            layers = positive_int(cls, "layers", kw.get("layers", 2))
            channels = (1,) * (layers + 1)
        else:
            channels = int_tuple(cls, "channels", ch_val, min_len=2)
            if kw.get("layers") is not None:
                layers = positive_int(cls, "layers", kw["layers"])
                if layers != len(channels) - 1:
                    raise SpecError(
                        f"{fam}: layers={layers} but channels {fmt_tuple(channels)} describes {len(channels) - 1} "
                        f"layer(s) (give layers + 1 channel counts, input first); valid form: {form}"
                    )
        output = kw.get("output", "equivariant")
        if output not in ("equivariant", "invariant"):
            raise SpecError(f"{fam}: output must be 'equivariant' or 'invariant', got {output!r}; valid form: {form}")
        return cls(g, channels, r, output)

    def spec(self) -> str:
        return (
            f"gcnn(group=\"{self.group}\", layers={len(self.channels) - 1}, r={self.r}, "
            f"channels={fmt_tuple(self.channels)}, output=\"{self.output}\")"
        )

    @property
    def action(self) -> str:
        return "regular"

    @property
    def copies(self) -> tuple[int, ...]:
        return self.channels

    @property
    def invariant_output(self) -> bool:
        return self.output == "invariant"

    def orbital_matrix(self) -> tuple[np.ndarray, int]:
        """O[g, h] = h^-1 g: filter tap k = h^-1 g couples input h to output g."""
        G = self.G
        return G.table[G.inverse].T.copy(), G.order

    @lru_cache(maxsize=None)  # noqa: B019 - frozen dataclass
    def _shifts(self) -> np.ndarray:
        """shifts[k, g] = index of g k^-1: y(g) = sum_k w(k) x(g k^-1)."""
        G = self.G
        return G.table[:, G.inverse].T.copy()

    def forward(self, params: dict[str, Any], X: Any) -> Any:
        n, S = self.G.order, X.shape[-1]
        shifts = self._shifts()
        H = X
        for i in range(1, self.depth + 1):
            w = params[f"w{i}"]  # (..., c_i, c_{i-1}, |G|)
            c_in, c_out = self.channels[i - 1], self.channels[i]
            lead = tuple(H.shape[:-2])
            Hs = H.reshape(lead + (c_in, n, S))
            acc = None
            for k in range(n):
                Hk = Hs[..., :, shifts[k], :].reshape(lead + (c_in, n * S))  # x_c(g k^-1)
                term = w[..., :, :, k] @ Hk
                acc = term if acc is None else acc + term
            H = acc.reshape(tuple(acc.shape[:-2]) + (c_out * n, S))
            if i < self.depth and self.r != 1:
                H = H**self.r
        if self.invariant_output:
            Hs = H.reshape(tuple(H.shape[:-2]) + (self.channels[-1], n, S))
            out = Hs[..., :, 0, :]
            for g in range(1, n):
                out = out + Hs[..., :, g, :]
            H = out
        return H
