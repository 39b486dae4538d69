"""Data near a manifold: points near a helix in R^3 (exact distance to the curve) and scikit-learn's
bundled 8x8 digits (no download) with the usual dequantisation and logit preprocessing.

Helix: h(t) = (r cos t, r sin t, c (t - T/2)), t in [0, T], T = 2 pi turns.  The squared distance
from x to h(t) has derivative 2 H(t) with H(t) = r rho sin(t - phi) + c^2 t - c w (x = (rho cos phi,
rho sin phi, w - cT/2)).  H is monotone between consecutive zeros of H'(t) = r rho cos(t - phi) + c^2,
which are known in closed form, so bisection on each monotone piece finds every critical point;
the nearest point is the best of these and the two endpoints (float64 bisection to machine
precision: the distance is exact up to rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

DIGIT_LEVELS = 17  # load_digits pixels take the values 0, ..., 16


@dataclass(frozen=True)
class Helix:
    """The curve h(t) = (r cos t, r sin t, c (t - T/2)), 0 <= t <= T = 2 pi turns."""

    radius: float = 1.0
    pitch: float = 0.5  # c: height gained per radian
    turns: float = 1.0

    def __post_init__(self) -> None:
        for name in ("radius", "pitch", "turns"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InputError(f"helix {name} must be a positive number, got {v!r}")

    @property
    def length(self) -> float:
        """Parameter range T = 2 pi turns."""
        return 2 * math.pi * self.turns

    def point(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return np.stack([self.radius * np.cos(t), self.radius * np.sin(t), self.pitch * (t - self.length / 2)], -1)

    def tangent(self, t: np.ndarray) -> np.ndarray:
        """Unit tangent h'(t) / |h'(t)|."""
        t = np.asarray(t, dtype=np.float64)
        v = np.stack([-self.radius * np.sin(t), self.radius * np.cos(t), np.full_like(t, self.pitch)], -1)
        return v / math.hypot(self.radius, self.pitch)

    def normal_frame(self, t: np.ndarray) -> np.ndarray:
        """(..., 3, 2): an orthonormal basis of the normal plane (principal normal, binormal)."""
        t = np.asarray(t, dtype=np.float64)
        n = np.stack([-np.cos(t), -np.sin(t), np.zeros_like(t)], -1)
        b = np.cross(self.tangent(t), n)
        return np.stack([n, b], -1)

    def project(self, x: np.ndarray, *, iters: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Nearest points of the helix segment to x (n, 3): (t*, distance), exact up to rounding
        (every critical point of |x - h(t)|^2 is bracketed on a monotone piece of H and bisected)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 3:
            raise InputError(f"points must have shape (n, 3), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise InputError("points contain NaN or inf; pass finite coordinates")
        r, c, T = self.radius, self.pitch, self.length
        rho = np.hypot(x[:, 0], x[:, 1])
        phi = np.arctan2(x[:, 1], x[:, 0])
        w = x[:, 2] + c * T / 2

        def H(t: np.ndarray) -> np.ndarray:
            return r * rho[:, None] * np.sin(t - phi[:, None]) + c * c * t - c * w[:, None]

        # breakpoints: zeros of H'(t) = r rho cos(t - phi) + c^2 inside (0, T), plus 0 and T
        ratio = np.clip(-c * c / np.maximum(r * rho, 1e-300), -1.0, 1.0)
        alpha = np.arccos(ratio)  # rho small: H' > 0 everywhere, alpha = pi gives harmless extra points
        kmax = int(math.ceil(self.turns)) + 2
        ks = np.arange(-kmax, kmax + 1) * 2 * math.pi
        cand = np.concatenate([phi[:, None] + alpha[:, None] + ks, phi[:, None] - alpha[:, None] + ks], 1)
        cand = np.where((cand > 0) & (cand < T), cand, T)
        nodes = np.sort(np.concatenate([np.zeros((len(x), 1)), cand, np.full((len(x), 1), T)], 1), 1)
        a, b = nodes[:, :-1], nodes[:, 1:]
        Ha, Hb = H(a), H(b)
        bracket = (np.sign(Ha) != np.sign(Hb)) & (b > a)
        lo, hi, Hlo = a.copy(), b.copy(), Ha.copy()
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            Hm = H(mid)
            left = np.sign(Hm) == np.sign(Hlo)
            lo = np.where(left, mid, lo)
            Hlo = np.where(left, Hm, Hlo)
            hi = np.where(left, hi, mid)
        roots = np.where(bracket, 0.5 * (lo + hi), 0.0)  # non-brackets fall back to the endpoint 0
        cands = np.concatenate([roots, np.zeros((len(x), 1)), np.full((len(x), 1), T)], 1)
        pts = self.point(cands)  # (n, m, 3)
        d2 = np.sum((pts - x[:, None, :]) ** 2, -1)
        best = np.argmin(d2, 1)
        t_star = cands[np.arange(len(x)), best]
        return t_star, np.sqrt(d2[np.arange(len(x)), best])

    def distance(self, x: np.ndarray) -> np.ndarray:
        """Euclidean distance from each row of x to the helix segment (exact up to rounding)."""
        return self.project(x)[1]


@dataclass
class HelixData:
    """Points x = h(t) + noise * N(0, I_3), labelled by the segment of [0, T] that t falls in."""

    helix: Helix
    x: np.ndarray  # (n, 3)
    t: np.ndarray  # (n,) generating parameter
    labels: np.ndarray  # (n,) segment index in 0 .. classes - 1
    noise: float
    classes: int
    meta: dict = field(default_factory=dict)

    def segment(self, t: np.ndarray) -> np.ndarray:
        """Class of the helix parameter t: which of ``classes`` equal segments of [0, T]."""
        return np.clip((np.asarray(t) / self.helix.length * self.classes).astype(np.int64), 0, self.classes - 1)


def helix_dataset(*, n: int = 2000, noise: float = 0.05, classes: int = 4, seed: int = 0,
                  helix: Helix | None = None) -> HelixData:
    """n points near the helix: t ~ U[0, T], x = h(t) + noise * N(0, I_3); label = segment of t."""
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise InputError(f"n must be an integer >= 2, got {n!r}")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise InputError(f"noise must be a finite number >= 0, got {noise!r}")
    if not isinstance(classes, (int, np.integer)) or classes < 2:
        raise InputError(f"classes must be an integer >= 2, got {classes!r}")
    helix = helix or Helix()
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, helix.length, n)
    x = helix.point(t) + noise * rng.standard_normal((n, 3))
    data = HelixData(helix, x, t, np.zeros(n, dtype=np.int64), float(noise), int(classes))
    data.labels = data.segment(t)
    return data


@dataclass
class DigitsData:
    """scikit-learn's 8x8 digits: integer pixels (n, 64) in 0..16 and labels 0..9."""

    pixels: np.ndarray
    labels: np.ndarray


def load_digits_split(*, n_test: int = 297, seed: int = 0) -> tuple[DigitsData, DigitsData]:
    """The 1797 bundled digits (sklearn.datasets.load_digits reads a file shipped with the package),
    split at random into train and test sets."""
    from sklearn.datasets import load_digits

    d = load_digits()
    n = len(d.target)
    if not isinstance(n_test, (int, np.integer)) or not 1 <= n_test < n:
        raise InputError(f"n_test must be an integer in 1..{n - 1}, got {n_test!r}")
    perm = np.random.default_rng(seed).permutation(n)
    pix, lab = d.data.astype(np.int64), d.target.astype(np.int64)
    te, tr = perm[:n_test], perm[n_test:]
    return DigitsData(pix[tr], lab[tr]), DigitsData(pix[te], lab[te])


def dequantize(pixels: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """u = (v + e) / 17 in (0, 1) with e ~ U[0, 1) (uniform dequantisation), or e = 1/2 when rng is None."""
    v = np.asarray(pixels, dtype=np.float64)
    e = 0.5 if rng is None else rng.uniform(0.0, 1.0, v.shape)
    return (v + e) / DIGIT_LEVELS
