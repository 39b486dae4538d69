"""The Architecture protocol: parameter shapes, a forward pass written once for every number
system, the dimension of a linear function space containing the neuromanifold, and the known
symmetries (continuous ones as affine vector fields on parameter space, discrete ones described).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import lru_cache
from dataclasses import dataclass, field
from math import prod
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Param:
    """One family parameter of a spec string (for ``neuromanifold architectures``)."""

    name: str
    default: Any
    doc: str
    required: bool = False


@dataclass
class AffineField:
    """An affine vector field g(theta) = A theta + c on parameter space, A and c integral.

    Stored sparsely as (target, source, coefficient) triples and (target, constant) pairs, so
    evaluation is exact in every number system (Z/p included).
    """

    name: str
    linear: list[tuple[int, int, int]] = field(default_factory=list)
    constant: list[tuple[int, int]] = field(default_factory=list)

    def evaluate(self, theta: np.ndarray) -> np.ndarray:
        """Evaluate at a numpy parameter vector (float, complex, object or int64 residues)."""
        out = np.zeros_like(theta)
        for tgt, src, c in self.linear:
            out[tgt] = out[tgt] + c * theta[src]
        for tgt, c in self.constant:
            out[tgt] = out[tgt] + c
        return out


class FieldBuilder:
    """Helper to write symmetry generators in terms of named parameter entries."""

    def __init__(self, arch: "Architecture", name: str):
        self.arch = arch
        self.field = AffineField(name)

    def add(self, tgt: tuple[str, tuple[int, ...]], src: tuple[str, tuple[int, ...]], coef: int) -> None:
        """d theta[tgt] += coef * theta[src]."""
        self.field.linear.append((self.arch.index(*tgt), self.arch.index(*src), int(coef)))

    def const(self, tgt: tuple[str, tuple[int, ...]], coef: int) -> None:
        """d theta[tgt] += coef."""
        self.field.constant.append((self.arch.index(*tgt), int(coef)))

    def scale(self, name: str, coef: int) -> None:
        """d theta[name] += coef * theta[name] (every entry of one parameter array)."""
        for idx in np.ndindex(*self.arch.param_shapes()[name]):
            self.add((name, idx), (name, idx), coef)


@dataclass(frozen=True)
class DiscreteSymmetry:
    name: str
    order: int | None
    description: str


class Architecture(ABC):
    """A network architecture as a polynomial map mu: parameters -> functions."""

    family: ClassVar[str]
    summary: ClassVar[str]
    form: ClassVar[str]  # the valid form, e.g. "mlp(widths=(d0,...,dh), r=2, bias=False)"
    spec_params: ClassVar[tuple[Param, ...]]
    # False for piecewise-polynomial families (relu): no exact/modular forward pass, numerical invariants only
    polynomial: ClassVar[bool] = True

    @classmethod
    def usage(cls) -> str:
        return cls.form

    @classmethod
    @abstractmethod
    def from_kwargs(cls, **kwargs: Any) -> "Architecture":
        """Validate spec keywords (raise SpecError naming the problem) and build."""

    # -- identity ------------------------------------------------------------------
    @abstractmethod
    def spec(self) -> str:
        """Canonical spec string, every parameter written out."""

    def __repr__(self) -> str:
        return self.spec()

    # -- parameters ----------------------------------------------------------------
    @abstractmethod
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Ordered parameter names and their shapes."""

    @property
    def n_params(self) -> int:
        return sum(prod(s) for s in self.param_shapes().values())

    @lru_cache(maxsize=None)  # noqa: B019 - architectures are frozen (hashable) dataclasses
    def offsets(self) -> dict[str, int]:
        off, out = 0, {}
        for name, shape in self.param_shapes().items():
            out[name] = off
            off += prod(shape)
        return out

    def index(self, name: str, idx: tuple[int, ...]) -> int:
        """Position of entry ``idx`` of parameter ``name`` in the flat parameter vector."""
        shape = self.param_shapes()[name]
        return self.offsets()[name] + int(np.ravel_multi_index(idx, shape)) if shape else self.offsets()[name]

    def param_labels(self) -> list[str]:
        labels = []
        for name, shape in self.param_shapes().items():
            for idx in np.ndindex(*shape):
                labels.append(f"{name}[{','.join(map(str, idx))}]")
        return labels

    def unflatten(self, theta: Any) -> dict[str, Any]:
        """Split a flat parameter vector (any array type with slicing/reshape) into named arrays.

        A batch of points (shape (..., N)) gives arrays of shape (..., *param_shape); every
        ``forward`` broadcasts over such leading batch axes."""
        out, off = {}, 0
        batch = tuple(theta.shape[:-1])  # leading axes index a batch of parameter points
        for name, shape in self.param_shapes().items():
            size = prod(shape)
            out[name] = theta[..., off : off + size].reshape(batch + tuple(shape))
            off += size
        return out

    # -- functions -----------------------------------------------------------------
    @abstractmethod
    def input_shape(self, n_samples: int) -> tuple[int, ...]:
        """Shape of a batch of ``n_samples`` inputs, as ``forward`` expects it."""

    @abstractmethod
    def forward(self, params: dict[str, Any], X: Any) -> Any:
        """The network on a batch, using only +, *, **int, @, slicing and .mT."""

    @abstractmethod
    def output_size(self) -> int:
        """Number of output coordinates per input sample."""

    @property
    @abstractmethod
    def n_inputs(self) -> int:
        """Number of input variables of one sample."""

    @property
    @abstractmethod
    def degree_in_inputs(self) -> int:
        """Degree of the network function as a polynomial in its inputs."""

    @property
    def homogeneous(self) -> bool:
        return True

    def output_to_matrix(self, Y: Any, n_samples: int) -> Any:
        """Batch output -> array of shape (..., n_samples, output_size) (same array type)."""
        return Y.reshape(tuple(Y.shape[:-2]) + (n_samples, self.output_size()))

    def flat_inputs(self, X: np.ndarray) -> np.ndarray:
        """A batch of inputs (numpy, ``input_shape`` layout) as rows (S, n_inputs), the variable
        order of ``containing_monomials``.  Default: samples are the columns."""
        return np.asarray(X).T

    def containing_monomials(self) -> list[np.ndarray] | None:
        """Per output coordinate, exponent vectors (m, n_inputs) of monomials whose span contains
        that coordinate of every function in M; None when too many to list."""
        return None

    @abstractmethod
    def ambient_upper_bound(self) -> tuple[int, str]:
        """Dimension of an explicit linear function space containing M, and what it is."""

    # -- symmetries ----------------------------------------------------------------
    @abstractmethod
    def symmetries(self) -> list[AffineField]:
        """Known continuous symmetries: infinitesimal generators as affine vector fields.

        Each generator g satisfies d mu(theta) . g(theta) = 0 identically.  The list is
        meant to be linearly independent as vector fields.
        """

    def discrete_symmetries(self) -> list[DiscreteSymmetry]:
        return []

    def equation_upper_bound(self) -> tuple[int, str] | None:
        """(bound, reason): dim M <= bound because every function of M satisfies polynomial equations that cut out a
        variety of that dimension (a mathematical fact about the parametrization, stated in ``reason``); None when
        no such equations are known."""
        return None

    def containing_architectures(self) -> list[tuple["Architecture", str]]:
        """Architectures M' with M contained in M' as sets of functions (or in a translate f0 + M' by one fixed
        function f0, as x + B s(A x) for a residual block), each with the reason.

        Every M' must have the same input layout and outputs (``input_shape``, ``output_size``,
        ``output_to_matrix``), so that dim M <= dim M' bounds the dimension from above.  The
        containment must be a mathematical fact about the parametrizations, not a heuristic.
        """
        return []

    def symmetry_summary(self) -> dict[str, Any]:
        """Known symmetries grouped by kind (the part of each generator name before ':')."""
        groups: dict[str, int] = {}
        for g in self.symmetries():
            key = g.name.split(":")[0]
            groups[key] = groups.get(key, 0) + 1
        return {
            "continuous": [{"group": k, "generators": v} for k, v in groups.items()],
            "discrete": [
                {"name": d.name, "order": d.order, "description": d.description} for d in self.discrete_symmetries()
            ],
        }

    def symmetry_matrix(self, theta: np.ndarray) -> np.ndarray:
        """N x (#generators) matrix of the generators at a numpy parameter vector."""
        gens = self.symmetries()
        if not gens:
            return np.zeros((self.n_params, 0), dtype=theta.dtype)
        return np.stack([g.evaluate(theta) for g in gens], axis=1)
