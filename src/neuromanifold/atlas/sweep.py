"""Sweeps: compute invariants for every spec of a pattern and store them in an atlas.

Resumable by construction: each invariant's result is committed as soon as it is computed, and a
sweep skips the (spec, invariant) pairs already stored as final results for its seed and options, so
rerunning an interrupted sweep finishes it.  Every invariant is a deterministic function of (spec,
seed, prime, options), so a resumed sweep, concurrent ones and a Dask run store the same rows as one
uninterrupted local sweep.

Ctrl-C: the first SIGINT ends the sweep.  A computation that catches it and returns what it had
(monodromy keeps its points as a lower bound) is stored with status ``interrupted``, never as a final
value, and the next sweep recomputes it; the sweep then raises ``SweepInterrupted`` (a
KeyboardInterrupt carrying the summary; the CLI exits 130).  The same holds for a result cut by a
time budget (evidence ``stopping_rule: budget``).

Concurrency: before computing a spec a sweep claims its missing invariants in the atlas (see
``Atlas.claim``); specs claimed by another live sweep are left to it and waited for at the end, so N
sweeps on one file compute every spec once.  Claims are kept alive by a heartbeat thread and
released when the spec is stored, on Ctrl-C and on any error.

Shards (job arrays): ``shard=(i, n)`` computes only the i-th of n parts (1-based, 1 <= i <= n) of the
work list, the pairs (spec, invariant) with the specs in pattern order (duplicates dropped) and the
invariants in ``only`` order: the j-th invariant of the k-th spec (both counted from 0) belongs to shard
``(k + j) mod n + 1``.  So each spec's invariants go to different shards and every shard gets its share
of every invariant; the parts are disjoint, cover the list and do not depend on what is stored.  Each
shard usually writes its own file; ``atlas.merge`` combines them.

Every stored row carries the provenance of the process that computed it (``runtime.provenance``).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from ..errors import InputError, NeuromanifoldError
from .ranges import MAX_SPECS, count, expand, too_many
from .store import NOT_FINAL, STALE_AFTER, Atlas, _now, options_key

POLL = 0.5  # seconds between looks at specs another sweep is computing


@dataclass
class SweepSummary:
    """What a sweep did: specs in the pattern, results computed here, already stored at the start,
    computed meanwhile by another sweep, failures, results cut short by Ctrl-C (stored as interrupted)."""

    specs: int
    computed: int = 0
    skipped: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (spec, invariant, message)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (expanded text, SpecError message)
    workers: int = 1
    to_compute: int = 0  # specs with a missing invariant when the sweep started
    elsewhere: int = 0  # results another concurrent sweep stored while this one ran
    taken_over: int = 0  # results whose stale claim (dead owner, no heartbeat) this sweep took over
    interrupted: list[tuple[str, str]] = field(default_factory=list)  # (spec, invariant) cut by Ctrl-C/budget
    stopped: bool = False  # True when Ctrl-C ended the sweep early
    shard: str | None = None  # "i/n" when this sweep computed one shard of the work list

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C ended a sweep; ``summary`` says what was stored (finished results are kept)."""

    def __init__(self, summary: SweepSummary):
        super().__init__("sweep interrupted")
        self.summary = summary


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` (1 <= I <= N, 1-based) as (I, N); anything else is one line (InputError)."""
    m = re.fullmatch(r"\s*([0-9]{1,6})\s*/\s*([0-9]{1,6})\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise InputError(f"--shard {text!r}: write I/N with 1 <= I <= N, e.g. --shard 3/10 for the third of ten "
                         "parts (1-based, as $SLURM_ARRAY_TASK_ID of --array=1-10)")
    return int(m.group(1)), int(m.group(2))


def in_shard(k: int, j: int, shard: tuple[int, int] | None) -> bool:
    """Whether the j-th invariant of the k-th spec (0-based) belongs to ``shard`` (i, n) (None: all do)."""
    return shard is None or (k + j) % shard[1] + 1 == shard[0]


def result_options(*, metric: str = "generic", max_degree: int | None = None,
                   prime: int | None = None) -> dict[str, Any]:
    """The options that identify a stored result (besides spec, invariant and seed)."""
    from ..arithmetic import DEFAULT_PRIME

    opts: dict[str, Any] = {"metric": metric, "prime": int(prime or DEFAULT_PRIME)}
    if max_degree is not None:
        opts["max_degree"] = int(max_degree)
    return opts


class SigintCounter:
    """Counts the SIGINTs received while active and raises KeyboardInterrupt as usual: a computation
    that catches the KeyboardInterrupt and returns what it had is still known to be cut short.
    Inactive outside the main thread and when SIGINT is ignored (background jobs)."""

    def __init__(self) -> None:
        self.count = 0
        self._previous: Any = None

    def __enter__(self) -> "SigintCounter":
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous not in (signal.SIG_IGN, None):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def cut_short(evidence: Any, *, depth: int = 0) -> bool:
    """Whether evidence records a computation stopped by Ctrl-C or a time budget (a monodromy
    ``stopping_rule`` of interrupted/budget, or an ``interrupted`` marker) anywhere inside."""
    if depth > 6:
        return False
    if isinstance(evidence, dict):
        if evidence.get("stopping_rule") in ("interrupted", "budget") or evidence.get("interrupted") is True:
            return True
        return any(cut_short(v, depth=depth + 1) for v in evidence.values())
    if isinstance(evidence, list):
        return any(cut_short(v, depth=depth + 1) for v in evidence)
    return False


def as_interrupted(res: dict[str, Any]) -> dict[str, Any]:
    """A result dict cut short, relabelled ``interrupted`` (its value is what was found so far)."""
    ev = dict(res.get("evidence") or {})
    ev["interrupted"] = {
        "status_when_stopped": res["status"],
        "reason": "Ctrl-C (or a time budget) stopped this computation: the value is what was found so far, "
                  "not a final result; the next sweep recomputes it",
    }
    return {**res, "status": NOT_FINAL, "evidence": ev}


def iter_spec(spec: str, names: list[str], seed: int, options: dict[str, Any],
              *, sigint: SigintCounter | None = None) -> Iterator[dict[str, Any]]:
    """Compute ``names`` for one spec in one Context (shared caches; every generic point comes from
    ``Context.rng(purpose)``, so the order does not change any value), yielding after each invariant.
    Failures (a NeuromanifoldError) become 'failed' results carrying the message.  A result cut short
    (SIGINT counted by ``sigint`` during it, or a cut-short evidence) is yielded as ``interrupted``
    and ends the iteration."""
    from ..version import __version__
    from ..analysis import invariant_function
    from ..context import Context
    from ..result import Result
    from ..runtime.provenance import provenance

    opts = {k: v for k, v in options.items() if k != "prime"}
    ctx = Context(spec, seed=seed, prime=options["prime"], options=opts)
    for name in names:
        before = sigint.count if sigint is not None else 0
        try:
            res = invariant_function(name, ctx.arch)(ctx).to_dict()
        except NeuromanifoldError as exc:
            res = Result(name, None, "failed", {"error": str(exc)}).to_dict()
        stopped = sigint is not None and sigint.count > before
        if stopped or cut_short(res.get("evidence")):
            res = as_interrupted(res)
        yield {"spec": spec, "family": ctx.arch.family, "n_params": ctx.arch.n_params,
               "results": {name: res}, "version": __version__,
               "provenance": provenance(seed=int(seed), prime=int(options["prime"]))}
        if stopped:
            return


def compute_spec(spec: str, names: list[str], seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """All of ``names`` for one spec in one payload: the task a Dask worker runs (top-level, picklable)."""
    payload: dict[str, Any] = {}
    for part in iter_spec(spec, names, seed, options):
        if not payload:
            payload = part
        else:
            payload["results"].update(part["results"])
    return payload


class _Heartbeat:
    """A daemon thread marking the sweep's claims alive every ``every`` seconds."""

    def __init__(self, atlas: Atlas, every: float):
        self.atlas, self.every = atlas, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="atlas-heartbeat", daemon=True)

    def _run(self) -> None:
        import sqlite3

        while not self._stop.wait(self.every):
            try:
                self.atlas.heartbeat()
            except sqlite3.Error:
                pass  # busy for 10 s: the next beat comes well before a claim goes stale

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def sweep(
    pattern: str | Iterable[str],
    *,
    only: str | Iterable[str] | None = None,
    db: str | os.PathLike[str] | None = None,
    seed: int = 0,
    metric: str = "generic",
    max_degree: int | None = None,
    prime: int | None = None,
    cluster: Any = None,
    retry_failed: bool = False,
    progress: bool | Callable[[str], None] = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    max_specs: int = MAX_SPECS,
    stale_after: float = STALE_AFTER,
    shard: tuple[int, int] | str | None = None,
) -> SweepSummary:
    """Fill the atlas ``db`` with ``only`` (default: the default invariants) for every spec of ``pattern``.

    ``cluster``: None (this process), 'local[:N]' (a Dask LocalCluster), a scheduler address, or a
    ``distributed.Client`` (left open).  ``progress``: True for one line per spec on stderr (also
    without a terminal), or a function receiving each line.  ``max_specs``: refuse patterns standing
    for more specs (counted before expanding).  ``stale_after``: seconds without a heartbeat after
    which another sweep's claim is taken over.  ``shard``: (i, n) or "i/n", compute only the i-th of n
    parts of the (spec, invariant) work list (1-based; see the module docstring).  Ctrl-C raises ``SweepInterrupted`` after storing
    what was finished (see the module docstring).
    """
    from ..analysis import resolve_only
    from ..parametrization.coefficients import METRICS

    names = resolve_only(only)
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose from: {', '.join(METRICS)}")
    if isinstance(max_specs, bool) or not isinstance(max_specs, int) or max_specs < 1:
        raise InputError(f"max_specs must be a positive integer, got {max_specs!r}")
    if isinstance(shard, str):
        shard = parse_shard(shard)
    elif shard is not None:
        if (not isinstance(shard, tuple) or len(shard) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) for v in shard) or not 1 <= shard[0] <= shard[1]):
            raise InputError(f"shard must be (i, n) with 1 <= i <= n, or the text 'i/n'; got {shard!r}")
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    if not patterns:
        raise InputError("a sweep needs at least one pattern, e.g. 'mlp(widths=(2..4, 1..5, 1), r=2..3)'")
    total = sum(count(p) for p in patterns)  # before expanding anything
    if total > max_specs:
        raise too_many(total, max_specs, repr(patterns[0]) if len(patterns) == 1 else f"the {len(patterns)} patterns",
                       plural=len(patterns) > 1)
    say: Callable[[str], None] | None = _stderr_line if progress is True else (progress or None)
    specs: list[str] = []
    seen: set[str] = set()
    summary = SweepSummary(specs=0)
    for p in patterns:
        ex = expand(p, max_specs=max_specs)
        specs += [s for s in ex.specs if s not in seen]
        seen.update(ex.specs)
        summary.invalid += list(ex.invalid)
    summary.specs = len(specs)
    summary.shard = f"{shard[0]}/{shard[1]}" if shard else None
    options = result_options(metric=metric, max_degree=max_degree, prime=prime)
    since = _now()
    with Atlas(db) as atlas:
        done = atlas.done(seed, options, retry_failed=retry_failed)
        todo = []
        for k, s in enumerate(specs):
            mine = [n for j, n in enumerate(names) if in_shard(k, j, shard)]
            missing = [n for n in mine if (s, n) not in done]
            summary.skipped += len(mine) - len(missing)
            if missing:
                todo.append((s, missing))
        summary.to_compute = len(todo)
        if say:
            say(f"sweep: {len(specs)} specs x {len(names)} invariants ({', '.join(names)})"
                + (f", shard {summary.shard} of the (spec, invariant) list" if shard else "") + f" into {atlas.path}: "
                f"{len(todo)} specs to compute, {len(specs) - len(todo)} already stored"
                + (f", {len(summary.invalid)} invalid expansions skipped" if summary.invalid else ""))
        run = _Run(atlas, names, seed, options, retry_failed, since, stale_after, summary, say, on_result)
        with SigintCounter() as sigint, _Heartbeat(atlas, every=max(stale_after / 6, 0.05)):
            run.sigint = sigint
            try:
                if cluster is None:
                    run.resolve(todo)
                else:
                    run.resolve(run.on_cluster(todo, cluster))
            except KeyboardInterrupt as exc:
                summary.stopped = True
                try:
                    atlas.release()
                finally:
                    if isinstance(exc, SweepInterrupted):
                        raise
                    raise SweepInterrupted(summary) from exc
            except BaseException:
                atlas.release()
                raise
    return summary


class _Run:
    """The state of one sweep over its to-do list (claims, progress count, summary)."""

    def __init__(self, atlas: Atlas, names: list[str], seed: int, options: dict[str, Any], retry_failed: bool,
                 since: str, stale_after: float, summary: SweepSummary, say: Callable[[str], None] | None,
                 on_result: Callable[[dict[str, Any]], None] | None):
        self.atlas, self.names, self.seed, self.options = atlas, names, seed, options
        self.retry_failed, self.since, self.stale_after = retry_failed, since, stale_after
        self.summary, self.say, self.on_result = summary, say, on_result
        self.sigint: SigintCounter | None = None
        self.done_specs = 0
        self.texts: dict[str, str] = {}  # progress text of a spec partly computed here, partly elsewhere

    def claim(self, spec: str, missing: list[str]) -> Any:
        cl = self.atlas.claim(spec, missing, self.seed, self.options, retry_failed=self.retry_failed,
                              since=self.since, stale_after=self.stale_after)
        self.summary.elsewhere += len(missing) - len(cl.mine) - len(cl.busy)
        self.summary.taken_over += len(cl.taken_over)
        return cl

    def store(self, payload: dict[str, Any]) -> list[str]:
        """Store a payload's results; the names of the ones stored as interrupted."""
        cut = []
        for name, res in payload["results"].items():
            self.atlas.put(payload["spec"], payload["family"], payload["n_params"], name, self.seed, self.options,
                           res, payload["version"], retry_failed=self.retry_failed,
                           provenance=payload.get("provenance"))
            if res["status"] == NOT_FINAL:
                cut.append(name)
                self.summary.interrupted.append((payload["spec"], name))
                continue
            self.summary.computed += 1
            if res["status"] == "failed":
                ev = res.get("evidence") or {}
                self.summary.failed.append((payload["spec"], name, ev.get("error") or ev.get("reason", "")))
        if self.on_result is not None:
            self.on_result(payload)
        return cut

    def line(self, spec: str, text: str) -> None:
        self.done_specs += 1
        if self.say:
            self.say(f"[{self.done_specs}/{self.summary.to_compute}] {spec}  {text}")

    def compute_here(self, spec: str, mine: list[str]) -> str:
        """Compute and store ``mine`` for ``spec`` in this process, invariant by invariant (an
        interruption keeps every finished one), release the claims; the progress text."""
        t0 = time.perf_counter()
        statuses: list[str] = []
        try:
            for part in iter_spec(spec, mine, self.seed, self.options, sigint=self.sigint):
                cut = self.store(part)
                statuses += [f"{n} {r['status']}" for n, r in part["results"].items()]
                if cut and self.sigint is not None and self.sigint.count:
                    if self.say:
                        self.say(f"[{self.done_specs + 1}/{self.summary.to_compute}] {spec}  "
                                 f"{time.perf_counter() - t0:.1f} s  {', '.join(statuses)} (stopped by Ctrl-C: "
                                 "not final, recomputed by the next sweep)")
                    raise SweepInterrupted(self.summary)
        finally:
            self.atlas.release(spec)
        return f"{time.perf_counter() - t0:.1f} s  {', '.join(statuses)}"

    def on_cluster(self, todo: list[tuple[str, list[str]]], cluster: Any) -> list[tuple[str, list[str]]]:
        """Claim what is free, compute it on Dask; return what other sweeps hold (to be resolved)."""
        from distributed import as_completed

        from ..runtime.cluster import connect

        client, local, self.summary.workers = connect(cluster)
        deferred: list[tuple[str, list[str]]] = []
        try:
            futures = {}
            for s, missing in todo:
                cl = self.claim(s, missing)
                if cl.mine:
                    fut = client.submit(compute_spec, s, cl.mine, self.seed, self.options, pure=False)
                    futures[fut] = (s, time.perf_counter(), bool(cl.busy))
                if cl.busy:
                    deferred.append((s, list(cl.busy)))
                elif not cl.mine:
                    self.line(s, "stored by another sweep")
            try:
                for fut in as_completed(list(futures)):
                    s, t0, rest_elsewhere = futures[fut]
                    payload = fut.result()
                    try:
                        self.store(payload)
                    finally:
                        self.atlas.release(s)
                    statuses = ", ".join(f"{n} {r['status']}" for n, r in payload["results"].items())
                    text = f"{time.perf_counter() - t0:.1f} s since submitted  {statuses}"
                    if rest_elsewhere:  # its line comes when the rest is stored
                        self.texts[s] = text
                    else:
                        self.line(s, text)
            except BaseException:
                client.cancel(list(futures))
                raise
        finally:
            if local is not None or isinstance(cluster, str):
                client.close()
            if local is not None:
                local.close()
        return deferred

    def resolve(self, pending: list[tuple[str, list[str]]]) -> None:
        """Compute every spec of ``pending`` that is free; wait for the ones other sweeps hold (taking
        over a claim that goes stale) until all are stored."""
        waiting_for: set[str] = set()
        texts = self.texts
        while pending:
            deferred = []
            for s, missing in pending:
                cl = self.claim(s, missing)
                if cl.mine:
                    texts[s] = (texts[s] + "; " if s in texts else "") + self.compute_here(s, cl.mine)
                if cl.busy:
                    deferred.append((s, list(cl.busy)))
                else:
                    self.line(s, texts.pop(s, "stored by another sweep"))
            pending = deferred
            if pending:
                owners = self._owners([s for s, _ in pending])
                if owners != waiting_for and self.say:
                    self.say(f"waiting for {len(pending)} specs being computed by other sweeps "
                             f"({', '.join(sorted(o.rsplit(':', 1)[0] for o in owners))})")
                waiting_for = owners
                time.sleep(POLL)

    def _owners(self, specs: list[str]) -> set[str]:
        """The owners of the claims on ``specs`` (host:pid:token)."""
        marks = ",".join("?" * len(specs))
        rows = self.atlas.conn.execute(
            f"SELECT DISTINCT owner FROM claims WHERE seed = ? AND options = ? AND spec IN ({marks})",
            (int(self.seed), options_key(self.options), *specs))
        return {o for (o,) in rows}
