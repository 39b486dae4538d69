"""Data manifolds: normalizing flows, the metric they induce, and diffeomorphic counterfactuals
(Dombrowski, Gerken, Mueller, Kessel, "Diffeomorphic counterfactuals with generative models", TPAMI 2024).

data.py: points near a helix in R^3 (exact distance to the curve), the bundled 8x8 digits;
models.py: RealNVP / neural spline flows (zuko), Glow (normflows), classifiers, training;
metric.py: gamma^{-1} = (dg/dz)(dg/dz)^T, its tangent/normal split on the helix;
counterfactuals.py: gradient ascent toward a target class in base space vs data space;
experiment.py: the ``neuromanifold experiment counterfactuals`` runs; report.py: their reports.
"""

from .counterfactuals import AscentResult, gradient_ascent
from .data import Helix, helix_dataset, load_digits_split
from .metric import helix_metric, inverse_metric, normal_collapse
from .models import Classifier, GlowFlow, ZukoFlow, check_invertible, make_flow, train_classifier, train_flow

__all__ = ["AscentResult", "Classifier", "GlowFlow", "Helix", "ZukoFlow", "check_invertible", "gradient_ascent",
           "helix_dataset", "helix_metric", "inverse_metric", "load_digits_split", "make_flow", "normal_collapse",
           "train_classifier", "train_flow"]
