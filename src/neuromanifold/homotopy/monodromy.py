"""Monodromy: all solutions of F(z; p0) = 0 from a few, by moving p around random loops.

Over a generic p the solutions form the fiber of a covering of parameter space (minus the
discriminant); following them around a loop p0 -> p1 -> p2 -> p0 (three parameter homotopies,
each with its own random gamma) permutes them, and the monodromy group acts transitively on each
irreducible component.  New endpoints are kept (deduplicated up to a tolerance on z, or on
``key(z, p0)``, e.g. an image point), and every known solution is pushed through every loop once
(a loop is a fixed path, so pushing the same solution twice gives nothing new).

Stopping rules, the first that fires: ``trace_test`` (a user callback certifies the set),
``target_count`` (the expected number was reached), ``stagnation`` (K fresh loops in a row found
nothing new), ``max_loops``; Ctrl-C gives ``interrupted`` with the points found so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .solutions import PointSet
from .start import newton_refine
from .system import ParametrizedSystem, as_batch
from .tracker import ParameterHomotopy, PathStatus, TrackerOptions, random_gamma, solve

KeyFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""key(z (B, n), p (m,)) -> (B, k) complex: what identifies a solution (default: z itself)."""

STOPPING_RULES = ("trace_test", "target_count", "stagnation", "max_loops", "interrupted")


@dataclass
class MonodromyResult:
    """The solutions over p0 found by monodromy and how the search ended.

    ``complete`` is True when the search ended by one of its stopping rules (trace_test,
    target_count, stagnation) and False when it was cut short (max_loops, interrupted): then the
    solutions are a lower bound.  Only ``trace_test_passed`` certifies that nothing is missing.
    """

    solutions: np.ndarray  # (N, n)
    keys: np.ndarray  # (N, k)
    parameters: np.ndarray  # p0 (m,)
    stopping_rule: str
    complete: bool
    trace_test_passed: bool
    loops: int  # distinct random loops built
    pushes: int  # batches of solutions pushed around a loop
    loops_without_new: int  # consecutive fresh loops that found nothing new (at the end)
    paths_tracked: int  # legs tracked (3 per solution per push), retries excluded
    path_failures: int  # legs that failed after all retries (that solution was dropped for the loop)
    paths_retried: int
    trace_tests: list[Any] = field(default_factory=list)
    history: list[tuple[int, int]] = field(default_factory=list)  # (pushes, solutions) after each push
    seconds: float = 0.0
    seed: Any = None

    @property
    def n_solutions(self) -> int:
        return int(len(self.solutions))

    def evidence(self) -> dict[str, Any]:
        ev = {
            "method": "monodromy",
            "solutions": self.n_solutions,
            "stopping_rule": self.stopping_rule,
            "complete": self.complete,
            "trace_test_passed": self.trace_test_passed,
            "loops": self.loops,
            "pushes": self.pushes,
            "loops_without_new": self.loops_without_new,
            "paths_tracked": self.paths_tracked,
            "path_failures": self.path_failures,
            "paths_retried": self.paths_retried,
            "seconds": round(self.seconds, 4),
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
        }
        if self.trace_tests:
            last = self.trace_tests[-1]
            ev["trace_test"] = last.evidence() if hasattr(last, "evidence") else bool(last)
        return ev

    def save(self, path: str | Path) -> None:
        """np.savez of the solution set (what ``monodromy_solve(resume=path)`` reads)."""
        np.savez(
            path,
            solutions=self.solutions,
            keys=self.keys,
            parameters=self.parameters,
            loops=self.loops,
            paths_tracked=self.paths_tracked,
            stopping_rule=self.stopping_rule,
        )

    def __repr__(self) -> str:
        return (
            f"MonodromyResult(solutions={self.n_solutions}, stopping_rule={self.stopping_rule!r}, "
            f"complete={self.complete}, trace_test_passed={self.trace_test_passed}, loops={self.loops}, "
            f"paths_tracked={self.paths_tracked}, failures={self.path_failures}, {self.seconds:.2f}s)"
        )


def _existing(path: str | Path | None) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if p.exists():
        return p
    q = Path(str(p) + ".npz")  # np.savez appends .npz
    return q if q.exists() else None


