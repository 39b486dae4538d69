"""Equivariant layers in torch: planar group convolutions (C4, D4) and spherical convolutions (S^2, SO(3)).

``groups``/``planar``: lifting Z^2 -> G x Z^2, group G x Z^2 -> G x Z^2 convolutions and group pooling
(written here, exact index permutations).  ``grids``/``sphere``: Driscoll-Healy and SOFT grids with
bandlimit checks, S^2 -> SO(3), SO(3) -> SO(3) and SO(3) -> S^2 convolutions in the Fourier domain
(e3nn's real spherical harmonics and Wigner matrices).  ``digits``/``models``/``experiment``: the
equivariance-versus-augmentation experiments (``neuromanifold experiment equivariance``); ``report``: their
markdown, JSON and figure.
"""

from .grids import S2Grid, SO3Grid, check_bandlimit, dh_weights
from .groups import GROUPS, PlanarGroup, planar_group
from .models import GroupCNN, PlanarCNN, SphereGridCNN, SphericalCNN, n_parameters
from .planar import GroupConv2d, GroupPool, LiftingConv2d
from .sphere import S2Activation, S2Convolution, SO3Activation, SO3Convolution, SO3ToS2

__all__ = [
    "GROUPS", "PlanarGroup", "planar_group", "LiftingConv2d", "GroupConv2d", "GroupPool",
    "S2Grid", "SO3Grid", "check_bandlimit", "dh_weights",
    "S2Convolution", "SO3Convolution", "SO3ToS2", "S2Activation", "SO3Activation",
    "GroupCNN", "PlanarCNN", "SphericalCNN", "SphereGridCNN", "n_parameters",
]
