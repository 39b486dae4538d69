"""Network architectures as polynomial maps, and the spec-string parser."""

from .attention import Attention
from .base import AffineField, Architecture, DiscreteSymmetry, Param
from .conv import CNN
from .dense import MLP, Linear
from .spec import families, parse_spec

__all__ = [
    "AffineField",
    "Architecture",
    "Attention",
    "CNN",
    "DiscreteSymmetry",
    "Linear",
    "MLP",
    "Param",
    "families",
    "parse_spec",
]
