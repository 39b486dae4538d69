"""The trace test: is a witness set complete?

Let X be a variety and L_c = {A x = b0 + c v} a pencil of parallel affine slices of
complementary dimension (c in C).  The trace tr(c) = sum of the points of X ∩ L_c (in linear
coordinates of the ambient space) is an affine-linear function of c; the sum over any proper
subset of the points is not (unless that subset is itself a union of complete witness sets of
components).  So with the slice offset as the parameter p of F(z; p), we track every witness
point from p0 to p0 + delta v and to p0 - delta v (parameter homotopies inside the pencil,
since the gamma-arc keeps p on the complex line p0 + C v) and test

    residual = |tr(+delta) + tr(-delta) - 2 tr(0)|_inf / sum_i |image(z_i)|_inf  <  threshold.

For a pseudo-witness set of an image phi(C^N) the points are the images phi(z): pass
``image(z, p) -> (B, k)``.  Repeating with an independent random direction v (``repeats``)
guards against a false pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .dispatch import compiled_tracking, solve
from .homotopies import ParameterHomotopyBatch, random_gamma
from .paths import PathStatus, TrackerOptions
from .solutions import deduplicate
from .start import newton_refine, random_source
from .system import ParametrizedSystem, as_batch

ImageFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class TraceTestResult:
    """Outcome of the trace test (``bool(result)`` is ``passed``)."""

    passed: bool
    residual: float  # the largest residual over the repeats
    threshold: float
    residuals: list[float]
    n_points: int
    paths_tracked: int
    path_failures: int
    paths_retried: int
    delta: float
    jumps: int = 0  # endpoints still reached twice after re-tracking (path jumps), over all directions
    retracked: int = 0  # paths re-tracked with finer steps because they ended at a shared endpoint
    redrawn: int = 0  # directions replaced because their paths failed or jumped
    directions: list[np.ndarray] = field(default_factory=list)
    traces: list[np.ndarray] = field(default_factory=list)  # per repeat (3, k): tr(-delta), tr(0), tr(+delta)
    reason: str = ""
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return self.passed

    def evidence(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "residual": self.residual,
            "residuals": list(self.residuals),
            "threshold": self.threshold,
            "points": self.n_points,
            "repeats": len(self.residuals),
            "paths_tracked": self.paths_tracked,
            "path_failures": self.path_failures,
            "paths_retried": self.paths_retried,
            "path_jumps": self.jumps,
            "paths_retracked_after_jumps": self.retracked,
            "directions_redrawn": self.redrawn,
            "reason": self.reason,
            "seconds": round(self.seconds, 4),
        }

    def __repr__(self) -> str:
        return (
            f"TraceTestResult(passed={self.passed}, residual={self.residual:.3g}, threshold={self.threshold:g}, "
            f"points={self.n_points}, repeats={len(self.residuals)}, failures={self.path_failures}"
            + (f", reason={self.reason!r}" if self.reason else "")
            + ")"
        )


def trace_test(
    system: ParametrizedSystem,
    p0: np.ndarray,
    points: np.ndarray,
    *,
    image: ImageFunction | None = None,
    direction: np.ndarray | None = None,
    delta: float = 0.5,
    repeats: int = 1,
    threshold: float = 1e-6,
    seed: int | None = 0,
    rng: np.random.Generator | None = None,
    max_tries: int = 3,
    stop_early: bool = True,
    redraws: int = 2,
    jump_tol: float = 1e-6,
    batch_paths: int = 1024,
    jump_retries: int = 2,
    tracker: TrackerOptions | None = None,
) -> TraceTestResult:
    """Trace test of the witness points ``points`` (B, n) of F(z; p0) = 0, p the slice offset.

    direction: v for the first repeat (default random complex, |v| = max(1, |p0|)); each further
    repeat uses a fresh independent random direction.  Passes only if every repeat passes and
    no path failed; with ``stop_early`` the repeats stop at the first that fails (its verdict is
    final), so an incomplete set costs the paths of one repeat.  A repeat whose paths fail or
    jump (two endpoints with the same image, relative tolerance ``jump_tol``) proves nothing
    either way: paths sharing an endpoint are first re-tracked with a finer step control (up to
    ``jump_retries`` times), and a direction whose paths still fail or jump is replaced by a fresh
    one, up to ``redraws`` times in a row.
    When all repeats together need at most ``batch_paths`` paths they are tracked as one batch,
    except for systems the compiled tracker handles (there a batch costs its paths, not its steps,
    so the repeats run one by one and a failing first repeat saves the paths of the others).
    Directions and gammas come from ``rng`` (a numpy Generator) when given, else from ``seed`` (an
    integer); ``tracker`` steers the paths (default ``TrackerOptions()``; re-tracks after a jump use
    a finer variant of it).
    """
    t0 = time.perf_counter()
    rng = random_source(seed, rng)
    base = tracker if tracker is not None else TrackerOptions()
    # paths that jumped are re-tracked with a finer step control, derived from ``tracker``
    fine = replace(base, predictor_tol=base.predictor_tol / 30, max_first_update=base.max_first_update / 10)
    m = system.n_params
    if m == 0:
        raise InputError("the trace test moves the slice offset: the system needs parameters (n_params > 0)")
    if repeats < 1:
        raise InputError("repeats must be >= 1")
    p0 = np.asarray(p0, dtype=complex).reshape(-1)
    if p0.shape != (m,):
        raise InputError(f"p0 must have length n_params = {m}; got {p0.shape[0]}")
    Z = as_batch(points, system.n_vars, "points")
    imagef: ImageFunction = image if image is not None else (lambda z, p: z)
    scale_p = max(1.0, float(np.linalg.norm(p0)))
    out = TraceTestResult(
        passed=False, residual=float("inf"), threshold=threshold, residuals=[], n_points=len(Z),
        paths_tracked=0, path_failures=0, paths_retried=0, delta=delta,
    )
    if len(Z) == 0:
        out.reason = "no witness points"
        out.seconds = time.perf_counter() - t0
        return out
    Z, resid, _, upd = newton_refine(system, Z, p0, return_update=True)
    # a solution: tiny residual, or (when the equations take large values) Newton converged
    if not np.all((resid <= 1e-8 * (1 + np.max(np.abs(Z), axis=1))) | (upd <= 1e-9)):
        raise InputError("some witness points do not satisfy F(z; p0) = 0; pass solutions of the system at p0")
    img0 = np.asarray(imagef(Z, p0), dtype=complex).reshape(len(Z), -1)
    tr0 = img0.sum(axis=0)
    scale = float(np.sum(np.max(np.abs(img0), axis=1))) or 1.0
    ok_all = True
    n = len(Z)
    # witness points have distinct images; if these do not, look for jumps among the points z
    images_distinct = len(deduplicate(img0, tol=jump_tol)) == n

    def draw(first: bool) -> np.ndarray:
        if first and direction is not None:
            v = np.asarray(direction, dtype=complex).reshape(-1)
            if v.shape != (m,):
                raise InputError(f"direction must have length n_params = {m}")
            return v
        v = rng.standard_normal(m) + 1j * rng.standard_normal(m)
        return v * (scale_p / np.linalg.norm(v))

    def run(vs: list[np.ndarray]) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
        """Track Z to p0 -/+ delta v for every v (all in one batch, a gamma-arc per side and
        direction); per direction: (failed, jumped, trace at -delta, trace at +delta)."""
        q = 2 * len(vs)
        targets = np.concatenate(
            [np.broadcast_to(p0 + sign * delta * v, (n, m)) for v in vs for sign in (-1.0, 1.0)]
        )
        gam = np.repeat(np.array([random_gamma(rng) for _ in range(q)]), n)
        hom = ParameterHomotopyBatch(system, np.broadcast_to(p0, (q * n, m)), targets, gam)
        starts = np.tile(Z, (q, 1))
        res = solve(hom, starts, max_tries=max_tries, retry=_RETRY_ALL, rng=rng, options=base)
        out.paths_tracked += res.n_paths
        out.paths_retried += res.n_retried
        ends, ok = res.endpoints.copy(), res.converged()
        imgs = [None] * q

        def duplicated() -> np.ndarray:
            """Paths (global indices) whose endpoint another path of the same side also reached."""
            bad = []
            for j in range(q):
                sl = slice(j * n, (j + 1) * n)
                imgs[j] = np.asarray(imagef(ends[sl], targets[j * n]), dtype=complex).reshape(n, -1)
                lab = deduplicate(imgs[j] if images_distinct else ends[sl], tol=jump_tol, return_labels=True)
                counts = np.bincount(lab[lab >= 0], minlength=1)
                dup = np.flatnonzero(ok[sl] & (lab >= 0) & (counts[np.maximum(lab, 0)] > 1))
                bad.append(j * n + dup)
            return np.concatenate(bad)

        # n paths from n distinct points end at n distinct points; a repeated endpoint means a
        # path jumped to a neighbouring one.  Re-track both with a new gamma and a finer step
        # control (``fine``: the set of endpoints, not which path reaches which, is what the trace needs)
        for _ in range(jump_retries):
            again = duplicated()
            if again.size == 0:
                break
            out.retracked += int(again.size)
            sub = solve(hom.with_gamma(random_gamma(rng)).subset(again), starts[again], max_tries=max_tries,
                        retry=_RETRY_ALL, rng=rng, options=fine)
            out.paths_tracked += sub.n_paths
            ends[again], ok[again] = sub.endpoints, sub.converged()
        jumped_idx = duplicated()
        found = []
        for i in range(len(vs)):
            sides = []
            failed = jumped = 0
            for j in (2 * i, 2 * i + 1):
                sl = slice(j * n, (j + 1) * n)
                failed += int(np.sum(~ok[sl]))
                jumped += int(np.sum((jumped_idx >= j * n) & (jumped_idx < (j + 1) * n)))
                sides.append(imgs[j].sum(axis=0))
            found.append((failed, 0 if failed else jumped, sides[0], sides[1]))
        return found

    # small sets: every repeat in one batch (the cost of a batch is its number of steps);
    # large sets: one repeat at a time, so that an incomplete set costs one repeat
    compiled_ = compiled_tracking(system, options=base)
    together = 2 * n * repeats <= batch_paths and not compiled_
    done = 0
    redrawn = 0
    while done < repeats:
        k_now = repeats - done if together else 1
        vs = [draw(done == 0 and redrawn == 0 and i == 0) for i in range(k_now)]
        for v, (failed, jumped, tr_minus, tr_plus) in zip(vs, run(vs)):
            if failed or jumped:
                out.path_failures += failed
                out.jumps += jumped
                if redrawn < redraws:
                    # an unlucky direction (the pencil passes near a bad point) says nothing
                    # about completeness: draw another one
                    redrawn += 1
                    out.redrawn += 1
                    continue
            tr = np.stack([tr_minus, tr0, tr_plus])
            res_r = float(np.max(np.abs(tr[0] + tr[2] - 2 * tr[1])) / scale)
            if not np.isfinite(res_r):
                res_r = float("inf")
            out.residuals.append(res_r)
            out.directions.append(v)
            out.traces.append(tr)
            done += 1
            redrawn = 0
            if failed or jumped:
                ok_all = False
                out.reason = (
                    f"{failed} paths failed and {jumped} jumped on the way to p0 +- delta v, for {redraws + 1} "
                    "directions in a row; the test is inconclusive"
                )
            elif res_r >= threshold:
                ok_all = False
        if not ok_all and stop_early:
            break  # one failed repeat decides: the later directions would not change the verdict
    out.residual = max(out.residuals)
    out.passed = ok_all and out.residual < threshold
    if not out.passed and not out.reason:
        out.reason = "the trace is not linear along the pencil: the witness set is incomplete"
    out.seconds = time.perf_counter() - t0
    return out


def make_trace_test(
    system: ParametrizedSystem,
    *,
    image: ImageFunction | None = None,
    repeats: int = 2,
    threshold: float = 1e-6,
    delta: float = 0.5,
    seed: int | None = 0,
    **kwargs: Any,
) -> Callable[[np.ndarray, np.ndarray], TraceTestResult]:
    """A ``trace_test`` callback for ``monodromy_solve``: each call uses fresh random directions (drawn from
    ``seed``, an integer; ``kwargs`` are further keyword arguments of ``trace_test``, e.g. ``tracker``).
    Its random state can be read and set (``callback.get_state()`` / ``callback.set_state(s)``, a
    JSON-able dict), so that a checkpointed monodromy run resumes with the same directions."""
    rng = random_source(seed)

    def callback(points: np.ndarray, p0: np.ndarray) -> TraceTestResult:
        return trace_test(
            system, p0, points, image=image, repeats=repeats, threshold=threshold, delta=delta,
            seed=int(rng.integers(2**63 - 1)), **kwargs,
        )

    def get_state() -> dict[str, Any]:
        return dict(rng.bit_generator.state)

    def set_state(state: dict[str, Any]) -> None:
        rng.bit_generator.state = state

    callback.get_state = get_state  # type: ignore[attr-defined]
    callback.set_state = set_state  # type: ignore[attr-defined]
    return callback


_RETRY_ALL = tuple(s.value for s in PathStatus if s is not PathStatus.SUCCESS)

__all__ = ["trace_test", "make_trace_test", "TraceTestResult", "ImageFunction"]
