"""Homotopies H(z, t) and a batched predictor-corrector path tracker from t = 1 to t = 0.

Every path z(t) solves H(z(t), t) = 0, so it follows the Davidenko equation

    dz/dt = -H_z(z, t)^{-1} H_t(z, t).

One step of size h moves t -> t - h: a Runge-Kutta (RK4) or Heun predictor integrates the ODE
(or, optionally, for polynomial straight-line homotopies, the truncated Taylor series
z(t - h) ~ sum_k x_k h^k with x_k from the stored LU factors of H_z), then Newton's method
z <- z - H_z^{-1} H corrects at the new t.  The size of the first Newton
update estimates the local predictor error e; a step is accepted when Newton converges within a
few iterations with contracting updates, and the next step is h * clip(0.9 (e*/e)^{1/(q+1)}),
q the predictor order; a rejected step halves h.  A rejected step that tried to land on t = 0
makes the next 1, 2, 4, ... accepted steps stop short of it (h <= endgame_ratio * t): a path to a
singular endpoint, where no step can land, then approaches t = 0 geometrically instead of
alternating failed landings with halvings.  All paths advance together: every evaluation,
Jacobian and linear solve is one array operation over the batch of active paths, each path with
its own t and h.  At t = 0 a final Newton refinement and the condition number of H_z decide how
each path ended (``PathStatus``).

Homotopies of a ``PolynomialSystem`` (``Homotopy.compiled_form``) run the same step loop path by
path in compiled code (``compiled.py``, numba; chunks of paths on threads), which avoids the
per-step overhead of small batched array operations; the numpy path is the fallback and serves
every other system.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import InputError
from .system import ParametrizedSystem, as_batch, broadcast_parameters


class PathStatus(str, Enum):
    """How a path ended."""

    SUCCESS = "success"  # reached t = 0 at a regular (well-conditioned) solution
    DIVERGED = "diverged"  # |z| blew up: the path goes to a solution at infinity
    SINGULAR = "singular"  # reached t ~ 0 at an ill-conditioned (singular) point
    MAX_STEPS = "max_steps"  # ran out of steps
    FAILED = "failed"  # step size underflow away from t = 0, or non-finite values


_STATUS_NAMES = np.array([s.value for s in PathStatus])
_CPUS = os.cpu_count() or 1
_SUCCESS, _DIVERGED, _SINGULAR, _MAX_STEPS, _FAILED = range(5)
_ACTIVE = -1


# ---------------------------------------------------------------------- homotopies
class Homotopy(ABC):
    """H(z, t): C^n x [0, 1] -> C^n with H(., 1) the start system and H(., 0) the target."""

    n_vars: int
    gamma: complex

    @abstractmethod
    def evaluate_all(self, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(H, H_z, H_t) at z (B, n), t (B,): shapes (B, n), (B, n, n), (B, n)."""

    def evaluate_and_jacobian(self, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, H_z); override when cheaper than ``evaluate_all``."""
        H, Hz, _ = self.evaluate_all(z, t)
        return H, Hz

    @abstractmethod
    def with_gamma(self, gamma: complex) -> "Homotopy":
        """The same homotopy with another gamma (a different path, same start and target)."""

    def subset(self, idx: Any) -> "Homotopy":
        """The homotopy of the paths ``idx`` (an index array or slice into the batch of start
        points).  Homotopies shared by every path return themselves; per-path ones
        (``ParameterHomotopyBatch``) slice their data, so the tracker can evaluate any subset."""
        return self

    #: True when ``taylor_coefficients`` is implemented (usable with ``predictor='taylor'``)
    has_taylor: bool = False

    def compiled_form(self, B: int) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray] | None:
        """The data of the compiled tracker (``compiled.py``) for polynomial homotopies:
        ((straight, gamma, tables of F, tables of G), p_target (B, m), dp (B, m), gamma (B,)) with
        H = (1 - t) F(z) + gamma t G(z) when straight, else H = F(z; p_target + s(t) dp),
        s(t) = gamma t / (1 + (gamma - 1) t); None for homotopies it cannot evaluate."""
        return None

    def taylor_coefficients(
        self, z: np.ndarray, t: np.ndarray, x1: np.ndarray, solve: Callable[[np.ndarray], np.ndarray], order: int
    ) -> list[np.ndarray]:
        """x_2..x_order of the path z(t - s) = sum_k x_k s^k through z = x_0 with x_1 = -dz/dt,
        given ``solve(c) = H_z(z, t)^{-1} c`` (c of shape (B, n)).  Only homotopies that can evaluate
        H over truncated power series implement it (``has_taylor``)."""
        raise NotImplementedError(f"{type(self).__name__} has no Taylor series evaluation")


def random_gamma(rng: np.random.Generator) -> complex:
    """A random point of the unit circle: the gamma trick avoids the discriminant with probability one."""
    return complex(np.exp(2j * np.pi * rng.random()))


def _tables(system: Any) -> Any:
    """The flat tables of a ``PolynomialSystem`` for the compiled tracker (built once per system)."""
    tab = getattr(system, "_compiled_tables", None)
    if tab is None:
        from .compiled import Tables

        tab = Tables(system)
        system._compiled_tables = tab
    return tab


def _gamma_or_random(gamma: complex | None, rng: np.random.Generator | int | None) -> complex:
    if gamma is not None:
        return complex(gamma)
    return random_gamma(np.random.default_rng(rng))


class StraightLineHomotopy(Homotopy):
    """H(z, t) = (1 - t) F(z; p_F) + gamma t G(z; p_G)."""

    def __init__(
        self,
        target: ParametrizedSystem,
        start: ParametrizedSystem,
        gamma: complex | None = None,
        target_params: np.ndarray | None = None,
        start_params: np.ndarray | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        if target.n_vars != start.n_vars:
            raise InputError(
                f"start system has {start.n_vars} unknowns but the target has {target.n_vars}; they must match"
            )
        self.target, self.start = target, start
        self.n_vars = target.n_vars
        self.gamma = _gamma_or_random(gamma, rng)
        self.target_params = None if target_params is None else np.asarray(target_params, dtype=complex)
        self.start_params = None if start_params is None else np.asarray(start_params, dtype=complex)
        broadcast_parameters(self.target_params, 1, target.n_params)
        broadcast_parameters(self.start_params, 1, start.n_params)
        self._specialized = None
        self._combined_system = None
        from .polynomial import PolynomialSystem

        if isinstance(target, PolynomialSystem) and isinstance(start, PolynomialSystem):
            self._specialized = (target.specialize(self.target_params), start.specialize(self.start_params))
            self._one = np.ones(1, dtype=complex)
            self.has_taylor = True

    @property
    def _combined(self):
        """For polynomial F, G: K(z; t) = (1 - t) F + gamma t G as one polynomial system in (z; t)
        (H, H_z, H_t from one table of monomials; built on first use by the numpy tracker)."""
        if self._specialized is not None and self._combined_system is None:
            from .polynomial import PolynomialSystem

            self._combined_system = PolynomialSystem.straight_line(*self._specialized, self.gamma)
        return self._combined_system

    def taylor_coefficients(self, z, t, x1, solve, order):
        """Along the path, H(x(s), t - s) = K(x(s); t - s) with K the combined system in (z; t):
        its Taylor coefficients come from ``PolynomialSystem.path_taylor`` with p(s) = t - s."""
        if self._combined is None:
            return super().taylor_coefficients(z, t, x1, solve, order)
        p_series = np.zeros((order + 1, z.shape[0], 1), dtype=complex)
        p_series[0, :, 0] = t
        p_series[1] = -1.0
        return self._combined.path_taylor(z, x1, p_series, solve, order)

    def compiled_form(self, B):
        if self._specialized is None:
            return None
        F, G = self._specialized
        empty = np.zeros((B, 0), dtype=complex)
        return (True, self.gamma, _tables(F), _tables(G)), empty, empty, np.ones(B, dtype=complex)

    def with_gamma(self, gamma: complex) -> "StraightLineHomotopy":
        return StraightLineHomotopy(self.target, self.start, gamma, self.target_params, self.start_params)

    def evaluate_and_jacobian(self, z, t):
        if self._combined is not None:
            return self._combined.evaluate_and_jacobian(z, np.asarray(t, dtype=complex)[:, None])
        H, Hz, _ = self.evaluate_all(z, t)
        return H, Hz

    def _both(self, z: np.ndarray):
        B = z.shape[0]
        F, Fz = self.target.evaluate_and_jacobian(z, broadcast_parameters(self.target_params, B, self.target.n_params))
        G, Gz = self.start.evaluate_and_jacobian(z, broadcast_parameters(self.start_params, B, self.start.n_params))
        return F, Fz, G, Gz

    def evaluate_all(self, z, t):
        if self._combined is not None:
            return self._combined.evaluate_with_derivatives(z, np.asarray(t, dtype=complex)[:, None], self._one)
        F, Fz, G, Gz = self._both(z)
        a = (1 - t)[:, None]
        b = (self.gamma * t)[:, None]
        return a * F + b * G, a[:, :, None] * Fz + b[:, :, None] * Gz, self.gamma * G - F


class ParameterHomotopy(Homotopy):
    """H(z, t) = F(z; p(t)) with p(t) = (1 - s) p_target + s p_start along the complex arc

        s(t) = gamma t / (1 + (gamma - 1) t),   s(1) = 1, s(0) = 0,

    which for a random gamma on the unit circle avoids the (real codimension two) discriminant
    with probability one.  H_t = (dF/dp)(p_start - p_target) ds/dt with ds/dt = gamma / (1 + (gamma-1) t)^2.
    gamma = 1 gives the straight segment.
    """

    def __init__(
        self,
        system: ParametrizedSystem,
        p_start: np.ndarray,
        p_target: np.ndarray,
        gamma: complex | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        self.system = system
        self.n_vars = system.n_vars
        self.p_start = np.asarray(p_start, dtype=complex).reshape(-1)
        self.p_target = np.asarray(p_target, dtype=complex).reshape(-1)
        for name, q in (("p_start", self.p_start), ("p_target", self.p_target)):
            if q.shape != (system.n_params,):
                raise InputError(f"{name} must have length n_params = {system.n_params}; got {q.shape[0]}")
        self.gamma = _gamma_or_random(gamma, rng)
        self._dp = self.p_start - self.p_target

    def with_gamma(self, gamma: complex) -> "ParameterHomotopy":
        return ParameterHomotopy(self.system, self.p_start, self.p_target, gamma)

    def compiled_form(self, B):
        from .polynomial import PolynomialSystem

        if not isinstance(self.system, PolynomialSystem):
            return None
        tab = _tables(self.system)
        return ((False, 1.0 + 0j, tab, tab), np.broadcast_to(self.p_target, (B, self.p_target.size)).copy(),
                np.broadcast_to(self._dp, (B, self._dp.size)).copy(), np.full(B, self.gamma, dtype=complex))

    def s(self, t: np.ndarray) -> np.ndarray:
        return self.gamma * t / (1 + (self.gamma - 1) * t)

    def parameters(self, t: np.ndarray) -> np.ndarray:
        """p(t), shape (B, m)."""
        return self.p_target[None, :] + self.s(np.asarray(t))[:, None] * self._dp[None, :]

    def evaluate_all(self, z, t):
        den = 1 + (self.gamma - 1) * t
        s = self.gamma * t / den
        P = self.p_target[None, :] + s[:, None] * self._dp[None, :]
        F, Fz, Fdp = self.system.evaluate_with_derivatives(z, P, self._dp)
        return F, Fz, Fdp * (self.gamma / den**2)[:, None]

    def evaluate_and_jacobian(self, z, t):
        return self.system.evaluate_and_jacobian(z, self.parameters(t))


class ParameterHomotopyBatch(Homotopy):
    """Parameter homotopies with their own endpoints and gamma for every path: path i follows
    F(z; p_i(t)), p_i(t) = (1 - s_i) p_target[i] + s_i p_start[i] along the gamma_i-arc of
    ``ParameterHomotopy``.  Many short homotopies (the legs of different monodromy loops, both
    sides of a trace test) are then tracked as one batch.
    """

    def __init__(
        self,
        system: ParametrizedSystem,
        p_start: np.ndarray,
        p_target: np.ndarray,
        gamma: np.ndarray | complex,
    ) -> None:
        self.system = system
        self.n_vars = system.n_vars
        self.p_start = np.asarray(p_start, dtype=complex)
        self.p_target = np.asarray(p_target, dtype=complex)
        m = system.n_params
        if self.p_start.ndim != 2 or self.p_start.shape[1] != m or self.p_target.shape != self.p_start.shape:
            raise InputError(
                f"p_start and p_target must both have shape (B, n_params = {m}); got {self.p_start.shape} and "
                f"{self.p_target.shape}"
            )
        self.gammas = np.broadcast_to(np.asarray(gamma, dtype=complex), (self.p_start.shape[0],)).copy()
        self.gamma = self.gammas  # per path
        self._dp = self.p_start - self.p_target

    def __len__(self) -> int:
        return int(self.p_start.shape[0])

    def with_gamma(self, gamma: complex) -> "ParameterHomotopyBatch":
        return ParameterHomotopyBatch(self.system, self.p_start, self.p_target, gamma)

    def subset(self, idx: Any) -> "ParameterHomotopyBatch":
        sub = ParameterHomotopyBatch.__new__(ParameterHomotopyBatch)
        sub.system, sub.n_vars = self.system, self.n_vars
        sub.p_start, sub.p_target = self.p_start[idx], self.p_target[idx]
        sub.gammas = self.gammas[idx]
        sub.gamma = sub.gammas
        sub._dp = self._dp[idx]
        return sub

    def compiled_form(self, B):
        from .polynomial import PolynomialSystem

        if not isinstance(self.system, PolynomialSystem):
            return None
        self._check(B)
        tab = _tables(self.system)
        return ((False, 1.0 + 0j, tab, tab), np.ascontiguousarray(self.p_target), np.ascontiguousarray(self._dp),
                np.ascontiguousarray(self.gammas))

    def _check(self, B: int) -> None:
        if B != self.p_start.shape[0]:
            raise InputError(
                f"this batch of homotopies has {self.p_start.shape[0]} paths but {B} points were given; "
                "evaluate subsets through .subset(idx)"
            )

    def parameters(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t)
        s = self.gammas * t / (1 + (self.gammas - 1) * t)
        return self.p_target + s[:, None] * self._dp

    def evaluate_all(self, z, t):
        self._check(z.shape[0])
        den = 1 + (self.gammas - 1) * t
        s = self.gammas * t / den
        P = self.p_target + s[:, None] * self._dp
        F, Fz, Fdp = self.system.evaluate_with_derivatives(z, P, self._dp)
        return F, Fz, Fdp * (self.gammas / den**2)[:, None]

    def evaluate_and_jacobian(self, z, t):
        self._check(z.shape[0])
        return self.system.evaluate_and_jacobian(z, self.parameters(t))


# ---------------------------------------------------------------------- options and results
@dataclass(frozen=True)
class TrackerOptions:
    """Tolerances of the tracker (relative to 1 + |z|_inf)."""

    # "rk4" (order 4), "heun" (order 2) or "taylor" (order ``taylor_order``: the truncated
    # Taylor series of the path; only for homotopies with ``has_taylor``, RK4 for the others)
    predictor: str = "rk4"
    taylor_order: int = 4
    initial_step: float = 0.05
    max_step: float = 0.2
    min_step: float = 1e-14  # absolute floor on h
    min_relative_step: float = 1e-9  # stop when h < this * t (no progress towards t = 0)
    corrector_tol: float = 1e-7  # Newton converged when the update is below this
    max_corrector_iters: int = 3
    predictor_tol: float = 3e-4  # step-size control aims the predictor error (first update) here
    max_first_update: float = 1e-2  # reject when the predictor lands farther than this
    contraction: float = 0.25  # each Newton update must shrink by this factor
    max_growth: float = 2.0  # largest step-size increase after an accepted step
    max_steps: int = 2000
    max_norm: float = 1e9  # |z|_inf above this: diverged
    singular_t: float = 1e-5  # a path stuck below this t ended at a singular point
    endgame_stop: float = 1e-10  # a step rejected below this t: the path ends at a singular point
    # after a rejected step onto t_end, steps stop short of it (h <= endgame_ratio (t - t_end)) for
    # 1, 2, 4, ... accepted steps before the next try: paths to singular endpoints then approach
    # t_end geometrically instead of alternating failed landings and halvings
    endgame_ratio: float = 0.7
    final_tol: float = 1e-12
    final_iters: int = 4
    singular_condition: float = 1e9  # cond(H_z) at t = 0 above this: singular
    valuation_tol: float = 0.01  # |z_j| ~ t^v with v below -this near t = 0: diverging
    valuation_t: float = 1e-4  # estimate v only from samples at t below this
    batch_size: int = 8192  # paths per array operation at most
    threads: int = 0  # worker threads over chunks of paths (0: min(2, cpu count))
    min_paths_per_thread: int = 64
    # track polynomial homotopies (``Homotopy.compiled_form``) path by path in compiled code
    # (numba) when numba is importable; the batched numpy tracker otherwise
    compiled: bool = True

    def __post_init__(self) -> None:
        if self.predictor not in ("rk4", "heun", "taylor"):
            raise InputError("predictor must be 'rk4', 'heun' or 'taylor'")
        if self.taylor_order < 2:
            raise InputError("taylor_order must be at least 2")


@dataclass
class TrackResult:
    """Endpoints and the fate of every path (arrays indexed by path)."""

    start_points: np.ndarray  # (B, n)
    endpoints: np.ndarray  # (B, n)
    status: np.ndarray  # (B,) strings, values of PathStatus
    t: np.ndarray  # (B,) where each path stopped (0 when it reached the target)
    steps: np.ndarray  # (B,) accepted steps
    rejected: np.ndarray  # (B,) rejected steps
    residual: np.ndarray  # (B,) |H(z, t_end)|_inf
    condition: np.ndarray  # (B,) cond(H_z) at the endpoint
    accuracy: np.ndarray  # (B,) last Newton update, relative
    valuation: np.ndarray = field(default=None)  # (B, n) estimated v_j in z_j(t) ~ t^{v_j} near t = 0
    retries: np.ndarray = field(default=None)  # (B,) how often each path was re-tracked
    gammas: list[complex] = field(default_factory=list)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.retries is None:
            self.retries = np.zeros(len(self.status), dtype=int)
        if self.valuation is None:
            self.valuation = np.full(self.endpoints.shape, np.nan)

    @property
    def n_paths(self) -> int:
        return int(len(self.status))

    @property
    def success(self) -> np.ndarray:
        """Boolean mask of the paths that ended at a regular solution."""
        return self.status == PathStatus.SUCCESS.value

    def converged(self, accuracy: float = 1e-10) -> np.ndarray:
        """Paths that reached the target at a point where Newton converged (last update at most
        ``accuracy``, relative): the regular solutions and the ill-conditioned but isolated ones
        (``singular`` only because cond(H_z) exceeds ``singular_condition``).  At a multiple root
        Newton converges slowly and the last update stays large, so those are not included."""
        ill = (self.status == PathStatus.SINGULAR.value) & (self.t == 0) & (self.accuracy <= accuracy)
        return self.success | (ill & np.all(np.isfinite(self.endpoints), axis=1))

    @property
    def counts(self) -> dict[str, int]:
        """Number of paths per status (every status listed)."""
        return {s.value: int(np.sum(self.status == s.value)) for s in PathStatus}

    @property
    def n_retried(self) -> int:
        return int(np.sum(self.retries > 0))

    def solutions(self) -> np.ndarray:
        """Endpoints of the successful paths."""
        return self.endpoints[self.success]

    def evidence(self) -> dict[str, Any]:
        return {
            "paths_tracked": self.n_paths,
            "status_counts": self.counts,
            "paths_retried": self.n_retried,
            "steps_total": int(self.steps.sum() + self.rejected.sum()),
            "gammas": [str(g) for g in self.gammas],
            "seconds": round(self.seconds, 4),
        }

    def subset(self, idx: np.ndarray) -> "TrackResult":
        return TrackResult(
            self.start_points[idx], self.endpoints[idx], self.status[idx], self.t[idx], self.steps[idx],
            self.rejected[idx], self.residual[idx], self.condition[idx], self.accuracy[idx],
            self.valuation[idx], self.retries[idx], list(self.gammas), self.seconds,
        )

    @staticmethod
    def concatenate(parts: Sequence["TrackResult"]) -> "TrackResult":
        if not parts:
            raise InputError("nothing to concatenate")
        cat = lambda name: np.concatenate([getattr(r, name) for r in parts])  # noqa: E731
        return TrackResult(
            cat("start_points"), cat("endpoints"), cat("status"), cat("t"), cat("steps"), cat("rejected"),
            cat("residual"), cat("condition"), cat("accuracy"), cat("valuation"), cat("retries"),
            [g for r in parts for g in r.gammas], sum(r.seconds for r in parts),
        )

    def __repr__(self) -> str:
        return f"TrackResult(paths={self.n_paths}, {self.counts}, retried={self.n_retried}, {self.seconds:.3f}s)"


# ---------------------------------------------------------------------- linear algebra
def _torch():
    try:
        import torch

        return torch
    except Exception:  # pragma: no cover - torch is a dependency, numpy is the fallback
        return None


class _OneTorchThread:
    """Run torch single-threaded inside the block: intra-op threading of tiny batched solves
    thrashes on a busy machine (the tracker parallelises over chunks of paths instead)."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.threads = 1

    def __enter__(self) -> None:
        self.threads = self.torch.get_num_threads()
        if self.threads != 1:
            self.torch.set_num_threads(1)

    def __exit__(self, *exc: Any) -> None:
        if self.threads != 1:
            self.torch.set_num_threads(self.threads)


