"""Square polynomial systems with parameters, F(z; p) = 0, evaluated in batches over C.

A ``ParametrizedSystem`` has n unknowns z, n equations and m parameters p.  Every method takes
a batch: z of shape (B, n) and p of shape (B, m) (complex128) and returns arrays with a leading
batch axis B.  The engine (trackers, homotopies, monodromy, trace test) only talks to this
interface, so it knows nothing about networks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class ParametrizedSystem(ABC):
    """F(z; p): C^n x C^m -> C^n, batched."""

    n_vars: int
    n_params: int

    @abstractmethod
    def evaluate(self, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        """F(z; p), shape (B, n)."""

    @abstractmethod
    def jacobian(self, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        """dF/dz, shape (B, n, n)."""

    @abstractmethod
    def parameter_jacobian(self, z: np.ndarray, p: np.ndarray) -> np.ndarray:
        """dF/dp, shape (B, n, m)."""

    def evaluate_and_jacobian(self, z: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F, dF/dz) together; override when sharing work is cheaper."""
        return self.evaluate(z, p), self.jacobian(z, p)

    def evaluate_with_derivatives(
        self, z: np.ndarray, p: np.ndarray, dp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(F, dF/dz, (dF/dp) dp) for a parameter direction dp of shape (m,) or (B, m).

        This is what a parameter homotopy needs: H_t = (dF/dp) dp/dt.  Override when the
        directional derivative is cheaper than the full parameter Jacobian.
        """
        F, Fz = self.evaluate_and_jacobian(z, p)
        if self.n_params == 0:
            return F, Fz, np.zeros_like(F)
        Fp = self.parameter_jacobian(z, p)
        dp = np.asarray(dp, dtype=complex)
        if dp.ndim == 1:
            return F, Fz, Fp @ dp
        return F, Fz, np.einsum("bnm,bm->bn", Fp, dp)


def as_batch(z: np.ndarray, n: int, name: str = "z") -> np.ndarray:
    """Coerce points to a complex (B, n) array (a single point (n,) becomes (1, n))."""
    from ..errors import InputError

    arr = np.asarray(z, dtype=complex)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n:
        raise InputError(f"{name} must have shape (B, {n}) (or ({n},) for one point); got {np.shape(z)}")
    return arr


def broadcast_parameters(p: np.ndarray | None, batch: int, m: int) -> np.ndarray:
    """Parameters as a (B, m) complex array; p may be None (m = 0), (m,) or (B, m)."""
    from ..errors import InputError

    if p is None:
        if m:
            raise InputError(f"this system has {m} parameters: pass p of shape ({m},) or (B, {m})")
        return np.zeros((batch, 0), dtype=complex)
    arr = np.asarray(p, dtype=complex)
    if arr.ndim == 1:
        if arr.shape[0] != m:
            raise InputError(f"parameters must have length {m}; got {arr.shape[0]}")
        return np.broadcast_to(arr, (batch, m))
    if arr.shape != (batch, m):
        raise InputError(f"parameters must have shape ({m},) or ({batch}, {m}); got {arr.shape}")
    return arr