def load_solutions(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(solutions, parameters) from a file written by ``MonodromyResult.save`` / a checkpoint."""
    p = _existing(path)
    if p is None:
        raise InputError(f"no saved solution set at {path}")
    with np.load(p, allow_pickle=False) as data:
        return np.asarray(data["solutions"]), np.asarray(data["parameters"])


def _passed(outcome: Any) -> bool:
    return bool(getattr(outcome, "passed", outcome))


def monodromy_solve(
    system: ParametrizedSystem,
    p0: np.ndarray,
    start_solutions: np.ndarray,
    *,
    key: KeyFunction | None = None,
    tol: float = 1e-7,
    trace_test: Callable[[np.ndarray, np.ndarray], Any] | None = None,
    loops_without_new: int = 5,
    target_count: int | None = None,
    max_loops: int = 1000,
    parameter_sampler: Callable[[np.random.Generator], np.ndarray] | None = None,
    seed: int | np.random.Generator | None = 0,
    progress: bool = False,
    checkpoint: str | Path | Callable[[MonodromyResult], None] | None = None,
    resume: str | Path | None = None,
    max_tries: int = 2,
    options: TrackerOptions | None = None,
    **tracker_kwargs: Any,
) -> MonodromyResult:
    """Solutions of F(z; p0) = 0 reachable by monodromy from ``start_solutions`` (B, n).

    key: identifies solutions for deduplication (relative tolerance ``tol``); default z.
    trace_test: callback(solutions, p0) -> bool or an object with ``.passed``; run whenever
        every known solution has been through every loop and the set grew since the last run.
    loops_without_new: K, the stagnation rule.  target_count: stop on reaching this many.
    parameter_sampler: rng -> random p (m,) for the loop vertices; default complex Gaussian at
        a random scale between 0.1 and 10 times that of p0.
    checkpoint: a path (np.savez after every push) or a callback receiving the partial result.
    resume: a path written by a checkpoint; its solutions (same p0) join the start solutions.
    """
    t_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    n, m = system.n_vars, system.n_params
    if m == 0:
        raise InputError("monodromy needs a system with parameters (n_params > 0) to move around loops")
    p0 = np.asarray(p0, dtype=complex).reshape(-1)
    if p0.shape != (m,):
        raise InputError(f"p0 must have length n_params = {m}; got {p0.shape[0]}")
    if loops_without_new < 1:
        raise InputError("loops_without_new must be >= 1")
    starts = as_batch(start_solutions, n, "start_solutions")
    resume_path = _existing(resume)
    if resume_path is not None:  # a missing file means "nothing to resume yet"
        old, p_old = load_solutions(resume_path)
        if p_old.shape != p0.shape or not np.allclose(p_old, p0, rtol=1e-10, atol=1e-12):
            raise InputError("the checkpoint was written for another p0; pass the same p0 to resume")
        if old.size:
            starts = np.concatenate([as_batch(old, n, "checkpoint solutions"), starts])
    keyf: KeyFunction = key if key is not None else (lambda z, p: z)
    scale = max(1.0, float(np.sqrt(np.mean(np.abs(p0) ** 2))))

    def sampler(r: np.random.Generator) -> np.ndarray:
        if parameter_sampler is not None:
            return np.asarray(parameter_sampler(r), dtype=complex).reshape(m)
        # complex Gaussian at a random scale between 0.1 and 10 times that of p0: loops of
        # different sizes encircle different parts of the discriminant
        radius = scale * 10.0 ** r.uniform(-1.0, 1.0)
        return radius * (r.standard_normal(m) + 1j * r.standard_normal(m)) / np.sqrt(2)

    # start solutions must solve F(.; p0) = 0
    z, resid, cond = newton_refine(system, starts, p0)
    good = np.isfinite(resid) & (resid <= 1e-8 * (1 + np.max(np.abs(z), axis=1))) & (cond < 1e12)
    if not np.any(good):
        raise InputError(
            "no start solution satisfies F(z; p0) = 0 (after Newton refinement); pass solutions of the "
            "system at p0"
        )
    first_key = np.asarray(keyf(z[good][:1], p0), dtype=complex).reshape(1, -1)
    sols = PointSet(first_key.shape[1], n, tol)
    sols.add(np.asarray(keyf(z[good], p0), dtype=complex).reshape(int(good.sum()), -1), z[good])

    loops: list[dict[str, Any]] = []
    stats = {"tracked": 0, "failures": 0, "retried": 0, "pushes": 0}
    history: list[tuple[int, int]] = []
    trace_results: list[Any] = []
    stagnant = 0
    last_traced = -1
    rule = "max_loops"
    trace_ok = False
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=target_count, desc="monodromy", unit="sol", initial=len(sols))

    def snapshot(rule_now: str, complete: bool) -> MonodromyResult:
        return MonodromyResult(
            solutions=sols.values.copy(),
            keys=sols.keys.copy(),
            parameters=p0.copy(),
            stopping_rule=rule_now,
            complete=complete,
            trace_test_passed=trace_ok,
            loops=len(loops),
            pushes=stats["pushes"],
            loops_without_new=stagnant,
            paths_tracked=stats["tracked"],
            path_failures=stats["failures"],
            paths_retried=stats["retried"],
            trace_tests=list(trace_results),
            history=list(history),
            seconds=time.perf_counter() - t_start,
            seed=seed if isinstance(seed, (int, type(None))) else None,
        )

    def push(loop: dict[str, Any], Z: np.ndarray) -> int:
        """Track Z around the loop; add the new endpoints; return how many were new."""
        pts = Z
        legs = [(p0, loop["p1"]), (loop["p1"], loop["p2"]), (loop["p2"], p0)]
        for (pa, pb), g in zip(legs, loop["gammas"]):
            if len(pts) == 0:
                break
            hom = ParameterHomotopy(system, pa, pb, gamma=g)
            res = solve(hom, pts, max_tries=max_tries, retry=_RETRY_ALL, rng=rng, options=options, **tracker_kwargs)
            stats["tracked"] += res.n_paths
            stats["retried"] += res.n_retried
            ok = res.success
            stats["failures"] += int(np.sum(~ok))
            pts = res.endpoints[ok]
        stats["pushes"] += 1
        if len(pts) == 0:
            return 0
        keys = np.asarray(keyf(pts, p0), dtype=complex).reshape(len(pts), -1)
        new = sols.add(keys, pts)
        return int(len(new))

    def save_checkpoint() -> None:
        if checkpoint is None:
            return
        snap = snapshot("interrupted", False)
        if callable(checkpoint):
            checkpoint(snap)
        else:
            snap.save(checkpoint)

    try:
        while True:
            if target_count is not None and len(sols) >= target_count:
                rule = "target_count"
                break
            pending = next((L for L in loops if L["done"] < len(sols)), None)
            if pending is not None:
                lo, hi = pending["done"], len(sols)
                pending["done"] = hi
                found = push(pending, sols.values[lo:hi])
                if found:
                    stagnant = 0
            else:
                if trace_test is not None and len(sols) != last_traced:
                    last_traced = len(sols)
                    outcome = trace_test(sols.values.copy(), p0.copy())
                    trace_results.append(outcome)
                    if _passed(outcome):
                        trace_ok = True
                        rule = "trace_test"
                        break
                if stagnant >= loops_without_new:
                    rule = "stagnation"
                    break
                if len(loops) >= max_loops:
                    rule = "max_loops"
                    break
                loop = {
                    "p1": sampler(rng),
                    "p2": sampler(rng),
                    "gammas": [random_gamma(rng) for _ in range(3)],
                    "done": len(sols),
                }
                loops.append(loop)
                found = push(loop, sols.values.copy())
                stagnant = 0 if found else stagnant + 1
            history.append((stats["pushes"], len(sols)))
            if bar is not None:
                bar.n = len(sols)
                bar.set_postfix(loops=len(loops), stagnant=stagnant, paths=stats["tracked"], refresh=False)
                bar.refresh()
            save_checkpoint()
    except KeyboardInterrupt:
        rule = "interrupted"
    finally:
        if bar is not None:
            bar.close()
    result = snapshot(rule, rule in ("trace_test", "target_count", "stagnation"))
    if checkpoint is not None:
        if callable(checkpoint):
            checkpoint(result)
        else:
            result.save(checkpoint)
    return result


_RETRY_ALL = tuple(s.value for s in PathStatus if s is not PathStatus.SUCCESS)

__all__ = ["monodromy_solve", "MonodromyResult", "load_solutions", "KeyFunction", "STOPPING_RULES"]