def batched_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b for A (B, n, n), b (B, n) or (B, n, k) by batched LU; rows whose A is singular get NaN.

    Uses torch's batched ``solve_ex`` (2-3x faster than numpy's per-matrix LAPACK loop and
    multi-threaded) when torch is importable, else numpy.
    """
    torch = _torch()
    if torch is not None and A.shape[0] > 0:
        At = torch.from_numpy(np.ascontiguousarray(A))
        bt = torch.from_numpy(np.ascontiguousarray(b))
        with _OneTorchThread(torch):
            x, info = torch.linalg.solve_ex(At, bt)
        x = x.numpy()
        info = info.numpy()
        if np.any(info):
            x = x.copy()
            x[info != 0] = np.nan
        return x
    vec = b.ndim == A.ndim - 1
    try:
        return np.linalg.solve(A, b[..., None])[..., 0] if vec else np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan, dtype=complex)
        for i in range(A.shape[0]):  # only reached when some matrix is exactly singular
            try:
                out[i] = np.linalg.solve(A[i], b[i])
            except np.linalg.LinAlgError:
                pass
        return out


def lu_factor(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched LU factorisation with partial pivoting P A = L U of A (B, n, n): returns (LU, pivots)
    for ``lu_solve``; the factor of an exactly singular matrix is NaN (its solves give NaN).
    Without torch the "factor" is A itself and ``lu_solve`` solves from scratch."""
    torch = _torch()
    if torch is None or A.shape[0] == 0:
        return np.array(A, dtype=complex), np.zeros((A.shape[0], 0), dtype=np.int32)
    with _OneTorchThread(torch):
        LU, piv, info = torch.linalg.lu_factor_ex(torch.from_numpy(np.ascontiguousarray(A)))
    LU, info = LU.numpy(), info.numpy()
    if np.any(info):
        LU[info != 0] = np.nan
    return LU, piv.numpy()


