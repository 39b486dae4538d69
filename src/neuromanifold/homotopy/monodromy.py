"""Monodromy: all solutions of F(z; p0) = 0 from a few, by moving p around random loops.

Over a generic p the solutions form the fiber of a covering of parameter space (minus the
discriminant); following them around a loop p0 -> p1 -> p2 -> p0 (three parameter homotopies,
each with its own random gamma; or p0 -> p1 -> p0 along two different gamma-arcs) permutes them,
and the monodromy group acts transitively on each irreducible component.  New endpoints are kept
(deduplicated up to a tolerance on z, or on ``key(z, p0)``, e.g. an image point), and every known
solution is pushed through every loop once (a loop is a fixed path, so pushing the same solution
twice gives nothing new).  All pending (loop, solution) pairs are tracked as one batch.

When solutions at random parameters are cheap to make (``start_pairs``: for F(z; p) = G(z) - p
any z solves F(.; G(z)) = 0), batches of them are first tracked to p0, one leg each: every
endpoint is a solution over p0, and most of the fiber is found this way before the first loop.

Stopping rules, the first that fires: ``trace_test`` (a user callback certifies the set),
``target_count`` (the expected number was reached), ``stagnation`` (K fresh loops in a row found
nothing new), ``max_loops``; Ctrl-C gives ``interrupted`` and a spent time budget ``budget``, with the points found so far.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import COUNT, NON_NEGATIVE, POSITIVE, InputError, Rule, check_fields, within
from .dispatch import solve
from .homotopies import ParameterHomotopyBatch, random_gamma
from .paths import PathStatus, TrackerOptions
from .solutions import PointSet
from .start import newton_refine, random_source
from .system import ParametrizedSystem, as_batch

KeyFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""key(z (B, n), p (m,)) -> (B, k) complex: what identifies a solution (default: z itself)."""

STOPPING_RULES = ("trace_test", "target_count", "stagnation", "max_loops", "interrupted", "budget")

# the valid values of every option of MonodromyOptions: (what to write, test)
RULES: dict[str, Rule] = {
    "tol": POSITIVE,
    "loops_without_new": COUNT,
    "target_count": ("an integer >= 1 or None (no target)", within(1, integer=True, none=True)),
    "max_loops": ("an integer >= 0", within(0, integer=True)),
    "max_tries": COUNT,
    "loop_vertices": ("1 (out and back) or 2 (a triangle)", within(1, 2, integer=True)),
    "sample_batch": COUNT,
    "sample_yield": NON_NEGATIVE,
    "sample_limit": ("an integer >= 0 or None (no limit)", within(0, integer=True, none=True)),
    "trace_growth": ("a number >= 0 or None (test after every round)", within(0, none=True)),
    "trace_growth_from": ("an integer >= 0", within(0, integer=True)),
}


