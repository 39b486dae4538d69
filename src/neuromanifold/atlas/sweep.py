"""Sweeps: compute invariants for every spec of a pattern and store them in an atlas.

Resumable by construction: each invariant's result is committed as soon as it is computed, and a
sweep skips the (spec, invariant) pairs already stored for its seed and options, so rerunning an
interrupted sweep finishes it.  Every invariant is a deterministic function of (spec, seed, prime,
options), so a resumed sweep, a concurrent one and a Dask run store the same rows as one
uninterrupted local sweep.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from ..errors import InputError, NeuromanifoldError
from .ranges import expand
from .store import Atlas


@dataclass
class SweepSummary:
    """What a sweep did: specs in the pattern, results computed now, already stored, failures."""

    specs: int
    computed: int = 0
    skipped: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (spec, invariant, message)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (expanded text, SpecError message)
    workers: int = 1

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def result_options(metric: str = "generic", max_degree: int | None = None, prime: int | None = None) -> dict[str, Any]:
    """The options that identify a stored result (besides spec, invariant and seed)."""
    from ..arithmetic import DEFAULT_PRIME

    opts: dict[str, Any] = {"metric": metric, "prime": int(prime or DEFAULT_PRIME)}
    if max_degree is not None:
        opts["max_degree"] = int(max_degree)
    return opts


def iter_spec(spec: str, names: list[str], seed: int, options: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Compute ``names`` for one spec in one Context (shared caches; every generic point comes from
    ``Context.rng(purpose)``, so the order does not change any value), yielding after each invariant.
    Failures (a NeuromanifoldError) become 'failed' results carrying the message."""
    from .. import __version__
    from ..analysis import invariant_function
    from ..context import Context
    from ..result import Result

    opts = {k: v for k, v in options.items() if k != "prime"}
    ctx = Context(spec, seed=seed, prime=options["prime"], options=opts)
    for name in names:
        try:
            res = invariant_function(name, ctx.arch)(ctx)
        except NeuromanifoldError as exc:
            res = Result(name, None, "failed", {"error": str(exc)})
        yield {"spec": spec, "family": ctx.arch.family, "n_params": ctx.arch.n_params,
               "results": {name: res.to_dict()}, "version": __version__}


def compute_spec(spec: str, names: list[str], seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """All of ``names`` for one spec in one payload: the task a Dask worker runs (top-level, picklable)."""
    payload: dict[str, Any] = {}
    for part in iter_spec(spec, names, seed, options):
        if not payload:
            payload = part
        else:
            payload["results"].update(part["results"])
    return payload


def _store(atlas: Atlas, payload: dict[str, Any], seed: int, options: dict[str, Any], summary: SweepSummary) -> None:
    for name, res in payload["results"].items():
        atlas.put(payload["spec"], payload["family"], payload["n_params"], name, seed, options, res,
                  payload["version"])
        summary.computed += 1
        if res["status"] == "failed":
            summary.failed.append((payload["spec"], name, res["evidence"].get("error", "")))


def sweep(
    pattern: str | Iterable[str],
    only: str | Iterable[str] | None = None,
    db: str | os.PathLike[str] | None = None,
    seed: int = 0,
    metric: str = "generic",
    max_degree: int | None = None,
    prime: int | None = None,
    cluster: Any = None,
    retry_failed: bool = False,
    progress: bool = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> SweepSummary:
    """Fill the atlas ``db`` with ``only`` (default: the default invariants) for every spec of ``pattern``.

    ``cluster``: None (this process), 'local[:N]' (a Dask LocalCluster), a scheduler address, or a
    ``distributed.Client`` (left open).
    """
    from ..analysis import resolve_only
    from ..coefficients import METRICS

    names = resolve_only(only)
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose from: {', '.join(METRICS)}")
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    specs: list[str] = []
    summary = SweepSummary(specs=0)
    for p in patterns:
        ex = expand(p)
        specs += [s for s in ex.specs if s not in specs]
        summary.invalid += list(ex.invalid)
    summary.specs = len(specs)
    options = result_options(metric, max_degree, prime)
    with Atlas(db) as atlas:
        done = atlas.done(seed, options, retry_failed=retry_failed)
        todo = []
        for s in specs:
            missing = [n for n in names if (s, n) not in done]
            summary.skipped += len(names) - len(missing)
            if missing:
                todo.append((s, missing))
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc="sweep", unit="spec")

        def handle(payload: dict[str, Any]) -> None:
            _store(atlas, payload, seed, options, summary)
            if on_result is not None:
                on_result(payload)
            if bar is not None:
                bar.update(1)

        try:
            if cluster is None:
                for s, missing in todo:
                    # stored invariant by invariant, so an interruption keeps every finished one
                    for part in iter_spec(s, missing, seed, options):
                        _store(atlas, part, seed, options, summary)
                        if on_result is not None:
                            on_result(part)
                    if bar is not None:
                        bar.update(1)
            else:
                from distributed import as_completed

                from ..cluster import connect

                client, local, summary.workers = connect(cluster)
                try:
                    futures = [client.submit(compute_spec, s, missing, seed, options, pure=False)
                               for s, missing in todo]
                    for fut in as_completed(futures):
                        handle(fut.result())
                finally:
                    if local is not None or isinstance(cluster, str):
                        client.close()
                    if local is not None:
                        local.close()
        finally:
            if bar is not None:
                bar.close()
    return summary
