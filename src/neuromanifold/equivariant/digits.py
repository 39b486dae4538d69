"""Digit data sets for the equivariance experiments: scikit-learn's bundled 8x8 digits (no download).

* planar: images in [0, 1], zero-padded to 12 x 12 so that rotations keep the digit; rotations by
  multiples of 90 degrees are exact index permutations (torch.rot90), other angles bilinear (scipy).
* sphere: a digit drawn on S^2 by the azimuthal equidistant projection around the centre
  c = (0, 0, -1) (right = (-1, 0, 0), up = (0, 1, 0): upright in the middle of the grid image), the 8 x 8 image covering |u|, |v| <= ``extent`` radians, sampled
  bilinearly on a Driscoll-Healy grid of bandwidth b, at a rotation R: f_R(x) = f(R^{-1} x).  Pixel
  labels: digit class + 1 where the sampled intensity exceeds ``threshold``, 0 (background) elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError


@dataclass
class Digits:
    images: np.ndarray  # (N, 8, 8) in [0, 1]
    labels: np.ndarray  # (N,)


def load_digits_data() -> Digits:
    """scikit-learn's bundled 1797 8x8 digits, scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return Digits(d.images.astype(np.float64) / 16.0, d.target.astype(np.int64))


def split(d: Digits, n_train: int, n_test: int, seed: int) -> tuple[Digits, Digits]:
    """Disjoint random train/test subsets (stratification not needed at these sizes)."""
    n = len(d.labels)
    if n_train < 1 or n_test < 1 or n_train + n_test > n:
        raise InputError(f"need 1 <= n_train, n_test and n_train + n_test <= {n}, got {n_train} + {n_test}")
    perm = np.random.default_rng(seed).permutation(n)
    tr, te = perm[:n_train], perm[n_train:n_train + n_test]
    return Digits(d.images[tr], d.labels[tr]), Digits(d.images[te], d.labels[te])


def pad(images: np.ndarray, *, to: int = 12) -> np.ndarray:
    p = (to - images.shape[-1]) // 2
    return np.pad(images, [(0, 0)] * (images.ndim - 2) + [(p, to - images.shape[-1] - p)] * 2)


def rotate_planar(images: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate (N, H, W) images counter-clockwise about their centre: exact for multiples of 90 degrees."""
    if float(degrees) % 90 == 0:
        return np.rot90(images, int(degrees) // 90 % 4, axes=(-2, -1)).copy()
    from scipy.ndimage import rotate

    return rotate(images, degrees, axes=(-1, -2), reshape=False, order=1, mode="constant", cval=0.0)


def random_rotations(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 3, 3) rotation matrices, uniform (Haar) on SO(3)."""
    from scipy.spatial.transform import Rotation

    return Rotation.random(n, random_state=rng).as_matrix()


def project_to_sphere(images: np.ndarray, rotations: np.ndarray, xyz: np.ndarray, *, extent: float = 1.2) -> np.ndarray:
    """(N, 2b, 2b) values f_{R_i}(x) = f_i(R_i^{-1} x) on the grid points xyz (2b, 2b, 3)."""
    if len(images) != len(rotations):
        raise InputError(f"one rotation per image needed, got {len(images)} images and {len(rotations)} rotations")
    import torch.nn.functional as F

    pts = np.einsum("nji,abj->nabi", rotations, xyz)  # R^T x  (R^{-1} = R^T)
    z = np.clip(-pts[..., 2], -1.0, 1.0)
    theta = np.arccos(z)  # angle from the centre c = (0, 0, -1) (alpha = pi, beta = pi/2 on the grid)
    rho = np.hypot(pts[..., 0], pts[..., 1])
    scale = np.where(rho > 1e-12, theta / np.maximum(rho, 1e-12), 1.0)
    u, v = -pts[..., 0] * scale, pts[..., 1] * scale  # azimuthal equidistant coordinates (radians)
    # grid_sample coordinates in [-1, 1]: x -> column (u to the right), y -> row (v up = row 0)
    grid = torch.tensor(np.stack([u / extent, -v / extent], axis=-1), dtype=torch.float32)
    img = torch.tensor(images[:, None], dtype=torch.float32)
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[:, 0].numpy()


def segmentation_labels(values: np.ndarray, labels: np.ndarray, *, threshold: float = 0.3) -> np.ndarray:
    """Per-pixel labels: class + 1 on the digit (value > threshold), 0 on the background."""
    return np.where(values > threshold, labels[:, None, None] + 1, 0).astype(np.int64)
