"""Network architectures as polynomial maps, and the spec-string parser."""

from .attention import Attention
from .base import AffineField, Architecture, DiscreteSymmetry, Param
from .conv import CNN
from .dense import MLP, Linear
from .equivariant import GCNN, EquivariantMLP
from .registry import families
from .relu import ReLU
from .residual import ResMLP
from .spec import parse_spec

__all__ = [
    "AffineField",
    "Architecture",
    "Attention",
    "CNN",
    "DiscreteSymmetry",
    "EquivariantMLP",
    "GCNN",
    "Linear",
    "MLP",
    "Param",
    "ReLU",
    "ResMLP",
    "families",
    "parse_spec",
]
