"""Small data for the training-dynamics experiments: scikit-learn's bundled 8x8 digits (no download),
the C4 orbit of an image batch (exact index permutations, ``torch.rot90``), and off-manifold noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError


@dataclass
class Split:
    """Images ``x`` (n, 1, 8, 8) in [0, 1] and labels ``y`` (n,) of one seeded split."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def digits_split(n_train: int, n_test: int, seed: int, *, dtype: torch.dtype = torch.float64) -> Split:
    """Disjoint seeded random train/test subsets of the 1797 bundled digits, pixel values / 16."""
    from sklearn.datasets import load_digits

    d = load_digits()
    n = len(d.target)
    if n_train < 1 or n_test < 1 or n_train + n_test > n:
        raise InputError(f"need n_train >= 1, n_test >= 1 and n_train + n_test <= {n}; got {n_train} and {n_test}")
    perm = np.random.default_rng(seed).permutation(n)
    tr, te = perm[:n_train], perm[n_train:n_train + n_test]
    x = torch.tensor(d.images / 16.0, dtype=dtype).unsqueeze(1)
    y = torch.tensor(d.target, dtype=torch.long)
    return Split(x[tr], y[tr], x[te], y[te])


def rotate(x: torch.Tensor, k: int) -> torch.Tensor:
    """The C4 action on images (..., H, W): counter-clockwise rotation by k * 90 degrees."""
    return torch.rot90(x, k % 4, dims=(-2, -1))


def orbit(x: torch.Tensor) -> torch.Tensor:
    """The full C4 orbit of a batch: (4 * n, ...), the k-th block rotated by k * 90 degrees."""
    return torch.cat([rotate(x, k) for k in range(4)])


def noise_images(n: int, seed: int, like: torch.Tensor) -> torch.Tensor:
    """Off-manifold inputs: i.i.d. uniform [0, 1] pixels with the shape of one sample of ``like``."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand((n, *like.shape[1:]), generator=g, dtype=like.dtype)
