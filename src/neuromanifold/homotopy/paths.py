"""How paths end and what steers them: ``PathStatus`` (success, diverged, singular, max_steps,
failed), the tracker's tolerances ``TrackerOptions`` (relative to 1 + |z|_inf) and ``TrackResult``,
the endpoint, status, steps, residual |H(z, t_end)|_inf, cond(H_z) and valuations v_j in
z_j(t) ~ t^{v_j} of every path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import COUNT, FLAG, NON_NEGATIVE, POSITIVE, InputError, Rule, check_fields, within


class PathStatus(str, Enum):
    """How a path ended."""

    SUCCESS = "success"  # reached t = 0 at a regular (well-conditioned) solution
    DIVERGED = "diverged"  # |z| blew up: the path goes to a solution at infinity
    SINGULAR = "singular"  # reached t ~ 0 at an ill-conditioned (singular) point
    MAX_STEPS = "max_steps"  # ran out of steps
    FAILED = "failed"  # step size underflow away from t = 0, or non-finite values



_STATUS_NAMES = np.array([s.value for s in PathStatus])  # by the integer codes of the step loops


# the valid values of every numeric option of TrackerOptions: (what to write, test)
_RULES: dict[str, Rule] = {
    **dict.fromkeys(("initial_step", "max_step", "corrector_tol", "predictor_tol", "max_first_update", "max_norm",
                     "singular_condition", "valuation_t"), POSITIVE),
    **dict.fromkeys(("min_step", "min_relative_step", "singular_t", "endgame_stop", "final_tol", "valuation_tol"),
                    NON_NEGATIVE),
    **dict.fromkeys(("max_corrector_iters", "max_steps", "final_iters", "batch_size", "min_paths_per_thread"), COUNT),
    "taylor_order": ("an integer >= 2", within(2, integer=True)),
    "threads": ("an integer >= 0 (0: min(2, cpu count))", within(0, integer=True)),
    "contraction": ("in (0, 1]", within(0, 1, open_low=True)),
    "endgame_ratio": ("in (0, 1] (1: no geometric approach to t_end)", within(0, 1, open_low=True)),
    "max_growth": ("a number >= 1", within(1)),
    "predictor": ("'rk4', 'heun' or 'taylor'", lambda x: x in ("rk4", "heun", "taylor")),
    "compiled": FLAG,
}


@dataclass(frozen=True)
class TrackerOptions:
    """Tolerances of the tracker (relative to 1 + |z|_inf); frozen, checked on construction (derive
    variants with ``dataclasses.replace``)."""

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
        check_fields(self, _RULES)


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


__all__ = ["PathStatus", "TrackerOptions", "TrackResult"]
