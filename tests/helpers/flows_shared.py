"""A small flow and classifier on points near a helix, trained once per test session (seconds)."""

from __future__ import annotations

import functools

import numpy as np
import torch

from neuromanifold.flows.data import Helix, helix_dataset
from neuromanifold.flows.models import Classifier, ZukoFlow, train_classifier, train_flow

NOISE = 0.05


@functools.cache
def trained_helix(epochs: int = 60, seed: int = 0):
    """(helix, train data, held-out data, NSF flow, classifier): 2000 points, noise 0.05."""
    helix = Helix()
    train = helix_dataset(n=2000, noise=NOISE, classes=4, seed=seed, helix=helix)
    hold = helix_dataset(n=400, noise=NOISE, classes=4, seed=seed + 1, helix=helix)
    X, Y = torch.tensor(train.x, dtype=torch.float32), torch.tensor(train.labels)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: one thread is fastest and does not fight other processes
    try:
        torch.manual_seed(seed)
        flow = ZukoFlow(3, "nsf", transforms=4, hidden=(64, 64))
        train_flow(flow, lambda rng: X, epochs, lr=3e-3, batch=256, seed=seed)
        torch.manual_seed(seed)
        clf = Classifier(3, 4)
        train_classifier(clf, lambda rng: (X, Y), 60, seed=seed)
    finally:
        torch.set_num_threads(threads)
    return helix, train, hold, flow, clf


def helix_starts(n: int = 100):
    """n start points on the helix (nearest points of held-out samples) and their adjacent-segment targets."""
    from neuromanifold.flows.experiment import helix_targets

    helix, train, hold, flow, clf = trained_helix()
    t, _ = helix.project(hold.x[:n])
    labels = hold.segment(t)
    return helix.point(t), labels, helix_targets(helix, 4, t, labels, "adjacent", np.random.default_rng(0))