def lu_solve(LU: np.ndarray, piv: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b from ``lu_factor(A)``; b (B, n) or (B, n, k)."""
    vec = b.ndim == 2
    if piv.shape[-1] == 0 and LU.shape[-1] > 0:  # numpy fallback: LU is A
        return batched_solve(LU, b)
    if LU.shape[0] == 0:
        return np.zeros(b.shape, dtype=complex)
    torch = _torch()
    bt = torch.from_numpy(np.ascontiguousarray(b[..., None] if vec else b))
    with _OneTorchThread(torch):
        x = torch.linalg.lu_solve(
            torch.from_numpy(np.ascontiguousarray(LU)), torch.from_numpy(np.ascontiguousarray(piv)), bt
        ).numpy()
    return x[..., 0] if vec else x


def condition_numbers(J: np.ndarray, equilibrate: bool = True) -> np.ndarray:
    """cond_2(D J) for a batch (B, n, n), D scaling every row of J to unit norm (so that the
    scaling of the equations does not count); inf where J is singular or not finite."""
    out = np.full(J.shape[0], np.inf)
    ok = np.all(np.isfinite(J.reshape(J.shape[0], -1)), axis=1)
    if np.any(ok):
        with np.errstate(all="ignore"):
            try:
                A = J[ok]
                if equilibrate:
                    rn = np.linalg.norm(A, axis=2, keepdims=True)
                    A = A / np.where(rn > 0, rn, 1.0)
                s = np.linalg.svd(A, compute_uv=False)
                c = s[:, 0] / s[:, -1]
            except np.linalg.LinAlgError:
                c = np.full(int(ok.sum()), np.inf)
        out[ok] = np.where(np.isfinite(c), c, np.inf)
    return out


def _norm(x: np.ndarray) -> np.ndarray:
    return np.max(np.abs(x), axis=1) if x.shape[1] else np.zeros(x.shape[0])


# ---------------------------------------------------------------------- the tracker
def _velocity(hom: Homotopy, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    _, Hz, Ht = hom.evaluate_all(z, t)
    return -batched_solve(Hz, Ht)


@dataclass
class _Factors:
    """LU factors of H_z at the current point of every path (for the Taylor predictor)."""

    LU: np.ndarray  # (B, n, n)
    piv: np.ndarray  # (B, n) or (B, 0) without torch

    @staticmethod
    def empty(B: int, n: int) -> "_Factors":
        return _Factors(np.zeros((B, n, n), dtype=complex), np.zeros((B, n if _torch() is not None else 0), np.int32))

    def set(self, idx: np.ndarray, LU: np.ndarray, piv: np.ndarray) -> None:
        self.LU[idx] = LU
        self.piv[idx] = piv

    def solver(self, idx: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        LU, piv = self.LU[idx], self.piv[idx]
        return lambda c: lu_solve(LU, piv, c)


def _velocity_lu(hom: Homotopy, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dz/dt = -H_z^{-1} H_t, LU factors of H_z) at (z, t)."""
    _, Hz, Ht = hom.evaluate_all(z, t)
    LU, piv = lu_factor(Hz)
    return -lu_solve(LU, piv, Ht), LU, piv


def _predict(
    hom: Homotopy, z: np.ndarray, t: np.ndarray, h: np.ndarray, method: str, k1: np.ndarray
) -> np.ndarray:
    """z(t - h) by one explicit Runge-Kutta step of dz/dt = -H_z^{-1} H_t (k1 = dz/dt at (z, t))."""
    hc = h[:, None]
    if method == "heun":
        k2 = _velocity(hom, z - hc * k1, t - h)
        return z - 0.5 * hc * (k1 + k2)
    k2 = _velocity(hom, z - 0.5 * hc * k1, t - 0.5 * h)
    k3 = _velocity(hom, z - 0.5 * hc * k2, t - 0.5 * h)
    k4 = _velocity(hom, z - hc * k3, t - h)
    return z - (hc / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _predict_taylor(
    hom: Homotopy,
    z: np.ndarray,
    t: np.ndarray,
    h: np.ndarray,
    k1: np.ndarray,
    solve: Callable[[np.ndarray], np.ndarray],
    order: int,
) -> np.ndarray:
    """z(t - h) ~ sum_{k <= order} x_k h^k, the truncated Taylor series of the path (x_0 = z,
    x_1 = -k1; the x_k, k >= 2, each cost one solve with the stored factors of H_z)."""
    xs = hom.taylor_coefficients(z, t, -k1, solve, order)
    hc = h[:, None]
    acc = xs[-1]
    for xk in reversed(xs[:-1]):
        acc = xk + hc * acc
    return z + hc * (-k1 + hc * acc)


def _correct(
    hom: Homotopy, z: np.ndarray, t: np.ndarray, opts: TrackerOptions, factors: _Factors | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Newton at fixed t.  Returns (z, accepted mask, size of the first update, dz/dt).

    Each iteration solves H_z [dz, v] = -[H, H_t] with one factorisation, so the velocity
    v = dz/dt at the corrected point (up to the last, tiny, update) comes for free and is the
    first predictor stage of the next step.  With ``factors`` (indexed like z), the LU factors of
    each path's last iteration are stored there, for the next Taylor predictor.
    """
    z = z.copy()
    B = z.shape[0]
    idx = np.arange(B)
    ok = np.zeros(B, dtype=bool)
    first = np.full(B, np.inf)
    vel = np.zeros_like(z)
    prev = None
    for k in range(opts.max_corrector_iters):
        H, Hz, Ht = hom.subset(idx).evaluate_all(z[idx], t[idx])
        rhs = -np.stack([H, Ht], axis=2)
        if factors is None:
            X = batched_solve(Hz, rhs)
        else:
            LU, piv = lu_factor(Hz)
            X = lu_solve(LU, piv, rhs)
            factors.set(idx, LU, piv)
        dz = X[:, :, 0]
        vel[idx] = X[:, :, 1]
        znew = z[idx] + dz
        nrm = _norm(dz) / (1.0 + _norm(znew))
        nrm = np.where(np.isfinite(nrm), nrm, np.inf)
        z[idx] = znew
        if k == 0:
            first[idx] = nrm
            bad = nrm > opts.max_first_update
        else:
            bad = nrm > opts.contraction * prev
        conv = (nrm <= opts.corrector_tol) & ~bad
        ok[idx[conv]] = True
        keep = ~conv & ~bad
        idx, prev = idx[keep], nrm[keep]
        if idx.size == 0:
            break
    return z, ok, first, vel


def _refine(hom: Homotopy, z: np.ndarray, t: np.ndarray, opts: TrackerOptions):
    """Final Newton iterations at the endpoint; returns z, residual, condition, last update."""
    z = z.copy()
    upd = np.full(z.shape[0], np.inf)
    for _ in range(opts.final_iters):
        H, Hz = hom.evaluate_and_jacobian(z, t)
        dz = batched_solve(Hz, -H)
        nrm = _norm(dz) / (1.0 + _norm(z))
        good = np.isfinite(nrm) & (nrm <= np.maximum(upd, 1e-300) * 2)  # do not let Newton wander off
        z = np.where(good[:, None], z + np.where(np.isfinite(dz), dz, 0), z)
        upd = np.where(good, nrm, upd)
        if np.all(upd <= opts.final_tol):
            break
    with np.errstate(all="ignore"):
        H, Hz = hom.evaluate_and_jacobian(z, t)
    residual = np.where(np.all(np.isfinite(H), axis=1), _norm(H), np.inf)
    return z, residual, condition_numbers(Hz), upd


def _track_batch(hom: Homotopy, z0: np.ndarray, opts: TrackerOptions, t_end: float) -> TrackResult:
    B, n = z0.shape
    z = z0.copy()
    t = np.ones(B)
    h = np.full(B, opts.initial_step)
    code = np.full(B, _ACTIVE)
    steps = np.zeros(B, dtype=int)
    rejected = np.zeros(B, dtype=int)
    just_rejected = np.zeros(B, dtype=bool)
    k1 = np.zeros_like(z)  # dz/dt at the current point of every path
    has_k1 = np.zeros(B, dtype=bool)
    wait = np.zeros(B, dtype=int)  # accepted steps before the next attempt to land on t_end
    backoff = np.ones(B, dtype=int)
    # samples (z, t) at the last two decade crossings below t = 0.1, for the valuation estimate
    next_sample = np.full(B, 0.1)
    s1z, s2z = np.full_like(z, np.nan), np.full_like(z, np.nan)
    s1t, s2t = np.full(B, np.nan), np.full(B, np.nan)
    taylor = opts.predictor == "taylor" and hom.has_taylor
    order = opts.taylor_order if taylor else (2 if opts.predictor == "heun" else 4)
    factors = _Factors.empty(B, n) if taylor else None  # LU of H_z at each path's point
    target_err = opts.predictor_tol
    bad_start = ~np.all(np.isfinite(z), axis=1)
    code[bad_start] = _FAILED
    while True:
        act = np.flatnonzero(code == _ACTIVE)
        if act.size == 0:
            break
        za, ta = z[act], t[act]
        rem = ta - t_end
        short = (wait[act] > 0) & (rem >= opts.endgame_stop)
        ha = np.minimum(h[act], np.where(short, opts.endgame_ratio * rem, rem))
        jump = ha == rem
        t1 = ta - ha
        need = act[~has_k1[act]]
        if need.size:
            if factors is None:
                k1[need] = _velocity(hom.subset(need), z[need], t[need])
            else:
                k1[need], LU, piv = _velocity_lu(hom.subset(need), z[need], t[need])
                factors.set(need, LU, piv)
            has_k1[need] = True
        hom_act = hom.subset(act)
        if factors is None:
            zp = _predict(hom_act, za, ta, ha, "heun" if opts.predictor == "heun" else "rk4", k1[act])
            zc, ok, err, vel = _correct(hom_act, zp, t1, opts)
        else:
            zp = _predict_taylor(hom_act, za, ta, ha, k1[act], factors.solver(act), order)
            # the corrector stores its factors only for accepted paths: a rejected path keeps
            # the factors at its current point
            trial = _Factors.empty(act.size, n)
            zc, ok, err, vel = _correct(hom_act, zp, t1, opts, trial)
            factors.set(act[ok], trial.LU[ok], trial.piv[ok])
        # accepted steps
        acc = act[ok]
        z[acc] = zc[ok]
        k1[acc] = vel[ok]  # rejected paths keep their k1: same (z, t)
        t[acc] = t1[ok]
        steps[acc] += 1
        with np.errstate(divide="ignore", over="ignore"):
            factor = 0.9 * (target_err / np.maximum(err, 1e-300)) ** (1.0 / (order + 1))
        # no growth right after a rejection (the error estimate there is unreliable)
        cap = np.where(just_rejected[acc], 1.0, opts.max_growth)
        h[acc] = np.minimum(ha[ok] * np.clip(factor[ok], 0.5, cap), opts.max_step)
        just_rejected[acc] = False
        wait[acc] = np.maximum(wait[acc] - 1, 0)
        # rejected steps: shrink by the error model, at least halve
        rej = act[~ok]
        rejected[rej] += 1
        h[rej] = ha[~ok] * np.clip(factor[~ok], 0.25, 0.5)
        just_rejected[rej] = True
        missed = rej[jump[~ok]]  # a failed landing on t_end: approach geometrically for a while
        wait[missed] = backoff[missed]
        backoff[missed] *= 2
        crossed = acc[(t[acc] <= next_sample[acc]) & (t[acc] > t_end)]
        if crossed.size:
            s2z[crossed], s2t[crossed] = s1z[crossed], s1t[crossed]
            s1z[crossed], s1t[crossed] = z[crossed], t[crossed] - t_end
            next_sample[crossed] = 0.1 * (t[crossed] - t_end) + t_end
        # endings
        done = acc[t[acc] <= t_end]
        code[done] = _SUCCESS  # provisional: classified after refinement
        big = acc[_norm(z[acc]) > opts.max_norm]
        code[big] = _DIVERGED
        tiny = rej[
            (h[rej] < opts.min_step)
            | (h[rej] < opts.min_relative_step * (t[rej] - t_end))
            | (t[rej] - t_end < opts.endgame_stop)  # regular endpoints are reached in one step from here
        ]
        code[tiny] = np.where(t[tiny] - t_end < opts.singular_t, _SINGULAR, _FAILED)
        nonfinite = act[~np.all(np.isfinite(z[act]), axis=1)]
        code[nonfinite] = _FAILED
        out = act[(steps[act] + rejected[act] >= opts.max_steps) & (code[act] == _ACTIVE)]
        code[out] = _MAX_STEPS
    refine = lambda fin: _refine(hom.subset(fin), z[fin], t[fin], opts)  # noqa: E731
    return _finish(hom, z0, z, t, code, steps, rejected, (s1z, s2z, s1t, s2t), opts, t_end, refine)


def _finish(
    hom: Homotopy,
    z0: np.ndarray,
    z: np.ndarray,
    t: np.ndarray,
    code: np.ndarray,
    steps: np.ndarray,
    rejected: np.ndarray,
    samples: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    opts: TrackerOptions,
    t_end: float,
    refine: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> TrackResult:
    """Classify the endpoints: refine the paths that reached t_end (``refine(idx)`` returns
    (z, residual, condition, last update) of those paths), then singular / diverged by the
    condition number, the last Newton update and the valuations z_j(t) ~ t^{v_j}."""
    B = z.shape[0]
    s1z, s2z, s1t, s2t = samples
    residual = np.full(B, np.inf)
    cond = np.full(B, np.inf)
    acc_ = np.full(B, np.inf)
    fin = np.flatnonzero((code == _SUCCESS) | (code == _SINGULAR))
    if fin.size:
        zf, res, cnd, upd = refine(fin)
        z[fin], residual[fin], cond[fin], acc_[fin] = zf, res, cnd, upd
        sing = fin[(cond[fin] > opts.singular_condition) | (upd > 1e-6)]
        code[sing] = _SINGULAR
        big = fin[_norm(z[fin]) > opts.max_norm]
        code[big] = _DIVERGED
    with np.errstate(all="ignore"):
        valuation = (np.log(np.abs(s1z)) - np.log(np.abs(s2z))) / (np.log(s1t) - np.log(s2t))[:, None]
    # only an estimate close to t_end says anything about the limit
    near = ((s1t <= opts.valuation_t) & (s2t <= 10 * opts.valuation_t))[:, None]
    valuation = np.where(np.isfinite(valuation) & near, valuation, np.nan)
    # stuck near t = 0 with a coordinate growing like t^v, v < 0: a path to infinity
    with np.errstate(invalid="ignore"):
        growing = (
            (code == _SINGULAR)
            & (t > t_end)  # stuck before the end; a path that reached t_end has a finite endpoint
            & (np.nanmin(np.where(np.isnan(valuation), np.inf, valuation), axis=1) < -opts.valuation_tol)
        )
    code[growing & (_norm(z) > 1.0)] = _DIVERGED
    return TrackResult(
        start_points=z0,
        endpoints=z,
        status=_STATUS_NAMES[np.where(code == _ACTIVE, _FAILED, code)],
        t=t,
        steps=steps,
        rejected=rejected,
        residual=residual,
        condition=cond,
        accuracy=acc_,
        valuation=valuation,
        gammas=[hom.gamma],
    )


def _track_compiled(form: tuple, hom: Homotopy, z0: np.ndarray, opts: TrackerOptions, t_end: float,
                    threads: int) -> TrackResult:
    """``_track_batch`` path by path in compiled code (``compiled.py``), chunks of paths in threads."""
    from . import compiled as K

    (straight, gsl, tabF, tabG), Ptgt, DP, GAM = form
    tabs = (complex(gsl), tabF.arrays(), tabG.arrays()) if straight else (tabF.arrays(),)
    B, n = z0.shape
    z = np.ascontiguousarray(z0, dtype=complex).copy()
    t = np.ones(B)
    steps = np.zeros(B, dtype=np.int64)
    rejected = np.zeros(B, dtype=np.int64)
    work = np.zeros(B, dtype=np.int64)  # Jacobian factorisations per path (for profiling)
    code = np.full(B, _ACTIVE, dtype=np.int64)
    s1z, s2z = np.full_like(z, np.nan), np.full_like(z, np.nan)
    s1t, s2t = np.full(B, np.nan), np.full(B, np.nan)
    fo, io = K.float_options(opts, t_end), K.int_options(opts)
    # small chunks balance the load (path lengths vary); the result does not depend on them
    size = max(4, min(256, -(-B // (8 * threads))))
    bounds = list(range(0, B, size)) + [B]
    ranges = list(zip(bounds[:-1], bounds[1:]))
    run = lambda r: K._track_range(r[0], r[1], z, t, steps, rejected, work, code, s1z, s2z, s1t, s2t,  # noqa: E731
                                   Ptgt, DP, GAM, tabs, fo, io)
    _map(run, ranges, threads)

    def refine(fin: np.ndarray):
        zf, tf = np.ascontiguousarray(z[fin]), np.ascontiguousarray(t[fin])
        P, D, G = np.ascontiguousarray(Ptgt[fin]), np.ascontiguousarray(DP[fin]), np.ascontiguousarray(GAM[fin])
        upd = np.full(fin.size, np.inf)
        H = np.empty((fin.size, n), dtype=complex)
        Hz = np.empty((fin.size, n, n), dtype=complex)
        K._newton_iterations(0, fin.size, zf, tf, upd, P, D, G, tabs, opts.final_iters, opts.final_tol, True)
        K._values_range(0, fin.size, zf, tf, H, Hz, P, D, G, tabs)
        residual = np.where(np.all(np.isfinite(H), axis=1), _norm(H), np.inf)
        return zf, residual, condition_numbers(Hz), upd

    return _finish(hom, z0, z, t, code, steps, rejected, (s1z, s2z, s1t, s2t), opts, t_end, refine)


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
os.register_at_fork(after_in_child=_POOLS.clear)  # a forked child has none of the pool's threads


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``threads`` workers (starting threads per call costs ~1 ms each)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tracker")
        return pool


def _map(fn: Callable[[Any], Any], items: list, threads: int) -> list:
    """[fn(i) for i in items] on ``threads`` threads (the compiled kernels release the GIL): the
    calling thread and threads - 1 pool workers take the items one by one."""
    if threads < 2 or len(items) < 2 or threading.current_thread().name.startswith("tracker"):
        return [fn(i) for i in items]
    results: list = [None] * len(items)
    counter = itertools.count()  # next() is atomic under the GIL

    def work() -> None:
        for i in iter(counter.__next__, None):
            if i >= len(items):
                return
            results[i] = fn(items[i])

    futures = [_pool(threads - 1).submit(work) for _ in range(threads - 1)]
    work()
    for f in futures:
        f.result()
    return results


def track(
    homotopy: Homotopy,
    start_points: np.ndarray,
    options: TrackerOptions | None = None,
    t_end: float = 0.0,
    **kwargs: Any,
) -> TrackResult:
    """Track every start point of H(., 1) = 0 to t = t_end (default the target H(., 0)).

    ``kwargs`` override fields of ``TrackerOptions`` (e.g. ``max_steps=500``).
    """
    opts = replace(options or TrackerOptions(), **kwargs) if kwargs else (options or TrackerOptions())
    z0 = as_batch(start_points, homotopy.n_vars, "start_points")
    start = time.perf_counter()
    if z0.shape[0] == 0:
        empty = np.zeros(0)
        res = TrackResult(z0, z0.copy(), np.zeros(0, dtype=_STATUS_NAMES.dtype), empty, empty.astype(int),
                          empty.astype(int), empty, empty, empty, np.zeros(z0.shape), gammas=[homotopy.gamma])
    else:
        B = z0.shape[0]
        threads = opts.threads if opts.threads > 0 else min(2, _CPUS)
        from ..runtime.cluster import current_client

        client = current_client()
        if client is not None and B >= CLUSTER_MIN_PATHS:
            res = _track_on_cluster(client, homotopy, z0, opts, t_end)
        elif (form := _compiled_form(homotopy, B, opts)) is not None:
            res = _track_compiled(form, homotopy, z0, opts, t_end, threads)
        else:
            n_chunks = max(-(-B // opts.batch_size), min(threads, B // opts.min_paths_per_thread))
            bounds = np.linspace(0, B, max(n_chunks, 1) + 1).astype(int)
            chunks = [(homotopy.subset(slice(a, b)), z0[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
            # independent paths: chunks run concurrently (numpy, scipy and torch release the GIL)
            parts = _map(lambda c: _track_batch(c[0], c[1], opts, t_end), chunks, threads)
            res = parts[0] if len(parts) == 1 else TrackResult.concatenate(parts)
        res.gammas = [homotopy.gamma]
    res.seconds = time.perf_counter() - start
    return res


CLUSTER_MIN_PATHS = 128  # fewer paths than this are tracked here even inside ``cluster.using``


def _track_on_cluster(client: Any, homotopy: Homotopy, z0: np.ndarray, opts: TrackerOptions,
                      t_end: float) -> TrackResult:
    """``track`` with the paths split into chunks that run as Dask tasks on ``client``'s workers.

    Paths are independent and each chunk is tracked by the same code as here (compiled or batched), so
    the endpoints and statuses equal those of the single-process run; the chunks come back in order."""
    from ..runtime.cluster import n_workers

    B = z0.shape[0]
    n_chunks = max(1, min(4 * n_workers(client), -(-B // 32)))  # chunks of >= 32 paths
    bounds = np.linspace(0, B, n_chunks + 1).astype(int)
    hom_future = client.scatter(homotopy, broadcast=True)  # sent once to every worker, not once per chunk
    futures = [client.submit(_track_chunk, hom_future, z0[a:b], a, b, opts, t_end, pure=False)
               for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    parts = client.gather(futures)
    return parts[0] if len(parts) == 1 else TrackResult.concatenate(parts)


def _track_chunk(homotopy: Homotopy, z0: np.ndarray, a: int, b: int, opts: TrackerOptions, t_end: float) -> TrackResult:
    """One Dask task: paths a..b of ``homotopy`` (no cluster client is set on a worker: tracked locally)."""
    return track(homotopy.subset(slice(a, b)), z0, opts, t_end)


def compiled_tracking(system: ParametrizedSystem, options: TrackerOptions | None = None, **kwargs: Any) -> bool:
    """Whether parameter homotopies of ``system`` run in the compiled tracker with these options
    (a ``PolynomialSystem``, numba importable, ``compiled`` and an RK4 / Heun predictor)."""
    from . import compiled
    from .polynomial import PolynomialSystem

    opts = replace(options or TrackerOptions(), **kwargs) if kwargs else (options or TrackerOptions())
    return compiled.AVAILABLE and opts.compiled and opts.predictor != "taylor" and isinstance(system, PolynomialSystem)


def _compiled_form(hom: Homotopy, B: int, opts: TrackerOptions) -> tuple | None:
    """The compiled tracker's data for ``hom`` when it applies: numba importable, ``opts.compiled``,
    an RK4 / Heun predictor (the Taylor predictor stays batched) and a polynomial homotopy."""
    if not opts.compiled or opts.predictor == "taylor":
        return None
    from . import compiled

    if not compiled.AVAILABLE:
        return None
    return hom.compiled_form(B)


DEFAULT_RETRY = (PathStatus.FAILED.value, PathStatus.MAX_STEPS.value)


def solve(
    homotopy: Homotopy,
    start_points: np.ndarray,
    *,
    max_tries: int = 3,
    retry: Sequence[str] = DEFAULT_RETRY,
    rng: np.random.Generator | int | None = None,
    options: TrackerOptions | None = None,
    **kwargs: Any,
) -> TrackResult:
    """``track``, then re-track the paths whose status is in ``retry``, up to ``max_tries`` tracks
    per path in all: first along the same path (same gamma) with a finer step control, then with a
    fresh random gamma (same start and target, a different path).

    The same homotopy keeps start points and endpoints in bijection, so the first re-track cannot
    land on a solution another path already reached; a new gamma can (the paths of one start point
    under two gammas may end at different solutions), which callers detect as duplicates.
    The result's ``retries`` counts the re-tracks of each path and ``gammas`` lists every gamma used.
    """
    rng = np.random.default_rng(rng)
    res = track(homotopy, start_points, options, **kwargs)
    retry_set = {PathStatus(s).value for s in retry}
    base = replace(options or TrackerOptions(), **kwargs) if kwargs else (options or TrackerOptions())
    fine = replace(base, predictor_tol=base.predictor_tol / 30, max_first_update=base.max_first_update / 10,
                   max_steps=2 * base.max_steps)
    for attempt in range(max_tries - 1):
        # an ill-conditioned endpoint where Newton converged is a solution: no need to re-track it
        settled = res.converged() & ~res.success
        again = np.flatnonzero(np.isin(res.status, list(retry_set)) & ~settled)
        if again.size == 0:
            break
        if attempt == 0:
            hom2, opts2 = homotopy, fine
        else:
            hom2, opts2 = homotopy.with_gamma(random_gamma(rng)), base
        sub = track(hom2.subset(again), res.start_points[again], opts2)
        for name in ("endpoints", "status", "t", "steps", "rejected", "residual", "condition", "accuracy", "valuation"):
            arr = getattr(res, name)
            if name == "steps" or name == "rejected":
                arr[again] += getattr(sub, name)
            else:
                arr[again] = getattr(sub, name)
        res.retries[again] += 1
        if attempt:
            res.gammas.append(hom2.gamma)
        res.seconds += sub.seconds
    return res


__all__ = [
    "Homotopy",
    "StraightLineHomotopy",
    "ParameterHomotopy",
    "ParameterHomotopyBatch",
    "PathStatus",
    "TrackerOptions",
    "TrackResult",
    "track",
    "solve",
    "random_gamma",
    "batched_solve",
]