@dataclass(frozen=True)
class MonodromyOptions:
    """The numeric knobs of ``monodromy_solve``; frozen, checked on construction (derive variants with
    ``dataclasses.replace``).

    tol: relative tolerance under which two solutions (their keys) are one.
    loops_without_new: K, the stagnation rule: stop after K fresh loops in a row found nothing new.
    target_count: stop on reaching this many solutions (a batch that overshoots is cut back to it); None: no target.
    max_loops: stop after building this many random loops.
    max_tries: tracks per path leg at most (failed legs are re-tracked, finer, then with a fresh gamma).
    loop_vertices: random parameter points of a loop besides p0 (2: a triangle p0 -> p1 -> p2 -> p0;
        1: p0 -> p1 -> p0 out and back along two different gamma-arcs, 2 legs instead of 3).
    sample_batch: random start pairs (``start_pairs``) tracked to p0 in the first batch; later batches
        track max(sample_batch, solutions known).
    sample_yield: random starts stop when a batch finds fewer than this many new solutions per path.
    sample_limit: random starts stop once this many were tracked; None: no limit.
    trace_growth: None runs the trace test whenever every solution has been around every loop and the set
        grew; a number r runs it only when, in addition, the last fresh loop (with the pushes it
        triggered) grew the set by at most r times its size (a loop that still finds many new solutions
        shows the set incomplete more cheaply than a failed test).
    trace_growth_from: the ``trace_growth`` rule applies from this many solutions on (small sets: test
        after every round).
    """

    tol: float = 1e-7
    loops_without_new: int = 5
    target_count: int | None = None
    max_loops: int = 1000
    max_tries: int = 2
    loop_vertices: int = 2
    sample_batch: int = 64
    sample_yield: float = 0.25
    sample_limit: int | None = None
    trace_growth: float | None = None
    trace_growth_from: int = 0

    def __post_init__(self) -> None:
        check_fields(self, RULES)


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
    paths_tracked: int  # legs tracked (2 or 3 per solution per push, 1 per random start), retries excluded
    path_failures: int  # legs that failed after all retries (that solution was dropped for the loop)
    paths_retried: int
    trace_tests: list[Any] = field(default_factory=list)
    history: list[tuple[int, int]] = field(default_factory=list)  # (pushes, solutions) after each push
    sampled: int = 0  # paths tracked from random start pairs to p0 (included in paths_tracked)
    rejected: int = 0  # endpoints dropped by ``accept`` (not in the set being counted)
    seconds: float = 0.0
    seed: Any = None
    resumed: dict[str, Any] | None = None  # what a checkpoint restored (mode full / solutions_only / finished)

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
            "paths_from_random_starts": self.sampled,
            "endpoints_rejected": self.rejected,
            "seconds": round(self.seconds, 4),
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
            # (paths pushed, solutions known) after each push, thinned to at most 100 points
            "growth": [list(h) for h in self.history[:: max(1, -(-len(self.history) // 100))]],
        }
        if self.stopping_rule in ("interrupted", "budget"):
            ev["interrupted"] = True  # cut short: a partial result, never final
        if self.resumed is not None:
            ev["resumed"] = dict(self.resumed)
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


def attempt_checkpoint(path: str | Path | None, attempt: int) -> Any:
    """The checkpoint file of restart ``attempt`` of a run checkpointed at ``path`` (0: ``path`` itself;
    n: ``<stem>-attempt<n+1>.npz``), so that every restart resumes its own loop state; None and
    callbacks are returned unchanged."""
    if path is None or callable(path) or attempt == 0:
        return path
    p = Path(path)
    stem = p.name[:-4] if p.name.endswith(".npz") else p.name
    return p.with_name(f"{stem}-attempt{attempt + 1}.npz")


def _passed(outcome: Any) -> bool:
    return bool(getattr(outcome, "passed", outcome))


class _SavedTrace:
    """A trace test restored from a checkpoint: its verdict and evidence."""

    def __init__(self, ev: dict[str, Any]) -> None:
        self.ev, self.passed = dict(ev), bool(ev.get("passed", False))

    def evidence(self) -> dict[str, Any]:
        return dict(self.ev)

    def __bool__(self) -> bool:
        return self.passed


def _probe(system: ParametrizedSystem, p0: np.ndarray) -> np.ndarray:
    """F at two fixed pseudo-random points over p0: tells a checkpoint of another system apart."""
    r = np.random.default_rng(20261205)
    z = (r.standard_normal((2, system.n_vars)) + 1j * r.standard_normal((2, system.n_vars))) / 4
    try:
        with np.errstate(all="ignore"):
            return np.asarray(system.evaluate(z, np.broadcast_to(p0, (2, len(p0))).copy()), dtype=complex)
    except Exception:  # a system that cannot be evaluated there: no probe
        return np.zeros((0, system.n_vars), dtype=complex)


def _write_npz(path: Path, arrays: dict[str, Any]) -> None:
    """np.savez to ``path`` atomically (a Ctrl-C while writing keeps the previous file)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _load_state(path: Path) -> dict[str, Any] | None:
    """The loop state of a checkpoint written by ``monodromy_solve`` (None: a solutions-only file)."""
    with np.load(path, allow_pickle=False) as data:
        if "meta" not in data.files:
            return None
        out = {k: np.asarray(data[k]) for k in data.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out


def monodromy_solve(
    system: ParametrizedSystem,
    p0: np.ndarray,
    start_solutions: np.ndarray,
    *,
    options: MonodromyOptions | None = None,
    tracker: TrackerOptions | None = None,
    key: KeyFunction | None = None,
    trace_test: Callable[[np.ndarray, np.ndarray], Any] | None = None,
    accept: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    parameter_sampler: Callable[[np.random.Generator], np.ndarray] | None = None,
    start_pairs: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]] | None = None,
    seed: int | None = 0,
    rng: np.random.Generator | None = None,
    progress: bool = False,
    checkpoint: str | Path | Callable[[MonodromyResult], None] | None = None,
    resume: str | Path | None = None,
) -> MonodromyResult:
    """Solutions of F(z; p0) = 0 reachable by monodromy from ``start_solutions`` (B, n).

    options: the numeric knobs (``MonodromyOptions``: tolerance, stopping rules, loop shape, random
        starts, when to run the trace test); default ``MonodromyOptions()``.
    tracker: how every leg is tracked (``TrackerOptions``); default ``TrackerOptions()``.
    key: identifies solutions for deduplication (relative tolerance ``options.tol``); default z.
    trace_test: callback(solutions, p0) -> bool or an object with ``.passed``; run whenever
        every known solution has been through every loop and the set grew since the last run
        (see ``options.trace_growth``), and once more at the same count after max(2, K // 2) fresh
        loops found nothing (a test can fail on a complete set when its paths pass near a bad point).
        Before the first loop, after random starts, the test runs only if their last batch found
        nothing new.
    parameter_sampler: rng -> random p (m,) for the loop vertices; default complex Gaussian at
        a random scale between 0.1 and 10 times that of p0.
    seed, rng: the random source (loops, gammas, random starts): ``rng`` (a numpy Generator) when
        given, else ``np.random.default_rng(seed)`` (``seed`` an integer or None).
    checkpoint: a path or a callback receiving the partial result after every push.  A path gets the
        whole state (np.savez, written atomically, no pickles; JSON metadata): solutions, loops (vertices,
        gammas, how many solutions each has been pushed through), counters, the stagnation count, the
        random-start phase, the random states (of the loops and of a ``make_trace_test`` callback) and
        the trace tests run; at the end the final state.  A cut run (Ctrl-C, budget) keeps the state of
        its last completed push, or of its last completed leg of a push (the points between two legs of the
        push in flight are saved after each leg).
    resume: a path written by a checkpoint.  Written by a run with the same options, start solutions and
        seed: the run continues exactly where that one stopped (a finished one returns at once) and
        ``MonodromyResult.resumed`` says so; otherwise its solutions join the start solutions.  A file
        of another p0 or another system (F differs at two fixed probe points) raises InputError.

    start_pairs: rng, B -> (z (B, n), p (B, m)) with F(z_i; p_i) = 0 at random parameters p_i
        (e.g. F(z; p) = G(z) - p: any z with p = G(z)).  Before the loops, batches of such
        pairs are tracked to p0 (one leg each; every endpoint is a solution over p0, drawn with
        some distribution), batch size ``max(options.sample_batch, solutions known)``, until a batch
        finds fewer than ``options.sample_yield`` new solutions per path, or ``options.sample_limit``
        random starts were tracked.  Loops then find the rest.

    accept: accept(z (B, n), p0) -> (B,) bool: which solutions over p0 belong to the set (e.g. the
        critical points of a distance on the smooth locus, not those of the parametrization); the
        others are dropped before deduplication, from the starts and from every batch of endpoints,
        so the trace test and the count see only accepted points.

    Every pending (loop, solution) pair is tracked in one batch (``ParameterHomotopyBatch``):
    the solutions found by one loop go around all earlier loops together.
    """
    t_start = time.perf_counter()
    if options is None:
        options = MonodromyOptions()
    elif not isinstance(options, MonodromyOptions):
        raise InputError(f"options must be a MonodromyOptions (tracker tolerances go in tracker=); got {options!r}")
    if tracker is not None and not isinstance(tracker, TrackerOptions):
        raise InputError(f"tracker must be a TrackerOptions; got {tracker!r}")
    # the seed the result records: an integer, or None (fresh entropy, or rng= given: the checkpoint says "generator")
    from_generator = rng is not None
    rng = random_source(seed, rng)
    seed = None if from_generator or seed is None else int(seed)
    tol, loops_without_new, target_count = options.tol, options.loops_without_new, options.target_count
    max_loops, max_tries, loop_vertices = options.max_loops, options.max_tries, options.loop_vertices
    sample_batch, sample_yield, sample_limit = options.sample_batch, options.sample_yield, options.sample_limit
    trace_growth, trace_growth_from = options.trace_growth, options.trace_growth_from
    n, m = system.n_vars, system.n_params
    if m == 0:
        raise InputError("monodromy needs a system with parameters (n_params > 0) to move around loops")
    p0 = np.asarray(p0, dtype=complex).reshape(-1)
    if p0.shape != (m,):
        raise InputError(f"p0 must have length n_params = {m}; got {p0.shape[0]}")
    starts = as_batch(start_solutions, n, "start_solutions")
    # what a checkpoint's loop state must match to be continued (else only its solutions are reused)
    config = {
        "version": 1, "seed": "generator" if from_generator else seed,
        "starts": hashlib.sha256(np.ascontiguousarray(starts).tobytes()).hexdigest()[:16],
        "tol": float(tol), "loops_without_new": int(loops_without_new), "target_count": target_count,
        "max_loops": int(max_loops), "loop_vertices": int(loop_vertices), "random_starts": start_pairs is not None,
        "sample_batch": int(sample_batch), "sample_yield": float(sample_yield), "sample_limit": sample_limit,
        "trace_growth": trace_growth, "trace_growth_from": int(trace_growth_from), "trace_test": trace_test is not None,
        "max_tries": int(max_tries), "accept": accept is not None,
    }
    ckpt_path: Path | None = None
    if checkpoint is not None and not callable(checkpoint):
        ckpt_path = Path(checkpoint) if str(checkpoint).endswith(".npz") else Path(str(checkpoint) + ".npz")
    probe = _probe(system, p0) if (ckpt_path is not None or resume is not None) else None
    state: dict[str, Any] | None = None
    resumed: dict[str, Any] | None = None
    resume_path = _existing(resume)
    if resume_path is not None:  # a missing file means "nothing to resume yet"
        old, p_old = load_solutions(resume_path)
        if p_old.shape != p0.shape or not np.allclose(p_old, p0, rtol=1e-10, atol=1e-12):
            raise InputError(f"the checkpoint {resume_path} was written for another p0; pass the same p0 to resume "
                             "(or delete the file)")
        state = _load_state(resume_path)
        reason = "the file holds solutions only"
        if state is not None:
            pr = state.get("probe")
            if pr is not None and probe is not None and pr.size and probe.size and (
                    pr.shape != probe.shape or not np.allclose(pr, probe, rtol=1e-8, atol=1e-10)):
                raise InputError(f"the checkpoint {resume_path} was written for another system (same p0); delete it "
                                 "or choose another checkpoint directory")
            differ = [k for k in config if state["meta"]["config"].get(k) != config[k]]
            if differ:
                state, reason = None, f"its loop state was written with other options ({', '.join(differ)})"
        if state is None:
            resumed = {"from": str(resume_path), "mode": "solutions_only", "solutions": int(len(old)),
                       "reason": f"{reason}: its solutions joined the start solutions"}
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

    if state is not None and len(state["keys"]):
        # the checkpointed run refined and checked these very start solutions (their hash is in its
        # config) and its solution set replaces theirs below: no Newton refinement again
        sols = PointSet(state["keys"].shape[1], n, tol)
    else:
        # start solutions must solve F(.; p0) = 0
        z, resid, cond, upd = newton_refine(system, starts, p0, return_update=True)
        # a solution: tiny residual, or (when the equations take large values) Newton converged
        small = (resid <= 1e-8 * (1 + np.max(np.abs(z), axis=1))) | (upd <= 1e-9)
        good = np.isfinite(resid) & small & (cond < 1e12)
        if accept is not None and np.any(good):
            good[good] &= np.asarray(accept(z[good], p0), dtype=bool)
        if not np.any(good):
            raise InputError(
                "no start solution satisfies F(z; p0) = 0 (after Newton refinement)"
                + (" and is accepted" if accept is not None else "")
                + "; pass solutions of the system at p0"
            )
        first_key = np.asarray(keyf(z[good][:1], p0), dtype=complex).reshape(1, -1)
        sols = PointSet(first_key.shape[1], n, tol)
        sols.add(np.asarray(keyf(z[good], p0), dtype=complex).reshape(int(good.sum()), -1), z[good])

    loops: list[dict[str, Any]] = []
    stats = {"tracked": 0, "failures": 0, "retried": 0, "pushes": 0, "sampled": 0, "rejected": 0}
    history: list[tuple[int, int]] = []
    trace_results: list[Any] = []
    stagnant = 0
    last_traced = -1
    retest_after = max(2, loops_without_new // 2)
    rule = "max_loops"
    trace_ok = False
    phase = "sampling" if start_pairs is not None else "loops"  # then "finished"
    batch = max(int(sample_batch), 1)
    sampling_quiet = False  # the last batch of random starts found nothing new
    grown_since_fresh = 0
    last_test: list[int] | None = None  # (solutions, stagnant) at the last trace test
    seconds_before = 0.0
    # a push cut between two legs (saved state): kind (catchup / fresh), next leg, points, owners, jobs
    inflight: dict[str, Any] | None = None
    if state is not None:  # continue the checkpointed run where it stopped
        meta = state["meta"]
        sols.keys, sols.values, sols._tree = state["keys"].astype(complex), state["solutions"].astype(complex), None
        lv, gm, dn = state["loop_vertices"], state["loop_gammas"], state["loop_done"]
        loops = [{"vertices": [lv[i, j] for j in range(lv.shape[1])], "gammas": [complex(g) for g in gm[i]],
                  "done": int(dn[i])} for i in range(len(dn))]
        stats.update({k: int(v) for k, v in meta["stats"].items()})
        history = [(int(a), int(b)) for a, b in state["history"].reshape(-1, 2)]
        trace_results = [_SavedTrace(ev) for ev in meta["trace_tests"]]
        stagnant, last_traced, rule, trace_ok = meta["stagnant"], meta["last_traced"], meta["rule"], meta["trace_ok"]
        phase, batch, sampling_quiet = meta["phase"], meta["batch"], meta["sampling_quiet"]
        grown_since_fresh, last_test, seconds_before = meta["grown_since_fresh"], meta["last_test"], meta["seconds"]
        rng.bit_generator.state = meta["rng"]
        if meta.get("inflight") is not None:
            inflight = {**meta["inflight"], "pts": state["inflight_pts"].astype(complex),
                        "owner": state["inflight_owner"].astype(np.int64)}
        if meta.get("trace_rng") is not None and hasattr(trace_test, "set_state"):
            trace_test.set_state(meta["trace_rng"])
        resumed = {"from": str(resume_path), "mode": "finished" if phase == "finished" else "full",
                   "solutions": len(sols), "loops": len(loops), "paths_tracked_before": stats["tracked"],
                   "seconds_before": round(seconds_before, 4)}
        if inflight is not None:  # cut between two legs of a push: it continues from the next leg
            resumed["push_resumed_at_leg"] = int(inflight["leg"])
    # the number of solutions is unknown (target_count is a cap): counts and rates, no total or ETA
    from ..runtime.progress import Progress

    bar = Progress("monodromy", unit="solutions", rate_of="paths", enabled=progress, initial=len(sols))
    bar.update(count=len(sols), loops=len(loops), paths=stats["tracked"], **{"loops without new": stagnant})

    def snapshot(rule_now: str, complete: bool) -> MonodromyResult:
        cap = len(sols) if target_count is None else min(len(sols), int(target_count))
        return MonodromyResult(
            solutions=sols.values[:cap].copy(),
            keys=sols.keys[:cap].copy(),
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
            sampled=stats["sampled"],
            rejected=stats["rejected"],
            seconds=time.perf_counter() - t_start,
            seed=seed,
            resumed=resumed,
        )

    def _index(L: dict[str, Any]) -> int:
        return next(i for i, L_ in enumerate(loops) if L_ is L)

    def _accepted(pts: np.ndarray) -> np.ndarray:
        if accept is None or len(pts) == 0:
            return pts
        keep = np.asarray(accept(pts, p0), dtype=bool)
        stats["rejected"] += int(np.sum(~keep))
        return pts[keep]

    def push(jobs: list[tuple[dict[str, Any], int, int]], kind: str, cont: dict[str, Any] | None = None) -> int:
        """Track the solutions lo:hi around their loop, for every job (loop, lo, hi), as one batch
        per leg; add the new endpoints; return how many were new.  With a path checkpoint the state
        is saved after every leg but the last (``inflight``: the points between two legs), so a cut
        run loses at most the leg in flight; ``cont`` is such a saved push, continued from its leg."""
        nonlocal inflight
        if cont is None:
            pts = np.concatenate([sols.values[lo:hi] for _, lo, hi in jobs])
            owner = np.concatenate([np.full(hi - lo, j) for j, (_, lo, hi) in enumerate(jobs)])
            first_leg = 0
        else:
            pts, owner, first_leg = cont["pts"], cont["owner"], int(cont["leg"])
        n_legs = loop_vertices + 1
        # vertices[j][l]: the l-th parameter point of job j's loop (p0 first and last)
        vertices = [[p0] + L["vertices"] + [p0] for L, _, _ in jobs]
        gammas = np.array([L["gammas"] for L, _, _ in jobs])  # (jobs, legs)
        for leg in range(first_leg, n_legs):
            if len(pts) == 0:
                break
            if leg > first_leg and ckpt_path is not None:  # the legs done so far survive a Ctrl-C
                inflight = {"kind": kind, "leg": leg, "pts": pts, "owner": owner,
                            "jobs": [[_index(L), lo, hi] for L, lo, hi in jobs]}
                save_state()
            pa = np.stack([vertices[j][leg] for j in range(len(jobs))])[owner]
            pb = np.stack([vertices[j][leg + 1] for j in range(len(jobs))])[owner]
            hom = ParameterHomotopyBatch(system, pa, pb, gammas[owner, leg])
            res = solve(hom, pts, max_tries=max_tries, retry=_RETRY_ALL, rng=rng, options=tracker)
            stats["tracked"] += res.n_paths
            stats["retried"] += res.n_retried
            ok = res.converged()
            stats["failures"] += int(np.sum(~ok))
            pts, owner = res.endpoints[ok], owner[ok]
        inflight = None
        stats["pushes"] += len(jobs)
        pts = _accepted(pts)
        if len(pts) == 0:
            return 0
        keys = np.asarray(keyf(pts, p0), dtype=complex).reshape(len(pts), -1)
        new = sols.add(keys, pts)
        return int(len(new))

    def sample(batch: int) -> int:
        """Track ``batch`` random start pairs to p0; add the endpoints; return how many were new."""
        zs, ps = start_pairs(rng, batch)
        zs = as_batch(zs, n, "start_pairs z")
        ps = np.asarray(ps, dtype=complex).reshape(len(zs), m)
        gam = np.exp(2j * np.pi * rng.random(len(zs)))
        hom = ParameterHomotopyBatch(system, ps, np.broadcast_to(p0, ps.shape), gam)
        res = solve(hom, zs, max_tries=max_tries, retry=_RETRY_ALL, rng=rng, options=tracker)
        stats["tracked"] += res.n_paths
        stats["sampled"] += res.n_paths
        stats["retried"] += res.n_retried
        ok = res.converged()
        stats["failures"] += int(np.sum(~ok))
        pts = _accepted(res.endpoints[ok])
        if len(pts) == 0:
            return 0
        keys = np.asarray(keyf(pts, p0), dtype=complex).reshape(len(pts), -1)
        return int(len(sols.add(keys, pts)))

    def report() -> None:
        history.append((stats["pushes"], len(sols)))
        bar.update(count=len(sols), loops=len(loops), paths=stats["tracked"], **{"loops without new": stagnant})
        save_checkpoint()

    def save_checkpoint() -> None:
        if checkpoint is None:
            return
        if callable(checkpoint):
            checkpoint(snapshot("interrupted", False))
        else:
            save_state()

    def save_state() -> None:
        """The whole loop state (solutions, loops and how far each was pushed, counters, random states,
        trace tests), at a consistent point: a resumed run continues exactly as this one would have."""
        from ..result import jsonable

        L, lv = len(loops), loop_vertices
        meta = {
            "config": config, "phase": phase, "rule": rule, "stagnant": stagnant, "last_traced": last_traced,
            "trace_ok": trace_ok, "batch": batch, "sampling_quiet": sampling_quiet,
            "grown_since_fresh": grown_since_fresh, "last_test": last_test, "stats": dict(stats),
            "seconds": seconds_before + time.perf_counter() - t_start, "rng": rng.bit_generator.state,
            "trace_rng": trace_test.get_state() if hasattr(trace_test, "get_state") else None,
            "trace_tests": [t.evidence() if hasattr(t, "evidence") else {"passed": _passed(t)} for t in trace_results],
            "inflight": None if inflight is None else {k: inflight[k] for k in ("kind", "leg", "jobs")},
        }
        extra = {} if inflight is None else {"inflight_pts": inflight["pts"], "inflight_owner": inflight["owner"]}
        _write_npz(ckpt_path, {
            "solutions": sols.values, "keys": sols.keys, "parameters": p0, "loops": L,
            "paths_tracked": stats["tracked"], "stopping_rule": rule if phase == "finished" else "interrupted",
            "loop_vertices": np.array([L_["vertices"] for L_ in loops], dtype=complex).reshape(L, lv, m),
            "loop_gammas": np.array([L_["gammas"] for L_ in loops], dtype=complex).reshape(L, lv + 1),
            "loop_done": np.array([L_["done"] for L_ in loops], dtype=np.int64),
            "history": np.array(history, dtype=np.int64).reshape(-1, 2),
            "probe": probe, "meta": np.array(json.dumps(jsonable(meta))), **extra,
        })

    cut = False
    try:
        while phase == "sampling" and (target_count is None or len(sols) < target_count):
            found = sample(batch)
            sampling_quiet = found == 0
            if found < sample_yield * batch or (sample_limit is not None and stats["sampled"] >= sample_limit):
                phase = "loops"
            batch = max(int(sample_batch), len(sols))
            report()
        if phase == "sampling":
            phase = "loops"
        while phase == "loops":
            if inflight is not None:  # resumed in the middle of a push: finish it
                cont = inflight
                jobs = [(loops[i], lo, hi) for i, lo, hi in cont["jobs"]]
                found = push(jobs, cont["kind"], cont)
                if cont["kind"] == "fresh":
                    grown_since_fresh = found
                    stagnant = 0 if found else stagnant + 1
                else:
                    grown_since_fresh += found
                    if found:
                        stagnant = 0
                report()
                continue
            if target_count is not None and len(sols) >= target_count:
                rule = "target_count"
                break
            jobs = [(L, L["done"], len(sols)) for L in loops if L["done"] < len(sols)]
            if jobs:
                for L, _, hi in jobs:
                    L["done"] = hi
                found = push(jobs, "catchup")
                grown_since_fresh += found
                if found:
                    stagnant = 0
            else:
                if loops:
                    quiet = (
                        trace_growth is None
                        or len(sols) < trace_growth_from
                        or grown_since_fresh <= trace_growth * len(sols)
                    )
                else:  # after random starts, test only if their last batch found nothing new
                    quiet = start_pairs is None or sampling_quiet
                # a failed test is retried once at the same count after some fruitless loops: a
                # test can fail on a complete set when its paths pass near a bad point
                retest = len(sols) == last_traced and stagnant == retest_after
                tested_here = last_test == [len(sols), stagnant]  # (a resumed run: already done)
                if trace_test is not None and ((len(sols) != last_traced and quiet) or retest) and not tested_here:
                    last_traced = len(sols)
                    last_test = [len(sols), stagnant]
                    bar.update(doing="trace test")
                    outcome = trace_test(sols.values.copy(), p0.copy())
                    bar.update(doing="loops")
                    trace_results.append(outcome)
                    if _passed(outcome):
                        trace_ok = True
                        rule = "trace_test"
                        break
                    save_checkpoint()  # a failed test is not run again on resume
                if stagnant >= loops_without_new:
                    rule = "stagnation"
                    break
                if len(loops) >= max_loops:
                    rule = "max_loops"
                    break
                loop = {
                    "vertices": [sampler(rng) for _ in range(loop_vertices)],
                    "gammas": [random_gamma(rng) for _ in range(loop_vertices + 1)],
                    "done": len(sols),
                }
                loops.append(loop)
                found = push([(loop, 0, len(sols))], "fresh")
                grown_since_fresh = found
                stagnant = 0 if found else stagnant + 1
            report()
    except KeyboardInterrupt as exc:
        from ..runtime.budget import cut_kind, record_cut

        rule = cut_kind(exc)
        record_cut(rule)  # callers (analyze) learn that this result was cut short
        cut = True
    finally:
        bar.close(rule)
    result = snapshot(rule, rule in ("trace_test", "target_count", "stagnation"))
    if checkpoint is not None:
        if callable(checkpoint):
            checkpoint(result)
        elif not cut:  # a cut run keeps the last consistent state (saved after its last push)
            phase = "finished"
            save_state()
    return result


_RETRY_ALL = tuple(s.value for s in PathStatus if s is not PathStatus.SUCCESS)

__all__ = ["monodromy_solve", "MonodromyOptions", "MonodromyResult", "load_solutions", "attempt_checkpoint", "KeyFunction",
           "STOPPING_RULES"]
