"""The batched predictor-corrector step loop that moves paths of a homotopy from t = 1 to t = t_end.

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
each path ended (``PathStatus``; ``_finish``, shared with the compiled loop of ``compiled.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .homotopies import Homotopy
from .linear_algebra import _norm, batched_solve, condition_numbers, lu_factor, lu_solve
from .paths import _STATUS_NAMES, TrackerOptions, TrackResult

# path codes of the step loops (here and in compiled.py): indices into _STATUS_NAMES, or still active
_SUCCESS, _DIVERGED, _SINGULAR, _MAX_STEPS, _FAILED = range(5)
_ACTIVE = -1


def _velocity(hom: Homotopy, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    _, Hz, Ht = hom.evaluate_all(z, t)
    return -batched_solve(Hz, Ht)


@dataclass
class _Factors:
    """LU factors of H_z at the current point of every path (for the Taylor predictor)."""

    LU: np.ndarray  # (B, n, n)
    piv: np.ndarray  # (B, n)

    @staticmethod
    def empty(B: int, n: int) -> "_Factors":
        return _Factors(np.zeros((B, n, n), dtype=complex), np.zeros((B, n), np.int32))

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
