"""Training dynamics under symmetry (issue 9).

``projection``: C4 acting on conv layers (trivial / regular channels), the orthogonal projection onto the
equivariant layers E, kernel supports L and their compatibility (commuting projections, certified).
``augmentation``: restricted (in E cap L) versus augmented training near equivariant stationary points
(Nordenfors, Ohlsson, Flinth).  ``ntk``: empirical NTK of any torch module (torch.func) and its
equivariance error.  ``ensembles``: emergent invariance of augmented deep ensembles (Gerken & Kessel).
``harmonics``: invariant power-spectral networks learn the irreps of a finite group; the Cayley table is
read off the weights (Marchetti, Hillar, Kragic, Sanborn).  ``experiment``: the runs behind
``neuromanifold experiment dynamics|ensemble|harmonics``; ``report``: their markdown, JSON and figures.
"""

from .harmonics import GroupWithIrreps, PowerSpectralNet, finite_group, recovered_table, table_accuracy
from .ntk import empirical_ntk, ntk_equivariance_error
from .projection import SUPPORTS, BiasAction, ConvAction, InvariantAction, LayerSpace, support_mask

__all__ = [
    "SUPPORTS", "BiasAction", "ConvAction", "InvariantAction", "LayerSpace", "support_mask",
    "empirical_ntk", "ntk_equivariance_error",
    "GroupWithIrreps", "PowerSpectralNet", "finite_group", "recovered_table", "table_accuracy",
]
