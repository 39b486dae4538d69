"""The architecture families by spec name, and the choice of the class that builds a parsed spec.

``mlp`` with ``equivariant=GROUP`` is built by ``EquivariantMLP`` (weights in the commutant of the
group action), every other spec by the family registered under its name.  The families do not
import this module; the parser (``spec``) imports only this one.
"""

from __future__ import annotations

from typing import Any

from .attention import Attention
from .base import Architecture
from .conv import CNN
from .dense import MLP, Linear
from .equivariant import GCNN, EquivariantMLP
from .relu import ReLU
from .residual import ResMLP

_FAMILIES: tuple[type[Architecture], ...] = (Linear, MLP, ResMLP, CNN, Attention, GCNN, ReLU)


def families() -> dict[str, type[Architecture]]:
    """The registered architecture families, by spec name."""
    return {cls.family: cls for cls in _FAMILIES}


def usage(family: str) -> str:
    return families()[family].usage()


def build(family: str, kwargs: dict[str, Any]) -> Architecture:
    """The architecture of a registered family from validated-literal keywords (the family's
    ``from_kwargs`` checks them and raises ``SpecError``)."""
    cls = families()[family]
    if cls is MLP and kwargs.get("equivariant") is not None:
        cls = EquivariantMLP
    return cls.from_kwargs(**kwargs)
